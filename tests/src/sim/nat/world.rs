//! Two users behind routers of given kinds, a server on the public side, and a network that
//! loses what the seed says: alice writes first, bob answers once he has read her, and every
//! event of both clients is kept for the checks.
//!
//! The machines are driven as in the main simulator (drain after every input, one alarm per
//! machine), on the same network and TCP models; only the routers are new. Every datagram a
//! client sends leaves through its router (which may give it a new public source), and every
//! datagram to a router's public address comes in only if the router lets it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use bytes::Bytes;
use feige_core::client::{Client, ClientConfig, ClientEvent, ClientTransmit, StaticKeys};
use feige_core::server::{CloseCause, Roster, Server, ServerConfig, ServerStats};
use feige_core::wire::{Name, SessionId};

use super::super::agenda::{Agenda, Clock, SimTime};
use super::super::dice::{Dice, Stream};
use super::super::event::{End, Event, IncId, Machine};
use super::super::identity::{draw_32, wall_clock};
use super::super::net::{Faults, Network};
use super::super::node::Alarm;
use super::super::tcp::{carry_server_transmit, Owner, Tcp};
use super::router::{NatKind, Router};

/// The server, on the public side.
pub const SERVER_UDP: SocketAddr =
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 10)), 9000);
const SERVER_TCP: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 10)), 9001);

/// The users, 0 and 1.
pub const NAMES: [&str; 2] = ["alice", "bob"];

/// Messages each side writes.
pub const MESSAGES: usize = 3;

/// How long a run lasts: long past every retry budget.
const RUN_FOR: Duration = Duration::from_secs(90);

/// What one run did.
#[derive(Debug)]
pub struct Run {
    /// The kinds of alice's and bob's routers.
    pub kinds: [NatKind; 2],
    /// Each client's events, with when they came.
    pub events: [Vec<(SimTime, ClientEvent)>; 2],
    /// When each side called `send_message` for its messages, in order.
    pub sent_at: [Vec<SimTime>; 2],
    /// The server's counters at the end.
    pub server: ServerStats,
}

struct Side {
    client: Client,
    inside: SocketAddr,
    router: Router,
    alarm: Alarm,
    conn: Option<feige_core::server::ConnId>,
    next_tcp_port: u16,
    /// The other side's key was pinned: it is listed, and chat can start.
    knows_peer: bool,
    shown: usize,
    written: usize,
}

struct World {
    clock: Clock,
    now: SimTime,
    agenda: Agenda<Event>,
    net: Network,
    tcp: Tcp,
    server: Server,
    /// Who the server's broadcasts reach.
    roster: Roster,
    server_alarm: Alarm,
    sides: [Side; 2],
    events: [Vec<(SimTime, ClientEvent)>; 2],
    sent_at: [Vec<SimTime>; 2],
}

/// Runs alice behind `kinds[0]` and bob behind `kinds[1]`, the network losing `loss` of the
/// datagrams, from `seed`.
pub fn run(seed: u64, kinds: [NatKind; 2], loss: f64) -> Run {
    let clock = Clock::start();
    let faults = Faults {
        loss,
        duplicate: 0.02,
        latency_ms: (5, 40),
        straggle: 0.02,
        straggle_ms: 300,
        ..Faults::calm()
    };
    let mut keys = Dice::new(seed, Stream::Keys);
    let mut sessions = Dice::new(seed, Stream::Sessions);
    let sides = [0, 1].map(|i| side(i, kinds[i], &clock, &mut keys, &mut sessions));
    let mut world = World {
        clock,
        now: SimTime::ZERO,
        agenda: Agenda::default(),
        net: Network::new(Dice::new(seed, Stream::Network), faults),
        tcp: Tcp::default(),
        server: Server::new(ServerConfig {
            tcp_port: SERVER_TCP.port(),
            ..ServerConfig::default()
        }),
        server_alarm: Alarm::default(),
        roster: Roster::default(),
        sides,
        events: [Vec::new(), Vec::new()],
        sent_at: [Vec::new(), Vec::new()],
    };
    for i in 0..2 {
        world.drain_client(i);
    }
    while let Some((at, event)) = world.agenda.pop_until(RUN_FOR) {
        world.now = at;
        world.step(event);
    }
    Run {
        kinds,
        events: world.events,
        sent_at: world.sent_at,
        server: world.server.stats(),
    }
}

