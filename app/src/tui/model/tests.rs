use std::time::{Duration, Instant};

use feige_core::client::{
    ClientEvent, DisconnectReason, FailReason, LoginFailure, MessageId, SendError,
};
use feige_core::wire::{Name, UserEntry};

use super::{Action, Connection, Focus, Model};
use crate::tui::contact::{Delivery, EntryKind, Presence, SendTicket, JOIN_HIGHLIGHT};
use crate::tui::keys::Key;

const T: &str = "12:00";

fn name(n: &str) -> Name {
    Name::new(n).expect("a valid name")
}

fn user(n: &str, port: u16) -> UserEntry {
    UserEntry::new(name(n), ([127, 0, 0, 1], port).into())
}

/// Alice is online with bob and 小明.
fn logged_in(now: Instant) -> Model {
    let mut model = Model::new("127.0.0.1:9000".parse().expect("an address"));
    let me = user("alice", 4000);
    let users = vec![user("bob", 4001), me.clone(), user("小明", 4002)];
    model.on_event(&ClientEvent::LoggedIn { me, users }, now, T);
    model
}

fn type_text(model: &mut Model, text: &str) {
    for c in text.chars() {
        assert_eq!(model.on_key(Key::Char(c), T), None);
    }
}

fn send(model: &mut Model, text: &str) -> Action {
    type_text(model, text);
    model.on_key(Key::Enter, T).expect("an action")
}

fn names(model: &Model) -> Vec<&str> {
    model.contacts().iter().map(|c| c.name().as_str()).collect()
}

fn contact<'a>(model: &'a Model, n: &str) -> &'a crate::tui::contact::Contact {
    model
        .contacts()
        .iter()
        .find(|c| c.name().as_str() == n)
        .expect("listed")
}

fn kinds(model: &Model, n: &str) -> Vec<EntryKind> {
    contact(model, n)
        .entries()
        .map(|e| e.kind.clone())
        .collect()
}

fn mine(text: &str, delivery: Delivery, ticket: u64) -> EntryKind {
    EntryKind::Mine {
        text: text.into(),
        delivery,
        ticket: SendTicket(ticket),
    }
}

#[test]
fn login_lists_everyone_marks_us_and_selects_the_first_other() {
    let now = Instant::now();
    let model = logged_in(now);
    assert_eq!(names(&model), ["bob", "alice", "小明"]);
    assert!(contact(&model, "alice").is_me());
    assert!(!contact(&model, "bob").is_me());
    assert_eq!(model.online_count(), 3);
    assert_eq!(model.selected().map(|c| c.name().as_str()), Some("bob"));
    assert_eq!(model.me().map(|m| m.endpoint.port()), Some(4000));
    assert_eq!(*model.connection(), Connection::Online);
    // The initial list did not just join: nobody stands out.
    assert!(model.contacts().iter().all(|c| !c.is_fresh(now)));
    assert_eq!(model.next_change(now), None);
}

#[test]
fn a_joiner_stands_out_for_a_while_and_gets_a_notice() {
    let start = Instant::now();
    let mut model = logged_in(start);
    let later = start + Duration::from_secs(1);
    model.on_event(&ClientEvent::Joined(user("carol", 4003)), later, "12:01");
    assert_eq!(model.online_count(), 4);
    let carol = contact(&model, "carol");
    assert!(carol.is_fresh(later));
    assert!(!carol.is_fresh(later + JOIN_HIGHLIGHT));
    assert_eq!(model.next_change(later), Some(later + JOIN_HIGHLIGHT));
    assert_eq!(model.next_change(later + JOIN_HIGHLIGHT), None);
    let notice = carol.entries().next().expect("a notice");
    assert_eq!(notice.time, "12:01");
    assert_eq!(notice.kind, EntryKind::Notice("carol joined".into()));
}

#[test]
fn someone_who_leaves_stays_readable_as_gone_and_comes_back() {
    let now = Instant::now();
    let mut model = logged_in(now);
    assert!(matches!(send(&mut model, "hi bob"), Action::Send { .. }));
    model.on_event(&ClientEvent::Left(user("bob", 4001)), now, T);
    let bob = contact(&model, "bob");
    assert_eq!(bob.presence(), Presence::Gone);
    assert_eq!(model.online_count(), 2);
    assert_eq!(model.selected().map(|c| c.name().as_str()), Some("bob"));
    assert_eq!(
        kinds(&model, "bob")[1],
        EntryKind::Notice("bob left".into())
    );

    // Writing to someone gone is allowed: the client queues it for when bob is back.
    let Action::Send { ticket, .. } = send(&mut model, "still there?") else {
        panic!("a message to someone gone is handed to the client");
    };
    model.on_send_result(ticket, Ok(MessageId(9)));
    model.on_event(
        &ClientEvent::Queued {
            to: Name::new("bob").unwrap(),
            id: MessageId(9),
        },
        now,
        T,
    );
    let queued = kinds(&model, "bob");
    assert!(matches!(
        queued.last(),
        Some(EntryKind::Mine {
            delivery: Delivery::Queued(MessageId(9)),
            ..
        })
    ));

    model.on_event(&ClientEvent::Joined(user("bob", 5001)), now, T);
    let bob = contact(&model, "bob");
    assert_eq!(bob.presence(), Presence::Online);
    assert_eq!(bob.endpoint().port(), 5001);
    assert_eq!(
        names(&model),
        ["bob", "alice", "小明"],
        "same place in the list"
    );
    assert_eq!(bob.entries().len(), 4, "the conversation goes on");
}

