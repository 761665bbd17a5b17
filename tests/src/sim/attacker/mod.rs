//! The forger: a node on the network that sniffs every datagram and tries to speak in other
//! users' names.
//!
//! Against chat ([`chat`]), which is sealed end to end: it replays captured sealed datagrams,
//! from its own address or (spoofing) from their sender's very endpoint, flips bits in them and
//! cuts them short, sends plain `msg`/`ack` datagrams in users' names, and Noise initiations
//! made with its own key that claim users' names. Against presence: it sends `logout` for
//! others, answers logins with its own `Accept`/`Reject`, and races users to the TCP claim of
//! their pending login. None of it may ever be shown, delivered, or change anyone's presence.
//!
//! It also shares hosts with users — it can send from a user's IP, at any port but the user's —
//! and owns a whole network of addresses. From a user's host it sends textbook (classic) logins
//! declaring that user's listed endpoint, and opens silent connections, as a textbook client
//! would: the server must never hand it the user's session. From its network it floods logins and
//! connections that it never claims: the server must bound what the network holds. A classic
//! login for a name no one holds is first come, first served (the server cannot know the name is
//! someone's): such a user is the forger's, and it logs every one of them out once the storm is
//! over, so the users can have their names back.

mod chat;
pub mod noise;
mod stolen;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::{IpAddr, SocketAddr};

use bytes::Bytes;
use feige_core::client::StaticKeys;
use feige_core::server::ConnId;
use feige_core::wire::{
    ClassicDatagram, ClientDatagram, ClientLine, LineDecoder, Name, PublicKey, ServerLine,
    UserEntry,
};

use super::addresses::{attacker_host, ATTACKER_HOSTS, SERVER_UDP};
use super::dice::Dice;
use super::identity::draw_32;

/// How many sniffed datagrams of each kind the forger remembers.
const MEMORY: usize = 64;

/// Where a move comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The forger's own address, [`ATTACKER`](super::addresses::ATTACKER).
    Own,
    /// A fresh port on this host: one of the forger's network, or a user's host it shares.
    Host(IpAddr),
    /// This very endpoint (a port the forger already used on a host).
    Endpoint(SocketAddr),
}

/// Something the forger puts on the network.
#[derive(Debug)]
pub enum Move {
    /// A datagram, not spoofed: the forger really sends from there.
    Datagram {
        /// Where from.
        from: Source,
        /// Destination.
        to: SocketAddr,
        /// Bytes.
        data: Bytes,
        /// The forger made or altered these bytes to fool a client: a client must refuse them.
        /// (A verbatim copy of a sealed datagram may be opened, once.)
        must_refuse: bool,
    },
    /// A datagram with a forged source address (only with [`Params::spoofing`]): sealed chat
    /// does not care where a datagram comes from, so none of these may work either.
    ///
    /// [`Params::spoofing`]: super::params::Params::spoofing
    Spoofed {
        /// The source it pretends.
        from: SocketAddr,
        /// Destination.
        to: SocketAddr,
        /// Bytes.
        data: Bytes,
        /// As for [`Move::Datagram`].
        must_refuse: bool,
    },
    /// A TCP connection to the server that writes `first` once open (nothing, if empty: a
    /// silent connection, as a textbook client's).
    Connect {
        /// Where from.
        from: Source,
        /// What to write.
        first: Bytes,
    },
}

/// A sealed datagram a client sent, as sniffed.
#[derive(Debug, Clone)]
struct HeardSealed {
    from: SocketAddr,
    to: SocketAddr,
    data: Bytes,
}

/// What the forger reads in the public directory: a user listed, and the key listed for it.
#[derive(Debug, Clone)]
pub struct Listed {
    /// Name and endpoint.
    pub entry: UserEntry,
    /// The key its claim announced.
    pub key: Option<PublicKey>,
}

/// The forger's memory and dice.
#[derive(Debug)]
pub struct Attacker {
    dice: Dice,
    logins: VecDeque<UserEntry>,
    sealed: VecDeque<HeardSealed>,
    /// Its own long-term key pair.
    keys: StaticKeys,
    /// A user's key pair, when the run gives it one ([`Params::stolen_key`]).
    ///
    /// [`Params::stolen_key`]: super::params::Params::stolen_key
    stolen: Option<stolen::Stolen>,
    pending_lines: BTreeMap<ConnId, Bytes>,
    replies: BTreeMap<ConnId, LineDecoder>,
    forged: u64,
    spoofing: bool,
    /// Names it made up for its own logins.
    intruders: u64,
    /// Every classic login it sent (name and declared endpoint), to log out after the storm.
    classic_logins: BTreeSet<(Name, SocketAddr)>,
    /// Connections it opened (closed when the storm ends).
    pub conns: Vec<ConnId>,
    /// How often it made each kind of move, for reports.
    pub tally: BTreeMap<&'static str, u64>,
}

