//! The forger against sealed chat: what it sniffs, replays, alters and makes up.
//!
//! It sees every datagram a client sends. Verbatim copies of sealed datagrams may be opened, but
//! at most once by any client (the replay window and the handshake timestamps); everything it
//! alters or makes — a flipped bit, a cut, a plain `msg`, an initiation with its own key in
//! someone else's name — must be refused and counted.

use std::net::SocketAddr;

use bytes::Bytes;
use feige_core::wire::{is_sealed, PeerDatagram, SealedDatagram, SessionId};

use super::noise;
use super::{remember, Attacker, HeardSealed, Listed, Move, Source};

/// How often a sniffed sealed datagram is replayed at once, racing the original.
const RACE: f64 = 0.1;

impl Attacker {
    /// Sniffs a datagram a client at `from` sent to a peer at `to`: sealed ones are kept, and
    /// now and then one is replayed at once; one for a session made with a stolen key is
    /// answered.
    pub fn sniff_peer(&mut self, from: SocketAddr, to: SocketAddr, data: &Bytes) -> Vec<Move> {
        if !is_sealed(data) {
            return Vec::new();
        }
        if let Some(moves) = self.stolen_sniff(from, data) {
            return moves;
        }
        let heard = HeardSealed {
            from,
            to,
            data: data.clone(),
        };
        remember(&mut self.sealed, heard.clone());
        if !self.dice.chance(RACE) {
            return Vec::new();
        }
        self.count("sealed replay (race)", 1);
        vec![self.copy_of(heard, to)]
    }

    /// A `msg` or `ack` in a user's name, in plain text as before issue 14: from the forger's
    /// address, or from the user's own endpoint when it spoofs. Sealed chat never takes it.
    pub(super) fn forge_plain(&mut self) -> Option<Move> {
        let victim = self.pick_login()?;
        let target = self.pick_login()?;
        self.forged += 1;
        let sid = SessionId::new(self.dice.bits());
        let seq = self.dice.between(1, 3);
        let text = format!(
            "FORGED #{} in {}'s name, 假的, sorry",
            self.forged, victim.name
        );
        let datagram = if self.dice.chance(0.7) {
            PeerDatagram::Msg {
                from: victim.name,
                sid,
                seq,
                text: &text,
            }
            .to_vec()
        } else {
            PeerDatagram::Ack {
                from: victim.name,
                sid,
                seq,
            }
            .to_vec()
        };
        Some(self.send(
            victim.endpoint,
            target.endpoint,
            Bytes::from(datagram),
            true,
        ))
    }

    /// A sniffed sealed datagram sent again, verbatim: mostly to its destination, sometimes to
    /// another user.
    pub(super) fn replay_sealed(&mut self) -> Option<Move> {
        let heard = self.pick_sealed()?;
        let to = match self.pick_login() {
            Some(other) if self.dice.chance(0.2) => other.endpoint,
            _ => heard.to,
        };
        Some(self.copy_of(heard, to))
    }

    /// A sniffed sealed datagram with one bit flipped where the protocol authenticates it, or
    /// cut short, to its destination.
    pub(super) fn tamper_sealed(&mut self) -> Option<Move> {
        let heard = self.pick_sealed()?;
        let mut data = heard.data.to_vec();
        if self.dice.chance(0.3) {
            let len = self.dice.index(data.len());
            data.truncate(len);
        } else {
            // The indices in a handshake message's header are not covered by Noise (as in
            // WireGuard): a changed one is a valid message for another handshake. The type byte
            // and the Noise bytes are.
            let covered = match SealedDatagram::parse(&data) {
                Ok(SealedDatagram::Initiation { .. }) => 5,
                Ok(SealedDatagram::Response { .. }) => 9,
                _ => 1,
            };
            let at = if self.dice.chance(0.1) {
                0
            } else {
                covered + self.dice.index(data.len().saturating_sub(covered))
            };
            let bit = 1u8 << self.dice.index(8);
            if let Some(byte) = data.get_mut(at) {
                *byte ^= bit;
            }
        }
        Some(self.send(heard.from, heard.to, Bytes::from(data), true))
    }

    /// Noise initiations made with the forger's own key, each claiming a listed user's name, to
    /// other listed users (with the key listed for them, so that Noise opens it): the key is not
    /// the one trusted for that name, so they must be refused as untrusted. Sometimes the claim
    /// is the recipient's own name.
    pub(super) fn impersonate(&mut self, directory: &[Listed]) -> Vec<Move> {
        let keyed: Vec<&Listed> = directory.iter().filter(|l| l.key.is_some()).collect();
        let (Some(&victim), Some(&target)) = (self.dice.pick(&keyed), self.dice.pick(&keyed))
        else {
            return Vec::new();
        };
        let (Some(key), claimed) = (target.key, victim.entry.name.clone()) else {
            return Vec::new();
        };
        let index = self.dice.bits() as u32;
        let timestamp = self.dice.bits();
        let seed = super::draw_32(&mut self.dice);
        let initiated = noise::initiate(&self.keys, &key, &claimed, timestamp, index, seed);
        vec![self.send(
            victim.entry.endpoint,
            target.entry.endpoint,
            initiated.datagram,
            true,
        )]
    }

    /// A verbatim copy of `heard` to `to`: from the forger's address, or from the very endpoint
    /// it was sniffed from when the forger spoofs.
    fn copy_of(&mut self, heard: HeardSealed, to: SocketAddr) -> Move {
        self.send(heard.from, to, heard.data, false)
    }

    /// A datagram from the forger's own address, or (half the time, when it spoofs) from
    /// `pretend`: the endpoint of the user it pretends to be.
    pub(super) fn send(
        &mut self,
        pretend: SocketAddr,
        to: SocketAddr,
        data: Bytes,
        must_refuse: bool,
    ) -> Move {
        if self.spoofing && self.dice.chance(0.5) {
            Move::Spoofed {
                from: pretend,
                to,
                data,
                must_refuse,
            }
        } else {
            Move::Datagram {
                from: Source::Own,
                to,
                data,
                must_refuse,
            }
        }
    }
}
