//! The forger holding one user's stolen private key: what no protocol can stop, since the key is
//! the identity. Sealing makes every other forgery fail, so this is how a run proves that the
//! checker's impersonation checks are live: with the key, the forger handshakes in its victim's
//! name, has `msg`s shown that the victim never wrote, and acknowledges `msg`s sealed for the
//! victim that the victim never saw. The checker must report both.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use bytes::Bytes;
use feige_core::client::StaticKeys;
use feige_core::wire::{Name, PeerDatagram, SealedDatagram, SessionId};
use snow::StatelessTransportState;

use super::noise::{self, Initiated};
use super::{Attacker, Listed, Move};

/// What the forger does with the stolen key.
#[derive(Debug)]
pub(super) struct Stolen {
    /// The victim: whose key it is.
    name: Name,
    keys: StaticKeys,
    /// The victim's session id, as far as its forged `msg`s say.
    sid: SessionId,
    /// Initiations sent, by our index.
    pending: BTreeMap<u32, Initiated>,
    /// Sessions made in the victim's name, by our index.
    sessions: BTreeMap<u32, Forged>,
}

/// A session the forger holds in its victim's name.
struct Forged {
    /// The responder's index: the receiver of what we seal.
    remote: u32,
    transport: StatelessTransportState,
    next_counter: u64,
    next_seq: u64,
}

impl std::fmt::Debug for Forged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forged")
            .field("remote", &self.remote)
            .field("next_counter", &self.next_counter)
            .finish_non_exhaustive()
    }
}

impl Attacker {
    /// The forger learns `name`'s private key.
    pub fn steal(&mut self, name: Name, keys: StaticKeys) {
        let sid = SessionId::new(self.dice.bits());
        self.stolen = Some(Stolen {
            name,
            keys,
            sid,
            pending: BTreeMap::new(),
            sessions: BTreeMap::new(),
        });
    }

    /// With the stolen key, an initiation in the victim's name to someone else listed, stamped
    /// with the wall clock now (`wall_ms`) so that it is as fresh as the victim's own.
    pub(super) fn stolen_initiation(&mut self, directory: &[Listed], wall_ms: u64) -> Vec<Move> {
        let Some(stolen) = &self.stolen else {
            return Vec::new();
        };
        let others: Vec<&Listed> = directory
            .iter()
            .filter(|l| l.key.is_some() && l.entry.name != stolen.name)
            .collect();
        let Some(target) = self.dice.pick(&others).map(|l| (*l).clone()) else {
            return Vec::new();
        };
        let Some(key) = target.key else {
            return Vec::new();
        };
        let index = self.dice.bits() as u32;
        let seed = super::draw_32(&mut self.dice);
        let Some(stolen) = &mut self.stolen else {
            return Vec::new();
        };
        let initiated = noise::initiate(&stolen.keys, &key, &stolen.name, wall_ms, index, seed);
        let datagram = initiated.datagram.clone();
        stolen.pending.insert(index, initiated);
        vec![self.send_own(target.entry.endpoint, datagram)]
    }

    /// A sniffed datagram from `from` for one of the forger's stolen sessions: the response to
    /// its initiation, answered with a forged `msg`, or a `msg` sealed for the victim on such a
    /// session, answered with a forged `ack`. `None` if it is not one of those.
    pub(super) fn stolen_sniff(&mut self, from: SocketAddr, data: &[u8]) -> Option<Vec<Move>> {
        let stolen = self.stolen.as_mut()?;
        let plaintext = match SealedDatagram::parse(data).ok()? {
            SealedDatagram::Response {
                sender,
                receiver,
                noise,
            } => {
                let initiated = stolen.pending.remove(&receiver)?;
                let transport = noise::complete(initiated, noise)?;
                let mut session = Forged {
                    remote: sender,
                    transport,
                    next_counter: 0,
                    next_seq: 1,
                };
                let text = format!("FORGED with {}'s stolen key, 偷来的", stolen.name);
                let msg = PeerDatagram::Msg {
                    from: stolen.name.clone(),
                    sid: stolen.sid,
                    seq: session.next_seq,
                    text: &text,
                }
                .to_vec();
                session.next_seq += 1;
                let sealed = session.seal(&msg);
                stolen.sessions.insert(receiver, session);
                sealed
            }
            SealedDatagram::Transport {
                receiver,
                counter,
                ciphertext,
            } => {
                let session = stolen.sessions.get_mut(&receiver)?;
                let opened = noise::open(&session.transport, counter, ciphertext)?;
                let Ok(PeerDatagram::Msg { sid, seq, .. }) = PeerDatagram::parse(&opened) else {
                    return Some(Vec::new());
                };
                let ack = PeerDatagram::Ack {
                    from: stolen.name.clone(),
                    sid,
                    seq,
                }
                .to_vec();
                session.seal(&ack)
            }
            SealedDatagram::Initiation { .. } => return None,
        };
        self.count("stolen-key chat", 1);
        Some(vec![self.send_own(from, plaintext)])
    }

    /// A datagram the forger made, from its own address.
    fn send_own(&mut self, to: SocketAddr, data: Bytes) -> Move {
        Move::Datagram {
            from: super::Source::Own,
            to,
            data,
            must_refuse: true,
        }
    }
}

impl Forged {
    fn seal(&mut self, plaintext: &[u8]) -> Bytes {
        let sealed = noise::seal(&self.transport, self.remote, self.next_counter, plaintext);
        self.next_counter += 1;
        sealed
    }
}
