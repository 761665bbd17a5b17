//! The scenario generator: who logs in when and where, how each client ends (crash with or
//! without FIN, logout, cut connection), who comes back, and what they say.
//!
//! Its choices come from its own stream of the seed and depend on the machines only through what
//! a user could see (who is online), so the plan stays readable: a faulty phase full of churn,
//! then calm, then every missing user logs in once more and everyone chats on a perfect network.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use feige_core::wire::{max_text_len, Name};

use super::addresses::AddressBook;
use super::agenda::SimTime;
use super::dice::Dice;
use super::event::{Act, IncId};
use super::params::{phases, Params};

/// Most incarnations of one user during the faulty phase.
const MAX_INCARNATIONS: u32 = 6;

/// The run's timeline and the dice that fill it.
#[derive(Debug)]
pub struct Scenario {
    dice: Dice,
    /// The users' names.
    pub names: Vec<Name>,
    /// End of the faulty phase.
    pub calm_at: SimTime,
    /// When missing users log in once more.
    pub final_logins_at: SimTime,
    /// From then on, chat must be delivered.
    pub must_deliver_from: SimTime,
    /// Chat stops.
    pub chat_until: SimTime,
    /// The run ends (invariants are checked then).
    pub end: SimTime,
    /// Whether the forger plays.
    pub attacker: bool,
    chat_gap_ms: (u64, u64),
    churn: f64,
    reinstall: f64,
    incarnations: Vec<u32>,
    texts: u64,
}

impl Scenario {
    /// Draws the users and the timeline.
    pub fn new(mut dice: Dice, params: &Params) -> Self {
        let users = dice.between(*params.users.start() as u64, *params.users.end() as u64) as usize;
        let names = (0..users).map(|i| user_name(&mut dice, i)).collect();
        let calm_at =
            Duration::from_secs(dice.between(*params.fault_secs.start(), *params.fault_secs.end()));
        let final_logins_at = calm_at + phases::SETTLE;
        let must_deliver_from = final_logins_at + phases::FINAL_LOGINS;
        let chat_until = must_deliver_from + phases::FINAL_CHAT;
        Scenario {
            dice,
            names,
            calm_at,
            final_logins_at,
            must_deliver_from,
            chat_until,
            end: chat_until + phases::DRAIN,
            attacker: params.attacker,
            chat_gap_ms: (*params.chat_gap_ms.start(), *params.chat_gap_ms.end()),
            churn: params.churn,
            reinstall: params.reinstall,
            incarnations: vec![0; users],
            texts: 0,
        }
    }

    /// How many hosts the users share (about three users per IP).
    pub fn hosts(&self) -> usize {
        self.names.len().div_ceil(3)
    }

    /// The first acts: everyone's first login, calm, the final logins, the forger's first move
    /// and its withdrawal.
    pub fn opening(&mut self, book: &mut AddressBook) -> Vec<(SimTime, Act)> {
        let mut acts = Vec::new();
        for user in 0..self.names.len() {
            // Most users are there from the start; some join during the storm.
            let at = if self.dice.chance(0.8) {
                self.dice.millis(0, 3000)
            } else {
                self.dice.span(Duration::ZERO, self.calm_at)
            };
            let host = self.home(user, book);
            let endpoint = book.fresh_endpoint(host);
            let reinstall = false;
            acts.push((
                at,
                Act::Launch {
                    user,
                    endpoint,
                    reinstall,
                },
            ));
        }
        acts.push((self.calm_at, Act::Calm));
        acts.push((self.final_logins_at, Act::FinalLogins));
        // Half the runs see the server restart (an upgrade, a crash) during the storm.
        if self.dice.chance(0.5) {
            let at = self.dice.span(Duration::from_secs(3), self.calm_at);
            acts.push((at, Act::RestartServer));
        }
        if self.attacker {
            acts.push((self.dice.millis(0, 500), Act::Attack));
            acts.push((self.calm_at + phases::WITHDRAW, Act::Withdraw));
        }
        acts
    }

