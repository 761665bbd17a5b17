//! The forger: a node on the network that sniffs every datagram and tries to speak in other
//! users' names from its own address.
//!
//! It forges chat messages (fresh or continuing a real session id), replays real ones, acks
//! messages in the recipient's name before the recipient can, sends `logout` for others, answers
//! logins with its own `Accept`/`Reject`, and races users to the TCP claim of their pending login.
//! None of it may ever be shown, delivered, or change anyone's presence.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;

use bytes::Bytes;
use feige_core::server::ConnId;
use feige_core::wire::{
    ClientDatagram, ClientLine, LineDecoder, Name, PeerDatagram, ServerLine, SessionId, UserEntry,
};

use super::addresses::SERVER_UDP;
use super::dice::Dice;

/// How many sniffed datagrams of each kind the forger remembers.
const MEMORY: usize = 64;

/// Something the forger puts on the network.
#[derive(Debug)]
pub enum Move {
    /// A datagram from the forger's address.
    Datagram {
        /// Destination.
        to: SocketAddr,
        /// Bytes.
        data: Bytes,
    },
    /// A datagram with a forged source address: only with [`Params::spoofing`], to prove that
    /// the checker catches what the protocol cannot prevent.
    ///
    /// [`Params::spoofing`]: super::params::Params::spoofing
    Spoofed {
        /// The source it pretends.
        from: SocketAddr,
        /// Destination.
        to: SocketAddr,
        /// Bytes.
        data: Bytes,
    },
    /// A TCP connection to the server that writes `first` once open.
    Connect {
        /// What to write.
        first: Bytes,
    },
}

#[derive(Debug, Clone)]
struct HeardMsg {
    from: Name,
    sid: SessionId,
    seq: u64,
    to: SocketAddr,
    data: Bytes,
}

/// The forger's memory and dice.
#[derive(Debug)]
pub struct Attacker {
    dice: Dice,
    logins: VecDeque<UserEntry>,
    msgs: VecDeque<HeardMsg>,
    pending_lines: BTreeMap<ConnId, Bytes>,
    replies: BTreeMap<ConnId, LineDecoder>,
    forged: u64,
    spoofing: bool,
    /// Connections it opened (closed when the storm ends).
    pub conns: Vec<ConnId>,
}

impl Attacker {
    /// A forger with its own dice; with `spoofing`, it also forges source addresses.
    pub fn new(dice: Dice, spoofing: bool) -> Self {
        Attacker {
            spoofing,
            dice,
            logins: VecDeque::new(),
            msgs: VecDeque::new(),
            pending_lines: BTreeMap::new(),
            replies: BTreeMap::new(),
            forged: 0,
            conns: Vec::new(),
        }
    }

    /// Sniffs a datagram a client sent to the server: logins tell who is where.
    pub fn sniff_server_bound(&mut self, data: &[u8]) {
        if let Ok(ClientDatagram::Login(entry)) = ClientDatagram::parse(data) {
            remember(&mut self.logins, entry);
        }
    }

    /// Sniffs a chat message a client sent to `to`; may react at once with an ack in the
    /// recipient's name that races the real one to the sender.
    pub fn sniff_msg(
        &mut self,
        from: &Name,
        sid: SessionId,
        seq: u64,
        to: SocketAddr,
        data: &Bytes,
    ) -> Option<Move> {
        remember(
            &mut self.msgs,
            HeardMsg {
                from: from.clone(),
                sid,
                seq,
                to,
                data: data.clone(),
            },
        );
        let sender = self.logins.iter().find(|e| e.name == *from)?.endpoint;
        let recipient = self.logins.iter().find(|e| e.endpoint == to)?.name.clone();
        if !self.dice.chance(0.5) {
            return None;
        }
        let ack = PeerDatagram::Ack {
            from: recipient,
            sid,
            seq,
        };
        let data = Bytes::from(ack.to_vec());
        Some(self.send(to, sender, data))
    }

    /// One move on the forger's own schedule.
    pub fn act(&mut self) -> Option<Move> {
        match self.dice.index(7) {
            0 => self.forge_msg(),
            1 => self.replay(),
            2 => self.forge_logout(),
            3 => self.race_claim(),
            4 => self.forge_server_answer(),
            5 => Some(self.garbage()),
            _ => self.forge_msg(),
        }
    }

    /// A `msg` in a real user's name, from the forger's address, with a text no one wrote.
    fn forge_msg(&mut self) -> Option<Move> {
        let victim = self.pick_login()?;
        let target = self.pick_login()?;
        self.forged += 1;
        let text = format!(
            "FORGED #{} in {}'s name, 假的, sorry",
            self.forged, victim.name
        );
        let continuing = self.pick_msg().filter(|m| m.from == victim.name);
        let (sid, seq) = match continuing {
            Some(m) => (m.sid, m.seq + 1),
            None => (SessionId::new(self.dice.bits()), self.dice.between(1, 3)),
        };
        let msg = PeerDatagram::Msg {
            from: victim.name,
            sid,
            seq,
            text: &text,
        };
        let data = Bytes::from(msg.to_vec());
        Some(self.send(victim.endpoint, target.endpoint, data))
    }

    /// A datagram from the forger's own address, or from `pretend` when it spoofs.
    fn send(&self, pretend: SocketAddr, to: SocketAddr, data: Bytes) -> Move {
        if self.spoofing {
            Move::Spoofed {
                from: pretend,
                to,
                data,
            }
        } else {
            Move::Datagram { to, data }
        }
    }

    /// A real `msg`, replayed from the forger's address.
    fn replay(&mut self) -> Option<Move> {
        let m = self.pick_msg()?;
        Some(Move::Datagram {
            to: m.to,
            data: m.data,
        })
    }

    /// `logout,<victim>,<victim's endpoint>` to the server, from the wrong source.
    fn forge_logout(&mut self) -> Option<Move> {
        let victim = self.pick_login()?;
        Some(Move::Datagram {
            to: SERVER_UDP,
            data: Bytes::from(ClientDatagram::Logout(victim).to_vec()),
        })
    }

    /// A TCP claim of someone's pending login, from the forger's IP.
    fn race_claim(&mut self) -> Option<Move> {
        let victim = self.pick_login()?;
        Some(Move::Connect {
            first: Bytes::from(ClientLine::Login(victim).to_vec()),
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
            to: victim.endpoint,
            data: Bytes::from_static(data),
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
            to,
            data: Bytes::from(data),
        }
    }

    /// Remembers what to write once connection `conn` opens.
    pub fn opened(&mut self, conn: ConnId, first: Bytes) {
        self.conns.push(conn);
        self.pending_lines.insert(conn, first);
        self.replies.insert(conn, LineDecoder::new(1 << 20));
    }

    /// Connection `conn` is open: what to write.
    pub fn connected(&mut self, conn: ConnId) -> Option<Bytes> {
        self.pending_lines.remove(&conn)
    }

    /// The server wrote to the forger: anything but an `error` line means a forged claim was
    /// served. Returns such lines.
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

    fn pick_msg(&mut self) -> Option<HeardMsg> {
        let i = self.dice.index(self.msgs.len());
        self.msgs.get(i).cloned()
    }
}

fn remember<T>(memory: &mut VecDeque<T>, item: T) {
    if memory.len() == MEMORY {
        memory.pop_front();
    }
    memory.push_back(item);
}
