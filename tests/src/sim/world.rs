//! The simulation loop: one server, the client incarnations, the forger, the network, and the
//! agenda that orders everything they do.
//!
//! Every input to a machine is followed by the drain of the contract: all transmits are handed to
//! the network, all events are journaled, and `poll_timeout` is read again to arm its timer. The
//! network never calls back into a machine directly; every delivery goes through the agenda with
//! a positive delay, so there is no reentrancy and the order of everything is the agenda's.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::Hash;
use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use feige_core::client::{
    Client, ClientConfig, ClientEvent, ClientState, ClientTransmit, SendError,
};
use feige_core::server::{
    CloseCause, ConnId, Roster, Server, ServerConfig, ServerEvent, ServerTransmit,
};
use feige_core::wire::{
    decode_classic_list, Dialect, LineDecoder, Name, ServerLine, SessionId, UserEntry,
};

use super::addresses::{AddressBook, ATTACKER, SERVER_TCP, SERVER_UDP};
use super::agenda::{Agenda, Clock, SimTime};
use super::attacker::{Attacker, Listed, Move, Source};
use super::check::sources::connections_within_limits;
use super::dice::{Dice, Stream};
use super::event::{Act, End, Event, IncId, Machine};
use super::identity::{wall_clock, Identities};
use super::journal::{fmt_time, Chat, Heard, Journal, KeyInput, Via};
use super::net::{Faults, Network};
use super::node::{Alarm, ClientNode, Life, ServerNode};
use super::params::Params;
use super::scenario::{Misuse, Scenario};
use super::tcp::{carry_server_transmit, Owner, Tcp};
use super::watch::Watch;

/// The last entry of a snapshot line in `data` (the newcomer, listed last in registration
/// order), if `data` holds one.
fn snapshot_newcomer(data: &[u8]) -> Option<UserEntry> {
    let end = data.windows(5).position(|w| w == b";end\n")?;
    let start = data
        .get(..end)?
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    match ServerLine::parse(data.get(start..end + 5)?) {
        Ok(ServerLine::Snapshot(entries)) => entries.last().cloned(),
        _ => None,
    }
}

/// The newcomer of a classic list in `data` (the last entry, in registration order), if `data`
/// is exactly one classic list.
fn classic_newcomer(data: &[u8]) -> Option<UserEntry> {
    match decode_classic_list(data) {
        Ok(Some((entries, used))) if used == data.len() => entries.last().cloned(),
        _ => None,
    }
}

/// The server's limits: the defaults, with the per-source ones cut so that the forger reaches
/// them and the users never do. A name has at most one pending login and one session at a time,
/// and every one of the forger's logins from a user's host is in a user's name, so the users'
/// hosts and network never hold more than one pending login per name, nor more than two logins
/// (pending or online) per name.
fn server_config(users: usize) -> ServerConfig {
    ServerConfig {
        tcp_port: SERVER_TCP.port(),
        max_pending_per_ip: users + 1,
        max_pending_per_prefix: users + 1,
        max_sessions_per_ip: 2 * users + 1,
        max_sessions_per_prefix: 2 * users + 1,
        max_classic_per_ip: 2,
        max_classic_per_prefix: 3,
        max_classic_sessions: 5,
        max_unclaimed_per_ip: 4,
        max_unclaimed_per_prefix: 4 * users + 8,
        max_connections: Some(16 * users + 64),
        ..ServerConfig::default()
    }
}

/// A whole simulated network and its history.
#[derive(Debug)]
pub struct World {
    clock: Clock,
    /// Current simulated time.
    pub now: SimTime,
    agenda: Agenda<Event>,
    net: Network,
    tcp: Tcp,
    book: AddressBook,
    /// The server.
    pub server: ServerNode,
    /// Every client incarnation, indexed by [`IncId`].
    pub clients: Vec<ClientNode>,
    attacker: Attacker,
    /// Every address the forger sent a datagram from.
    attacker_sources: BTreeSet<SocketAddr>,
    /// The plan.
    pub scenario: Scenario,
    /// What happened.
    pub journal: Journal,
    sessions: Dice,
    sids: BTreeSet<u64>,
    /// What clients make of sealed and forged datagrams.
    watch: Watch,
    /// Every user's data directory: its key and what it pinned.
    identities: Identities,
    halted: bool,
    verbose: bool,
}

