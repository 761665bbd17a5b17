//! What the server's outputs imply, rebuilt independently and compared with the server itself:
//! the online list from its events, each client's list from the lines sent on its connection.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};

use bytes::Bytes;

use crate::server::{ConnId, LeaveReason, Server, ServerConfig, ServerEvent, ServerTransmit};
use crate::wire::{
    canonical, decode_classic_list, decode_utf16le, ClassicDatagram, ClientDatagram, Name,
    ServerDatagram, ServerLine, UserEntry,
};

/// The invariants, checked after every drained operation:
/// - no name is online twice, in the server's list or in any client's;
/// - the online list equals the one the `Joined`/`Left` events describe, in order;
/// - every native session's connection received a snapshot then presence lines that, applied
///   in order, give exactly the server's list; nothing but a session receives broadcasts; every
///   other user online is classic, served its one-shot list on a connection closed right after;
/// - a connection gets nothing after `error,<reason>` or a classic list but its close, and
///   nothing at all after its close or once the transport reported it gone;
/// - datagrams go only to addresses the input named (no reflection to third parties);
/// - the counters agree with the lists, `online + pending` stays within `max_sessions` (a user
///   logging in again from its own endpoint takes no new place), and the timer entries within a
///   few per session, pending login and unclaimed connection;
/// - a classic login never replaces a native user;
/// - no source address or prefix holds more users, classic users or unclaimed connections than
///   its limits, nor the server more connections than `max_connections`.
pub(super) struct ServerModel {
    config: ServerConfig,
    /// Sources and declared endpoints of every datagram the server received.
    named: HashSet<SocketAddr>,
    conns: HashMap<ConnId, ConnView>,
    /// The online list as the events tell it, in registration order.
    online: Vec<UserEntry>,
    /// Whether each registration whose list was sent, and whose `Joined` is still to come, is
    /// classic: lists and `Joined` events come in the same order.
    joining: VecDeque<bool>,
    /// The classic users online.
    classic: HashSet<Name>,
    /// A native user just replaced: the `Joined` that follows must not be classic.
    replaced_native: Option<Name>,
}

/// One connection as its client sees it.
#[derive(Default)]
struct ConnView {
    /// The client's address, canonical.
    peer: Option<SocketAddr>,
    /// Neither the transport nor the server has closed it.
    open: bool,
    /// `error,<reason>` or a classic list was sent: only the close may follow.
    closing: bool,
    /// The list a client on this connection holds: `None` until its snapshot.
    list: Option<Vec<UserEntry>>,
}

impl ServerModel {
    pub(super) fn new(config: ServerConfig) -> Self {
        ServerModel {
            config,
            named: HashSet::new(),
            conns: HashMap::new(),
            online: Vec::new(),
            joining: VecDeque::new(),
            classic: HashSet::new(),
            replaced_native: None,
        }
    }

    pub(super) fn datagram_from(&mut self, from: SocketAddr, data: &[u8]) {
        self.named.insert(canonical(from));
        let declared = match (ClientDatagram::parse(data), ClassicDatagram::parse(data)) {
            (Ok(ClientDatagram::Login(e) | ClientDatagram::Logout(e)), _)
            | (_, Ok(ClassicDatagram::Login(e) | ClassicDatagram::Logout(e))) => Some(e.endpoint),
            _ => None,
        };
        self.named.extend(declared);
    }

    pub(super) fn opened(&mut self, conn: ConnId, peer: SocketAddr) {
        let view = ConnView {
            peer: Some(canonical(peer)),
            open: true,
            ..ConnView::default()
        };
        assert!(
            self.conns.insert(conn, view).is_none(),
            "connection id reused"
        );
    }

    pub(super) fn closed_by_transport(&mut self, conn: ConnId) {
        if let Some(view) = self.conns.get_mut(&conn) {
            view.open = false;
        }
    }

    pub(super) fn transmit(&mut self, transmit: ServerTransmit) {
        match transmit {
            ServerTransmit::Datagram { to, data } => {
                assert!(self.named.contains(&to), "datagram to unnamed {to}");
                assert!(well_formed(&data), "malformed datagram {data:?}");
            }
            ServerTransmit::Send { conn, data } | ServerTransmit::Snapshot { conn, data } => {
                self.send(conn, &data)
            }
            ServerTransmit::Broadcast { data } => {
                // Its recipients as a client sees them: every open connection that got its list.
                let mut reached: Vec<ConnId> = self
                    .conns
                    .iter()
                    .filter(|(_, view)| view.open && view.list.is_some())
                    .map(|(&conn, _)| conn)
                    .collect();
                reached.sort_unstable();
                for conn in reached {
                    self.send(conn, &data);
                }
            }
            ServerTransmit::Close { conn } => {
                let view = self.open_conn(conn, "close");
                view.open = false;
            }
            ServerTransmit::Store(command) => panic!("a server alone asked a store: {command:?}"),
        }
    }

