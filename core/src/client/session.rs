//! Being online: the list kept from the server's lines (or, in the classic dialect, its
//! datagrams), keepalive, silence detection, and the peer datagrams of the chat.

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;

use super::backoff::deadline_after;
use super::chat::Wire;
use super::chat::{Incoming, NewMessage, Outgoing, Verdict};
use super::config::ClientConfig;
use super::keyring::TrustError;
use super::outbox::Outbox;
use super::output::{ClientEvent, DisconnectReason, FailReason, MessageId, SendError};
use super::path::{Due, Paths, Route};
use super::roster::Roster;
use super::sealing::{Listed, Sealer};
use super::secure::{Opened, Sends};
pub(crate) use super::shared::Io;
use super::talk::{accept_talk, encode_talk};
use crate::wire::{
    canonical, is_classic_datagram, is_sealed, ClassicDatagram, Dialect, ErrorReason, Name,
    PeerDatagram, RelayPayload, ServerLine, UserEntry,
};

const PING: &[u8] = b"ping\n";

/// An online session: from the snapshot to the end.
#[derive(Debug)]
pub(crate) struct Session {
    me: UserEntry,
    roster: Roster,
    /// How each listed peer is reached.
    paths: Paths,
    outgoing: Outgoing,
    incoming: Incoming,
    /// `None` in the classic dialect, which keeps no connection to the server.
    keepalive: Option<Keepalive>,
}

/// The TCP session's liveness timers.
#[derive(Debug)]
struct Keepalive {
    /// No line from the server by then means it is gone.
    silent_deadline: Instant,
    next_ping: Instant,
}

impl Session {
    /// Goes online with the server's list; `me` is our own entry in it.
    pub(crate) fn new(now: Instant, me: UserEntry, roster: Roster, config: &ClientConfig) -> Self {
        let keepalive = (!config.is_classic()).then(|| Keepalive {
            silent_deadline: deadline_after(now, config.server_timeout),
            next_ping: deadline_after(now, config.ping_interval),
        });
        let mut paths = Paths::new(config.server);
        for peer in roster.iter().filter(|e| e.name != me.name) {
            paths.listed(now, &peer.name, peer.endpoint, config);
        }
        Session {
            me,
            roster,
            paths,
            outgoing: Outgoing::default(),
            incoming: Incoming::default(),
            keepalive,
        }
    }

    pub(crate) fn me(&self) -> &UserEntry {
        &self.me
    }