/// User `i` behind a router of `kind`: inside 10.0.i.2, the router outside at 198.51.100.(i+1)
/// (the host itself there, without a router).
fn side(i: usize, kind: NatKind, clock: &Clock, keys: &mut Dice, sessions: &mut Dice) -> Side {
    let octet = u8::try_from(i).unwrap_or(0);
    let public = IpAddr::V4(Ipv4Addr::new(198, 51, 100, octet + 1));
    let inside_ip = match kind {
        NatKind::None => public,
        _ => IpAddr::V4(Ipv4Addr::new(10, 0, octet, 2)),
    };
    let inside = SocketAddr::new(inside_ip, 40_000);
    let name = Name::new(NAMES[i]).expect("a valid name");
    let mut config = ClientConfig::new(name, SERVER_UDP, inside, SessionId::new(sessions.bits()));
    config.identity = Some(StaticKeys::from_private(draw_32(keys)));
    config.seed = draw_32(keys);
    config.clock = Some(wall_clock(clock, SimTime::ZERO));
    // A login never fails for loss here: the runs are about chat.
    config.login_tries = 12;
    Side {
        client: Client::new(config, clock.instant(SimTime::ZERO)),
        inside,
        router: Router::new(kind, public),
        alarm: Alarm::default(),
        conn: None,
        next_tcp_port: 50_000,
        knows_peer: false,
        shown: 0,
        written: 0,
    }
}

impl World {
    fn instant(&self) -> Instant {
        self.clock.instant(self.now)
    }

    fn step(&mut self, event: Event) {
        let now = self.instant();
        match event {
            Event::Datagram { from, to, data } => self.on_datagram(from, to, &data),
            Event::OpenAtServer(conn) => {
                if self.tcp.open_at_server(conn) {
                    let peer = self.tcp.get(conn).map(|c| c.peer);
                    if let Some(peer) = peer {
                        self.server.handle_connection_opened(now, conn, peer);
                        self.drain_server();
                    }
                }
            }
            Event::OpenAtClient(conn) => {
                if self
                    .tcp
                    .open_at_client(&mut self.net, &mut self.agenda, self.now, conn)
                {
                    if let Some(i) = self.side_of(conn) {
                        self.sides[i].client.handle_connected(now);
                        self.drain_client(i);
                    }
                }
            }
            Event::Refused(conn) => {
                if self.tcp.refused(conn) {
                    if let Some(i) = self.side_of(conn) {
                        self.sides[i].client.handle_tcp_closed(now);
                        self.drain_client(i);
                    }
                }
            }
            Event::Bytes { conn, toward, data } => {
                if !self.tcp.deliverable(conn, toward) {
                    return;
                }
                match toward {
                    End::Server => {
                        self.server.handle_bytes(now, conn, &data);
                        self.drain_server();
                    }
                    End::Client => {
                        if let Some(i) = self.side_of(conn) {
                            self.sides[i].client.handle_tcp_bytes(now, &data);
                            self.drain_client(i);
                        }
                    }
                }
            }
            Event::Closed { conn, toward } => {
                if !self.tcp.take_close(conn, toward) {
                    return;
                }
                match toward {
                    End::Server => {
                        self.roster.remove(conn);
                        self.server
                            .handle_connection_closed(now, conn, CloseCause::Closed);
                        self.drain_server();
                    }
                    End::Client => {
                        if let Some(i) = self.side_of(conn) {
                            self.sides[i].client.handle_tcp_closed(now);
                            self.drain_client(i);
                        }
                    }
                }
            }
            Event::Timer { machine, deadline } => match machine {
                Machine::Server => {
                    if self.server_alarm.fire(deadline) {
                        self.server.handle_timeout(now);
                        self.drain_server();
                    }
                }
                Machine::Client(IncId(i)) => {
                    if self
                        .sides
                        .get_mut(i)
                        .is_some_and(|s| s.alarm.fire(deadline))
                    {
                        self.sides[i].client.handle_timeout(now);
                        self.drain_client(i);
                    }
                }
            },
            Event::SpuriousWake(_) | Event::Act(_) => {}
        }
    }