impl World {
    /// A world drawn from `seed`; with `verbose`, every step is printed to stderr.
    pub fn new(seed: u64, params: &Params, verbose: bool) -> Self {
        let mut scenario = Scenario::new(Dice::new(seed, Stream::Scenario), params);
        let mut book = AddressBook::new(scenario.hosts());
        let mut net_dice = Dice::new(seed, Stream::Network);
        let faults = Faults::stormy(&mut net_dice);
        let users = scenario.names.len();
        let config = server_config(users);
        let mut agenda = Agenda::default();
        for (at, act) in scenario.opening(&mut book) {
            agenda.schedule(at, Event::Act(act));
        }
        let mut world = World {
            clock: Clock::start(),
            now: SimTime::ZERO,
            agenda,
            net: Network::new(net_dice, faults),
            tcp: Tcp::default(),
            book,
            server: ServerNode {
                machine: Server::new(config),
                alarm: Alarm::default(),
                roster: Roster::default(),
            },
            clients: Vec::new(),
            attacker: Attacker::new(Dice::new(seed, Stream::Attacker), params.spoofing),
            attacker_sources: BTreeSet::new(),
            scenario,
            journal: Journal::default(),
            sessions: Dice::new(seed, Stream::Sessions),
            sids: BTreeSet::new(),
            watch: Watch::default(),
            identities: Identities::new(Dice::new(seed, Stream::Keys), users),
            halted: false,
            verbose,
        };
        if params.stolen_key {
            if let (Some(name), Some(keys)) = (
                world.scenario.names.first().cloned(),
                world.identities.keys(0),
            ) {
                world.attacker.steal(name, keys);
            }
        }
        world.say(|| format!("seed {seed}: faults {:?}", world.net.faults));
        world
    }

    /// Runs until the scenario's end (or until a machine is found stuck).
    pub fn run(&mut self) {
        let end = self.scenario.end;
        while !self.halted {
            let Some((at, event)) = self.agenda.pop_until(end) else {
                break;
            };
            self.now = at;
            self.step(event);
        }
        self.now = end;
    }

    /// The `Instant` the machines see now.
    fn instant(&self) -> Instant {
        self.clock.instant(self.now)
    }

    fn step(&mut self, event: Event) {
        match event {
            Event::Datagram { from, to, data } => self.on_datagram(from, to, data),
            Event::OpenAtServer(conn) => {
                if self.tcp.open_at_server(conn) {
                    let Some(peer) = self.tcp.get(conn).map(|c| c.peer) else {
                        return;
                    };
                    self.trace("open@server", &conn.0, b"");
                    self.say(|| format!("tcp {} opened at the server, from {peer}", conn.0));
                    self.with_server(Via::Tcp(conn), |s, now| {
                        s.handle_connection_opened(now, conn, peer)
                    });
                    if self.conn_owner(conn) == Some(Owner::Attacker) {
                        let config = self.server.machine.config();
                        for excess in connections_within_limits(&self.tcp, config) {
                            self.journal.anomaly(self.now, excess);
                        }
                    }
                }
            }
            Event::OpenAtClient(conn) => {
                let (net, agenda) = (&mut self.net, &mut self.agenda);
                if !self.tcp.open_at_client(net, agenda, self.now, conn) {
                    return;
                }
                self.trace("open@client", &conn.0, b"");
                self.say(|| format!("tcp {} opened at the client", conn.0));
                if self.tcp.get(conn).map(|c| c.owner) == Some(Owner::Attacker) {
                    if let Some(first) = self.attacker.connected(conn) {
                        let (net, agenda) = (&mut self.net, &mut self.agenda);
                        self.tcp
                            .send(net, agenda, self.now, conn, End::Client, first);
                    }
                } else {
                    self.with_client_end(conn, |world, inc| {
                        world.with_client(inc, Via::Tcp(conn), |c, now| c.handle_connected(now))
                    });
                }
            }
            Event::Refused(conn) => {
                if self.tcp.refused(conn) {
                    self.trace("refused", &conn.0, b"");
                    self.say(|| format!("tcp {} refused", conn.0));
                    self.with_client_end(conn, |world, inc| {
                        world.with_client(inc, Via::Tcp(conn), |c, now| c.handle_tcp_closed(now))
                    });
                }
            }
            Event::Bytes { conn, toward, data } => self.on_bytes(conn, toward, data),
            Event::Closed { conn, toward } => {
                if !self.tcp.take_close(conn, toward) {
                    return;
                }
                self.trace("closed", &(conn.0, toward.index()), b"");
                self.say(|| format!("tcp {} {toward:?} <- close", conn.0));
                match toward {
                    End::Server => {
                        self.server.roster.remove(conn);
                        self.with_server(Via::Tcp(conn), |s, now| {
                            s.handle_connection_closed(now, conn, CloseCause::Closed)
                        })
                    }
                    End::Client => self.with_client_end(conn, |world, inc| {
                        world.with_client(inc, Via::Tcp(conn), |c, now| c.handle_tcp_closed(now))
                    }),
                }
            }
            Event::Timer { machine, deadline } => self.on_timer(machine, deadline),
            Event::SpuriousWake(machine) => {
                self.trace("spurious-wake", &machine, b"");
                match machine {
                    Machine::Server => self.with_server(Via::Timer, |s, now| s.handle_timeout(now)),
                    Machine::Client(inc) => {
                        self.with_client(inc, Via::Timer, |c, now| c.handle_timeout(now))
                    }
                }
            }
            Event::Act(act) => self.on_act(act),
        }
    }

