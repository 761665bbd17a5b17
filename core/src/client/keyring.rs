//! Which key belongs to which name: trust on first use, and every change held until the user
//! says so. The server is only a directory and may lie; a key is believed because it is the one
//! first seen for that name (pinned, and kept by the application across restarts), or because
//! the user, having compared safety numbers, trusted it.

use std::collections::{BTreeMap, HashMap};

use super::outbox::Outbox;
use super::output::ClientEvent;
use crate::wire::{Name, PublicKey};

/// Pinned keys, and the keys the directory lists for the users online.
#[derive(Debug, Default)]
pub(crate) struct Keyring {
    pinned: BTreeMap<Name, PublicKey>,
    /// What the server's `key` lines said, for users online.
    listed: HashMap<Name, PublicKey>,
}

/// Why `/trust` did nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustError {
    /// The user is not online with a key.
    NoKey,
    /// The key listed is the one already trusted.
    AlreadyTrusted,
}

impl std::fmt::Display for TrustError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TrustError::NoKey => "no key listed for that user",
            TrustError::AlreadyTrusted => "that user's key is already trusted",
        })
    }
}

impl std::error::Error for TrustError {}

impl Keyring {
    /// Starts from the keys pinned in earlier runs.
    pub(crate) fn new(pinned: BTreeMap<Name, PublicKey>) -> Self {
        Keyring {
            pinned,
            listed: HashMap::new(),
        }
    }

    /// The directory lists `key` for `name`: a name never seen before is pinned to it; a key
    /// other than the pinned one is reported (once while listed) and held until trusted.
    pub(crate) fn listed(&mut self, name: &Name, key: PublicKey, out: &mut Outbox) {
        let before = self.listed.insert(name.clone(), key);
        match self.pinned.get(name) {
            None => self.pin(name, key, out),
            Some(&pinned) if pinned == key => {}
            Some(&pinned) if before != Some(key) => out.event(ClientEvent::KeyChanged {
                name: name.clone(),
                old: pinned,
                new: key,
            }),
            Some(_) => {}
        }
    }

    /// The user left: its key is no longer listed (it stays pinned).
    pub(crate) fn unlisted(&mut self, name: &str) {
        self.listed.remove(name);
    }

    /// The session ended: nobody is listed any more.
    pub(crate) fn clear_listed(&mut self) {
        self.listed.clear();
    }

    /// The key pinned for `name`, listed or not.
    pub(crate) fn pinned(&self, name: &str) -> Option<PublicKey> {
        self.pinned.get(name).copied()
    }

    /// The key to talk to `name` with: listed and pinned alike.
    pub(crate) fn trusted(&self, name: &str) -> Option<PublicKey> {
        let listed = self.listed.get(name)?;
        (self.pinned.get(name) == Some(listed)).then_some(*listed)
    }

    /// The key listed for `name`, trusted or not.
    pub(crate) fn listed_key(&self, name: &str) -> Option<PublicKey> {
        self.listed.get(name).copied()
    }

    /// `/trust NAME`: the listed key becomes the pinned one.
    pub(crate) fn trust(&mut self, name: &Name, out: &mut Outbox) -> Result<(), TrustError> {
        let listed = *self.listed.get(name).ok_or(TrustError::NoKey)?;
        if self.pinned.get(name) == Some(&listed) {
            return Err(TrustError::AlreadyTrusted);
        }
        self.pin(name, listed, out);
        Ok(())
    }

    fn pin(&mut self, name: &Name, key: PublicKey, out: &mut Outbox) {
        self.pinned.insert(name.clone(), key);
        out.event(ClientEvent::KeyPinned {
            name: name.clone(),
            key,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> PublicKey {
        PublicKey::from_bytes([byte; 32])
    }

    fn events(out: &mut Outbox) -> Vec<ClientEvent> {
        std::iter::from_fn(|| out.pop_event()).collect()
    }

    #[test]
    fn first_use_pins_a_change_is_held_and_reported_once_until_trusted() {
        let bob = Name::new("bob").unwrap();
        let mut out = Outbox::default();
        let mut ring = Keyring::default();
        ring.listed(&bob, key(1), &mut out);
        assert_eq!(
            events(&mut out),
            [ClientEvent::KeyPinned {
                name: bob.clone(),
                key: key(1)
            }]
        );
        assert_eq!(ring.trusted("bob"), Some(key(1)));

        ring.unlisted("bob");
        ring.listed(&bob, key(2), &mut out);
        ring.listed(&bob, key(2), &mut out);
        assert_eq!(
            events(&mut out),
            [ClientEvent::KeyChanged {
                name: bob.clone(),
                old: key(1),
                new: key(2)
            }]
        );
        assert_eq!(ring.trusted("bob"), None, "held");
        assert_eq!(ring.listed_key("bob"), Some(key(2)));

        // Gone and back with the same unknown key: still held, told again.
        ring.unlisted("bob");
        ring.listed(&bob, key(2), &mut out);
        assert_eq!(events(&mut out).len(), 1);

        assert_eq!(ring.trust(&bob, &mut out), Ok(()));
        assert_eq!(
            events(&mut out),
            [ClientEvent::KeyPinned {
                name: bob.clone(),
                key: key(2)
            }]
        );
        assert_eq!(ring.trusted("bob"), Some(key(2)));
        assert_eq!(ring.trust(&bob, &mut out), Err(TrustError::AlreadyTrusted));
        ring.unlisted("bob");
        assert_eq!(ring.trust(&bob, &mut out), Err(TrustError::NoKey));
    }

    #[test]
    fn keys_pinned_in_an_earlier_run_are_believed_at_once() {
        let bob = Name::new("bob").unwrap();
        let mut out = Outbox::default();
        let mut ring = Keyring::new([(bob.clone(), key(1))].into());
        ring.listed(&bob, key(1), &mut out);
        assert_eq!(events(&mut out), []);
        assert_eq!(ring.trusted("bob"), Some(key(1)));
    }
}