impl Attacker {
    /// A forger with its own dice; with `spoofing`, it also forges source addresses.
    pub fn new(mut dice: Dice, spoofing: bool) -> Self {
        let keys = StaticKeys::from_private(draw_32(&mut dice));
        Attacker {
            spoofing,
            dice,
            logins: VecDeque::new(),
            sealed: VecDeque::new(),
            keys,
            stolen: None,
            pending_lines: BTreeMap::new(),
            replies: BTreeMap::new(),
            forged: 0,
            intruders: 0,
            classic_logins: BTreeSet::new(),
            conns: Vec::new(),
            tally: BTreeMap::new(),
        }
    }

    /// Sniffs a datagram a client sent to the server: logins tell who is where.
    pub fn sniff_server_bound(&mut self, data: &[u8]) {
        if let Ok(ClientDatagram::Login(entry)) = ClientDatagram::parse(data) {
            remember(&mut self.logins, entry);
        }
    }

    /// Moves on the forger's own schedule; `directory` is who the server lists now, with their
    /// keys (the forger reads the public directory as anyone can), and `wall_ms` the wall clock.
    pub fn act(&mut self, directory: &[Listed], wall_ms: u64) -> Vec<Move> {
        let online: Vec<UserEntry> = directory.iter().map(|l| l.entry.clone()).collect();
        let (kind, moves): (&'static str, Vec<Move>) = match self.dice.index(16) {
            0 | 1 => ("plain chat", self.forge_plain().into_iter().collect()),
            2 | 3 => ("sealed replay", self.replay_sealed().into_iter().collect()),
            4 | 5 => (
                "sealed tampered",
                self.tamper_sealed().into_iter().collect(),
            ),
            6 | 7 => ("own-key initiation", self.impersonate(directory)),
            8 => ("udp logout", self.forge_logout().into_iter().collect()),
            9 => ("claim race", self.race_claim().into_iter().collect()),
            10 => (
                "server answer",
                self.forge_server_answer().into_iter().collect(),
            ),
            11 => ("garbage", vec![self.garbage()]),
            12 => ("classic takeover", self.classic_takeover(&online)),
            13 => (
                "silent connection",
                self.silent_connection(&online).into_iter().collect(),
            ),
            14 => ("flood", self.flood_network()),
            _ if self.stolen.is_some() => (
                "stolen-key initiation",
                self.stolen_initiation(directory, wall_ms),
            ),
            _ => ("sealed replay", self.replay_sealed().into_iter().collect()),
        };
        if !moves.is_empty() {
            self.count(kind, 1);
        }
        moves
    }

    /// Counts `n` moves of a kind.
    fn count(&mut self, kind: &'static str, n: u64) {
        *self.tally.entry(kind).or_default() += n;
    }

    /// After the storm: a classic logout for every classic login it sent, from the host it
    /// declared, so that what it registered is gone before the users log in for the last time.
    pub fn withdraw(&mut self) -> Vec<Move> {
        std::mem::take(&mut self.classic_logins)
            .into_iter()
            .map(|(name, endpoint)| Move::Datagram {
                from: Source::Host(endpoint.ip()),
                to: SERVER_UDP,
                data: Bytes::from(ClassicDatagram::Logout(UserEntry::new(name, endpoint)).to_vec()),
                must_refuse: true,
            })
            .collect()
    }

    /// From the host of someone online (or once seen logging in), a classic login in their name
    /// declaring their endpoint; often followed by a silent connection from that host, as a
    /// textbook client makes to fetch its list.
    fn classic_takeover(&mut self, online: &[UserEntry]) -> Vec<Move> {
        let Some(victim) = self.pick_victim(online) else {
            return Vec::new();
        };
        let host = victim.endpoint.ip();
        let mut moves = vec![self.classic_login(Source::Host(host), victim)];
        if self.dice.chance(0.6) {
            moves.push(Move::Connect {
                from: Source::Host(host),
                first: Bytes::new(),
            });
        }
        moves
    }

    /// A connection from someone's host that never says a word.
    fn silent_connection(&mut self, online: &[UserEntry]) -> Option<Move> {
        let victim = self.pick_victim(online)?;
        Some(Move::Connect {
            from: Source::Host(victim.endpoint.ip()),
            first: Bytes::new(),
        })
    }

    /// A burst of logins under made-up names, never claimed, from the addresses of its network
    /// (sometimes all from one), some classic, and silent connections from there too.
    fn flood_network(&mut self) -> Vec<Move> {
        let one_host = self
            .dice
            .chance(0.3)
            .then(|| self.dice.index(ATTACKER_HOSTS));
        let mut moves = Vec::new();
        for _ in 0..self.dice.between(2, 8) {
            let host = attacker_host(one_host.unwrap_or_else(|| self.dice.index(ATTACKER_HOSTS)));
            self.intruders += 1;
            let Ok(name) = Name::new(&format!("intruder {}", self.intruders)) else {
                continue;
            };
            let port = 1 + self.dice.index(60_000) as u16;
            let endpoint = SocketAddr::new(host, port);
            let entry = UserEntry::new(name, endpoint);
            if self.dice.chance(0.1) {
                moves.push(self.classic_login(Source::Host(host), entry));
            } else {
                moves.push(Move::Datagram {
                    from: Source::Endpoint(endpoint),
                    to: SERVER_UDP,
                    data: Bytes::from(ClientDatagram::Login(entry).to_vec()),
                    must_refuse: true,
                });
            }
        }
        for _ in 0..self.dice.between(0, 3) {
            let host = attacker_host(one_host.unwrap_or_else(|| self.dice.index(ATTACKER_HOSTS)));
            moves.push(Move::Connect {
                from: Source::Host(host),
                first: Bytes::new(),
            });
        }
        moves
    }