#[test]
fn enter_sends_to_the_selected_contact_and_marks_follow_the_events() {
    let now = Instant::now();
    let mut model = logged_in(now);
    let first = send(&mut model, "one");
    assert_eq!(
        first,
        Action::Send {
            ticket: SendTicket(1),
            to: name("bob"),
            text: "one".into()
        }
    );
    assert_eq!(model.input().text(), "", "the input empties");
    assert!(matches!(send(&mut model, "two"), Action::Send { .. }));
    assert!(matches!(send(&mut model, "three"), Action::Send { .. }));
    assert_eq!(
        kinds(&model, "bob"),
        [
            mine("one", Delivery::Pending(None), 1),
            mine("two", Delivery::Pending(None), 2),
            mine("three", Delivery::Pending(None), 3),
        ]
    );

    model.on_send_result(SendTicket(1), Ok(MessageId(7)));
    model.on_send_result(SendTicket(2), Ok(MessageId(8)));
    model.on_send_result(SendTicket(3), Err(SendError::QueueFull));
    let bob = name("bob");
    model.on_event(
        &ClientEvent::Sent {
            to: bob.clone(),
            id: MessageId(7),
        },
        now,
        T,
    );
    assert_eq!(
        kinds(&model, "bob")[0],
        mine("one", Delivery::Sent(MessageId(7)), 1),
        "on the wire, not acknowledged yet"
    );
    model.on_event(
        &ClientEvent::Delivered {
            to: bob.clone(),
            id: MessageId(7),
            encrypted: true,
        },
        now,
        T,
    );
    model.on_event(
        &ClientEvent::Failed {
            to: bob.clone(),
            id: MessageId(8),
            reason: FailReason::Timeout,
        },
        now,
        T,
    );
    assert_eq!(
        kinds(&model, "bob"),
        [
            mine("one", Delivery::Delivered, 1),
            mine("two", Delivery::Failed("timeout".into()), 2),
            mine(
                "three",
                Delivery::Failed("too many messages queued for that user".into()),
                3
            ),
        ]
    );
}

#[test]
fn events_for_unknown_ids_or_tickets_change_nothing() {
    let now = Instant::now();
    let mut model = logged_in(now);
    send(&mut model, "one");
    model.on_send_result(SendTicket(1), Ok(MessageId(1)));
    model.on_send_result(SendTicket(1), Err(SendError::NotLoggedIn));
    model.on_send_result(SendTicket(99), Ok(MessageId(5)));
    let stray = ClientEvent::Delivered {
        to: name("bob"),
        id: MessageId(2),
        encrypted: true,
    };
    model.on_event(&stray, now, T);
    assert_eq!(
        kinds(&model, "bob"),
        [mine("one", Delivery::Pending(Some(MessageId(1))), 1)]
    );
}

#[test]
fn messages_count_as_unread_until_their_contact_is_picked() {
    let now = Instant::now();
    let mut model = logged_in(now);
    let from_xm = ClientEvent::Message {
        from: name("小明"),
        text: "你好".into(),
        encrypted: true,
    };
    model.on_event(&from_xm, now, T);
    model.on_event(&from_xm, now, T);
    let from_bob = ClientEvent::Message {
        from: name("bob"),
        text: "yo".into(),
        encrypted: true,
    };
    model.on_event(&from_bob, now, T);
    assert_eq!(contact(&model, "小明").unread(), 2);
    assert_eq!(
        contact(&model, "bob").unread(),
        0,
        "bob's conversation is shown"
    );

    assert_eq!(model.on_key(Key::Tab, T), None);
    assert_eq!(model.focus(), Focus::Contacts);
    model.on_key(Key::Down, T);
    assert_eq!(model.selected().map(|c| c.name().as_str()), Some("小明"));
    assert_eq!(contact(&model, "小明").unread(), 0);
    assert_eq!(
        kinds(&model, "小明"),
        [
            EntryKind::Theirs("你好".into()),
            EntryKind::Theirs("你好".into())
        ]
    );
}

