//! Many TCP sessions read by one task. Their sockets sit in a level-triggered epoll set, and that
//! set is waited on as a single source: one wake-up of the load generator finds every session
//! with bytes waiting, each then read with one `read`. A task per session would cost a wake-up,
//! a `read` that finds nothing and a re-arm per write the server makes — more than the server's
//! own work for that write, so the generator, not the server, would set the pace.

use std::io;
use std::net::TcpStream;
use std::os::fd::OwnedFd;

use rustix::buffer::spare_capacity;
use rustix::event::epoll::{self, CreateFlags, Event, EventData, EventFlags};
use rustix::event::Timespec;
use smol::Async;

/// Most sessions reported by one look.
const EVENTS: usize = 1024;

/// The set of sessions, keyed by the caller's numbers.
pub struct Mux {
    epoll: Async<OwnedFd>,
}

impl Mux {
    pub fn new() -> io::Result<Mux> {
        let epoll = epoll::create(CreateFlags::CLOEXEC)?;
        Ok(Mux {
            epoll: Async::new(epoll)?,
        })
    }

    /// Watches `stream` (non-blocking) under `key` until it is removed or closed.
    pub fn add(&self, key: usize, stream: &TcpStream) -> io::Result<()> {
        stream.set_nonblocking(true)?;
        epoll::add(
            self.epoll.get_ref(),
            stream,
            EventData::new_u64(key as u64),
            EventFlags::IN | EventFlags::RDHUP,
        )?;
        Ok(())
    }

    /// Stops watching `stream`.
    pub fn remove(&self, stream: &TcpStream) -> io::Result<()> {
        epoll::delete(self.epoll.get_ref(), stream)?;
        Ok(())
    }

    /// Waits until at least one session has bytes (or was closed), and puts the keys of all that
    /// have (up to a thousand) into `ready`.
    pub async fn ready(&self, ready: &mut Vec<usize>, events: &mut Vec<Event>) -> io::Result<()> {
        let now = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        ready.clear();
        loop {
            events.clear();
            events.reserve(EVENTS);
            epoll::wait(self.epoll.get_ref(), spare_capacity(events), Some(&now))?;
            if !events.is_empty() {
                ready.extend(events.iter().map(|event| event.data.u64() as usize));
                return Ok(());
            }
            self.epoll.readable().await?;
        }
    }
}
