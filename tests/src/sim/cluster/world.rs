//! The cluster world: coordinators ([`Server`]s in a cluster), the store model between them, and
//! clients ([`Client`]s) logging in to one coordinator or another, on virtual time. The network
//! is reliable (the main simulator covers loss); the faults here are the cluster's own: the store
//! slow, away, or restarted empty, and coordinators crashing and coming back as new nodes.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use bytes::Bytes;
use feige_core::client::{Client, ClientConfig, ClientEvent, ClientState, ClientTransmit};
use feige_core::server::cluster::{ClusterConfig, NodeId, StoreCommand, StoreEvent};
use feige_core::server::{CloseCause, ConnId, Roster, Server, ServerConfig, ServerTransmit};
use feige_core::wire::{Name, SessionId};

use super::store::Store;
use crate::sim::agenda::{Agenda, Clock, SimTime};
use crate::sim::dice::{Dice, Stream};

const TCP_PORT: u16 = 9001;

/// One coordinator.
pub struct Coordinator {
    /// The machine, while the process runs.
    pub server: Option<Server>,
    pub node: NodeId,
    /// Its UDP address.
    pub udp: SocketAddr,
    /// Counts its lives: store traffic of an earlier one is dropped.
    life: u64,
    /// Who its broadcasts reach.
    roster: Roster,
}

/// The store's side of one coordinator's link.
#[derive(Default)]
struct Link {
    /// The store said `Up` on it (and has not gone away since).
    up: bool,
    /// Where in the log the coordinator follows from, once it synced.
    cursor: Option<usize>,
    /// Deliveries on a link keep their order.
    last_at: SimTime,
}

/// One user's running client.
pub struct User {
    pub name: Name,
    pub endpoint: SocketAddr,
    pub client: Option<Client>,
    /// The coordinator it logs in to.
    pub home: usize,
    /// Its current TCP connection.
    conn: Option<u64>,
    sessions: u64,
    /// How its last client ended, and when.
    pub ended: Option<(SimTime, ClientEvent)>,
}

enum Ev {
    /// A datagram for coordinator `to` from a client.
    ServerUdp {
        to: usize,
        from: SocketAddr,
        data: Bytes,
    },
    /// A datagram for user `to` from coordinator `from`.
    ClientUdp {
        to: usize,
        from: SocketAddr,
        data: Bytes,
    },
    TcpOpen {
        conn: u64,
    },
    TcpToServer {
        conn: u64,
        data: Bytes,
    },
    TcpToClient {
        conn: u64,
        data: Bytes,
    },
    TcpClosedAtServer {
        conn: u64,
    },
    TcpClosedAtClient {
        conn: u64,
    },
    /// A command reaches the store.
    Command {
        from: usize,
        life: u64,
        command: StoreCommand,
    },
    /// The store's word reaches a coordinator.
    Told {
        to: usize,
        life: u64,
        event: StoreEvent,
    },
    /// A scripted action.
    Act(Act),
}

/// What the scenario does.
#[derive(Debug, Clone, Copy)]
pub enum Act {
    /// The user starts a client (if none runs), logging in to `home`.
    Start {
        user: usize,
        home: usize,
    },
    /// The user logs out.
    Logout {
        user: usize,
    },
    /// The user's process dies; the OS closes its connection.
    Crash {
        user: usize,
    },
    Kill {
        coordinator: usize,
    },
    Restart {
        coordinator: usize,
    },
    StoreDown,
    /// Back, with everything (`wiped`: restarted, empty).
    StoreUp {
        wiped: bool,
    },
}

struct Conn {
    user: usize,
    coordinator: usize,
    life: u64,
    /// Deliveries keep their order in each direction.
    to_server_at: SimTime,
    to_client_at: SimTime,
}

/// Everything, driven by one seed.
pub struct World {
    pub clock: Clock,
    pub now: SimTime,
    agenda: Agenda<Ev>,
    net: Dice,
    pub coordinators: Vec<Coordinator>,
    links: Vec<Link>,
    pub store: Store,
    pub users: Vec<User>,
    conns: BTreeMap<u64, Conn>,
    next_conn: u64,
    /// Commands from each coordinator reach the store in order.
    command_at: Vec<SimTime>,
    nodes: Dice,
}

