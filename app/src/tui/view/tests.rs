//! Snapshot tests: screens drawn on ratatui's `TestBackend`, compared line by line with the text
//! a person would see (trailing spaces trimmed).

use std::time::{Duration, Instant};

use feige_core::client::{ClientEvent, FailReason, MessageId, SendError};
use feige_core::wire::{Name, UserEntry};
use ratatui::backend::TestBackend;
use unicode_width::UnicodeWidthStr;

use crate::tui::{Action, Key, Tui};
use ratatui::layout::Position;

fn name(n: &str) -> Name {
    Name::new(n).expect("a valid name")
}

fn user(n: &str, port: u16) -> UserEntry {
    UserEntry::new(name(n), ([127, 0, 0, 1], port).into())
}

fn tui(width: u16, height: u16) -> Tui<TestBackend> {
    let server = "127.0.0.1:9000".parse().expect("an address");
    Tui::new(server, TestBackend::new(width, height)).expect("a test terminal")
}

fn log_in(tui: &mut Tui<TestBackend>, now: Instant, others: &[(&str, u16)]) {
    let me = user("alice", 40000);
    let mut users = vec![me.clone()];
    users.extend(others.iter().map(|&(n, port)| user(n, port)));
    tui.on_event(&ClientEvent::LoggedIn { me, users }, now, "12:00");
}

fn type_and_send(tui: &mut Tui<TestBackend>, text: &str, time: &str) -> Action {
    for c in text.chars() {
        tui.on_key(Key::Char(c), time);
    }
    tui.on_key(Key::Enter, time).expect("an action")
}

/// The screen as text, one string per row: a wide character's second cell is not repeated.
fn screen(tui: &mut Tui<TestBackend>, now: Instant) -> Vec<String> {
    tui.draw(now).expect("drawn");
    let buffer = tui.backend().buffer();
    let area = buffer.area;
    let mut rows = Vec::new();
    for y in area.top()..area.bottom() {
        let mut row = String::new();
        let mut hidden = 0;
        for x in area.left()..area.right() {
            let symbol = buffer[(x, y)].symbol();
            if hidden > 0 {
                hidden -= 1;
                continue;
            }
            hidden = symbol.width().saturating_sub(1);
            row.push_str(symbol);
        }
        rows.push(row.trim_end().to_owned());
    }
    rows
}

fn assert_screen(actual: &[String], expected: &[&str]) {
    assert_eq!(
        actual,
        expected,
        "\nactual screen:\n{}\n",
        actual.join("\n")
    );
}

#[test]
fn alone_online() {
    let now = Instant::now();
    let mut tui = tui(60, 12);
    log_in(&mut tui, now, &[]);
    assert_screen(
        &screen(&mut tui, now),
        &[
            " online | alice @ 127.0.0.1:40000 | server 127.0.0.1:9000",
            "┌ Online (1) ──────┐┌ no conversation ─────────────────────┐",
            "│ alice (you)      ││nobody else is online yet             │",
            "│                  ││                                      │",
            "│                  ││                                      │",
            "│                  ││                                      │",
            "│                  ││                                      │",
            "└──────────────────┘└──────────────────────────────────────┘",
            "┌ message ─────────────────────────────────────────────────┐",
            "│                                                          │",
            "└──────────────────────────────────────────────────────────┘",
            " Esc quit | Enter send | Tab contacts | Up/Down history | Pg",
        ],
    );
}

#[test]
fn before_login() {
    let now = Instant::now();
    let mut tui = tui(44, 10);
    assert_screen(
        &screen(&mut tui, now),
        &[
            " logging in | server 127.0.0.1:9000",
            "┌ Online (0) ┐┌ no conversation ───────────┐",
            "│            ││nobody else is online yet   │",
            "│            ││                            │",
            "│            ││                            │",
            "│            ││                            │",
            "│            ││                            │",
            "└────────────┘└────────────────────────────┘",
            ">",
            " Esc quit | Enter send | Tab contacts | Up/D",
        ],
    );
}