    fn on_datagram(&mut self, from: SocketAddr, to: SocketAddr, data: Bytes) {
        self.trace("datagram", &(from, to), &data);
        self.say(|| format!("dgram {from} -> {to}: {:?}", String::from_utf8_lossy(&data)));
        if to == SERVER_UDP {
            self.with_server(Via::Datagram(from), |s, now| {
                s.handle_datagram(now, from, &data)
            });
        } else if let Some(inc) = self.book.holder(to) {
            let before = self.clients.get(inc.0).and_then(|n| {
                let events = self.journal.events_of(inc).len();
                self.watch.before(from, &data, n.machine.stats(), events)
            });
            self.with_client(inc, Via::Datagram(from), |c, now| {
                c.handle_datagram(now, from, &data)
            });
            if let (Some(before), Some(node)) = (before, self.clients.get(inc.0)) {
                let events = self.journal.events_of(inc).len();
                if let Some(wrong) = self.watch.after(inc, before, node.machine.stats(), events) {
                    self.journal.anomaly(self.now, wrong);
                }
            }
        }
        // Anything else (the forger's address, a dead endpoint) is dropped, like ICMP noise.
    }

    fn on_bytes(&mut self, conn: ConnId, toward: End, data: Bytes) {
        if !self.tcp.deliverable(conn, toward) {
            return;
        }
        self.trace("bytes", &(conn.0, toward.index()), &data);
        self.say(|| {
            format!(
                "tcp {} {toward:?} <- {:?}",
                conn.0,
                String::from_utf8_lossy(&data)
            )
        });
        match toward {
            End::Server => {
                self.with_server(Via::Tcp(conn), |s, now| s.handle_bytes(now, conn, &data))
            }
            End::Client => match self.tcp.get(conn).map(|c| c.owner) {
                Some(Owner::Client(inc)) if self.current_conn(inc) == Some(conn) => {
                    self.hear_lines(inc, &data);
                    self.with_client(inc, Via::Tcp(conn), |c, now| c.handle_tcp_bytes(now, &data))
                }
                Some(Owner::Attacker) => {
                    for line in self.attacker.hear(conn, &data) {
                        self.journal.anomaly(
                            self.now,
                            format!("the forger's connection {} was served: {line:?}", conn.0),
                        );
                    }
                }
                _ => {}
            },
        }
    }

    fn on_timer(&mut self, machine: Machine, deadline: Instant) {
        let now = self.now;
        let alarm = match machine {
            Machine::Server => &mut self.server.alarm,
            Machine::Client(inc) => match self.clients.get_mut(inc.0) {
                Some(node) if node.is_running() => &mut node.alarm,
                _ => return,
            },
        };
        if !alarm.fire(deadline) {
            return;
        }
        if !alarm.count_wake(now) {
            self.journal.anomaly(
                now,
                format!("{machine:?} keeps asking for a timeout at the same instant: stuck"),
            );
            self.halted = true;
            return;
        }
        self.trace("timer", &machine, b"");
        self.say(|| format!("timeout {machine:?}"));
        match machine {
            Machine::Server => self.with_server(Via::Timer, |s, now| s.handle_timeout(now)),
            Machine::Client(inc) => {
                self.with_client(inc, Via::Timer, |c, now| c.handle_timeout(now))
            }
        }
    }