impl World {
    /// `coordinators` coordinators and `users` users, none started.
    pub fn new(seed: u64, coordinators: usize, users: usize) -> Self {
        let mut nodes = Dice::new(seed, Stream::Sessions);
        let coordinators: Vec<Coordinator> = (0..coordinators)
            .map(|j| Coordinator {
                server: None,
                node: NodeId(nodes.bits()),
                udp: SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 1, 0, j as u8 + 1)), 9000),
                life: 0,
                roster: Roster::default(),
            })
            .collect();
        let users = (0..users)
            .map(|i| User {
                name: Name::new(&format!("user{i}")).expect("a valid name"),
                endpoint: SocketAddr::new(
                    IpAddr::V4(Ipv4Addr::new(10, 0, (i / 200) as u8, (i % 200) as u8 + 1)),
                    5000,
                ),
                client: None,
                home: 0,
                conn: None,
                sessions: 0,
                ended: None,
            })
            .collect();
        let count = coordinators.len();
        let mut world = World {
            clock: Clock::start(),
            now: Duration::ZERO,
            agenda: Agenda::default(),
            net: Dice::new(seed, Stream::Network),
            coordinators,
            links: (0..count).map(|_| Link::default()).collect(),
            store: Store::new(),
            users,
            conns: BTreeMap::new(),
            next_conn: 1,
            command_at: vec![Duration::ZERO; count],
            nodes,
        };
        for j in 0..count {
            world.start_coordinator(j);
        }
        world
    }

    /// Schedules a scripted action.
    pub fn at(&mut self, at: SimTime, act: Act) {
        self.agenda.schedule(at, Ev::Act(act));
    }

    /// Runs until `until`, waking every machine at its deadline.
    pub fn run_until(&mut self, until: SimTime) {
        loop {
            let deadline = self.next_deadline().filter(|&d| d <= until);
            let horizon = deadline.unwrap_or(until);
            if let Some((at, ev)) = self.agenda.pop_until(horizon) {
                self.now = self.now.max(at);
                self.handle(ev);
                continue;
            }
            let Some(deadline) = deadline else {
                self.now = until;
                return;
            };
            self.now = self.now.max(deadline);
            self.fire_timers();
        }
    }

    fn next_deadline(&self) -> Option<SimTime> {
        let servers = self
            .coordinators
            .iter()
            .filter_map(|c| c.server.as_ref()?.poll_timeout());
        let clients = self
            .users
            .iter()
            .filter_map(|u| u.client.as_ref()?.poll_timeout());
        servers
            .chain(clients)
            .map(|at| self.clock.sim_time(at))
            .min()
    }

    fn fire_timers(&mut self) {
        let now = self.clock.instant(self.now);
        for j in 0..self.coordinators.len() {
            let due = self.coordinators[j]
                .server
                .as_ref()
                .and_then(Server::poll_timeout)
                .is_some_and(|at| at <= now);
            if due {
                if let Some(server) = self.coordinators[j].server.as_mut() {
                    server.handle_timeout(now);
                }
                self.drain_server(j);
            }
        }
        for i in 0..self.users.len() {
            let due = self.users[i]
                .client
                .as_ref()
                .and_then(Client::poll_timeout)
                .is_some_and(|at| at <= now);
            if due {
                if let Some(client) = self.users[i].client.as_mut() {
                    client.handle_timeout(now);
                }
                self.drain_client(i);
            }
        }
    }

    fn delay(&mut self) -> Duration {
        self.net.millis(1, 15)
    }

    fn handle(&mut self, ev: Ev) {
        let now = self.clock.instant(self.now);
        match ev {
            Ev::ServerUdp { to, from, data } => {
                if let Some(server) = self.coordinators[to].server.as_mut() {
                    server.handle_datagram(now, from, &data);
                    self.drain_server(to);
                }
            }
            Ev::ClientUdp { to, from, data } => {
                if let Some(client) = self.users[to].client.as_mut() {
                    client.handle_datagram(now, from, &data);
                    self.drain_client(to);
                }
            }
            Ev::TcpOpen { conn } => self.tcp_open(conn),
            Ev::TcpToServer { conn, data } => {
                if let Some(j) = self.live_server_side(conn) {
                    if let Some(server) = self.coordinators[j].server.as_mut() {
                        server.handle_bytes(now, ConnId(conn), &data);
                    }
                    self.drain_server(j);
                }
            }
            Ev::TcpToClient { conn, data } => {
                let Some(user) = self.conns.get(&conn).map(|c| c.user) else {
                    return;
                };
                if self.users[user].conn == Some(conn) {
                    if let Some(client) = self.users[user].client.as_mut() {
                        client.handle_tcp_bytes(now, &data);
                    }
                    self.drain_client(user);
                }
            }
            Ev::TcpClosedAtServer { conn } => {
                if let Some(j) = self.live_server_side(conn) {
                    self.coordinators[j].roster.remove(ConnId(conn));
                    if let Some(server) = self.coordinators[j].server.as_mut() {
                        server.handle_connection_closed(now, ConnId(conn), CloseCause::Closed);
                    }
                    self.drain_server(j);
                }
            }
            Ev::TcpClosedAtClient { conn } => {
                let Some(user) = self.conns.get(&conn).map(|c| c.user) else {
                    return;
                };
                if self.users[user].conn == Some(conn) {
                    self.users[user].conn = None;
                    if let Some(client) = self.users[user].client.as_mut() {
                        client.handle_tcp_closed(now);
                    }
                    self.drain_client(user);
                }
            }
            Ev::Command {
                from,
                life,
                command,
            } => self.store_runs(from, life, command),
            Ev::Told { to, life, event } => {
                if self.coordinators[to].life == life {
                    if let Some(server) = self.coordinators[to].server.as_mut() {
                        server.handle_store(now, event);
                    }
                    self.drain_server(to);
                }
            }
            Ev::Act(act) => self.act(act),
        }
    }

    /// The coordinator holding `conn`, if that coordinator's life is the connection's.
    fn live_server_side(&self, conn: u64) -> Option<usize> {
        let c = self.conns.get(&conn)?;
        let coordinator = &self.coordinators[c.coordinator];
        (coordinator.server.is_some() && coordinator.life == c.life).then_some(c.coordinator)
    }

    fn tcp_open(&mut self, conn: u64) {
        let now = self.clock.instant(self.now);
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let (user, j) = (c.user, c.coordinator);
        if self.users[user].conn != Some(conn) {
            return;
        }
        let peer = SocketAddr::new(
            self.users[user].endpoint.ip(),
            40_000 + (conn % 20_000) as u16,
        );
        let alive = self.coordinators[j].server.is_some();
        if alive {
            if let Some(server) = self.coordinators[j].server.as_mut() {
                server.handle_connection_opened(now, ConnId(conn), peer);
            }
            if let Some(client) = self.users[user].client.as_mut() {
                client.handle_connected(now);
            }
            self.drain_server(j);
        } else {
            self.users[user].conn = None;
            if let Some(client) = self.users[user].client.as_mut() {
                client.handle_tcp_closed(now);
            }
        }
        self.drain_client(user);
    }

    fn server_transmit(&mut self, j: usize, transmit: ServerTransmit) {
        match transmit {
            ServerTransmit::Datagram { to, data } => {
                if let Some(user) = self.users.iter().position(|u| u.endpoint == to) {
                    let at = self.now + self.delay();
                    let from = self.coordinators[j].udp;
                    self.agenda.schedule(
                        at,
                        Ev::ClientUdp {
                            to: user,
                            from,
                            data,
                        },
                    );
                }
            }
            ServerTransmit::Send { conn, data } | ServerTransmit::Snapshot { conn, data } => {
                let at = self.client_bound_at(conn.0);
                self.agenda
                    .schedule(at, Ev::TcpToClient { conn: conn.0, data });
            }
            ServerTransmit::Close { conn } => {
                let at = self.client_bound_at(conn.0);
                self.agenda
                    .schedule(at, Ev::TcpClosedAtClient { conn: conn.0 });
            }
            ServerTransmit::Broadcast { .. } => unreachable!("fanned out over the roster"),
            ServerTransmit::Store(command) => {
                let at = (self.now + self.delay()).max(self.command_at[j]);
                self.command_at[j] = at;
                let life = self.coordinators[j].life;
                self.agenda.schedule(
                    at,
                    Ev::Command {
                        from: j,
                        life,
                        command,
                    },
                );
            }
        }
    }

    fn drain_server(&mut self, j: usize) {
        loop {
            let Some(transmit) = self.coordinators[j]
                .server
                .as_mut()
                .and_then(Server::poll_transmit)
            else {
                break;
            };
            let fanned: Vec<_> = self.coordinators[j].roster.fan_out(transmit).collect();
            for transmit in fanned {
                self.server_transmit(j, transmit);
            }
        }
        while let Some(server) = self.coordinators[j].server.as_mut() {
            if server.poll_event().is_none() {
                break;
            }
        }
    }

    /// When the next delivery to the client end of `conn` happens: after a delay, never before
    /// the one before it.
    fn client_bound_at(&mut self, conn: u64) -> SimTime {
        let delay = self.delay();
        let now = self.now;
        match self.conns.get_mut(&conn) {
            Some(c) => {
                c.to_client_at = (now + delay).max(c.to_client_at);
                c.to_client_at
            }
            None => now + delay,
        }
    }

    /// The same towards the server end.
    fn server_bound_at(&mut self, conn: u64) -> SimTime {
        let delay = self.delay();
        let now = self.now;
        match self.conns.get_mut(&conn) {
            Some(c) => {
                c.to_server_at = (now + delay).max(c.to_server_at);
                c.to_server_at
            }
            None => now + delay,
        }
    }

    fn drain_client(&mut self, i: usize) {
        loop {
            let Some(transmit) = self.users[i]
                .client
                .as_mut()
                .and_then(Client::poll_transmit)
            else {
                break;
            };
            match transmit {
                ClientTransmit::Datagram { to, data } => {
                    if let Some(j) = self.coordinators.iter().position(|c| c.udp == to) {
                        let at = self.now + self.delay();
                        let from = self.users[i].endpoint;
                        self.agenda
                            .schedule(at, Ev::ServerUdp { to: j, from, data });
                    }
                }
                ClientTransmit::Connect { to } => {
                    let Some(j) = self
                        .coordinators
                        .iter()
                        .position(|c| c.udp.ip() == to.ip() && to.port() == TCP_PORT)
                    else {
                        continue;
                    };
                    let conn = self.next_conn;
                    self.next_conn += 1;
                    self.conns.insert(
                        conn,
                        Conn {
                            user: i,
                            coordinator: j,
                            life: self.coordinators[j].life,
                            to_server_at: Duration::ZERO,
                            to_client_at: Duration::ZERO,
                        },
                    );
                    self.users[i].conn = Some(conn);
                    let at = self.now + self.delay();
                    self.agenda.schedule(at, Ev::TcpOpen { conn });
                }
                ClientTransmit::Send { data } => {
                    if let Some(conn) = self.users[i].conn {
                        let at = self.server_bound_at(conn);
                        self.agenda.schedule(at, Ev::TcpToServer { conn, data });
                    }
                }
                ClientTransmit::Close => {
                    if let Some(conn) = self.users[i].conn.take() {
                        let at = self.server_bound_at(conn);
                        self.agenda.schedule(at, Ev::TcpClosedAtServer { conn });
                    }
                }
                ClientTransmit::Persist(_) => {}
            }
        }
        while let Some(event) = self.users[i].client.as_mut().and_then(Client::poll_event) {
            if matches!(
                event,
                ClientEvent::LoginFailed(_) | ClientEvent::Disconnected(_) | ClientEvent::LoggedOut
            ) {
                self.users[i].ended = Some((self.now, event));
            }
        }
        let ended = self.users[i]
            .client
            .as_ref()
            .is_some_and(|c| c.state() == ClientState::Closed);
        if ended {
            self.users[i].client = None;
            self.users[i].conn = None;
        }
    }

    fn act(&mut self, act: Act) {
        let now = self.clock.instant(self.now);
        match act {
            Act::Start { user, home } => {
                if self.users[user].client.is_some() {
                    return;
                }
                let u = &mut self.users[user];
                u.home = home;
                u.sessions += 1;
                let sid = SessionId::new((user as u64) << 32 | u.sessions);
                let config =
                    ClientConfig::new(u.name.clone(), self.coordinators[home].udp, u.endpoint, sid);
                u.client = Some(Client::new(config, now));
                self.drain_client(user);
            }
            Act::Logout { user } => {
                if let Some(client) = self.users[user].client.as_mut() {
                    client.logout(now);
                }
                self.drain_client(user);
            }
            Act::Crash { user } => {
                self.users[user].client = None;
                if let Some(conn) = self.users[user].conn.take() {
                    let at = self.server_bound_at(conn);
                    self.agenda.schedule(at, Ev::TcpClosedAtServer { conn });
                }
            }
            Act::Kill { coordinator } => self.kill(coordinator),
            Act::Restart { coordinator } => {
                if self.coordinators[coordinator].server.is_none() {
                    self.coordinators[coordinator].node = NodeId(self.nodes.bits());
                    self.start_coordinator(coordinator);
                }
            }
            Act::StoreDown => {
                if !self.store.up {
                    return;
                }
                self.store.up = false;
                for j in 0..self.coordinators.len() {
                    let link = &mut self.links[j];
                    link.cursor = None;
                    if std::mem::take(&mut link.up) {
                        self.tell(j, StoreEvent::Down);
                    }
                }
            }
            Act::StoreUp { wiped } => {
                if self.store.up {
                    return;
                }
                if wiped {
                    self.store.wipe();
                }
                self.store.up = true;
                for j in 0..self.coordinators.len() {
                    if self.coordinators[j].server.is_some() {
                        self.links[j].up = true;
                        self.tell(j, StoreEvent::Up);
                    }
                }
            }
        }
    }

    fn start_coordinator(&mut self, j: usize) {
        let coordinator = &mut self.coordinators[j];
        coordinator.life += 1;
        let config = ServerConfig {
            tcp_port: TCP_PORT,
            cluster: Some(ClusterConfig::new(coordinator.node)),
            ..ServerConfig::default()
        };
        coordinator.server = Some(Server::new(config));
        coordinator.roster = Roster::default();
        self.links[j] = Link {
            last_at: self.now,
            ..Link::default()
        };
        if self.store.up {
            self.links[j].up = true;
            self.tell(j, StoreEvent::Up);
        }
    }

    /// The process dies: its connections are closed by the OS, its lease runs out in the store.
    fn kill(&mut self, j: usize) {
        if self.coordinators[j].server.take().is_none() {
            return;
        }
        let life = self.coordinators[j].life;
        let theirs: Vec<u64> = self
            .conns
            .iter()
            .filter(|(_, c)| c.coordinator == j && c.life == life)
            .map(|(&id, _)| id)
            .collect();
        for conn in theirs {
            let at = self.client_bound_at(conn);
            self.agenda.schedule(at, Ev::TcpClosedAtClient { conn });
        }
        self.coordinators[j].life += 1;
        self.links[j] = Link::default();
    }

    /// The store says something to coordinator `j`, after the link's delay, in order.
    fn tell(&mut self, j: usize, event: StoreEvent) {
        let at = (self.now + self.delay()).max(self.links[j].last_at);
        self.links[j].last_at = at;
        let life = self.coordinators[j].life;
        self.agenda.schedule(at, Ev::Told { to: j, life, event });
    }

    fn store_runs(&mut self, from: usize, life: u64, command: StoreCommand) {
        let current =
            self.coordinators[from].life == life && self.coordinators[from].server.is_some();
        if !self.store.up || !self.links[from].up || !current {
            return;
        }
        let node = self.coordinators[from].node;
        let sync = matches!(command, StoreCommand::Sync);
        let answers = self.store.run(node, command, self.now);
        for answer in answers {
            self.tell(from, answer);
        }
        if sync {
            self.links[from].cursor = Some(self.store.log.len());
        }
        self.follow_log();
    }

    /// Every follower gets the log entries after its cursor.
    fn follow_log(&mut self) {
        for j in 0..self.coordinators.len() {
            while let Some(cursor) = self.links[j].cursor {
                let Some(event) = self.store.log.get(cursor).cloned() else {
                    break;
                };
                self.links[j].cursor = Some(cursor + 1);
                self.tell(j, event);
            }
        }
    }
}
