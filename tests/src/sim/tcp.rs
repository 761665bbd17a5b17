//! TCP connections as reliable, ordered byte streams: split into random chunks with random
//! delays, never reordered, and possibly cut.
//!
//! A chunk never arrives before the one sent ahead of it on the same direction, and a FIN arrives
//! after all the data before it. A cut (reset) discards what is still in flight and tells both
//! ends. A silent crash makes an end vanish: nothing reaches it and its peer is never told.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use bytes::Bytes;
use feige_core::server::{ConnId, ServerTransmit};

use super::agenda::{Agenda, SimTime};
use super::event::{End, Event, IncId};
use super::net::Network;

/// Who holds the client end of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// A client incarnation.
    Client(IncId),
    /// The forger.
    Attacker,
}

/// One connection's state.
#[derive(Debug)]
pub struct Connection {
    /// The client end's holder.
    pub owner: Owner,
    /// The client end's address as the server sees it.
    pub peer: SocketAddr,
    /// The server has been told it is open.
    pub open_at_server: bool,
    /// The client has been told it is open.
    pub open_at_client: bool,
    /// Reset by the network: chunks still in flight are discarded.
    pub cut: bool,
    /// An end that closed, vanished or was told of the close: nothing more reaches it.
    gone: [bool; 2],
    /// An end that sent its FIN (or vanished): it sends nothing more.
    done_sending: [bool; 2],
    /// When the last chunk (or the handshake) scheduled toward each end arrives.
    last_arrival: [SimTime; 2],
    /// Bytes the client wrote before its handshake completed.
    early: Vec<Bytes>,
}

impl Connection {
    /// Whether anything can still reach `end`.
    pub fn reaches(&self, end: End) -> bool {
        !self.gone[end.index()]
    }
}

/// Every connection ever opened (numbers are never reused).
#[derive(Debug, Default)]
pub struct Tcp {
    conns: BTreeMap<ConnId, Connection>,
    next: u64,
}

impl Tcp {
    /// A connection.
    pub fn get(&self, conn: ConnId) -> Option<&Connection> {
        self.conns.get(&conn)
    }