    fn on_act(&mut self, act: Act) {
        self.trace("act", &act, b"");
        self.say(|| format!("act {act:?}"));
        match act {
            Act::Launch {
                user,
                endpoint,
                reinstall,
            } => {
                if reinstall {
                    self.identities.reinstall(user);
                }
                self.launch(user, endpoint);
            }
            Act::Trust { inc, user } => self.trust(inc, user),
            Act::Crash { inc, fin } => self.crash(inc, fin),
            Act::Logout(inc) => {
                let Some(node) = self.clients.get_mut(inc.0) else {
                    return;
                };
                if !node.is_running() {
                    return;
                }
                if node.machine.state() == ClientState::Online {
                    node.logout_at = Some(self.now);
                    self.with_client(inc, Via::Command, |c, now| c.logout(now));
                } else {
                    self.retry(act);
                }
            }
            Act::Cut(inc) => {
                let open = self.current_conn(inc).filter(|&conn| {
                    self.tcp
                        .get(conn)
                        .is_some_and(|c| c.open_at_client && !c.cut && c.reaches(End::Client))
                });
                match open {
                    Some(conn) => {
                        if let Some(node) = self.clients.get_mut(inc.0) {
                            node.cut_at = Some(self.now);
                        }
                        self.tcp
                            .cut(&mut self.net, &mut self.agenda, self.now, conn);
                    }
                    None if self.is_running(inc) => self.retry(act),
                    None => {}
                }
            }
            Act::Chat(inc) => self.chat(inc),
            Act::Attack => {
                let directory = self.directory();
                let wall_ms = wall_clock(&self.clock, self.now).unix_ms;
                for mv in self.attacker.act(&directory, wall_ms) {
                    self.attacker_move(mv);
                }
                if self.scenario.spurious() {
                    self.agenda
                        .schedule(self.now, Event::SpuriousWake(Machine::Server));
                }
                if let Some((at, act)) = self.scenario.next_attack(self.now) {
                    self.agenda.schedule(at, Event::Act(act));
                }
            }
            Act::RestartServer => {
                self.say(|| "the server restarts".to_owned());
                self.journal.server_restarted(self.now);
                let config = self.server.machine.config().clone();
                self.server = ServerNode {
                    machine: Server::new(config),
                    alarm: Alarm::default(),
                    roster: Roster::default(),
                };
                for conn in self.tcp.open_conns() {
                    self.tcp
                        .cut(&mut self.net, &mut self.agenda, self.now, conn);
                }
            }
            Act::Calm => {
                self.net.faults = Faults::calm();
                for conn in self.attacker.conns.clone() {
                    self.tcp
                        .close(&mut self.net, &mut self.agenda, self.now, conn, End::Client);
                }
            }
            Act::Withdraw => {
                for mv in self.attacker.withdraw() {
                    self.attacker_move(mv);
                }
            }
            Act::FinalLogins => {
                for user in 0..self.scenario.names.len() {
                    let mine = self.clients.iter().filter(|n| n.user == user);
                    if mine.clone().any(|n| n.is_running()) {
                        continue;
                    }
                    let last = mine.last().map(|n| n.endpoint);
                    let endpoint = self.scenario.final_endpoint(user, last, &mut self.book);
                    let at = self.now + self.scenario.stagger();
                    let reinstall = false;
                    let launch = Act::Launch {
                        user,
                        endpoint,
                        reinstall,
                    };
                    self.agenda.schedule(at, Event::Act(launch));
                }
            }
        }
    }

    /// Starts a new incarnation of `user` at `endpoint` (or a fresh one if it is taken).
    fn launch(&mut self, user: usize, endpoint: SocketAddr) {
        let Some(name) = self.scenario.names.get(user).cloned() else {
            return;
        };
        let inc = IncId(self.clients.len());
        let endpoint = if self.book.bind(endpoint, inc) {
            endpoint
        } else {
            let fresh = self.book.fresh_endpoint(endpoint.ip());
            self.book.bind(fresh, inc);
            fresh
        };
        let sid = self.fresh_sid();
        let start = self.identities.start(user, inc);
        let key = start.keys.public();
        let mut config = ClientConfig::new(name.clone(), SERVER_UDP, endpoint, sid);
        config.identity = Some(start.keys);
        config.pinned = start.pinned.clone();
        config.seed = start.seed;
        let stored = start.restored.is_some();
        config.restored = start.restored;
        config.clock = Some(wall_clock(&self.clock, self.now));
        let heard = LineDecoder::new(config.max_server_line);
        let machine = Client::new(config, self.instant());
        self.say(|| format!("launch {inc:?} {name} at {endpoint} sid {sid} key {key}"));
        self.clients.push(ClientNode {
            inc,
            user,
            name,
            endpoint,
            sid,
            key,
            generation: start.generation,
            pinned: start.pinned,
            heard,
            machine,
            alarm: Alarm::default(),
            life: Life::Running,
            launched_at: self.now,
            logout_at: None,
            conn: None,
            cut_at: None,
            must_log_in: self.now >= self.scenario.final_logins_at,
            stored,
        });
        self.drain_client(inc, Via::Command);
        for (at, act) in self.scenario.on_launch(self.now, inc, user, &mut self.book) {
            self.agenda.schedule(at, Event::Act(act));
        }
    }

