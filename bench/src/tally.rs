//! Counting what N receivers got, to time the moment the last of them has it.
//!
//! Every receiver task adds the lines it reads; the measuring task arms a target ("each one
//! more event") and awaits the instant the last receiver crossed it. Single-threaded: one
//! event loop drives every receiver.

use std::cell::Cell;
use std::io;
use std::net::TcpStream;
use std::rc::Rc;
use std::time::Instant;

use smol::channel::{unbounded, Receiver, Sender};
use smol::io::AsyncReadExt;
use smol::{Async, LocalExecutor, Task};

use crate::net::newlines;

/// Lines seen by each of N receivers, and the target of the round being timed.
pub struct Tally {
    counts: Vec<Cell<u64>>,
    targets: Vec<Cell<u64>>,
    remaining: Cell<usize>,
    done: Sender<Instant>,
    done_rx: Receiver<Instant>,
}

impl Tally {
    /// A tally of `n` receivers, none armed.
    pub fn new(n: usize) -> Rc<Tally> {
        let (done, done_rx) = unbounded();
        Rc::new(Tally {
            counts: (0..n).map(|_| Cell::new(0)).collect(),
            targets: (0..n).map(|_| Cell::new(u64::MAX)).collect(),
            remaining: Cell::new(0),
            done,
            done_rx,
        })
    }

    /// Receiver `i` read `lines` more lines.
    pub fn add(&self, i: usize, lines: u64) {
        let (Some(count), Some(target)) = (self.counts.get(i), self.targets.get(i)) else {
            return;
        };
        let before = count.get();
        let after = before + lines;
        count.set(after);
        if before < target.get() && after >= target.get() {
            let left = self.remaining.get().saturating_sub(1);
            self.remaining.set(left);
            if left == 0 {
                let _ = self.done.try_send(Instant::now());
            }
        }
    }

    /// Expects `lines` more lines at every receiver. Call only when the previous round is
    /// complete, so every count is settled.
    pub fn arm(&self, lines: u64) {
        for (count, target) in self.counts.iter().zip(&self.targets) {
            target.set(count.get() + lines);
        }
        self.remaining.set(self.counts.len());
        while self.done_rx.try_recv().is_ok() {}
    }

    /// When the last receiver reached its target.
    pub async fn finished(&self) -> io::Result<Instant> {
        if self.counts.is_empty() {
            return Ok(Instant::now());
        }
        self.done_rx
            .recv()
            .await
            .map_err(|_| io::Error::other("tally closed"))
    }
}

/// Spawns one reader per stream, each adding the lines it reads to `tally`.
pub fn spawn_readers(
    ex: &LocalExecutor<'static>,
    streams: Vec<Async<TcpStream>>,
    tally: &Rc<Tally>,
) -> Vec<Task<io::Result<()>>> {
    streams
        .into_iter()
        .enumerate()
        .map(|(i, mut stream)| {
            let tally = Rc::clone(tally);
            ex.spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                loop {
                    let n = stream.read(&mut buf).await?;
                    if n == 0 {
                        return Ok(());
                    }
                    tally.add(i, newlines(buf.get(..n).unwrap_or_default()));
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finishes_when_the_last_receiver_crosses_its_target() {
        let tally = Tally::new(2);
        tally.arm(2);
        tally.add(0, 2);
        tally.add(1, 1);
        assert!(tally.done_rx.try_recv().is_err());
        tally.add(1, 5);
        assert!(tally.done_rx.try_recv().is_ok());
        tally.add(0, 1);
        assert!(tally.done_rx.try_recv().is_err());
    }
}
