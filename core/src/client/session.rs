//! A session, from the first login to the end: the list kept from the server's lines (or, in
//! the classic dialect, its datagrams), the paths, and the chat — which goes on while the link
//! with the server is lost and the client logs in again. The link's keepalive is here too.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;

use super::backoff::deadline_after;
use super::chat::Wire;
use super::chat::{Incoming, NewMessage, Outgoing, Verdict};
use super::config::ClientConfig;
use super::keyring::TrustError;
use super::output::{ClientEvent, DisconnectReason, FailReason, MessageId, SendError};
use super::path::{Due, Paths, Route};
use super::persist::Record;
use super::roster::Roster;
use super::sealing::{Listed, Sealer};
use super::secure::{Dropped, Opened, Sends};
pub(crate) use super::shared::Io;
use super::talk::{accept_talk, encode_talk};
use crate::wire::{
    canonical, is_classic_datagram, is_sealed, ClassicDatagram, Dialect, ErrorReason, Name,
    PeerDatagram, RelayPayload, ServerLine, SessionId, UserEntry,
};

/// The list, the paths and the chat.
#[derive(Debug)]
pub(crate) struct Session {
    me: UserEntry,
    roster: Roster,
    /// How each listed peer is reached.
    paths: Paths,
    outgoing: Outgoing,
    incoming: Incoming,
    /// Everyone a message may be queued for while offline (`Restored::contacts`, and everyone
    /// listed since).
    contacts: HashSet<Name>,
    /// Peers that left while we held a session with them, with that session. One that was only
    /// lost by the server (it restarted, say) comes back still sealing on it, and we dropped it:
    /// we start a new one as soon as it is listed with the same trusted key, rather than refuse
    /// its datagrams until its rekey rule gives up on the old one.
    resync: HashMap<Name, Dropped>,
}

/// The TCP session's liveness timers.
#[derive(Debug)]
pub(crate) struct Keepalive {
    /// No line from the server by then means it is gone.
    silent_deadline: Instant,
    next_ping: Instant,
}

impl Keepalive {
    pub(crate) fn new(now: Instant, config: &ClientConfig) -> Self {
        Keepalive {
            silent_deadline: deadline_after(now, config.server_timeout),
            next_ping: deadline_after(now, config.ping_interval),
        }
    }

    /// A line came: the server is there.
    pub(crate) fn heard(&mut self, now: Instant, config: &ClientConfig) {
        self.silent_deadline = deadline_after(now, config.server_timeout);
    }

    /// Whether a `ping` is due now; `Err` when the server has been silent too long.
    pub(crate) fn due(
        &mut self,
        now: Instant,
        config: &ClientConfig,
    ) -> Result<bool, DisconnectReason> {
        if now >= self.silent_deadline {
            return Err(DisconnectReason::ServerSilent);
        }
        if now < self.next_ping {
            return Ok(false);
        }
        self.next_ping = deadline_after(now, config.ping_interval);
        Ok(true)
    }

    pub(crate) fn deadline(&self) -> Instant {
        self.silent_deadline.min(self.next_ping)
    }
}

impl Session {
    /// Goes online with the server's list, `me` our own entry in it, and what an earlier run
    /// left: its outbox, receive state and contacts.
    pub(crate) fn new(now: Instant, me: UserEntry, roster: Roster, io: Io<'_>) -> Self {
        let config = io.config;
        let mut paths = Paths::new(config.server);
        for peer in roster.iter().filter(|e| e.name != me.name) {
            paths.listed(now, &peer.name, peer.endpoint, config);
        }
        let mut outgoing = Outgoing::default();
        let mut incoming = Incoming::default();
        let mut contacts: HashSet<Name> = roster.iter().map(|e| e.name.clone()).collect();
        if let Some(restored) = &config.restored {
            outgoing.restore(now, &restored.outbox, io.clock.unix_ms_at(now), config);
            incoming.restore(&restored.streams);
            contacts.extend(restored.contacts.iter().cloned());
        }
        contacts.remove(&me.name);
        Session {
            me,
            roster,
            paths,
            outgoing,
            incoming,
            contacts,
            resync: HashMap::new(),
        }
    }