    /// The user of `inc` trusts the key listed for `user` (it was told the key changed).
    fn trust(&mut self, inc: IncId, user: usize) {
        let Some(name) = self.scenario.names.get(user).cloned() else {
            return;
        };
        if !self.is_running(inc) {
            return;
        }
        self.journal
            .key_input(self.now, inc, KeyInput::Trust(name.clone()));
        self.with_client(inc, Via::Command, |c, now| {
            // Refused when the user left or the key was trusted meanwhile: the checker's model
            // of the keyring says which.
            let _ = c.trust(now, &name);
        });
    }

    /// Notes the server lines a running client is about to read (see [`KeyInput::Lines`]).
    fn hear_lines(&mut self, inc: IncId, data: &[u8]) {
        let Some(node) = self.clients.get_mut(inc.0).filter(|n| n.is_running()) else {
            return;
        };
        node.heard.push(data);
        let mut lines = Vec::new();
        while let Some(line) = node.heard.next_line() {
            lines.push(match line {
                Ok(line) => Heard::of(line),
                Err(_) => Heard::Broken,
            });
        }
        if !lines.is_empty() {
            self.journal
                .key_input(self.now, inc, KeyInput::Lines(lines));
        }
    }

    /// A session id never used before in this run.
    fn fresh_sid(&mut self) -> SessionId {
        loop {
            let value = self.sessions.bits();
            if self.sids.insert(value) {
                return SessionId::new(value);
            }
        }
    }

    /// The process dies: its endpoint is free, its TCP end vanishes or sends a FIN.
    fn crash(&mut self, inc: IncId, fin: bool) {
        let Some(node) = self.clients.get_mut(inc.0) else {
            return;
        };
        if !node.is_running() {
            return;
        }
        node.life = Life::Crashed { at: self.now, fin };
        let (endpoint, conn, user) = (node.endpoint, node.conn, node.user);
        self.book.unbind(endpoint);
        self.identities.ended(user, inc);
        if let Some(conn) = conn {
            if fin {
                self.tcp
                    .close(&mut self.net, &mut self.agenda, self.now, conn, End::Client);
            } else {
                self.tcp.vanish(conn, End::Client);
            }
        }
        self.after_end(user, endpoint);
    }

    /// The process exits after its terminal event; the OS closes what it left open.
    fn exit(&mut self, inc: IncId) {
        let Some(node) = self.clients.get_mut(inc.0) else {
            return;
        };
        node.life = Life::Exited { at: self.now };
        let (endpoint, conn, user) = (node.endpoint, node.conn, node.user);
        self.book.unbind(endpoint);
        self.identities.ended(user, inc);
        if let Some(conn) = conn {
            self.tcp
                .close(&mut self.net, &mut self.agenda, self.now, conn, End::Client);
        }
        self.after_end(user, endpoint);
    }

    fn after_end(&mut self, user: usize, endpoint: SocketAddr) {
        if let Some((at, act)) = self
            .scenario
            .on_end(self.now, user, endpoint, &mut self.book)
        {
            self.agenda.schedule(at, Event::Act(act));
        }
    }

    fn retry(&mut self, act: Act) {
        if let Some((at, act)) = self.scenario.retry(self.now, act) {
            self.agenda.schedule(at, Event::Act(act));
        }
    }

    /// One chat turn: a message to someone on the list, or a probe of a refusal.
    fn chat(&mut self, inc: IncId) {
        if !self.is_running(inc) {
            return;
        }
        if let Some((at, act)) = self.scenario.next_chat(self.now, inc) {
            self.agenda.schedule(at, Event::Act(act));
        }
        if self.scenario.spurious() {
            self.agenda
                .schedule(self.now, Event::SpuriousWake(Machine::Client(inc)));
        }
        let Some(node) = self.clients.get(inc.0) else {
            return;
        };
        if node.machine.state() != ClientState::Online {
            return;
        }
        let me = node.name.clone();
        // The forger's textbook users are no one to talk to: a classic peer gets `talk`, which
        // is never acknowledged, and the chat checks are about `msg`.
        let peers: Vec<Name> = node
            .machine
            .users()
            .filter(|u| {
                u.name != me && node.machine.dialect(u.name.as_str()) != Some(Dialect::Classic)
            })
            .map(|u| u.name.clone())
            .collect();
        if let Some(misuse) = self.scenario.probe_misuse() {
            self.misuse(inc, &me, &peers, misuse);
            return;
        }
        let Some(to) = self.scenario.pick_peer(&peers).cloned() else {
            return;
        };
        let text = self.scenario.compose(&me, &to);
        let now = self.instant();
        let Some(node) = self.clients.get_mut(inc.0) else {
            return;
        };
        match node.machine.send_message(now, &to, &text) {
            Ok(id) => {
                let must_deliver = self.now >= self.scenario.must_deliver_from;
                let store = node.store();
                self.journal.chat(
                    Chat {
                        sender: inc,
                        to,
                        id,
                        text,
                        sent_at: self.now,
                        must_deliver,
                    },
                    store,
                );
            }
            // Sealed chat needs the peer's key line, which may still be on its way after the
            // peer's login line: the checker holds this to what the client was told.
            Err(SendError::NoKey) => self.journal.no_key(self.now, inc, to),
            Err(e) => self.journal.anomaly(
                self.now,
                format!("{inc:?} ({me}, online) could not send to {to}, on its list: {e}"),
            ),
        }
        self.drain_client(inc, Via::Command);
    }