    /// A datagram reaches the server, or a router's public address (and, if it lets it, the
    /// host behind).
    fn on_datagram(&mut self, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        let now = self.instant();
        if to == SERVER_UDP {
            self.server.handle_datagram(now, from, data);
            self.drain_server();
            return;
        }
        let Some(i) = (0..2).find(|&i| self.sides[i].router.public_ip() == to.ip()) else {
            return;
        };
        let sim_now = self.now;
        let Some(inside) = self.sides[i].router.inbound(sim_now, from, to) else {
            return;
        };
        if inside != self.sides[i].inside {
            return;
        }
        self.sides[i].client.handle_datagram(now, from, data);
        self.drain_client(i);
    }

    fn side_of(&self, conn: feige_core::server::ConnId) -> Option<usize> {
        (0..2).find(|&i| self.sides[i].conn == Some(conn))
    }

    fn drain_server(&mut self) {
        while let Some(transmit) = self.server.poll_transmit() {
            let fanned: Vec<_> = self.roster.fan_out(transmit).collect();
            for transmit in fanned {
                let now = self.now;
                carry_server_transmit(
                    &mut self.tcp,
                    &mut self.net,
                    &mut self.agenda,
                    now,
                    SERVER_UDP,
                    transmit,
                );
            }
        }
        while self.server.poll_event().is_some() {}
        let next = self.server.poll_timeout();
        if let Some(deadline) = self.server_alarm.rearm(next) {
            self.arm(Machine::Server, deadline);
        }
    }

    fn drain_client(&mut self, i: usize) {
        loop {
            while let Some(transmit) = self.sides[i].client.poll_transmit() {
                self.client_transmit(i, transmit);
            }
            let mut acted = false;
            while let Some(event) = self.sides[i].client.poll_event() {
                acted |= self.on_event(i, &event);
                self.events[i].push((self.now, event));
            }
            if !acted {
                break;
            }
        }
        let next = self.sides[i].client.poll_timeout();
        if let Some(deadline) = self.sides[i].alarm.rearm(next) {
            self.arm(Machine::Client(IncId(i)), deadline);
        }
    }

    /// The user's side of the script: alice writes once bob's key is pinned, bob answers once
    /// he has read all of alice's messages. Returns whether it sent anything.
    fn on_event(&mut self, i: usize, event: &ClientEvent) -> bool {
        let side = &mut self.sides[i];
        match event {
            ClientEvent::KeyPinned { name, .. } if name.as_str() == NAMES[1 - i] => {
                side.knows_peer = true;
            }
            ClientEvent::Message { .. } => side.shown += 1,
            _ => return false,
        }
        let turn = if i == 0 {
            side.knows_peer
        } else {
            side.knows_peer && side.shown == MESSAGES
        };
        if !turn || side.written > 0 {
            return false;
        }
        let now = self.clock.instant(self.now);
        for n in 1..=MESSAGES {
            let text = format!("{} #{n}", NAMES[i]);
            if self.sides[i]
                .client
                .send_message(now, NAMES[1 - i], &text)
                .is_ok()
            {
                self.sent_at[i].push(self.now);
            }
        }
        self.sides[i].written = MESSAGES;
        true
    }

    fn client_transmit(&mut self, i: usize, transmit: ClientTransmit) {
        let now = self.now;
        match transmit {
            ClientTransmit::Datagram { to, data } => {
                let inside = self.sides[i].inside;
                let from = self.sides[i].router.outbound(now, inside, to);
                self.net
                    .send_datagram(&mut self.agenda, now, from, to, Bytes::clone(&data));
            }
            ClientTransmit::Connect { to } => {
                let side = &mut self.sides[i];
                let peer = SocketAddr::new(side.router.public_ip(), side.next_tcp_port);
                side.next_tcp_port += 1;
                let conn = self.tcp.connect(
                    &mut self.net,
                    &mut self.agenda,
                    now,
                    Owner::Client(IncId(i)),
                    peer,
                    to == SERVER_TCP,
                );
                self.sides[i].conn = Some(conn);
            }
            ClientTransmit::Send { data } => {
                if let Some(conn) = self.sides[i].conn {
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
            // The NAT runs keep nothing across restarts (there are none).
            ClientTransmit::Persist(_) => {}
            ClientTransmit::Close => {
                if let Some(conn) = self.sides[i].conn {
                    self.tcp
                        .close(&mut self.net, &mut self.agenda, now, conn, End::Client);
                }
            }
        }
    }

    fn arm(&mut self, machine: Machine, deadline: Instant) {
        let at = self.clock.sim_time(deadline).max(self.now);
        self.agenda.schedule(at, Event::Timer { machine, deadline });
    }
}