    /// Online again after the link was lost: the list becomes the server's (in its order), and
    /// only what really changed is reported (`left`, `joined`), then `reconnected`.
    pub(crate) fn relist(
        &mut self,
        now: Instant,
        me: UserEntry,
        users: Vec<UserEntry>,
        roster: Roster,
        mut io: Io<'_>,
    ) {
        let gone: Vec<Name> = self
            .roster
            .iter()
            .filter(|e| {
                e.name != self.me.name && roster.get(&e.name) != Some((&e.name, e.endpoint))
            })
            .map(|e| e.name.clone())
            .collect();
        for name in gone {
            self.remove_peer(now, &name, &mut io);
        }
        for entry in users.iter().filter(|e| e.name != me.name) {
            if !self.roster.contains(&entry.name) {
                // Never an error: the name is not ours.
                let _ = self.joined(now, entry.clone(), &mut io);
            }
        }
        self.roster = roster;
        self.me = me.clone();
        self.paths.set_server(true);
        io.out.event(ClientEvent::Reconnected { me, users });
    }

    /// The link with the server is lost: no relay, no introductions until it is back.
    pub(crate) fn server_lost(&mut self) {
        self.paths.set_server(false);
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
        self.trusted(now, &name, &mut io);
        Ok(())
    }

    /// `name` is listed with a trusted key: a session it may still hold with us is replaced at
    /// once (see `resync`), and what waited in the outbox for it goes out.
    fn trusted(&mut self, now: Instant, name: &Name, io: &mut Io<'_>) {
        let config = io.config;
        let still_held = self.resync.remove(name).is_some_and(|dropped| {
            now < dropped.usable_until && io.keyring.trusted(name) == Some(dropped.key)
        });
        let mut wire = Sealer {
            io,
            paths: &mut self.paths,
        };
        if still_held {
            wire.probe(now, name);
        }
        self.outgoing.resume(now, name, config, &mut wire);
    }