    /// A call of `send_message` that must be refused with a precise error.
    fn misuse(&mut self, inc: IncId, me: &Name, peers: &[Name], misuse: Misuse) {
        let peer = peers.first().cloned();
        let too_long = "x".repeat(1200);
        let (to, text, expected): (Name, &str, fn(&SendError) -> bool) = match (misuse, peer) {
            (Misuse::ToSelf, _) => (me.clone(), "hello me", |e| *e == SendError::ToSelf),
            (Misuse::Empty, Some(p)) => (p, "", |e| *e == SendError::EmptyText),
            (Misuse::TooLong, Some(p)) => (
                p,
                &too_long,
                |e| matches!(e, SendError::TooLong { max } if *max < 1200),
            ),
            (Misuse::Nobody, _) => match Name::new("nobody here") {
                Ok(n) => (n, "anyone?", |e| *e == SendError::NoSuchUser),
                Err(_) => return,
            },
            _ => return,
        };
        let now = self.instant();
        let Some(node) = self.clients.get_mut(inc.0) else {
            return;
        };
        let result = node.machine.send_message(now, &to, text);
        match result {
            Err(ref e) if expected(e) => {}
            // The length is checked only once the peer's key is known (its key line may still
            // be on its way): the checker holds the client to what it was told, as for chat.
            Err(SendError::NoKey) if matches!(misuse, Misuse::TooLong) => {
                self.journal.no_key(self.now, inc, to)
            }
            other => self.journal.anomaly(
                self.now,
                format!(
                    "{inc:?} ({me}): send_message to {to} with a {} text ({misuse:?}) gave {other:?}",
                    text.len()
                ),
            ),
        }
        self.drain_client(inc, Via::Command);
    }

    /// The server's directory as anyone logged in reads it: who is online, with the key each
    /// announced.
    fn directory(&self) -> Vec<Listed> {
        self.server
            .machine
            .online()
            .map(|entry| Listed {
                entry: entry.clone(),
                key: self
                    .clients
                    .iter()
                    .find(|n| {
                        n.is_running() && n.name == entry.name && n.endpoint == entry.endpoint
                    })
                    .map(|n| n.key),
            })
            .collect()
    }

    fn attacker_move(&mut self, mv: Move) {
        match mv {
            Move::Datagram {
                from,
                to,
                data,
                must_refuse,
            } => {
                let from = match from {
                    Source::Own => ATTACKER,
                    Source::Host(ip) => self.book.fresh_endpoint(ip),
                    Source::Endpoint(endpoint) => endpoint,
                };
                if must_refuse {
                    self.watch.made(from, &data);
                }
                self.attacker_sources.insert(from);
                self.net
                    .send_datagram(&mut self.agenda, self.now, from, to, data);
            }
            Move::Spoofed {
                from,
                to,
                data,
                must_refuse,
            } => {
                if must_refuse {
                    self.watch.made(from, &data);
                }
                self.net
                    .send_datagram(&mut self.agenda, self.now, from, to, data);
            }
            Move::Connect { from, first } => {
                let host = match from {
                    Source::Own => ATTACKER.ip(),
                    Source::Host(ip) => ip,
                    Source::Endpoint(endpoint) => endpoint.ip(),
                };
                let peer = self.book.ephemeral(host);
                let conn = self.tcp.connect(
                    &mut self.net,
                    &mut self.agenda,
                    self.now,
                    Owner::Attacker,
                    peer,
                    true,
                );
                self.say(|| format!("the forger opens tcp {} from {peer}", conn.0));
                self.attacker.opened(conn, first);
            }
        }
    }

    /// Feeds the server one input, then drains it.
    fn with_server(&mut self, via: Via, input: impl FnOnce(&mut Server, Instant)) {
        let now = self.instant();
        input(&mut self.server.machine, now);
        self.drain_server(via);
    }

