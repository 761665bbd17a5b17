//! What the load generator asks of the operating system: file descriptors, CPU placement, and
//! the CPU time and memory of a process, read from `/proc` so no extra tooling is needed.

use std::fs;
use std::io;

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
use rustix::thread::{sched_setaffinity, CpuSet};

/// Raises the open-file limit as far as allowed: 10,000 clients need 10,000 TCP sockets here,
/// plus the sockets still logging in. Returns the soft limit now in force.
pub fn raise_nofile(wanted: u64) -> u64 {
    let current = getrlimit(Resource::Nofile);
    let hard = current.maximum.unwrap_or(wanted).max(wanted);
    // Root may raise the hard limit too; if that is refused, settle for the hard limit as is.
    let raised = setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(wanted),
            maximum: Some(hard),
        },
    );
    if raised.is_err() {
        let cap = current.maximum.unwrap_or(wanted).min(wanted);
        let _ = setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(cap),
                maximum: current.maximum,
            },
        );
    }
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// Pins the calling thread to one CPU, so every figure says where it ran.
pub fn pin_current_thread(cpu: usize) -> io::Result<()> {
    let mut set = CpuSet::new();
    set.set(cpu);
    sched_setaffinity(None, &set).map_err(io::Error::from)
}

/// CPU seconds (user + system) a process has used so far; `None` for this process.
pub fn cpu_seconds(pid: Option<u32>) -> io::Result<f64> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let stat = fs::read_to_string(path)?;
    // The command name may hold spaces: the fields that follow start after its closing ')'.
    let after = stat
        .rfind(')')
        .and_then(|i| stat.get(i + 2..))
        .ok_or_else(|| io::Error::other("malformed /proc stat"))?;
    let fields: Vec<&str> = after.split(' ').collect();
    // utime and stime are fields 14 and 15 of stat(5); `after` starts at field 3.
    let ticks = |i: usize| -> io::Result<u64> {
        fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| io::Error::other("malformed /proc stat"))
    };
    let total = ticks(11)? + ticks(12)?;
    Ok(total as f64 / clock_ticks() as f64)
}

fn clock_ticks() -> u64 {
    rustix::param::clock_ticks_per_second()
}

/// Memory of a process, from `/proc/<pid>/status`.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    /// Resident set now, bytes.
    pub rss: u64,
    /// Peak resident set (VmHWM), bytes.
    pub peak: u64,
}

/// Reads VmRSS and VmHWM of `pid`.
pub fn memory(pid: u32) -> io::Result<Memory> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |key: &str| -> io::Result<u64> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kib| kib * 1024)
            .ok_or_else(|| io::Error::other(format!("no {key} in /proc/{pid}/status")))
    };
    Ok(Memory {
        rss: field("VmRSS:")?,
        peak: field("VmHWM:")?,
    })
}