    /// Everyone a message may be written to (listed or not).
    pub(crate) fn contacts(&self) -> impl Iterator<Item = &Name> + '_ {
        self.contacts.iter()
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
        match line {
            ServerLine::Login(entry) => self.joined(now, entry, &mut io),
            ServerLine::Logout(entry) => self.left(now, &entry.name, &mut io),
            ServerLine::Dialect { name, dialect } => {
                self.roster.set_dialect(&name, dialect);
                Ok(())
            }
            ServerLine::Key { name, key } => {
                // A key for a name not listed (or for ourselves) teaches nothing.
                if name != self.me.name && self.roster.contains(&name) {
                    let before = io.keyring.trusted(&name);
                    io.keyring.listed(&name, key, io.out);
                    let now_trusted = io.keyring.trusted(&name);
                    // Sessions with another key than the one now believed are of no use.
                    if before.is_some() && now_trusted != before {
                        if let Some(secure) = io.secure.as_deref_mut() {
                            secure.forget(&name);
                        }
                    }
                    if now_trusted.is_some() {
                        self.trusted(now, &name, &mut io);
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
            Some(_) => self.remove_peer(now, &entry.name, io),
            None => {}
        }
        self.incoming.peer_joined(&entry.name);
        self.paths
            .listed(now, &entry.name, entry.endpoint, io.config);
        self.contacts.insert(entry.name.clone());
        self.roster.insert(entry.clone());
        io.out.event(ClientEvent::Joined(entry));
        Ok(())
    }

    /// `logout,<name>,<ep>`: a logout of a name not listed is ignored (the list is already right).
    fn left(&mut self, now: Instant, name: &Name, io: &mut Io<'_>) -> Result<(), DisconnectReason> {
        if *name == self.me.name {
            return Err(DisconnectReason::ProtocolError);
        }
        self.remove_peer(now, name, io);
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
                        self.remove_peer(now, &entry.name, &mut io)
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

    fn remove_peer(&mut self, now: Instant, name: &Name, io: &mut Io<'_>) {
        io.keyring.unlisted(name);
        self.paths.forget(name);
        if let Some(dropped) = io.secure.as_deref_mut().and_then(|s| s.forget(name)) {
            self.resync.retain(|_, d| now < d.usable_until);
            self.resync.insert(name.clone(), dropped);
        }
        if let Some(old) = self.roster.remove(name) {
            io.out.event(ClientEvent::Left(old));
            self.outgoing.peer_left(name);
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
                    self.handle_talk(now, source, from, text, io)
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
        wire.probe(now, name);
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
                // Recorded as shown before the ack leaves: a crash between the two cannot make
                // the sender's next copy look new.
                let verdict = self.incoming.accept(&from, sid, seq);
                if verdict == Verdict::Show {
                    io.out.persist(Record::Shown {
                        from: from.clone(),
                        sid,
                        seq,
                        text: text.to_owned(),
                        encrypted: true,
                        at_ms: io.clock.unix_ms_at(now),
                    });
                }
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
                match verdict {
                    Verdict::Show => io.out.event(ClientEvent::Message {
                        from,
                        text: text.to_owned(),
                        encrypted: true,
                    }),
                    Verdict::Duplicate => io.stats.duplicates += 1,
                }
            }
            PeerDatagram::Ack { from, sid, seq } => {
                let mut wire = Sealer {
                    io: &mut *io,
                    paths: &mut self.paths,
                };
                if !self
                    .outgoing
                    .acknowledge(now, &from, (sid, seq), config, &mut wire)
                {
                    io.stats.stray_acks += 1;
                }
            }
        }
    }

    /// A `talk` from a classic peer: shown once accepted (and kept in the history), never
    /// answered.
    pub(crate) fn handle_talk(
        &self,
        now: Instant,
        source: SocketAddr,
        from: Name,
        text: String,
        io: Io<'_>,
    ) {
        if accept_talk(&self.roster, &self.me.name, &from, source, io.stats) {
            io.out.persist(Record::Shown {
                from: from.clone(),
                sid: SessionId::new(0),
                seq: 0,
                text: text.clone(),
                encrypted: false,
                at_ms: io.clock.unix_ms_at(now),
            });
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
        let listed = self
            .roster
            .get(to)
            .map(|(name, endpoint)| (name.clone(), endpoint));
        let name = match &listed {
            Some((name, _)) => name.clone(),
            // Offline, but known: the message waits in the outbox.
            None => match self.contacts.get(to) {
                Some(name) => name.clone(),
                None => return Err(SendError::NoSuchUser),
            },
        };
        if text.is_empty() {
            return Err(SendError::EmptyText);
        }
        let classic = listed
            .as_ref()
            .filter(|(n, _)| self.roster.dialect(n) == Some(Dialect::Classic));
        if let Some((name, endpoint)) = classic.cloned() {
            let talk = encode_talk(&io.config.name, time_of_day, text)?;
            io.out.persist(Record::Talked {
                id,
                to: name.clone(),
                text: text.to_owned(),
                at_ms: io.clock.unix_ms_at(now),
            });
            io.out.datagram(endpoint, talk);
            io.out.event(ClientEvent::Sent { to: name, id });
            return Ok(());
        }
        // Native chat is sealed: no key (listed now, or pinned for someone offline), no chat.
        let keyed = match listed {
            Some(_) => io.keyring.listed_key(&name).is_some(),
            None => io.keyring.pinned(&name).is_some(),
        };
        if io.secure.is_none() || !keyed {
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
        let online = self.roster.contains(&name);
        self.outgoing.enqueue(now, msg, online, config, &mut wire)
    }

    /// Paths, handshakes, retransmissions and expiries.
    pub(crate) fn handle_timeout(&mut self, now: Instant, mut io: Io<'_>) {
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
    }

    /// The client ends: what is still in the outbox fails for `reason`, unless it is kept for
    /// the next run.
    pub(crate) fn end(&mut self, now: Instant, reason: FailReason, mut io: Io<'_>) {
        let keep = io.config.restored.is_some();
        let mut wire = Sealer {
            io: &mut io,
            paths: &mut self.paths,
        };
        self.outgoing.end(now, reason, keep, &mut wire);
    }

    /// The next timer of the chat and the paths.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        [self.outgoing.next_deadline(), self.paths.next_deadline()]
            .into_iter()
            .flatten()
            .min()
    }
}

/// What a path timer asked for: a kick through the relay just turned on, or a direct probe.
fn path_due(now: Instant, due: Due, wire: &mut Sealer<'_, '_>) {
    match due {
        Due::Kick(name) => wire.probe(now, &name),
        Due::Probe(name) => {
            if wire.io.keyring.trusted(&name).is_none() {
                return;
            }
            let keepalive = wire
                .io
                .secure
                .as_deref_mut()
                .and_then(|secure| secure.keepalive(now, &name));
            if let Some(keepalive) = keepalive {
                wire.paths.send_direct(&name, keepalive, wire.io.out);
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
