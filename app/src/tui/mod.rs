//! The full-screen chat UI (ratatui + crossterm) that `chat NAME` shows on a terminal (drawn
//! here on a 50x12 one; `docs/tui.md` has the keys):
//!
//! ```text
//!  online | alice @ 127.0.0.1:40000 | server 127.0.0
//! ┌ Online (3) ──┐┌ 小明 ──────────────────────────┐
//! │ alice (you)  ││19:30   小明: 你好！今天晚上一起│
//! │>小明         ││        吃饭吗？我们在老地方见面│
//! │ 王小二       ││        吧                      │
//! │              ││19:31 ✓ you: 好的，七点见       │
//! │              ││                                │
//! └──────────────┘└────────────────────────────────┘
//! ┌ to 小明 ───────────────────────────────────────┐
//! │不见不散                                        │
//! └────────────────────────────────────────────────┘
//!  Esc quit | Enter send | Tab contacts | Up/Down hi
//! ```
//!
//! - [`model`]: the state, fed client events and keys, with no terminal (tested alone).
//! - [`view`]: drawing the state; [`keys`]: crossterm's events as the model's keys.
//! - [`terminal`]: raw mode and the alternate screen, given back on exit and on panic.
//! - [`event_loop`]: one blocking loop that both binaries run on their main thread. The client
//!   (a std thread or a smol task) sends its events into the loop's channel, a key reader thread
//!   sends keys into the same channel, and the loop hands sends and the logout to a
//!   [`ChatControl`].
//! - [`chat`]: `chat NAME` in the UI for either binary ([`wanted`], [`show`]), reaching the
//!   client through its driver's [`ChatCommands`](crate::driver::ChatCommands); [`feed`]: the
//!   driver's events in.

pub mod chat;
pub mod contact;
pub mod event_loop;
pub mod feed;
pub mod input;
pub mod keys;
pub mod model;
mod reader;
pub mod terminal;
pub mod text;
pub mod view;

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use feige_core::client::{ClientEvent, MessageId, SendError};
use feige_core::wire::Name;
use ratatui::backend::Backend;
use ratatui::Terminal;

use crate::store::HistoryEntry;

pub use chat::{kept, show, wanted};
pub use contact::SendTicket;
pub use event_loop::{channel, run, ChatControl, UiInput, UiSender};
pub use feed::ChatFeed;
pub use keys::Key;
pub use model::{Action, Model};

/// The model and the terminal it is drawn on: the driver API. Generic over the backend so tests
/// draw on ratatui's `TestBackend`.
pub struct Tui<B: Backend> {
    model: Model,
    terminal: Terminal<B>,
    /// Ctrl-L asked for a full repaint.
    repaint: bool,
}

impl<B: Backend> Tui<B> {
    /// A UI for a client logging in to `server`, drawing on `backend`.
    pub fn new(server: SocketAddr, backend: B) -> io::Result<Self> {
        Ok(Tui {
            model: Model::new(server),
            terminal: Terminal::new(backend)?,
            repaint: false,
        })
    }

    /// The state shown.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The backend (for tests to read what was drawn).
    pub fn backend(&self) -> &B {
        self.terminal.backend()
    }

    /// An event of the client, at `now`, `time` being the time of day to show with it.
    pub fn on_event(&mut self, event: &ClientEvent, now: Instant, time: &str) {
        self.model.on_event(event, now, time);
    }

    /// A key; what the driver must do, if anything.
    pub fn on_key(&mut self, key: Key, time: &str) -> Option<Action> {
        if key == Key::Redraw {
            self.repaint = true;
        }
        self.model.on_key(key, time)
    }

    /// The answer to [`Action::Send`].
    pub fn on_send_result(&mut self, ticket: SendTicket, result: Result<MessageId, SendError>) {
        self.model.on_send_result(ticket, result);
    }

    /// What an earlier run kept of the conversation with `with`.
    pub fn load_history(&mut self, with: &Name, history: &[HistoryEntry]) {
        self.model.load_history(with, history);
    }

    /// A message from the driver for the user (an error outside the client's events).
    pub fn on_notice(&mut self, notice: String) {
        self.model.on_notice(notice);
    }

    /// When to draw again without input (a join highlight ends).
    pub fn next_change(&self, now: Instant) -> Option<Instant> {
        self.model.next_change(now)
    }

    /// Draws the screen as of `now`.
    pub fn draw(&mut self, now: Instant) -> io::Result<()> {
        if std::mem::take(&mut self.repaint) {
            self.terminal.clear()?;
        }
        let model = &self.model;
        let mut viewport = None;
        self.terminal.draw(|frame| {
            viewport = Some(view::draw(frame, model, now));
        })?;
        if let Some(v) = viewport {
            self.model.set_viewport(v.page, v.max_scroll);
        }
        Ok(())
    }
}