#[test]
fn delivery_marks_joins_and_leaves() {
    let now = Instant::now();
    let mut tui = tui(64, 17);
    log_in(&mut tui, now, &[("bob", 40001)]);
    let bob = name("bob");
    for (text, result) in [
        ("hi bob", Ok(MessageId(1))),
        ("are you there?", Ok(MessageId(2))),
        ("still there?", Ok(MessageId(3))),
        ("hello?", Ok(MessageId(4))),
        ("and again", Err(SendError::QueueFull)),
    ] {
        let Action::Send { ticket, .. } = type_and_send(&mut tui, text, "12:01") else {
            panic!("a send");
        };
        tui.on_send_result(ticket, result);
    }
    for id in [1, 2, 3] {
        let sent = ClientEvent::Sent {
            to: bob.clone(),
            id: MessageId(id),
        };
        tui.on_event(&sent, now, "12:01");
    }
    tui.on_event(
        &ClientEvent::Delivered {
            to: bob.clone(),
            id: MessageId(1),
            encrypted: true,
        },
        now,
        "12:01",
    );
    tui.on_event(
        &ClientEvent::Message {
            from: bob.clone(),
            text: "yes, a long answer that wraps onto the next line nicely".into(),
            encrypted: true,
        },
        now,
        "12:02",
    );
    tui.on_event(
        &ClientEvent::Failed {
            to: bob.clone(),
            id: MessageId(2),
            reason: FailReason::Timeout,
        },
        now,
        "12:03",
    );
    tui.on_event(&ClientEvent::Joined(user("carol", 40002)), now, "12:04");
    tui.on_event(&ClientEvent::Left(user("carol", 40002)), now, "12:05");
    tui.on_event(&ClientEvent::Joined(user("dave", 40003)), now, "12:06");
    let carol_msg = ClientEvent::Message {
        from: name("dave"),
        text: "psst".into(),
        encrypted: true,
    };
    tui.on_event(&carol_msg, now, "12:07");
    for c in "typing".chars() {
        tui.on_key(Key::Char(c), "12:08");
    }
    assert_screen(
        &screen(&mut tui, now + Duration::from_secs(1)),
        &[
            " online | alice @ 127.0.0.1:40000 | server 127.0.0.1:9000",
            "┌ Online (3) ───────┐┌ bob ────────────────────────────────────┐",
            "│ alice (you)       ││12:01 ✓ you: hi bob                      │",
            "│>bob               ││12:01 ✗ you: are you there? [not         │",
            "│ carol (gone)      ││        delivered: timeout]              │",
            "│ dave (new) [1]    ││12:01 › you: still there?                │",
            "│                   ││12:01 ⋯ you: hello?                      │",
            "│                   ││12:01 ✗ you: and again [not delivered:   │",
            "│                   ││        too many messages queued for     │",
            "│                   ││        that user]                       │",
            "│                   ││12:02   bob: yes, a long answer that     │",
            "│                   ││        wraps onto the next line nicely  │",
            "└───────────────────┘└─────────────────────────────────────────┘",
            "┌ to bob ──────────────────────────────────────────────────────┐",
            "│typing                                                        │",
            "└──────────────────────────────────────────────────────────────┘",
            " Esc quit | Enter send | Tab contacts | Up/Down history | PgUp/P",
        ],
    );
    // Carol's conversation: she came and went, and stays listed as gone.
    tui.on_key(Key::Tab, "12:08");
    tui.on_key(Key::Down, "12:08");
    assert_screen(
        &screen(&mut tui, now + Duration::from_secs(60)),
        &[
            " online | alice @ 127.0.0.1:40000 | server 127.0.0.1:9000",
            "┌ Online (3) ───────┐┌ carol (gone) ───────────────────────────┐",
            "│ alice (you)       ││12:04 - carol joined                     │",
            "│ bob               ││12:05 - carol left                       │",
            "│>carol (gone)      ││                                         │",
            "│ dave [1]          ││                                         │",
            "│                   ││                                         │",
            "│                   ││                                         │",
            "│                   ││                                         │",
            "│                   ││                                         │",
            "│                   ││                                         │",
            "│                   ││                                         │",
            "└───────────────────┘└─────────────────────────────────────────┘",
            "┌ to carol (gone) ─────────────────────────────────────────────┐",
            "│typing                                                        │",
            "└──────────────────────────────────────────────────────────────┘",
            " Esc quit | Up/Down pick a contact | Enter or Tab back to typing",
        ],
    );
}