#[test]
fn the_contact_list_skips_us_and_wraps_around() {
    let mut model = logged_in(Instant::now());
    model.on_key(Key::BackTab, T);
    let mut picked = Vec::new();
    for _ in 0..3 {
        model.on_key(Key::Down, T);
        picked.push(model.selected().map(|c| c.name().to_string()));
    }
    model.on_key(Key::Up, T);
    picked.push(model.selected().map(|c| c.name().to_string()));
    let expected = ["小明", "bob", "小明", "bob"].map(|n| Some(n.to_owned()));
    assert_eq!(picked, expected);
    model.on_key(Key::End, T);
    assert_eq!(model.selected().map(|c| c.name().as_str()), Some("小明"));
    model.on_key(Key::Home, T);
    assert_eq!(model.selected().map(|c| c.name().as_str()), Some("bob"));

    // Typing in the list goes back to the input.
    model.on_key(Key::Char('x'), T);
    assert_eq!(model.focus(), Focus::Input);
    assert_eq!(model.input().text(), "x");
}

#[test]
fn up_and_down_in_the_input_browse_what_was_sent() {
    let mut model = logged_in(Instant::now());
    send(&mut model, "first");
    send(&mut model, "second");
    model.on_key(Key::Up, T);
    assert_eq!(model.input().text(), "second");
    model.on_key(Key::Up, T);
    assert_eq!(model.input().text(), "first");
    model.on_key(Key::Down, T);
    model.on_key(Key::Down, T);
    assert_eq!(model.input().text(), "");
    assert_eq!(model.selected().map(|c| c.name().as_str()), Some("bob"));
}

#[test]
fn cursor_editing_with_cjk_keys() {
    let mut model = logged_in(Instant::now());
    type_text(&mut model, "你好世界");
    for key in [Key::Left, Key::Left, Key::Backspace, Key::Home, Key::Delete] {
        model.on_key(key, T);
    }
    assert_eq!(model.input().text(), "世界");
    model.on_key(Key::Right, T);
    model.on_key(Key::Paste("们\n好".into()), T);
    assert_eq!(model.input().text(), "世们 好界");
    assert_eq!(model.input().before_cursor(), "世们 好");
    model.on_key(Key::End, T);
    assert_eq!(model.input().before_cursor(), "世们 好界");
}

#[test]
fn slash_commands_work_as_in_plain_mode() {
    let mut model = logged_in(Instant::now());
    let action = send(&mut model, "/msg 小明 晚上好");
    assert_eq!(
        action,
        Action::Send {
            ticket: SendTicket(1),
            to: name("小明"),
            text: "晚上好".into()
        }
    );
    assert_eq!(
        model.selected().map(|c| c.name().as_str()),
        Some("小明"),
        "the conversation written to is shown"
    );
    assert_eq!(
        kinds(&model, "小明"),
        [mine("晚上好", Delivery::Pending(None), 1)]
    );

    type_text(&mut model, "/list");
    assert_eq!(model.on_key(Key::Enter, T), None);
    assert_eq!(model.notice(), Some("online (3): bob, alice (you), 小明"));

    type_text(&mut model, "/msg carol hi");
    assert_eq!(model.on_key(Key::Enter, T), None);
    assert!(model.notice().is_some_and(|n| n.contains("carol hi")));
    assert_eq!(model.input().text(), "/msg carol hi", "kept to be fixed");
    model.on_key(Key::Home, T);
    for _ in 0.."/msg carol hi".len() {
        model.on_key(Key::Delete, T);
    }

    type_text(&mut model, "/msg alice me");
    assert_eq!(model.on_key(Key::Enter, T), None);
    assert_eq!(model.notice(), Some("that is you: pick someone else"));
    model.on_key(Key::Home, T);
    for _ in 0.."/msg alice me".len() {
        model.on_key(Key::Delete, T);
    }

    assert_eq!(send(&mut model, "/quit"), Action::Quit);
    assert_eq!(*model.connection(), Connection::LoggingOut);
}

#[test]
fn esc_quits_and_terminal_events_end_the_session() {
    let now = Instant::now();
    let mut model = logged_in(now);
    assert_eq!(model.on_key(Key::Quit, T), Some(Action::Quit));
    assert_eq!(*model.connection(), Connection::LoggingOut);
    model.on_event(&ClientEvent::LoggedOut, now, T);
    assert_eq!(*model.connection(), Connection::Ended("logged out".into()));

    let mut model = Model::new("[::1]:9000".parse().expect("an address"));
    assert_eq!(*model.connection(), Connection::LoggingIn);
    model.on_event(&ClientEvent::LoginFailed(LoginFailure::Timeout), now, T);
    assert_eq!(
        *model.connection(),
        Connection::Ended("login failed: timeout".into())
    );
    let mut model = logged_in(now);
    model.on_event(
        &ClientEvent::Disconnected(DisconnectReason::ServerSilent),
        now,
        T,
    );
    assert_eq!(
        *model.connection(),
        Connection::Ended("disconnected: server-silent".into())
    );
}