    fn open_conn(&mut self, conn: ConnId, what: &str) -> &mut ConnView {
        match self.conns.get_mut(&conn) {
            Some(view) if view.open => view,
            Some(_) => panic!("{what} on closed {conn:?}"),
            None => panic!("{what} on never-opened {conn:?}"),
        }
    }

    fn send(&mut self, conn: ConnId, data: &Bytes) {
        let view = self.open_conn(conn, "send");
        assert!(!view.closing, "send after error or list on {conn:?}");
        let Some(body) = data.strip_suffix(b"\n") else {
            // Not a line: only a classic list, whole, to a connection that has no list yet.
            let list = decode_classic_list(data);
            let whole = matches!(&list, Ok(Some((_, used))) if *used == data.len());
            assert!(
                whole && view.list.is_none(),
                "{data:?} on {conn:?}: {list:?}"
            );
            view.closing = true;
            self.joining.push_back(true);
            return;
        };
        let mut snapshots = 0;
        for raw in body.split(|&b| b == b'\n') {
            let line = match ServerLine::parse(raw) {
                Ok(line) => line,
                Err(e) => panic!("malformed line {raw:?} on {conn:?}: {e}"),
            };
            if let ServerLine::Snapshot(_) = line {
                snapshots += 1;
            }
            apply(view, line, conn);
        }
        self.joining.extend(std::iter::repeat_n(false, snapshots));
    }

    pub(super) fn event(&mut self, event: ServerEvent) {
        match event {
            ServerEvent::Store { .. } | ServerEvent::Reaping { .. } => {
                panic!("a server alone spoke of a cluster: {event:?}")
            }
            ServerEvent::Joined { name, endpoint } => {
                assert!(
                    self.online.iter().all(|e| e.name != name),
                    "{name} joined twice"
                );
                let Some(classic) = self.joining.pop_front() else {
                    panic!("{name} joined without a list");
                };
                let replaced_native = self.replaced_native.take();
                if classic {
                    assert!(
                        replaced_native.as_ref() != Some(&name),
                        "a classic login took over the native user {name}"
                    );
                    self.classic.insert(name.clone());
                }
                self.online.push(UserEntry::new(name, endpoint));
            }
            ServerEvent::Left {
                name,
                endpoint,
                reason,
            } => {
                let was_classic = self.classic.remove(&name);
                if reason == LeaveReason::Replaced && !was_classic {
                    self.replaced_native = Some(name.clone());
                }
                let left = UserEntry::new(name, endpoint);
                let before = self.online.len();
                self.online.retain(|e| *e != left);
                assert_eq!(self.online.len() + 1, before, "{left:?} left unlisted");
            }
            ServerEvent::Accepted { from, .. } | ServerEvent::Rejected { from, .. } => {
                assert!(self.named.contains(&from), "answer to unnamed {from}");
            }
            ServerEvent::ConnectionRefused { conn, .. } => {
                assert!(self.conns.contains_key(&conn), "refused unknown {conn:?}");
            }
        }
    }

    /// The invariants that must hold once every output is drained.
    pub(super) fn check(&self, server: &Server) {
        let listed: Vec<UserEntry> = server.online().cloned().collect();
        let names: HashSet<&str> = listed.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names.len(), listed.len(), "a name online twice: {listed:?}");
        assert_eq!(listed, self.online, "the registry and the events disagree");

        let mut sessions = 0;
        let mut open = 0;
        for (conn, view) in &self.conns {
            if !view.open {
                continue;
            }
            open += 1;
            assert!(!view.closing, "{conn:?} not closed after error or list");
            if let Some(list) = &view.list {
                sessions += 1;
                assert_eq!(list, &listed, "the client on {conn:?} lists otherwise");
            }
        }
        assert!(self.joining.is_empty(), "a list without its Joined");
        assert_eq!(
            sessions + self.classic.len(),
            listed.len(),
            "native sessions without a connection"
        );