    /// A UTF-16LE login for `entry` (declared endpoint included), remembered for the withdrawal.
    fn classic_login(&mut self, from: Source, entry: UserEntry) -> Move {
        self.classic_logins
            .insert((entry.name.clone(), entry.endpoint));
        Move::Datagram {
            from,
            to: SERVER_UDP,
            data: Bytes::from(ClassicDatagram::Login(entry).to_vec()),
            must_refuse: true,
        }
    }

    /// Someone listed now, or else someone once seen logging in.
    fn pick_victim(&mut self, online: &[UserEntry]) -> Option<UserEntry> {
        match self.dice.pick(online) {
            Some(entry) if self.dice.chance(0.9) => Some(entry.clone()),
            _ => self.pick_login(),
        }
    }

    /// `logout,<victim>,<victim's endpoint>` to the server, from the wrong source.
    fn forge_logout(&mut self) -> Option<Move> {
        let victim = self.pick_login()?;
        Some(Move::Datagram {
            from: Source::Own,
            to: SERVER_UDP,
            data: Bytes::from(ClientDatagram::Logout(victim).to_vec()),
            must_refuse: true,
        })
    }

    /// A TCP claim of someone's pending login, from the forger's IP.
    fn race_claim(&mut self) -> Option<Move> {
        let victim = self.pick_login()?;
        Some(Move::Connect {
            from: Source::Own,
            first: Bytes::from(
                ClientLine::Login {
                    entry: victim,
                    key: None,
                }
                .to_vec(),
            ),
        })
    }

    /// An `Accept` pointing elsewhere, or a `Reject`, sent to a client as if from the server.
    fn forge_server_answer(&mut self) -> Option<Move> {
        let victim = self.pick_login()?;
        let data: &[u8] = if self.dice.chance(0.5) {
            b"Accept,7777"
        } else {
            b"Reject,name-taken"
        };
        Some(Move::Datagram {
            from: Source::Own,
            to: victim.endpoint,
            data: Bytes::from_static(data),
            must_refuse: true,
        })
    }

    /// Bytes that are no message at all, to the server or a client.
    fn garbage(&mut self) -> Move {
        let to = match self.pick_login() {
            Some(e) if self.dice.chance(0.5) => e.endpoint,
            _ => SERVER_UDP,
        };
        let len = self.dice.index(40);
        let data: Vec<u8> = (0..len).map(|_| self.dice.bits() as u8).collect();
        Move::Datagram {
            from: Source::Own,
            to,
            data: Bytes::from(data),
            must_refuse: true,
        }
    }

    /// Remembers what to write once connection `conn` opens.
    pub fn opened(&mut self, conn: ConnId, first: Bytes) {
        self.conns.push(conn);
        if !first.is_empty() {
            self.replies.insert(conn, LineDecoder::new(1 << 20));
        }
        self.pending_lines.insert(conn, first);
    }

    /// Connection `conn` is open: what to write.
    pub fn connected(&mut self, conn: ConnId) -> Option<Bytes> {
        self.pending_lines.remove(&conn)
    }

    /// The server wrote to the forger: on a connection that claimed, anything but an `error`
    /// line means a forged claim was served. Returns such lines. (A silent connection may get a
    /// classic list: that of a classic login the forger itself made for a name no one held.)
    pub fn hear(&mut self, conn: ConnId, data: &[u8]) -> Vec<String> {
        let Some(decoder) = self.replies.get_mut(&conn) else {
            return Vec::new();
        };
        decoder.push(data);
        let mut served = Vec::new();
        while let Some(line) = decoder.next_line() {
            let Ok(line) = line else {
                served.push("an over-long line".to_string());
                continue;
            };
            if !matches!(ServerLine::parse(line), Ok(ServerLine::Error(_))) {
                served.push(String::from_utf8_lossy(line).into_owned());
            }
        }
        served
    }

    fn pick_login(&mut self) -> Option<UserEntry> {
        let i = self.dice.index(self.logins.len());
        self.logins.get(i).cloned()
    }

    fn pick_sealed(&mut self) -> Option<HeardSealed> {
        let i = self.dice.index(self.sealed.len());
        self.sealed.get(i).cloned()
    }
}

fn remember<T>(memory: &mut VecDeque<T>, item: T) {
    if memory.len() == MEMORY {
        memory.pop_front();
    }
    memory.push_back(item);
}
