//! The server driver: one owner thread holds the [`ServerMachine`]; a UDP reader thread, an
//! accept thread and each connection's reader feed it through one bounded channel.

mod accept;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use feige_app::driver::{
    Listening, Overflow, ServerInput, ServerIo, ServerMachine, ServerSetup, ServerThread,
};
use feige_core::server::{ConnId, Roster, Server};
use feige_platform::address::Outgoing;
use feige_platform::cluster::{Deliver, StoreLink};
use feige_platform::limits::{ConnLimits, SERVER_FLUSH_AT_EXIT, SERVER_INBOX};

use crate::conn::{Connection, Writers};
use crate::inbox::{self, Next};
use crate::{metrics, udp};

type Input = ServerInput<TcpStream>;

/// Binds both sockets, tells `on_listening` where (before anything can arrive), then serves in
/// background threads, handing every server event to `on_event`.
pub fn start(setup: ServerSetup<'_>) -> io::Result<ServerThread> {
    let options = setup.options;
    let udp_socket = UdpSocket::bind(options.udp)?;
    let listener = TcpListener::bind(options.tcp)?;
    let scrapes = options.metrics.map(TcpListener::bind).transpose()?;
    let udp = udp_socket.local_addr()?;
    let tcp = listener.local_addr()?;
    let metrics_at = scrapes.as_ref().map(TcpListener::local_addr).transpose()?;
    let (tx, rx) = mpsc::sync_channel(SERVER_INBOX);
    let inbox = tx.clone();
    let deliver: Deliver = Arc::new(move |event| {
        let _ = inbox.send(Input::Store(event));
    });
    let store = StoreLink::for_server(
        options.cluster_url.as_deref(),
        options.config.cluster,
        deliver,
    )?;
    (setup.on_listening)(Listening {
        udp,
        tcp,
        metrics: metrics_at,
    });

    let stop = Arc::new(AtomicBool::new(false));
    let scraping = scrapes
        .map(|scrapes| metrics::spawn(scrapes, Arc::clone(&setup.metrics), Arc::clone(&stop)))
        .transpose()?;
    let datagrams = tx.clone();
    let receiving = udp::spawn_reader(
        udp_socket.try_clone()?,
        Arc::clone(&stop),
        move |from, data| datagrams.send(Input::Datagram { from, data }).is_ok(),
    )?;
    let accepts = tx.clone();
    let accepting = accept::spawn(listener, Arc::clone(&stop), move |conn, peer, stream| {
        accepts.send(Input::Opened { conn, peer, stream }).is_ok()
    })?;

    let mut config = options.config;
    config.tcp_port = tcp.port();
    let mut machine = ServerMachine::new(Server::new(config), setup.on_event, setup.metrics, store);
    let mut sockets = Sockets {
        udp: Outgoing::new(udp_socket)?,
        conns: HashMap::new(),
        refused: HashMap::new(),
        limits: ConnLimits::server(options.max_queued_bytes),
        writers: Writers::default(),
        inputs: tx.clone(),
        to_wake: Vec::new(),
        roster: Roster::default(),
    };
    let owner = move || {
        run(&mut machine, &mut sockets, &rx);
        // Our members' leaves reach the cluster before we go. No input is read any more: the
        // link's threads must not wait to hand one over.
        drop(rx);
        machine.stop_store(Instant::now() + SERVER_FLUSH_AT_EXIT);
        stop.store(true, Ordering::Relaxed);
        accept::wake(tcp);
        if let Some(at) = metrics_at {
            accept::wake(at);
        }
        // Closing (not dropping) lets each writer flush its `error,shutdown`.
        for (_, conn) in sockets.conns.drain() {
            conn.close();
        }
        sockets
            .writers
            .wait_idle(Instant::now() + SERVER_FLUSH_AT_EXIT);
        // Every socket is closed once the server has ended: one started again at once can bind
        // the same addresses.
        drop(sockets);
        for feeder in [Some(receiving), Some(accepting), scraping]
            .into_iter()
            .flatten()
        {
            if feeder.join().is_err() {
                tracing::error!("a socket thread of the server panicked");
            }
        }
    };
    ServerThread::spawn("server", (udp, tcp), owner, move || {
        let _ = tx.send(Input::Shutdown);
    })
}

/// Inputs handled in one turn before the writers are woken: enough to batch a burst of logins
/// into few writes, few enough to keep latency low.
const INPUTS_PER_TURN: usize = 64;

