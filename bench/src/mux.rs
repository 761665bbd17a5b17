//! Many sockets served by one task. They sit in a level-triggered epoll set, and that set is
//! waited on as a single source: one wake-up of the load generator finds every socket with
//! something to do, each then served with one system call. A task per socket would cost a
//! wake-up, a `read` that finds nothing and a re-arm per write the server makes — more than the
//! server's own work for that write, so the generator, not the server, would set the pace.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::time::Instant;

use rustix::buffer::spare_capacity;
use rustix::event::epoll::{self, CreateFlags, Event, EventData, EventFlags};
use rustix::event::Timespec;
use smol::{future, Async, Timer};

/// Most sockets reported by one look.
const EVENTS: usize = 1024;

/// What a socket is watched for.
#[derive(Debug, Clone, Copy)]
pub enum Interest {
    Read,
    Write,
}

impl Interest {
    fn flags(self) -> EventFlags {
        match self {
            Interest::Read => EventFlags::IN | EventFlags::RDHUP,
            Interest::Write => EventFlags::OUT,
        }
    }
}

/// The set of sockets, keyed by the caller's numbers.
pub struct Mux {
    epoll: Async<OwnedFd>,
    events: Vec<Event>,
}

impl Mux {
    pub fn new() -> io::Result<Mux> {
        let epoll = epoll::create(CreateFlags::CLOEXEC)?;
        Ok(Mux {
            epoll: Async::new(epoll)?,
            events: Vec::with_capacity(EVENTS),
        })
    }

    /// Watches the non-blocking `socket` under `key` until it is removed or closed.
    pub fn add(&self, key: usize, socket: impl AsFd, interest: Interest) -> io::Result<()> {
        let data = EventData::new_u64(key as u64);
        epoll::add(self.epoll.get_ref(), socket, data, interest.flags())?;
        Ok(())
    }

    /// Watches `socket` for something else.
    pub fn modify(&self, key: usize, socket: impl AsFd, interest: Interest) -> io::Result<()> {
        let data = EventData::new_u64(key as u64);
        epoll::modify(self.epoll.get_ref(), socket, data, interest.flags())?;
        Ok(())
    }

    /// Stops watching `socket`.
    pub fn remove(&self, socket: impl AsFd) -> io::Result<()> {
        epoll::delete(self.epoll.get_ref(), socket)?;
        Ok(())
    }

    /// Waits until at least one socket is ready, or `deadline` passes, and puts the keys of the
    /// ready ones (up to a thousand) into `ready`.
    pub async fn ready(
        &mut self,
        ready: &mut Vec<usize>,
        deadline: Option<Instant>,
    ) -> io::Result<()> {
        let now = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        ready.clear();
        loop {
            self.events.clear();
            epoll::wait(
                self.epoll.get_ref(),
                spare_capacity(&mut self.events),
                Some(&now),
            )?;
            if !self.events.is_empty() {
                ready.extend(self.events.iter().map(|event| event.data.u64() as usize));
                return Ok(());
            }
            if deadline.is_some_and(|at| at <= Instant::now()) {
                return Ok(());
            }
            let timer = async {
                deadline.map_or_else(Timer::never, Timer::at).await;
                Ok(())
            };
            future::or(self.epoll.readable(), timer).await?;
        }
    }
}