        let stats = server.stats();
        assert_eq!(stats.online, listed.len(), "stats.online");
        assert_eq!(
            sessions + stats.unclaimed_connections,
            open,
            "connections held"
        );
        let returning = stats.online.min(stats.pending);
        assert!(
            stats.online + stats.pending <= self.config.max_sessions + returning,
            "over max_sessions: {stats:?}"
        );
        let live = stats.online + stats.pending + stats.unclaimed_connections;
        assert!(stats.timers <= 4 * live + 64, "{stats:?}");
        self.check_sources(&listed, open);
    }

    /// Counts what each address and each prefix holds, from the lists and connections as the
    /// outputs tell them, against the limits (online users were each admitted as a pending
    /// login counted with them, so they stay within the login limits on their own).
    fn check_sources(&self, listed: &[UserEntry], open: usize) {
        let config = &self.config;
        let ips = |ip: IpAddr| (ip, prefix(ip));
        let mut users = Tally::default();
        let mut classic = Tally::default();
        for entry in listed {
            users.add(ips(entry.endpoint.ip()));
            if self.classic.contains(&entry.name) {
                classic.add(ips(entry.endpoint.ip()));
            }
        }
        let mut unclaimed = Tally::default();
        for view in self.conns.values() {
            if let (true, None, Some(peer)) = (view.open, &view.list, view.peer) {
                unclaimed.add(ips(peer.ip()));
            }
        }
        let share = config
            .max_connections
            .map_or(usize::MAX, |m| (m / 4).max(1));
        users.within(
            config.max_sessions_per_ip,
            config.max_sessions_per_prefix,
            "users",
        );
        classic.within(
            config.max_classic_per_ip,
            config.max_classic_per_prefix,
            "classic",
        );
        unclaimed.within(
            config.max_unclaimed_per_ip.min(share),
            config.max_unclaimed_per_prefix.min(share),
            "unclaimed connections",
        );
        assert!(
            self.classic.len() <= config.max_classic_sessions,
            "classic users in all"
        );
        assert!(
            open <= config.max_connections.unwrap_or(usize::MAX),
            "{open} connections held"
        );
    }

    /// After a long silence nothing may be left: no session, login, connection or timer.
    pub(super) fn check_quiescent(&self, server: &Server) {
        let stats = server.stats();
        assert_eq!(
            (stats.online, stats.pending, stats.unclaimed_connections),
            (0, 0, 0),
            "state outlived every timeout: {stats:?}"
        );
        assert_eq!(stats.timers, 0, "timers outlived every timeout");
        assert_eq!(server.poll_timeout(), None, "a deadline with nothing armed");
        assert!(
            self.conns.values().all(|v| !v.open),
            "a connection left open"
        );
    }
}

/// A line as the client on `conn` would apply it to its list.
fn apply(view: &mut ConnView, line: ServerLine, conn: ConnId) {
    if let ServerLine::Error(_) = line {
        view.closing = true;
        return;
    }
    if let ServerLine::Snapshot(entries) = line {
        assert!(view.list.is_none(), "second snapshot on {conn:?}");
        let names: HashSet<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names.len(), entries.len(), "a name twice in {entries:?}");
        view.list = Some(entries);
        return;
    }
    let Some(list) = &mut view.list else {
        panic!("{line:?} before the snapshot on {conn:?}");
    };
    match line {
        ServerLine::Login(entry) => {
            assert!(
                list.iter().all(|e| e.name != entry.name),
                "{entry:?} joined while listed on {conn:?}"
            );
            list.push(entry);
        }
        ServerLine::Logout(entry) => {
            let before = list.len();
            list.retain(|e| *e != entry);
            assert_eq!(
                list.len() + 1,
                before,
                "{entry:?} left unlisted on {conn:?}"
            );
        }
        ServerLine::Key { name, .. } | ServerLine::Dialect { name, .. } => {
            assert!(
                list.iter().any(|e| e.name == name),
                "dialect of unlisted {name}"
            );
        }
        ServerLine::Intro(entry) => {
            assert!(
                list.contains(&entry),
                "introduced to unlisted {entry:?} on {conn:?}"
            );
        }
        ServerLine::Relay { from, .. } => {
            assert!(
                list.iter().any(|e| e.name == from),
                "relayed from unlisted {from} on {conn:?}"
            );
        }
        ServerLine::Pong | ServerLine::Snapshot(_) | ServerLine::Error(_) => {}
    }
}

/// A datagram the server may send: `Accept` or `Reject` in either dialect, or classic presence.
fn well_formed(data: &[u8]) -> bool {
    let utf16_answer = decode_utf16le(data)
        .ok()
        .is_some_and(|text| ServerDatagram::parse(text.as_bytes()).is_ok());
    ServerDatagram::parse(data).is_ok() || ClassicDatagram::parse(data).is_ok() || utf16_answer
}

/// Counts per address and per prefix.
#[derive(Default)]
struct Tally {
    by_ip: HashMap<IpAddr, usize>,
    by_prefix: HashMap<IpAddr, usize>,
}

impl Tally {
    fn add(&mut self, (ip, prefix): (IpAddr, IpAddr)) {
        *self.by_ip.entry(ip).or_default() += 1;
        *self.by_prefix.entry(prefix).or_default() += 1;
    }

    fn within(&self, per_ip: usize, per_prefix: usize, what: &str) {
        for (ip, n) in &self.by_ip {
            assert!(*n <= per_ip, "{n} {what} from {ip}");
        }
        for (prefix, n) in &self.by_prefix {
            assert!(*n <= per_prefix, "{n} {what} from {prefix}/*");
        }
    }
}

/// The /24 or /64 an address is in (the fuzzed server keeps the default prefix lengths).
fn prefix(ip: IpAddr) -> IpAddr {
    match canonical(SocketAddr::new(ip, 0)).ip() {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            IpAddr::from([a, b, c, 0])
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::from([s[0], s[1], s[2], s[3], 0, 0, 0, 0])
        }
    }
}