/// The owner loop: serves until told to shut down, then logs everyone out.
fn run(machine: &mut ServerMachine, sockets: &mut Sockets, inputs: &Receiver<Input>) {
    let mut serving = true;
    while serving {
        machine.drain(Instant::now(), sockets);
        let first = match inbox::next(inputs, machine.poll_timeout()) {
            Next::Input(input) => Some(input),
            Next::Deadline => None,
            Next::Closed => break,
        };
        let now = Instant::now();
        // Take what else is already waiting, so one wake-up per writer carries it all.
        let more = std::iter::from_fn(|| inputs.try_recv().ok());
        for input in first.into_iter().chain(more).take(INPUTS_PER_TURN) {
            serving = machine.handle(now, input, sockets);
            machine.drain(now, sockets);
            if !serving {
                break;
            }
        }
        // Under a steady stream of input the wait never times out: check the deadline too.
        if machine.poll_timeout().is_some_and(|at| at <= now) {
            machine.handle_timeout(now);
            machine.drain(now, sockets);
        }
        machine.end_turn(now, sockets);
    }
    let now = Instant::now();
    machine.shutdown(now);
    machine.drain(now, sockets);
    machine.end_turn(now, sockets);
}

/// The server's sockets: the UDP socket, and each TCP connection with its reader and writer.
struct Sockets {
    udp: Outgoing,
    conns: HashMap<ConnId, Connection>,
    /// Connections refused at once, held only until their error line is written.
    refused: HashMap<ConnId, TcpStream>,
    limits: ConnLimits,
    writers: Writers,
    /// For the connections' reader threads.
    inputs: SyncSender<Input>,
    /// Connections given lines this turn: each writer is woken once, when the turn ends, to
    /// write all of them together.
    to_wake: Vec<ConnId>,
    /// Who a broadcast reaches.
    roster: Roster,
}

impl Sockets {
    /// Takes `conn` off the roster and out of the connections.
    fn drop_conn(&mut self, conn: ConnId) -> Option<Connection> {
        self.roster.remove(conn);
        self.conns.remove(&conn)
    }
}

impl ServerIo for Sockets {
    type Stream = TcpStream;

    fn send_datagram(&mut self, to: SocketAddr, data: &[u8]) {
        self.udp.send(to, data);
    }

    fn open(&mut self, conn: ConnId, stream: TcpStream) -> io::Result<Option<Vec<u8>>> {
        let bytes = self.inputs.clone();
        let lost = self.inputs.clone();
        let connection = Connection::spawn(
            stream,
            self.limits,
            &self.writers,
            move |data| bytes.send(Input::Bytes { conn, data }).is_ok(),
            move || {
                let _ = lost.send(Input::Lost { conn });
            },
        )?;
        self.conns.insert(conn, connection);
        Ok(None)
    }

    fn hold_refused(&mut self, conn: ConnId, stream: TcpStream) {
        if stream.set_nonblocking(true).is_ok() {
            self.refused.insert(conn, stream);
        }
    }

    fn is_open(&self, conn: ConnId) -> bool {
        self.conns.contains_key(&conn)
    }

    fn send(&mut self, conn: ConnId, data: Bytes) -> Result<(), Overflow> {
        if let Some(mut refused) = self.refused.get(&conn) {
            let _ = refused.write(&data);
            return Ok(());
        }
        let Some(connection) = self.conns.get(&conn) else {
            return Ok(());
        };
        match connection.send(data) {
            Ok(first) => {
                if first {
                    self.to_wake.push(conn);
                }
                Ok(())
            }
            Err(overflow) => {
                self.drop_conn(conn);
                Err(overflow)
            }
        }
    }

    fn send_snapshot(&mut self, conn: ConnId, data: Bytes) {
        if let Some(connection) = self.conns.get(&conn) {
            self.roster.insert(conn);
            if connection.send_whole(data) {
                self.to_wake.push(conn);
            }
        }
    }

    /// One copy of the reference per recipient; each writer is woken once, when the turn ends.
    fn broadcast(&mut self, data: Bytes, overflowed: &mut Vec<ConnId>) -> usize {
        let before = overflowed.len();
        let mut reached = 0;
        for conn in self.roster.iter() {
            let Some(connection) = self.conns.get(&conn) else {
                continue;
            };
            match connection.send(data.clone()) {
                Ok(first) => {
                    reached += 1;
                    if first {
                        self.to_wake.push(conn);
                    }
                }
                Err(Overflow) => overflowed.push(conn),
            }
        }
        for &conn in &overflowed[before..] {
            self.drop_conn(conn);
        }
        reached
    }

    /// Ends a turn on every connection given output in it: each writer is woken once.
    fn end_turn(&mut self, _overflowed: &mut Vec<ConnId>) {
        for conn in self.to_wake.drain(..) {
            if let Some(connection) = self.conns.get(&conn) {
                connection.end_turn();
            }
        }
    }

    fn close(&mut self, conn: ConnId) {
        if let Some(connection) = self.drop_conn(conn) {
            connection.close();
        }
        self.refused.remove(&conn);
    }

    fn forget(&mut self, conn: ConnId) -> bool {
        let Some(connection) = self.drop_conn(conn) else {
            return false;
        };
        connection.abort();
        true
    }

    fn max_queued_bytes(&self) -> usize {
        self.limits.max_queued_bytes
    }
}