    /// The client addresses of `owner`'s connections the server holds: told of their opening,
    /// and neither closed by it nor told of their close.
    pub fn held_at_server(&self, owner: Owner) -> impl Iterator<Item = SocketAddr> + '_ {
        self.conns
            .values()
            .filter(move |c| c.owner == owner && c.open_at_server && c.reaches(End::Server))
            .map(|c| c.peer)
    }

    /// Starts a connection from `peer`: the server hears of it after one delay, the client after
    /// a round trip, unless nothing listens there (`reachable` false) or the network refuses it.
    pub fn connect(
        &mut self,
        net: &mut Network,
        agenda: &mut Agenda<Event>,
        now: SimTime,
        owner: Owner,
        peer: SocketAddr,
        reachable: bool,
    ) -> ConnId {
        let conn = ConnId(self.next);
        self.next += 1;
        let syn = now + net.tcp_delay();
        let syn_ack = syn + net.tcp_delay();
        if !reachable || net.refuses() {
            agenda.schedule(syn_ack, Event::Refused(conn));
        } else {
            agenda.schedule(syn, Event::OpenAtServer(conn));
            agenda.schedule(syn_ack, Event::OpenAtClient(conn));
        }
        self.conns.insert(
            conn,
            Connection {
                owner,
                peer,
                open_at_server: false,
                open_at_client: false,
                cut: false,
                gone: [false; 2],
                done_sending: [false; 2],
                last_arrival: [syn, syn_ack],
                early: Vec::new(),
            },
        );
        conn
    }

    /// The SYN reached the server: whether the server should be told.
    pub fn open_at_server(&mut self, conn: ConnId) -> bool {
        match self.conns.get_mut(&conn) {
            Some(c) if !c.cut && c.reaches(End::Server) => {
                c.open_at_server = true;
                true
            }
            _ => false,
        }
    }

    /// The handshake completed at the client: whether the client should be told. Bytes the client
    /// wrote early go out now.
    pub fn open_at_client(
        &mut self,
        net: &mut Network,
        agenda: &mut Agenda<Event>,
        now: SimTime,
        conn: ConnId,
    ) -> bool {
        let Some(c) = self.conns.get_mut(&conn) else {
            return false;
        };
        if c.cut {
            return false;
        }
        c.open_at_client = true;
        let early = std::mem::take(&mut c.early);
        for data in early {
            self.send(net, agenda, now, conn, End::Client, data);
        }
        self.conns
            .get(&conn)
            .is_some_and(|c| c.reaches(End::Client))
    }

    /// The attempt failed: whether the client should be told.
    pub fn refused(&mut self, conn: ConnId) -> bool {
        match self.conns.get_mut(&conn) {
            Some(c) if c.reaches(End::Client) => {
                c.gone = [true; 2];
                c.done_sending = [true; 2];
                true
            }
            _ => false,
        }
    }

    /// `from` writes `data`: it is split into chunks that arrive in order.
    pub fn send(
        &mut self,
        net: &mut Network,
        agenda: &mut Agenda<Event>,
        now: SimTime,
        conn: ConnId,
        from: End,
        data: Bytes,
    ) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if c.cut || c.done_sending[from.index()] || data.is_empty() {
            return;
        }
        if from == End::Client && !c.open_at_client {
            c.early.push(data);
            return;
        }
        let toward = from.other();
        let mut rest = data;
        while !rest.is_empty() {
            let len = net.chunk_len(rest.len());
            let chunk = rest.split_to(len);
            let at = (now + net.tcp_delay()).max(c.last_arrival[toward.index()]);
            c.last_arrival[toward.index()] = at;
            agenda.schedule(
                at,
                Event::Bytes {
                    conn,
                    toward,
                    data: chunk,
                },
            );
        }
    }

    /// `from` closes: its FIN follows its data; it hears nothing more.
    pub fn close(
        &mut self,
        net: &mut Network,
        agenda: &mut Agenda<Event>,
        now: SimTime,
        conn: ConnId,
        from: End,
    ) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let i = from.index();
        let already = c.done_sending[i];
        c.done_sending[i] = true;
        c.gone[i] = true;
        if already || c.cut {
            return;
        }
        let toward = from.other();
        let at = (now + net.tcp_delay()).max(c.last_arrival[toward.index()]);
        c.last_arrival[toward.index()] = at;
        agenda.schedule(at, Event::Closed { conn, toward });
    }

    /// `end` disappears without a FIN (power loss): its peer is never told.
    pub fn vanish(&mut self, conn: ConnId, end: End) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.gone[end.index()] = true;
            c.done_sending[end.index()] = true;
            c.early.clear();
        }
    }

    /// The network resets the connection: what is in flight is lost, both ends are told.
    pub fn cut(
        &mut self,
        net: &mut Network,
        agenda: &mut Agenda<Event>,
        now: SimTime,
        conn: ConnId,
    ) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if c.cut {
            return;
        }
        c.cut = true;
        c.early.clear();
        for toward in [End::Server, End::Client] {
            if c.reaches(toward) {
                agenda.schedule(now + net.tcp_delay(), Event::Closed { conn, toward });
            }
        }
    }

    /// Every connection not cut and still reaching one of its ends.
    pub fn open_conns(&self) -> Vec<ConnId> {
        self.conns
            .iter()
            .filter(|(_, c)| !c.cut && (c.reaches(End::Client) || c.reaches(End::Server)))
            .map(|(&id, _)| id)
            .collect()
    }

    /// A chunk arrives: whether `toward` should get it.
    pub fn deliverable(&self, conn: ConnId, toward: End) -> bool {
        self.conns.get(&conn).is_some_and(|c| {
            !c.cut
                && c.reaches(toward)
                && match toward {
                    End::Server => c.open_at_server,
                    End::Client => c.open_at_client,
                }
        })
    }

    /// A FIN or reset arrives: whether `toward` should be told (it is told once).
    pub fn take_close(&mut self, conn: ConnId, toward: End) -> bool {
        let Some(c) = self.conns.get_mut(&conn) else {
            return false;
        };
        let knows = match toward {
            End::Server => c.open_at_server,
            End::Client => true,
        };
        if !c.reaches(toward) {
            return false;
        }
        c.gone[toward.index()] = true;
        c.done_sending[toward.index()] = true;
        knows
    }
}

/// Carries out one of a server's transmits, from `server_udp`: datagrams on the network, bytes
/// and closes on its connections. A broadcast must have been fanned out over the roster first
/// (`feige_core::server::Roster::fan_out`); a store command has no place in a world without a
/// cluster.
pub fn carry_server_transmit(
    tcp: &mut Tcp,
    net: &mut Network,
    agenda: &mut Agenda<Event>,
    now: SimTime,
    server_udp: SocketAddr,
    transmit: ServerTransmit,
) {
    match transmit {
        ServerTransmit::Datagram { to, data } => {
            net.send_datagram(agenda, now, server_udp, to, data);
        }
        ServerTransmit::Send { conn, data } | ServerTransmit::Snapshot { conn, data } => {
            tcp.send(net, agenda, now, conn, End::Server, data);
        }
        ServerTransmit::Close { conn } => tcp.close(net, agenda, now, conn, End::Server),
        ServerTransmit::Store(command) => panic!("no cluster in this world: {command:?}"),
        ServerTransmit::Broadcast { .. } => unreachable!("fanned out over the roster"),
    }
}