    fn drain_server(&mut self, via: Via) {
        // Which connection each newcomer's snapshot (or classic list) went to: that is whose
        // session it is.
        let mut snapshots: Vec<(UserEntry, ConnId, bool)> = Vec::new();
        while let Some(t) = self.server.machine.poll_transmit() {
            if let ServerTransmit::Snapshot { conn, data } = &t {
                if let Some(newcomer) = snapshot_newcomer(data) {
                    snapshots.push((newcomer, *conn, false));
                } else if let Some(newcomer) = classic_newcomer(data) {
                    snapshots.push((newcomer, *conn, true));
                }
            }
            let fanned: Vec<_> = self.server.roster.fan_out(t).collect();
            for t in fanned {
                self.server_transmit(t);
            }
        }
        while let Some(event) = self.server.machine.poll_event() {
            self.say(|| format!("server: {event:?}"));
            let listed = match &event {
                ServerEvent::Joined { name, endpoint } => snapshots
                    .iter()
                    .find(|(e, _, _)| e.name == *name && e.endpoint == *endpoint),
                _ => None,
            };
            let session = listed.map(|(_, conn, _)| *conn);
            let classic = listed.is_some_and(|(_, _, classic)| *classic);
            self.journal
                .server_event(self.now, event, via, session, classic);
        }
        let next = self.server.machine.poll_timeout();
        if let Some(deadline) = self.server.alarm.rearm(next) {
            self.arm(Machine::Server, deadline);
        }
    }

    fn server_transmit(&mut self, t: ServerTransmit) {
        match &t {
            ServerTransmit::Datagram { to, data } => self.trace("server-datagram", to, data),
            ServerTransmit::Send { conn, data } | ServerTransmit::Snapshot { conn, data } => {
                self.trace("server-send", &conn.0, data);
            }
            ServerTransmit::Close { conn } => {
                self.trace("server-close", &conn.0, b"");
                self.say(|| format!("server closes tcp {}", conn.0));
            }
            ServerTransmit::Store(_) | ServerTransmit::Broadcast { .. } => {}
        }
        let now = self.now;
        carry_server_transmit(
            &mut self.tcp,
            &mut self.net,
            &mut self.agenda,
            now,
            SERVER_UDP,
            t,
        );
    }

    /// Feeds a running client one input, then drains it.
    fn with_client(&mut self, inc: IncId, via: Via, input: impl FnOnce(&mut Client, Instant)) {
        let now = self.instant();
        let Some(node) = self.clients.get_mut(inc.0) else {
            return;
        };
        if !node.is_running() {
            return;
        }
        input(&mut node.machine, now);
        self.drain_client(inc, via);
    }

    fn drain_client(&mut self, inc: IncId, via: Via) {
        while let Some(t) = self
            .clients
            .get_mut(inc.0)
            .and_then(|n| n.machine.poll_transmit())
        {
            self.client_transmit(inc, t);
        }
        let mut terminal = false;
        while let Some(event) = self
            .clients
            .get_mut(inc.0)
            .and_then(|n| n.machine.poll_event())
        {
            terminal |= matches!(
                event,
                ClientEvent::LoginFailed(_) | ClientEvent::Disconnected(_) | ClientEvent::LoggedOut
            );
            self.say(|| format!("{inc:?}: {event:?}"));
            self.on_key_event(inc, &event);
            self.journal.client_event(self.now, inc, event, via);
        }
        let next = self
            .clients
            .get(inc.0)
            .and_then(|n| n.machine.poll_timeout());
        let rearm = self
            .clients
            .get_mut(inc.0)
            .and_then(|n| n.alarm.rearm(next));
        if let Some(deadline) = rearm {
            self.arm(Machine::Client(inc), deadline);
        }
        if terminal {
            self.exit(inc);
        }
    }

    /// A pinned key goes to the user's data directory; a changed one is trusted after a while.
    fn on_key_event(&mut self, inc: IncId, event: &ClientEvent) {
        let Some(node) = self.clients.get(inc.0) else {
            return;
        };
        match event {
            ClientEvent::KeyPinned { name, key } => {
                let (user, generation) = (node.user, node.generation);
                self.identities.pinned(user, generation, name.clone(), *key);
            }
            ClientEvent::KeyChanged { name, .. } => {
                let Some(user) = self.scenario.names.iter().position(|n| n == name) else {
                    return;
                };
                let at = self.scenario.trust_at(self.now);
                self.agenda
                    .schedule(at, Event::Act(Act::Trust { inc, user }));
            }
            _ => {}
        }
    }

