//! A real `redis-server` for the cluster tests: on a free loopback port, persistence off, stopped
//! by its pid when dropped, and restartable on the same port (a Redis restart loses everything,
//! as one without persistence does).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::STEP;

/// A running `redis-server`.
pub struct RedisProc {
    port: u16,
    child: Child,
}

impl RedisProc {
    /// Why no Redis can run here, if none can: `redis-server` is not installed.
    pub fn unavailable() -> Option<String> {
        (!super::runs("redis-server", "--version")).then(|| {
            "redis-server is not installed (Debian: apt-get install redis-server; .ci/run does)"
                .to_owned()
        })
    }

    /// Starts one on a free loopback port and waits until it answers.
    pub fn start() -> RedisProc {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        RedisProc {
            port,
            child: spawn(port),
        }
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills it (`kill -9`: everything it held is lost).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts it again on the same port, empty.
    pub fn restart(&mut self) {
        self.kill();
        self.child = spawn(self.port);
    }
}

impl Drop for RedisProc {
    fn drop(&mut self) {
        self.kill();
    }
}

fn spawn(port: u16) -> Child {
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start redis-server");
    let at = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + STEP;
    while !answers(at) {
        if Instant::now() >= deadline {
            // Not left running behind a failed test.
            let mut child = child;
            let _ = child.kill();
            let _ = child.wait();
            panic!("redis-server on {at} never answered");
        }
        thread::sleep(Duration::from_millis(20));
    }
    child
}

/// Whether a Redis at `at` answers `PING`.
fn answers(at: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&at, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut reply = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut reply).is_ok()
        && &reply == b"+PONG\r\n"
}