    pub(crate) fn users(&self) -> impl Iterator<Item = &UserEntry> + '_ {
        self.roster.iter()
    }

    /// A listed user's name (shared) and endpoint.
    pub(crate) fn listed(&self, name: &str) -> Option<(&Name, SocketAddr)> {
        self.roster.get(name)
    }

    /// The user trusts the key listed for `name`: it is pinned, and chat held for it goes on.
    pub(crate) fn trust(
        &mut self,
        now: Instant,
        name: &str,
        mut io: Io<'_>,
    ) -> Result<(), TrustError> {
        let (name, _) = self.roster.get(name).ok_or(TrustError::NoKey)?;
        let name = name.clone();
        io.keyring.trust(&name, io.out)?;
        let config = io.config;
        let mut wire = Sealer {
            io: &mut io,
            paths: &mut self.paths,
        };
        self.outgoing.resume(now, &name, config, &mut wire);
        Ok(())
    }

    pub(crate) fn dialect(&self, name: &str) -> Option<Dialect> {
        self.roster.dialect(name)
    }

    /// A line from the server. `Err` ends the session for that reason.
    pub(crate) fn handle_line(
        &mut self,
        now: Instant,
        line: ServerLine,
        mut io: Io<'_>,
    ) -> Result<(), DisconnectReason> {
        if let Some(keepalive) = &mut self.keepalive {
            keepalive.silent_deadline = deadline_after(now, io.config.server_timeout);
        }
        match line {
            ServerLine::Login(entry) => self.joined(now, entry, &mut io),
            ServerLine::Logout(entry) => self.left(&entry.name, &mut io),
            ServerLine::Dialect { name, dialect } => {
                self.roster.set_dialect(&name, dialect);
                Ok(())
            }
            ServerLine::Key { name, key } => {
                // A key for a name not listed (or for ourselves) teaches nothing.
                if name != self.me.name && self.roster.contains(&name) {
                    let before = io.keyring.trusted(&name);
                    io.keyring.listed(&name, key, io.out);
                    // Sessions with another key than the one now believed are of no use.
                    if before.is_some() && io.keyring.trusted(&name) != before {
                        if let Some(secure) = io.secure.as_deref_mut() {
                            secure.forget(&name);
                        }
                    }
                }
                Ok(())
            }
            ServerLine::Intro(entry) => {
                self.introduced(now, &entry.name, &mut io);
                Ok(())
            }
            ServerLine::Relay { from, payload } => {
                self.relayed(now, &from, &payload, io);
                Ok(())
            }
            ServerLine::Pong => Ok(()),
            ServerLine::Error(reason) => Err(disconnect_reason(reason)),
            ServerLine::Snapshot(_) => Err(DisconnectReason::ProtocolError),
        }
    }

    /// `login,<name>,<ep>`: a newcomer, or a known name at a new endpoint (left, then joined).
    fn joined(
        &mut self,
        now: Instant,
        entry: UserEntry,
        io: &mut Io<'_>,
    ) -> Result<(), DisconnectReason> {
        if entry.name == self.me.name {
            return Err(DisconnectReason::ProtocolError);
        }
        let entry = UserEntry::new(entry.name, canonical(entry.endpoint));
        match self.roster.get(&entry.name) {
            Some((_, endpoint)) if endpoint == entry.endpoint => return Ok(()),
            Some(_) => self.remove_peer(&entry.name, io),
            None => {}
        }
        self.incoming.peer_joined(&entry.name);
        self.paths
            .listed(now, &entry.name, entry.endpoint, io.config);
        self.roster.insert(entry.clone());
        io.out.event(ClientEvent::Joined(entry));
        Ok(())
    }

    /// `logout,<name>,<ep>`: a logout of a name not listed is ignored (the list is already right).
    fn left(&mut self, name: &Name, io: &mut Io<'_>) -> Result<(), DisconnectReason> {
        if *name == self.me.name {
            return Err(DisconnectReason::ProtocolError);
        }
        self.remove_peer(name, io);
        Ok(())
    }

    /// A presence datagram from a textbook server (classic dialect). Datagrams prove little, so
    /// none ends the session: one naming ourselves changes nothing (a textbook server may echo a
    /// repeated login of ours), and a logout counts only for the endpoint the user is listed at.
    pub(crate) fn handle_classic_presence(
        &mut self,
        now: Instant,
        datagram: ClassicDatagram,
        mut io: Io<'_>,
    ) {
        match datagram {
            ClassicDatagram::Login(entry) if entry.name != self.me.name => {
                // Never an error: the name is not ours.
                let _ = self.joined(now, entry, &mut io);
            }
            ClassicDatagram::Logout(entry) if entry.name != self.me.name => {
                match self.roster.get(&entry.name) {
                    Some((_, listed)) if listed == canonical(entry.endpoint) => {
                        self.remove_peer(&entry.name, &mut io)
                    }
                    Some(_) => io.stats.wrong_source += 1,
                    None => {}
                }
            }
            ClassicDatagram::Login(_) | ClassicDatagram::Logout(_) => {}
            ClassicDatagram::Accept { .. } | ClassicDatagram::Talk { .. } => {
                io.stats.malformed += 1
            }
        }
    }

    fn remove_peer(&mut self, name: &Name, io: &mut Io<'_>) {
        io.keyring.unlisted(name);
        self.paths.forget(name);
        if let Some(secure) = io.secure.as_deref_mut() {
            secure.forget(name);
        }
        let out = &mut *io.out;
        if let Some(old) = self.roster.remove(name) {
            out.event(ClientEvent::Left(old));
            self.outgoing.peer_left(name, out);
            self.incoming.peer_left(name);
        }
    }

    /// A datagram from anyone but the server.
    pub(crate) fn handle_peer_datagram(
        &mut self,
        now: Instant,
        source: SocketAddr,
        data: &[u8],
        io: Io<'_>,
    ) {
        if is_sealed(data) {
            return self.handle_sealed(now, Route::Direct(source), data, io);
        }
        if is_classic_datagram(data) {
            match ClassicDatagram::parse(data) {
                Ok(ClassicDatagram::Talk { from, text, .. }) => {
                    self.handle_talk(source, from, text, io)
                }
                Ok(_) | Err(_) => io.stats.malformed += 1,
            }
            return;
        }
        // Native chat travels sealed only: a plain `msg` or `ack` proves nothing.
        match PeerDatagram::parse(data) {
            Ok(_) => io.stats.unsealed += 1,
            Err(_) => io.stats.malformed += 1,
        }
    }

    /// A sealed datagram, directly from any source or relayed: the key proves who sent it, and
    /// only then does the way it came teach the peer's path.
    fn handle_sealed(&mut self, now: Instant, route: Route, data: &[u8], mut io: Io<'_>) {
        let Some(secure) = io.secure.as_deref_mut() else {
            io.stats.malformed += 1;
            return;
        };
        let directory = Listed {
            roster: &self.roster,
            keyring: io.keyring,
        };
        let mut sends = Sends::default();
        let authentic = match secure.open(now, data, &directory, &mut sends) {
            Ok(authentic) => authentic,
            Err(refusal) => {
                io.stats.refused(refusal);
                return;
            }
        };
        let peer = authentic.peer.clone();
        let newly_direct = self.paths.heard(now, &peer, route, io.config, io.out);
        let mut wire = Sealer {
            io: &mut io,
            paths: &mut self.paths,
        };
        wire.dispatch(now, &mut sends);
        let Some(opened) = authentic.opened() else {
            return;
        };
        // The peer reached us directly where it could not before: answer the same way at once,
        // so it learns the direct path too even with nothing to say.
        if newly_direct {
            if let Some(keepalive) = wire
                .io
                .secure
                .as_deref_mut()
                .and_then(|s| s.keepalive(now, &peer))
            {
                wire.paths.send_direct(&peer, keepalive, wire.io.out);
            }
        }
        self.handle_opened(now, opened, &mut io);
    }

    /// A `relay` line: a datagram the server carried for `from`.
    fn relayed(&mut self, now: Instant, from: &Name, payload: &RelayPayload, io: Io<'_>) {
        let datagram = payload.decode();
        if !self.roster.contains(from) || *from == self.me.name {
            io.stats.unknown_sender += 1;
        } else if is_sealed(&datagram) {
            self.handle_sealed(now, Route::Relay, &datagram, io);
        } else {
            io.stats.malformed += 1;
        }
    }

    /// The server introduced `name` to us: probe it now, so that our NAT opens for it and its
    /// for us.
    fn introduced(&mut self, now: Instant, name: &Name, io: &mut Io<'_>) {
        if !self.paths.introduced(now, name, io.config) {
            return;
        }
        let mut wire = Sealer {
            io,
            paths: &mut self.paths,
        };
        let Some(peer) = wire.peer(name) else {
            return;
        };
        let Some(secure) = wire.io.secure.as_deref_mut() else {
            return;
        };
        let mut sends = Sends::default();
        secure.probe(now, &peer, &mut sends);
        wire.dispatch(now, &mut sends);
    }

    /// A `msg` or `ack` that came sealed by `opened.peer`'s trusted key.
    fn handle_opened(&mut self, now: Instant, opened: Opened, io: &mut Io<'_>) {
        let Ok(datagram) = PeerDatagram::parse(&opened.plaintext) else {
            io.stats.malformed += 1;
            return;
        };
        let (PeerDatagram::Msg { from, .. } | PeerDatagram::Ack { from, .. }) = &datagram;
        // A trusted peer writing another user's name inside its own datagram.
        if *from != opened.peer {
            io.stats.wrong_sender += 1;
            return;
        }
        if !self.roster.contains(from) {
            io.stats.unknown_sender += 1;
            return;
        }
        let config = io.config;
        match datagram {
            PeerDatagram::Msg {
                from,
                sid,
                seq,
                text,
            } => {
                let ack = PeerDatagram::Ack {
                    from: self.me.name.clone(),
                    sid,
                    seq,
                };
                let mut wire = Sealer {
                    io: &mut *io,
                    paths: &mut self.paths,
                };
                wire.send(now, &from, &Bytes::from(ack.to_vec()));
                match self.incoming.accept(&from, sid, seq) {
                    Verdict::Show => io.out.event(ClientEvent::Message {
                        from,
                        text: text.to_owned(),
                        encrypted: true,
                    }),
                    Verdict::Duplicate => io.stats.duplicates += 1,
                }
            }
            PeerDatagram::Ack { from, sid, seq } => {
                let ours = sid == config.session_id;
                let mut wire = Sealer {
                    io: &mut *io,
                    paths: &mut self.paths,
                };
                if !(ours
                    && self
                        .outgoing
                        .acknowledge(now, &from, seq, config, &mut wire))
                {
                    io.stats.stray_acks += 1;
                }
            }
        }
    }

    /// A `talk` from a classic peer: shown once accepted, never answered.
    pub(crate) fn handle_talk(&self, source: SocketAddr, from: Name, text: String, io: Io<'_>) {
        if accept_talk(&self.roster, &self.me.name, &from, source, io.stats) {
            io.out.event(ClientEvent::Message {
                from,
                text,
                encrypted: false,
            });
        }
    }

    /// Checks and queues a chat message; a classic peer gets a `talk` stamped `time_of_day`.
    pub(crate) fn send_message(
        &mut self,
        now: Instant,
        id: MessageId,
        to: &str,
        text: &str,
        time_of_day: &str,
        mut io: Io<'_>,
    ) -> Result<(), SendError> {
        if to == self.me.name.as_str() {
            return Err(SendError::ToSelf);
        }
        let Some((name, endpoint)) = self.roster.get(to) else {
            return Err(SendError::NoSuchUser);
        };
        if text.is_empty() {
            return Err(SendError::EmptyText);
        }
        let name = name.clone();
        if self.roster.dialect(&name) == Some(Dialect::Classic) {
            let talk = encode_talk(&io.config.name, time_of_day, text)?;
            io.out.datagram(endpoint, talk);
            io.out.event(ClientEvent::Sent { to: name, id });
            return Ok(());
        }
        // Native chat is sealed: no key listed (or none of ours), no chat.
        if io.secure.is_none() || io.keyring.listed_key(&name).is_none() {
            return Err(SendError::NoKey);
        }
        let msg = NewMessage {
            id,
            to: &name,
            text,
        };
        let config = io.config;
        let mut wire = Sealer {
            io: &mut io,
            paths: &mut self.paths,
        };
        self.outgoing.enqueue(now, msg, config, &mut wire)
    }

    /// Keepalive, silence and retransmissions. `Err` ends the session for that reason.
    pub(crate) fn handle_timeout(
        &mut self,
        now: Instant,
        mut io: Io<'_>,
    ) -> Result<(), DisconnectReason> {
        if let Some(keepalive) = &mut self.keepalive {
            if now >= keepalive.silent_deadline {
                return Err(DisconnectReason::ServerSilent);
            }
            if now >= keepalive.next_ping {
                io.out.send_line(Bytes::from_static(PING));
                keepalive.next_ping = deadline_after(now, io.config.ping_interval);
            }
        }
        let config = io.config;
        let due = self.paths.handle_timeout(now, config, io.out);
        let mut wire = Sealer {
            io: &mut io,
            paths: &mut self.paths,
        };
        let mut sends = Sends::default();
        if let Some(secure) = wire.io.secure.as_deref_mut() {
            secure.handle_timeout(now, &mut sends);
        }
        wire.dispatch(now, &mut sends);
        for due in due {
            path_due(now, due, &mut wire);
        }
        self.outgoing.handle_timeout(now, config, &mut wire);
        Ok(())
    }

    /// The next timer; `None` only in the classic dialect with nothing in flight.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let keepalive = self
            .keepalive
            .as_ref()
            .map(|k| k.silent_deadline.min(k.next_ping));
        [
            keepalive,
            self.outgoing.next_deadline(),
            self.paths.next_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The session ends: every unacknowledged or queued message fails, oldest first.
    pub(crate) fn fail_all(&mut self, out: &mut Outbox) {
        self.outgoing.fail_all(FailReason::LoggedOut, out);
    }
}

/// What a path timer asked for: a kick through the relay just turned on, or a direct probe.
fn path_due(now: Instant, due: Due, wire: &mut Sealer<'_, '_>) {
    let name = match &due {
        Due::Kick(name) | Due::Probe(name) => name,
    };
    let Some(peer) = wire.peer(name) else {
        return;
    };
    let Some(secure) = wire.io.secure.as_deref_mut() else {
        return;
    };
    match due {
        Due::Kick(_) => {
            let mut sends = Sends::default();
            secure.probe(now, &peer, &mut sends);
            wire.dispatch(now, &mut sends);
        }
        Due::Probe(_) => {
            if let Some(keepalive) = secure.keepalive(now, &peer.name) {
                wire.paths.send_direct(&peer.name, keepalive, wire.io.out);
            }
        }
    }
}

fn disconnect_reason(reason: ErrorReason) -> DisconnectReason {
    match reason {
        ErrorReason::IdleTimeout => DisconnectReason::IdleTimeout,
        ErrorReason::Replaced => DisconnectReason::Replaced,
        ErrorReason::Shutdown => DisconnectReason::Shutdown,
        _ => DisconnectReason::ServerError,
    }
}