#[test]
fn chinese_names_and_text_stay_aligned() {
    let now = Instant::now();
    let mut tui = tui(50, 12);
    log_in(&mut tui, now, &[("小明", 40001), ("王小二", 40002)]);
    let xm = name("小明");
    let hello = ClientEvent::Message {
        from: xm.clone(),
        text: "你好！今天晚上一起吃饭吗？我们在老地方见面吧".into(),
        encrypted: true,
    };
    tui.on_event(&hello, now, "19:30");
    let Action::Send { ticket, .. } = type_and_send(&mut tui, "好的，七点见", "19:31") else {
        panic!("a send");
    };
    tui.on_send_result(ticket, Ok(MessageId(1)));
    tui.on_event(
        &ClientEvent::Delivered {
            to: xm,
            id: MessageId(1),
            encrypted: true,
        },
        now,
        "19:31",
    );
    for c in "不见不散".chars() {
        tui.on_key(Key::Char(c), "19:32");
    }
    tui.on_key(Key::Left, "19:32");
    let rows = screen(&mut tui, now);
    assert_screen(
        &rows,
        &[
            " online | alice @ 127.0.0.1:40000 | server 127.0.0",
            "┌ Online (3) ──┐┌ 小明 ──────────────────────────┐",
            "│ alice (you)  ││19:30   小明: 你好！今天晚上一起│",
            "│>小明         ││        吃饭吗？我们在老地方见面│",
            "│ 王小二       ││        吧                      │",
            "│              ││19:31 ✓ you: 好的，七点见       │",
            "│              ││                                │",
            "└──────────────┘└────────────────────────────────┘",
            "┌ to 小明 ───────────────────────────────────────┐",
            "│不见不散                                        │",
            "└────────────────────────────────────────────────┘",
            " Esc quit | Enter send | Tab contacts | Up/Down hi",
        ],
    );
    // The cursor sits before 散: two columns per character typed before it.
    let cursor = tui.terminal.get_cursor_position().expect("a cursor");
    assert_eq!(cursor, Position::new(1 + 3 * 2, 9));
}

#[test]
fn a_narrow_terminal_drops_nothing_essential() {
    let now = Instant::now();
    let mut tui = tui(30, 10);
    log_in(&mut tui, now, &[("bob", 40001)]);
    let hi = ClientEvent::Message {
        from: name("bob"),
        text: "hello alice, how are you?".into(),
        encrypted: true,
    };
    tui.on_event(&hi, now, "09:00");
    type_and_send(&mut tui, "fine", "09:01");
    assert_screen(
        &screen(&mut tui, now),
        &[
            " online | alice @ 127.0.0.1:40",
            "┌ Online (2┐┌ bob ───────────┐",
            "│*alice    ││09:00   bob:    │",
            "│>bob      ││hello alice,    │",
            "│          ││how are you?    │",
            "│          ││09:01 ⋯ you:    │",
            "│          ││fine            │",
            "└──────────┘└────────────────┘",
            ">",
            " Esc quit | Enter send | Tab c",
        ],
    );
}

#[test]
fn the_contact_list_has_focus_and_scrolling_shows_how_far() {
    let now = Instant::now();
    let mut tui = tui(48, 10);
    log_in(&mut tui, now, &[("bob", 40001), ("carol", 40002)]);
    for i in 1..=8 {
        let line = ClientEvent::Message {
            from: name("bob"),
            text: format!("line {i}"),
            encrypted: true,
        };
        tui.on_event(&line, now, "10:00");
    }
    screen(&mut tui, now);
    tui.on_key(Key::PageUp, "10:00");
    tui.on_key(Key::Tab, "10:00");
    assert_screen(
        &screen(&mut tui, now),
        &[
            " online | alice @ 127.0.0.1:40000 | server 127.0",
            "┌ Online (3) ──┐┌ bob ─────────────────────────┐",
            "│ alice (you)  ││10:00   bob: line 1           │",
            "│>bob          ││10:00   bob: line 2           │",
            "│ carol        ││10:00   bob: line 3           │",
            "│              ││10:00   bob: line 4           │",
            "│              ││10:00   bob: line 5           │",
            "└──────────────┘└ 3 more lines below (PgDn) ───┘",
            ">",
            " Esc quit | Up/Down pick a contact | Enter or Ta",
        ],
    );
    tui.on_key(Key::Down, "10:00");
    assert_screen(
        &screen(&mut tui, now),
        &[
            " online | alice @ 127.0.0.1:40000 | server 127.0",
            "┌ Online (3) ──┐┌ carol ───────────────────────┐",
            "│ alice (you)  ││no messages yet               │",
            "│ bob          ││                              │",
            "│>carol        ││                              │",
            "│              ││                              │",
            "│              ││                              │",
            "└──────────────┘└──────────────────────────────┘",
            ">",
            " Esc quit | Up/Down pick a contact | Enter or Ta",
        ],
    );
}

#[test]
fn every_size_draws_without_panicking() {
    let now = Instant::now();
    for width in 0..=40 {
        for height in 0..=14 {
            let mut tui = tui(width, height);
            log_in(&mut tui, now, &[("小明 王", 40001), ("bob", 40002)]);
            let long = ClientEvent::Message {
                from: name("小明 王"),
                text: "很长的消息 with mixed text ".repeat(5),
                encrypted: true,
            };
            tui.on_event(&long, now, "08:00");
            for c in "输入一些文字 and more".chars() {
                tui.on_key(Key::Char(c), "08:00");
            }
            tui.on_key(Key::PageUp, "08:00");
            let rows = screen(&mut tui, now);
            assert_eq!(rows.len(), usize::from(height));
            assert!(rows.iter().all(|r| r.width() <= usize::from(width)));
        }
    }
}
