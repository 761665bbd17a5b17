//! Who each user is, as its data directory remembers: a long-term key pair, kept across restarts
//! with the keys the user pinned and its store (history, outbox, receive state), until a
//! reinstall starts a new directory (a new key, no pins, an empty store).
//! Each incarnation also gets a fresh seed for the core's randomness and a wall clock that only
//! grows, derived from simulated time.

use std::collections::BTreeMap;

use feige_core::client::{Record, Restored, StaticKeys, WallClock};
use feige_core::wire::{Name, PublicKey};

use super::agenda::{Clock, SimTime};
use super::dice::Dice;
use super::event::IncId;
use super::store::Store;

/// The wall clock's reading at simulated time zero (14 November 2023), in Unix milliseconds.
pub const EPOCH_MS: u64 = 1_700_000_000_000;

/// One installation of a user's client: its key, and the keys it pinned so far.
#[derive(Debug)]
struct Install {
    keys: StaticKeys,
    /// Counts reinstalls, so what an incarnation of an earlier install pins is not kept.
    generation: u32,
    pinned: BTreeMap<Name, PublicKey>,
    store: Store,
}

/// What an incarnation starts with.
#[derive(Debug, Clone)]
pub struct Start {
    /// The user's key pair.
    pub keys: StaticKeys,
    /// Which install it belongs to.
    pub generation: u32,
    /// The keys pinned by earlier incarnations of that install.
    pub pinned: BTreeMap<Name, PublicKey>,
    /// A fresh seed for the core's randomness.
    pub seed: [u8; 32],
    /// What its store restores; `None` while another incarnation holds the store.
    pub restored: Option<Restored>,
}

/// Every user's data directory, and the dice that draw keys and seeds.
#[derive(Debug)]
pub struct Identities {
    dice: Dice,
    users: Vec<Install>,
}

impl Identities {
    /// A first install for each of `users` users.
    pub fn new(mut dice: Dice, users: usize) -> Self {
        let users = (0..users)
            .map(|_| Install {
                keys: StaticKeys::from_private(draw_32(&mut dice)),
                generation: 0,
                pinned: BTreeMap::new(),
                store: Store::default(),
            })
            .collect();
        Identities { dice, users }
    }

    /// The user reinstalls its client: a new key, and nothing pinned.
    pub fn reinstall(&mut self, user: usize) {
        let keys = StaticKeys::from_private(draw_32(&mut self.dice));
        if let Some(install) = self.users.get_mut(user) {
            install.keys = keys;
            install.generation += 1;
            install.pinned.clear();
            install.store = Store::default();
        }
    }

    /// The key pair `user` has now (what a thief of its data directory gets).
    pub fn keys(&self, user: usize) -> Option<StaticKeys> {
        self.users.get(user).map(|install| install.keys.clone())
    }

    /// What a new incarnation `inc` of `user` starts with; it takes the store if it is free.
    pub fn start(&mut self, user: usize, inc: IncId) -> Start {
        let seed = draw_32(&mut self.dice);
        let install = self
            .users
            .get_mut(user)
            .unwrap_or_else(|| panic!("simulator bug: no user {user}"));
        Start {
            keys: install.keys.clone(),
            generation: install.generation,
            pinned: install.pinned.clone(),
            seed,
            restored: install.store.open(inc),
        }
    }

    /// `inc` of `user` made `record` durable (kept only if `inc` holds the store).
    pub fn record(&mut self, user: usize, inc: IncId, record: &Record) {
        if let Some(install) = self.users.get_mut(user) {
            if install.store.held_by(inc) {
                install.store.apply(record);
            }
        }
    }

    /// `inc` of `user` ended (crashed or exited): its store is free.
    pub fn ended(&mut self, user: usize, inc: IncId) {
        if let Some(install) = self.users.get_mut(user) {
            install.store.release(inc);
        }
    }

    /// An incarnation of `user`'s install `generation` pinned `key` for `name`: kept for later
    /// incarnations, unless the user reinstalled since.
    pub fn pinned(&mut self, user: usize, generation: u32, name: Name, key: PublicKey) {
        if let Some(install) = self.users.get_mut(user) {
            if install.generation == generation {
                install.pinned.insert(name, key);
            }
        }
    }
}

/// The wall clock an incarnation launched at `now` reads: it only grows across incarnations,
/// as a real clock would, so their handshakes are never refused as stale.
pub fn wall_clock(clock: &Clock, now: SimTime) -> WallClock {
    WallClock {
        unix_ms: EPOCH_MS + u64::try_from(now.as_millis()).unwrap_or(u64::MAX - EPOCH_MS),
        at: clock.instant(now),
    }
}

/// 32 random bytes.
pub fn draw_32(dice: &mut Dice) -> [u8; 32] {
    let mut out = [0u8; 32];
    for chunk in out.chunks_mut(8) {
        chunk.copy_from_slice(&dice.bits().to_le_bytes());
    }
    out
}
