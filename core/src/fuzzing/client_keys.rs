//! The keys side of the client model: which key the client must believe for each name, rebuilt
//! from the `key` lines it was given and the `key_pinned` events it reported, and what the fuzzed
//! peers sealed with which key. A message shown, or a delivery reported, must trace back to a
//! datagram sealed in that user's name by the key trusted for it; a plain one never counts.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::client::TrustError;
use crate::wire::{Name, PublicKey};

#[derive(Debug, Default)]
pub(super) struct KeyModel {
    /// What the `key` lines said, for listed users (ourselves never).
    listed: HashMap<Name, PublicKey>,
    /// What the client pinned: the configuration's, then every `key_pinned`.
    pinned: HashMap<Name, PublicKey>,
    /// Every `msg` sealed in the sender's own name: (key, sender, text).
    msgs: HashSet<(PublicKey, Name, String)>,
    /// Every `ack` of our session sealed in the acknowledger's own name: (key, sender, seq).
    acks: HashSet<(PublicKey, Name, u64)>,
}

impl KeyModel {
    pub(super) fn new(pinned: &BTreeMap<Name, PublicKey>) -> Self {
        KeyModel {
            pinned: pinned.iter().map(|(n, k)| (n.clone(), *k)).collect(),
            ..KeyModel::default()
        }
    }

    /// A `key` line the client reads while online, for a listed user other than us; what was
    /// listed for that user before it.
    pub(super) fn key_line(&mut self, name: Name, key: PublicKey) -> Option<PublicKey> {
        self.listed.insert(name, key)
    }

    /// Undoes a [`key_line`](Self::key_line) the client turned out not to read.
    pub(super) fn unread(&mut self, name: Name, before: Option<PublicKey>) {
        match before {
            Some(key) => self.listed.insert(name, key),
            None => self.listed.remove(&name),
        };
    }

    /// The user left (or moved): its key is no longer listed; the pin stays.
    pub(super) fn unlisted(&mut self, name: &Name) {
        self.listed.remove(name);
    }

    /// The session ended: nobody is listed.
    pub(super) fn clear_listed(&mut self) {
        self.listed.clear();
    }

    /// Whether a key is pinned for `name` (an offline contact can be written to only then).
    pub(super) fn has_pinned_key(&self, name: &str) -> bool {
        self.pinned.contains_key(name)
    }

    pub(super) fn has_listed_key(&self, name: &str) -> bool {
        self.listed.contains_key(name)
    }

    /// The key the client may seal to and open from: listed and pinned alike.
    pub(super) fn trusted(&self, name: &str) -> Option<PublicKey> {
        let listed = self.listed.get(name)?;
        (self.pinned.get(name) == Some(listed)).then_some(*listed)
    }

    pub(super) fn sealed_msg(&mut self, key: PublicKey, from: Name, text: String) {
        self.msgs.insert((key, from, text));
    }

    pub(super) fn sealed_ack(&mut self, key: PublicKey, from: Name, seq: u64) {
        self.acks.insert((key, from, seq));
    }

    /// `key_pinned`: the key listed now for a listed user.
    pub(super) fn pinned(&mut self, name: &Name, key: PublicKey) {
        assert_eq!(
            self.listed.get(name),
            Some(&key),
            "{name} pinned to a key not listed"
        );
        self.pinned.insert(name.clone(), key);
    }

    /// `key_changed`: the listed key differs from the pinned one.
    pub(super) fn changed(&self, name: &Name, old: PublicKey, new: PublicKey) {
        assert_ne!(old, new, "{name}'s key changed to itself");
        assert_eq!(self.pinned.get(name), Some(&old), "{name}: not the old pin");
        assert_eq!(
            self.listed.get(name),
            Some(&new),
            "{name}: not the key listed"
        );
    }

    /// A native `message` from `from`: sealed by the key trusted for `from`, in `from`'s name.
    pub(super) fn shown(&self, from: &Name, text: &str) {
        let Some(key) = self.trusted(from) else {
            panic!("a sealed message from {from}, whose key is not trusted");
        };
        assert!(
            self.msgs.contains(&(key, from.clone(), text.to_owned())),
            "{from}'s message {text:?} was never sealed by its trusted key"
        );
    }

    /// `delivered` for seq `seq` to `to`: an ack sealed by `to`'s trusted key came back.
    pub(super) fn delivered(&self, to: &Name, seq: u64) {
        let Some(key) = self.trusted(to) else {
            panic!("delivered to {to}, whose key is not trusted");
        };
        assert!(
            self.acks.contains(&(key, to.clone(), seq)),
            "delivered seq {seq} to {to} without its ack sealed by the trusted key"
        );
    }

    /// What `/trust name` must answer, `listed` telling whether `name` is online.
    pub(super) fn trust_answer(&self, name: &str, listed: bool) -> Result<(), TrustError> {
        match self.listed.get(name) {
            Some(key) if listed => {
                if self.pinned.get(name) == Some(key) {
                    Err(TrustError::AlreadyTrusted)
                } else {
                    Ok(())
                }
            }
            _ => Err(TrustError::NoKey),
        }
    }
}