    fn client_transmit(&mut self, inc: IncId, t: ClientTransmit) {
        let now = self.now;
        let Some(node) = self.clients.get(inc.0) else {
            return;
        };
        let (endpoint, conn) = (node.endpoint, node.conn);
        match t {
            ClientTransmit::Datagram { to, data } => {
                self.trace("client-datagram", &(endpoint, to), &data);
                self.journal.count_sealed(&data);
                let forger = self.scenario.attacker && now < self.scenario.calm_at;
                if to == SERVER_UDP {
                    if forger {
                        self.attacker.sniff_server_bound(&data);
                    }
                } else if forger {
                    for mv in self.attacker.sniff_peer(endpoint, to, &data) {
                        self.attacker_move(mv);
                    }
                }
                self.net
                    .send_datagram(&mut self.agenda, now, endpoint, to, data);
            }
            ClientTransmit::Connect { to } => {
                self.trace("client-connect", &to, b"");
                self.say(|| format!("{inc:?} connects to {to}"));
                if to != SERVER_TCP {
                    self.journal.anomaly(
                        now,
                        format!("{inc:?} connects to {to}, not the server's {SERVER_TCP}"),
                    );
                }
                let live = conn
                    .and_then(|c| self.tcp.get(c))
                    .is_some_and(|c| !c.cut && c.reaches(End::Client));
                if live {
                    self.journal.anomaly(
                        now,
                        format!("{inc:?} opens a second TCP session while its first is open"),
                    );
                }
                // Logging in again: a new connection, its lines read afresh from its snapshot.
                let relink = self.clients.get_mut(inc.0).is_some_and(|node| {
                    let again = node.conn.is_some();
                    if again {
                        node.heard = LineDecoder::new(node.machine.config().max_server_line);
                    }
                    again
                });
                if relink {
                    self.journal.key_input(now, inc, KeyInput::Relink);
                }
                let peer = self.book.ephemeral(endpoint.ip());
                let conn = self.tcp.connect(
                    &mut self.net,
                    &mut self.agenda,
                    now,
                    Owner::Client(inc),
                    peer,
                    to == SERVER_TCP,
                );
                self.say(|| format!("{inc:?} opens tcp {} from {peer}", conn.0));
                if let Some(node) = self.clients.get_mut(inc.0) {
                    node.conn = Some(conn);
                }
            }
            ClientTransmit::Send { data } => {
                self.trace("client-send", &inc.0, &data);
                if let Some(conn) = conn {
                    self.tcp.send(
                        &mut self.net,
                        &mut self.agenda,
                        now,
                        conn,
                        End::Client,
                        data,
                    );
                }
            }
            ClientTransmit::Persist(record) => {
                let user = node.user;
                self.identities.record(user, inc, &record);
            }
            ClientTransmit::Close => {
                self.trace("client-close", &inc.0, b"");
                self.say(|| format!("{inc:?} closes its tcp {conn:?}"));
                if let Some(conn) = conn {
                    self.tcp
                        .close(&mut self.net, &mut self.agenda, now, conn, End::Client);
                }
            }
        }
    }

    /// Schedules a machine's timer at its deadline (or now, if that has passed).
    fn arm(&mut self, machine: Machine, deadline: Instant) {
        let at = self.clock.sim_time(deadline).max(self.now);
        self.agenda.schedule(at, Event::Timer { machine, deadline });
    }

    /// Runs `f` for the client incarnation at the client end of `conn`, if it still holds it.
    fn with_client_end(&mut self, conn: ConnId, f: impl FnOnce(&mut World, IncId)) {
        if let Some(Owner::Client(inc)) = self.tcp.get(conn).map(|c| c.owner) {
            if self.current_conn(inc) == Some(conn) {
                f(self, inc);
            }
        }
    }

    /// The forger's moves, by kind.
    pub fn attacker_tally(&self) -> &BTreeMap<&'static str, u64> {
        &self.attacker.tally
    }

    /// Every address the forger sent a datagram from.
    pub fn attacker_sources(&self) -> &BTreeSet<SocketAddr> {
        &self.attacker_sources
    }

    /// Who holds the client end of `conn`.
    pub fn conn_owner(&self, conn: ConnId) -> Option<Owner> {
        self.tcp.get(conn).map(|c| c.owner)
    }

    fn current_conn(&self, inc: IncId) -> Option<ConnId> {
        self.clients.get(inc.0).and_then(|n| n.conn)
    }

    fn is_running(&self, inc: IncId) -> bool {
        self.clients.get(inc.0).is_some_and(ClientNode::is_running)
    }

    fn trace<K: Hash + ?Sized>(&mut self, tag: &str, key: &K, payload: &[u8]) {
        self.journal.trace_keyed(self.now, tag, key, payload);
    }

    fn say(&self, line: impl FnOnce() -> String) {
        if self.verbose {
            eprintln!("[{}] {}", fmt_time(self.now), line());
        }
    }
}