#[test]
fn nobody_to_write_to_keeps_the_text() {
    let mut model = Model::new("127.0.0.1:9000".parse().expect("an address"));
    let me = user("alice", 4000);
    let users = vec![me.clone()];
    model.on_event(&ClientEvent::LoggedIn { me, users }, Instant::now(), T);
    assert!(model.selected().is_none());
    type_text(&mut model, "hello?");
    assert_eq!(model.on_key(Key::Enter, T), None);
    assert!(model.notice().is_some_and(|n| n.contains("nobody")));
    assert_eq!(model.input().text(), "hello?");
    // A joiner is picked at once.
    model.on_event(&ClientEvent::Joined(user("bob", 4001)), Instant::now(), T);
    assert!(matches!(
        model.on_key(Key::Enter, T),
        Some(Action::Send { .. })
    ));
}

#[test]
fn page_keys_scroll_within_what_the_view_allows() {
    let mut model = logged_in(Instant::now());
    model.set_viewport(5, 12);
    model.on_key(Key::PageUp, T);
    assert_eq!(model.scroll(), 5);
    model.on_key(Key::PageUp, T);
    model.on_key(Key::PageUp, T);
    model.set_viewport(5, 12);
    assert_eq!(model.scroll(), 12);
    model.on_key(Key::PageDown, T);
    assert_eq!(model.scroll(), 7);
    model.on_key(Key::PageDown, T);
    model.on_key(Key::PageDown, T);
    assert_eq!(model.scroll(), 0);
}

#[test]
fn churn_of_gone_contacts_is_bounded() {
    let now = Instant::now();
    let mut model = logged_in(now);
    for i in 0..400u16 {
        let u = user(&format!("u{i}"), 10_000 + i);
        model.on_event(&ClientEvent::Joined(u.clone()), now, T);
        model.on_event(&ClientEvent::Left(u), now, T);
    }
    assert!(model.contacts().len() <= 3 + super::MAX_GONE);
    assert_eq!(model.online_count(), 3);
    assert!(model.contacts().iter().any(|c| c.name().as_str() == "u399"));
    assert!(!model.contacts().iter().any(|c| c.name().as_str() == "u0"));
}

#[test]
fn a_message_from_someone_unlisted_is_kept_under_their_name() {
    let now = Instant::now();
    let mut model = logged_in(now);
    let event = ClientEvent::Message {
        from: name("dave"),
        text: "early".into(),
        encrypted: true,
    };
    model.on_event(&event, now, T);
    let dave = contact(&model, "dave");
    assert_eq!(dave.presence(), Presence::Gone);
    assert_eq!(dave.unread(), 1);
}

#[test]
fn history_read_back_shows_each_message_as_it_stood() {
    use crate::store::{HistoryEntry, HistoryStatus};
    let mut model = logged_in(Instant::now());
    let bob = name("bob");
    let entry = |mine: bool, text: &str, status: HistoryStatus, id: Option<u64>| HistoryEntry {
        from: if mine { name("alice") } else { bob.clone() },
        to: if mine { bob.clone() } else { name("alice") },
        text: text.into(),
        at_ms: 1_000,
        status,
        id: id.map(MessageId),
    };
    let history = [
        entry(
            false,
            "hi",
            HistoryStatus::Received { encrypted: true },
            None,
        ),
        entry(
            false,
            "plain",
            HistoryStatus::Received { encrypted: false },
            None,
        ),
        entry(true, "q", HistoryStatus::Queued, Some(1)),
        entry(true, "s", HistoryStatus::Sent, Some(2)),
        entry(true, "d", HistoryStatus::Delivered, Some(3)),
        entry(true, "f", HistoryStatus::Failed("expired".into()), Some(4)),
    ];
    model.load_history(&bob, &history);
    assert_eq!(
        kinds(&model, "bob"),
        [
            EntryKind::Theirs("hi".into()),
            EntryKind::Theirs("(unencrypted) plain".into()),
            mine("q", Delivery::Queued(MessageId(1)), 1),
            mine("s", Delivery::Sent(MessageId(2)), 2),
            mine("d", Delivery::Delivered, 3),
            mine("f", Delivery::Failed("expired".into()), 4),
        ]
    );
}