    /// A new incarnation started: its fate, maybe a rival with the same name, its first chat.
    pub fn on_launch(
        &mut self,
        now: SimTime,
        inc: IncId,
        user: usize,
        book: &mut AddressBook,
    ) -> Vec<(SimTime, Act)> {
        let mut acts = Vec::new();
        if let Some(n) = self.incarnations.get_mut(user) {
            *n += 1;
        }
        if let Some(chat) = self.next_chat(now, inc) {
            acts.push(chat);
        }
        if now >= self.calm_at {
            return acts;
        }
        let has_fate = self.dice.chance(self.churn);
        let roll = self.dice.real(0.0, 1.0);
        let soon = self.dice.millis(0, 1000);
        let later = self.dice.millis(300, 25_000);
        let fate = match roll {
            _ if !has_fate => None,
            r if r < 0.20 => Some((later, Act::Crash { inc, fin: false })),
            r if r < 0.35 => Some((later, Act::Crash { inc, fin: true })),
            r if r < 0.65 => Some((later, Act::Logout(inc))),
            r if r < 0.85 => Some((later, Act::Cut(inc))),
            _ => {
                let fin = self.dice.chance(0.5);
                Some((soon, Act::Crash { inc, fin }))
            }
        };
        if let Some((after, act)) = fate {
            if now + after < self.calm_at {
                acts.push((now + after, act));
            }
        }
        if self.dice.chance(0.06) {
            let at = now + self.dice.millis(0, 2000);
            if at < self.calm_at {
                let host = self.other_host(user, book);
                let endpoint = book.fresh_endpoint(host);
                let reinstall = false;
                acts.push((
                    at,
                    Act::Launch {
                        user,
                        endpoint,
                        reinstall,
                    },
                ));
            }
        }
        acts
    }

    /// An incarnation ended (crash or exit) at `endpoint`: during the storm, the user often
    /// comes back, at the same endpoint or another, and now and then reinstalls first.
    pub fn on_end(
        &mut self,
        now: SimTime,
        user: usize,
        endpoint: SocketAddr,
        book: &mut AddressBook,
    ) -> Option<(SimTime, Act)> {
        let tries = self
            .incarnations
            .get(user)
            .copied()
            .unwrap_or(MAX_INCARNATIONS);
        if now >= self.calm_at || tries >= MAX_INCARNATIONS || !self.dice.chance(0.75) {
            return None;
        }
        // Often right away (a restart), sometimes after a while.
        let gap = if self.dice.chance(0.5) { 800 } else { 6000 };
        let at = now + self.dice.millis(0, gap);
        if at >= self.calm_at {
            return None;
        }
        let endpoint = self.comeback_endpoint(user, endpoint, book);
        let reinstall = self.dice.chance(self.reinstall);
        Some((
            at,
            Act::Launch {
                user,
                endpoint,
                reinstall,
            },
        ))
    }

    /// When a user told at `now` that a peer's key changed trusts the new key: usually after a
    /// while during the storm, sometimes only once it is over, soon once it is calm.
    pub fn trust_at(&mut self, now: SimTime) -> SimTime {
        if now >= self.calm_at {
            return now + self.dice.millis(100, 1500);
        }
        if self.dice.chance(0.25) {
            return self.calm_at + self.dice.span(Duration::ZERO, phases::SETTLE / 2);
        }
        now + self.dice.millis(200, 8000)
    }

    /// Where a user with no client left starts the final one.
    pub fn final_endpoint(
        &mut self,
        user: usize,
        last: Option<SocketAddr>,
        book: &mut AddressBook,
    ) -> SocketAddr {
        match last {
            Some(endpoint) => self.comeback_endpoint(user, endpoint, book),
            None => {
                let host = self.home(user, book);
                book.fresh_endpoint(host)
            }
        }
    }

    /// The next chat act of an incarnation: during the storm and the final chat, not while
    /// things settle (nothing new is learnt there, and it costs time).
    pub fn next_chat(&mut self, now: SimTime, inc: IncId) -> Option<(SimTime, Act)> {
        let gap = self.dice.millis(self.chat_gap_ms.0, self.chat_gap_ms.1);
        let mut at = now + gap;
        if at > self.calm_at && at < self.must_deliver_from {
            at = self.must_deliver_from + gap;
        }
        (at < self.chat_until).then_some((at, Act::Chat(inc)))
    }

