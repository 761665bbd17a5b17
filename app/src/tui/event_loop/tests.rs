use std::time::Instant;

use feige_core::client::{ClientEvent, DisconnectReason, MessageId};
use feige_core::wire::{Name, UserEntry};
use ratatui::backend::TestBackend;

use super::{channel, drive, ChatControl, UiInput, UiSender};
use crate::tui::contact::{Delivery, EntryKind};
use crate::tui::keys::{Key, TermInput};
use crate::tui::{SendTicket, Tui};

/// Plays the client: answers each send with an id and an acknowledgement, and a logout with
/// `LoggedOut`, through the loop's own channel as a real driver does.
struct FakeClient {
    feed: UiSender,
    sent: Vec<(String, String)>,
    quits: usize,
}

impl ChatControl for FakeClient {
    fn send(&mut self, ticket: SendTicket, to: &Name, text: &str) {
        self.sent.push((to.to_string(), text.to_owned()));
        let id = MessageId(self.sent.len() as u64);
        self.feed.send(UiInput::SendResult {
            ticket,
            result: Ok(id),
        });
        self.feed.send(UiInput::Event(ClientEvent::Delivered {
            to: to.clone(),
            id,
            encrypted: true,
        }));
    }

    fn run(&mut self, line: &str) {
        self.feed.send(UiInput::Notice(format!("ran {line}")));
    }

    fn quit(&mut self) {
        self.quits += 1;
        self.feed.send(UiInput::Event(ClientEvent::LoggedOut));
    }
}

fn user(n: &str, port: u16) -> UserEntry {
    UserEntry::new(Name::new(n).expect("a name"), ([127, 0, 0, 1], port).into())
}

fn key(k: Key) -> UiInput {
    UiInput::Term(TermInput::Key(k))
}

fn setup() -> (
    Tui<TestBackend>,
    UiSender,
    std::sync::mpsc::Receiver<UiInput>,
    FakeClient,
) {
    let server = "127.0.0.1:9000".parse().expect("an address");
    let tui = Tui::new(server, TestBackend::new(40, 12)).expect("a test terminal");
    let (feed, inputs) = channel();
    let client = FakeClient {
        feed: feed.clone(),
        sent: Vec::new(),
        quits: 0,
    };
    (tui, feed, inputs, client)
}

fn clock() -> (Instant, String) {
    (Instant::now(), "12:00".to_owned())
}

#[test]
fn typing_sends_through_the_control_and_esc_logs_out() {
    let (mut tui, feed, inputs, mut client) = setup();
    let me = user("alice", 4000);
    let users = vec![me.clone(), user("bob", 4001)];
    feed.send(UiInput::Event(ClientEvent::LoggedIn { me, users }));
    for c in "hi".chars() {
        feed.send(key(Key::Char(c)));
    }
    feed.send(key(Key::Enter));
    feed.send(UiInput::Term(TermInput::Resize));
    feed.send(key(Key::Quit));
    let ended = drive(&mut tui, &inputs, &mut client, clock).expect("drawn");
    assert_eq!(ended, Some(ClientEvent::LoggedOut));
    assert_eq!(client.sent, [("bob".to_owned(), "hi".to_owned())]);
    assert_eq!(client.quits, 1);
    let bob = &tui.model().contacts()[1];
    let kinds: Vec<_> = bob.entries().map(|e| e.kind.clone()).collect();
    assert_eq!(
        kinds,
        [EntryKind::Mine {
            text: "hi".into(),
            delivery: Delivery::Delivered,
            ticket: SendTicket(1),
        }]
    );
}

#[test]
fn the_loop_ends_with_the_clients_terminal_event() {
    let (mut tui, feed, inputs, mut client) = setup();
    let lost = ClientEvent::Disconnected(DisconnectReason::ConnectionLost);
    feed.send(UiInput::Event(lost.clone()));
    feed.send(key(Key::Char('x')));
    let ended = drive(&mut tui, &inputs, &mut client, clock).expect("drawn");
    assert_eq!(ended, Some(lost));
    assert_eq!(
        tui.model().input().text(),
        "",
        "nothing after the end is applied"
    );
}

#[test]
fn a_vanished_client_ends_the_loop() {
    let (mut tui, feed, inputs, mut client) = setup();
    feed.send(UiInput::ChatEnded);
    assert_eq!(
        drive(&mut tui, &inputs, &mut client, clock).expect("drawn"),
        None
    );
    drop((feed, client));
    assert_eq!(
        drive(&mut tui, &inputs, &mut idle_client(), clock).expect("drawn"),
        None,
        "every sender gone: the loop ends"
    );
}

/// A control that feeds another channel than the loop's.
fn idle_client() -> FakeClient {
    let (feed, _) = channel();
    FakeClient {
        feed,
        sent: Vec::new(),
        quits: 0,
    }
}

#[test]
fn losing_the_keyboard_logs_out() {
    let (mut tui, feed, inputs, mut client) = setup();
    feed.send(UiInput::KeysLost("gone".into()));
    let ended = drive(&mut tui, &inputs, &mut client, clock).expect("drawn");
    assert_eq!(ended, Some(ClientEvent::LoggedOut));
    assert_eq!(client.quits, 1);
    assert!(tui.model().notice().is_some_and(|n| n.contains("keyboard")));
}

#[test]
fn a_sender_waits_while_the_channel_is_full_and_never_once_the_loop_is_gone() {
    use std::sync::mpsc;
    use std::thread;
    use std::time::Duration;

    let (feed, inputs) = channel();
    let (done_tx, done) = mpsc::channel();
    let sender = feed.clone();
    let flood = thread::spawn(move || {
        for _ in 0..=super::CAPACITY {
            sender.send(UiInput::Notice("x".into()));
        }
        let _ = done_tx.send(());
    });
    thread::sleep(Duration::from_millis(300));
    assert!(
        done.try_recv().is_err(),
        "the sender of one input past the capacity waits for the loop"
    );
    assert!(inputs.recv().is_ok());
    assert!(
        done.recv_timeout(Duration::from_secs(10)).is_ok(),
        "room again: the sender goes on"
    );
    let _ = flood.join();
    drop(inputs);
    assert!(
        !feed.send(UiInput::ChatEnded),
        "with the loop gone a send fails at once, full channel or not"
    );
}