    /// When the forger moves next, during the storm.
    pub fn next_attack(&mut self, now: SimTime) -> Option<(SimTime, Act)> {
        let at = now + self.dice.millis(50, 1500);
        (at < self.calm_at).then_some((at, Act::Attack))
    }

    /// Retry a fate that could not apply yet (say, a logout before the login completed).
    pub fn retry(&mut self, now: SimTime, act: Act) -> Option<(SimTime, Act)> {
        let at = now + self.dice.millis(200, 2000);
        (at < self.calm_at).then_some((at, act))
    }

    /// Whether to give a machine an early, extra `handle_timeout` now.
    pub fn spurious(&mut self) -> bool {
        self.dice.chance(0.05)
    }

    /// Spreads the final logins over two seconds.
    pub fn stagger(&mut self) -> Duration {
        self.dice.millis(0, 2000)
    }

    /// Picks one of `peers` to write to.
    pub fn pick_peer<'a>(&mut self, peers: &'a [Name]) -> Option<&'a Name> {
        self.dice.pick(peers)
    }

    /// Whether this chat turn probes a refusal of `send_message` instead of chatting.
    pub fn probe_misuse(&mut self) -> Option<Misuse> {
        if !self.dice.chance(0.03) {
            return None;
        }
        Some(match self.dice.index(4) {
            0 => Misuse::ToSelf,
            1 => Misuse::Empty,
            2 => Misuse::TooLong,
            _ => Misuse::Nobody,
        })
    }

    /// A text unique in the run, with commas, newlines and Chinese; sometimes long.
    pub fn compose(&mut self, from: &Name, to: &Name) -> String {
        self.texts += 1;
        let mut text = format!(
            "#{} {from} → {to}: hello, how are you?\n你好，{to}！第{}条消息, ok",
            self.texts, self.texts
        );
        if self.dice.chance(0.05) {
            // Near the limit: what a sealed datagram carries, minus the largest header we can
            // produce (a seq of six digits).
            let room = max_text_len(from, 999_999);
            while text.len() + "，填充".len() <= room {
                text.push_str("，填充");
            }
        }
        text
    }

    fn home(&self, user: usize, book: &AddressBook) -> IpAddr {
        let hosts = book.hosts();
        hosts[user % hosts.len()]
    }

    fn other_host(&mut self, user: usize, book: &AddressBook) -> IpAddr {
        let hosts = book.hosts();
        let shift = self.dice.index(hosts.len());
        hosts[(user + shift) % hosts.len()]
    }

    fn comeback_endpoint(
        &mut self,
        user: usize,
        last: SocketAddr,
        book: &mut AddressBook,
    ) -> SocketAddr {
        if self.dice.chance(0.5) && !book.is_bound(last) {
            return last;
        }
        let host = if self.dice.chance(0.7) {
            last.ip()
        } else {
            self.other_host(user, book)
        };
        book.fresh_endpoint(host)
    }
}

/// A deliberate misuse of `send_message`, which must be refused with the right error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Misuse {
    /// To oneself.
    ToSelf,
    /// Empty text.
    Empty,
    /// A text that cannot fit a datagram.
    TooLong,
    /// To a name no one has.
    Nobody,
}

/// A valid user name: Latin, Chinese, or with inner spaces.
fn user_name(dice: &mut Dice, i: usize) -> Name {
    let raw = match dice.index(3) {
        0 => format!("user{i}"),
        1 => format!("用户{i}"),
        _ => format!("Ann Lee {i}"),
    };
    // Every pattern above is a valid name; fall back to the plain one regardless.
    Name::new(&raw)
        .or_else(|_| Name::new(&format!("user{i}")))
        .unwrap_or_else(|e| panic!("simulator bug: generated an invalid name {raw:?}: {e}"))
}
