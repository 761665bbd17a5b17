//! `feige demo`: a server and three scripted clients on loopback, narrated for a person. The
//! script is written against [`Transport`], so each transport runs the very same story.

use std::fmt;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use feige_core::client::ClientEvent;
use feige_core::wire::Name;

use crate::chat::{ChatEvent, SharedStore};
use crate::cli::unspecified_for;
use crate::driver::{
    ChatCommands, RunningChat, RunningServer, ServerOptions, ServerSetup, Transport,
};
use crate::render::{self, Format};
use crate::run::{chat_options, Persona};
use crate::store::Storage;

/// The whole demo must finish within this; past it, it fails (and the process exits, see [`run`]).
const DEMO_BUDGET: Duration = Duration::from_secs(20);

/// Why the demo failed.
#[derive(Debug)]
pub struct DemoError(String);

impl fmt::Display for DemoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DemoError {}

impl From<io::Error> for DemoError {
    fn from(e: io::Error) -> Self {
        DemoError(format!("I/O error: {e}"))
    }
}

/// `demo`: the story on `transport`, narrated on stdout; status 0 when every step happened.
pub fn main(transport: &dyn Transport) -> ExitCode {
    let mut out = io::stdout();
    match run(transport, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{} demo failed: {e}", transport.program());
            ExitCode::FAILURE
        }
    }
}

/// Runs the story on `transport`, narrating to `out`. A watchdog ends the process with status 1
/// should anything hang well past the budget, so the demo can never block a CI run; it stands
/// down when the demo returns.
pub fn run(transport: &dyn Transport, out: &mut dyn Write) -> Result<(), DemoError> {
    let deadline = Instant::now() + DEMO_BUDGET;
    let (_watching, finished) = mpsc::channel::<()>();
    let _ = thread::Builder::new()
        .name("demo-watchdog".into())
        .spawn(move || {
            let grace = DEMO_BUDGET + Duration::from_secs(5);
            if finished.recv_timeout(grace) == Err(RecvTimeoutError::Timeout) {
                eprintln!("feige demo: still running after {grace:?}; giving up");
                std::process::exit(1);
            }
        });
    let data = DataDir::create()?;
    let mut demo = Demo {
        transport,
        out,
        actors: Vec::new(),
        deadline,
        server: None,
        data: data.0.clone(),
    };
    let result = demo.story();
    demo.stop(Instant::now() + Duration::from_secs(3));
    demo.flush_backlog();
    match &result {
        Ok(()) => demo.say("\n== the demo ran to the end: every step happened as expected =="),
        Err(e) => demo.say(&format!("\n== the demo failed: {e} ==")),
    }
    result
}

struct Actor {
    name: Name,
    client: Box<dyn RunningChat>,
    commands: ChatCommands,
    store: SharedStore,
    events: Receiver<ChatEvent>,
}

struct Demo<'a> {
    transport: &'a dyn Transport,
    out: &'a mut dyn Write,
    actors: Vec<Actor>,
    deadline: Instant,
    server: Option<Box<dyn RunningServer>>,
    /// Where the demo users keep their keys, history and outbox.
    data: PathBuf,
}

/// A data directory of the demo's own under the system's temporary directory, removed when the
/// demo ends however it ends.
struct DataDir(PathBuf);

impl DataDir {
    fn create() -> Result<DataDir, DemoError> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!("feige-demo-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| DemoError(format!("cannot create {}: {e}", dir.display())))?;
        Ok(DataDir(dir))
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Indices into `Demo::actors`.
const ALICE: usize = 0;
const BOB: usize = 1;
const XIAOMING: usize = 2;

impl Demo<'_> {
    fn story(&mut self) -> Result<(), DemoError> {
        self.say("== feige demo: one server and three clients on loopback ==");
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        self.start_server(loopback, loopback)?;

        self.step("alice logs in");
        self.join("alice")?;
        self.expect(ALICE, "alice to be logged in", is_logged_in)?;

        self.step("bob logs in; alice sees him join");
        self.join("bob")?;
        self.expect(BOB, "bob to be logged in", is_logged_in)?;
        self.expect(ALICE, "alice to see bob join", |e| joined(e, "bob"))?;

        self.step("小明 logs in; alice and bob see him join");
        self.join("小明")?;
        self.expect(XIAOMING, "小明 to be logged in", is_logged_in)?;
        self.expect(ALICE, "alice to see 小明 join", |e| joined(e, "小明"))?;
        self.expect(BOB, "bob to see 小明 join", |e| joined(e, "小明"))?;

        self.step("alice asks for the list");
        self.type_line(ALICE, "/list");
        self.expect(
            ALICE,
            "alice's list of three",
            |e| matches!(e, ChatEvent::Users(users) if users.len() == 3),
        )?;

        self.chat(ALICE, BOB, "hi bob, how are you?")?;
        self.chat(BOB, ALICE, "fine, thanks: I'm talking to you peer to peer!")?;
        self.chat(XIAOMING, ALICE, "你好，爱丽丝！我是小明。")?;
        self.chat(ALICE, XIAOMING, "你好小明 👋")?;

        self.step("bob logs out; alice and 小明 see him leave");
        self.quit(BOB)?;
        self.expect(ALICE, "alice to see bob leave", |e| left(e, "bob"))?;
        self.expect(XIAOMING, "小明 to see bob leave", |e| left(e, "bob"))?;

        self.step("alice writes to bob, who is offline: it waits in her outbox");
        self.type_line(
            ALICE,
            "/msg bob see you tomorrow, the message waits for you",
        );
        self.expect(ALICE, "alice's message to be queued", |e| {
            matches!(e, ChatEvent::Core(ClientEvent::Queued { .. }))
        })?;

        self.step("alice quits and starts again: her history and outbox are still there");
        self.quit(ALICE)?;
        self.join("alice")?;
        self.expect(ALICE, "alice to be logged in again", is_logged_in)?;
        self.type_line(ALICE, "/history bob");
        self.expect(
            ALICE,
            "alice's history with bob",
            |e| matches!(e, ChatEvent::History { entries, .. } if entries.len() == 3),
        )?;

        self.step("bob comes back: the queued message reaches him at once");
        self.join("bob")?;
        self.expect(BOB, "bob to be logged in again", is_logged_in)?;
        self.expect(BOB, "bob to receive the queued message", |e| {
            matches!(e, ChatEvent::Core(ClientEvent::Message { from, .. }) if from.as_str() == "alice")
        })?;
        self.expect(ALICE, "alice to see it delivered", |e| {
            matches!(e, ChatEvent::Core(ClientEvent::Delivered { to, .. }) if to.as_str() == "bob")
        })?;

        self.step("the server restarts: everyone logs in again by itself");
        let (udp, tcp) = self.stop_server()?;
        for who in [ALICE, BOB, XIAOMING] {
            self.expect(who, "the client to notice", |e| {
                matches!(e, ChatEvent::Core(ClientEvent::Reconnecting { .. }))
            })?;
        }
        self.start_server(udp, tcp)?;
        for who in [ALICE, BOB, XIAOMING] {
            self.expect(who, "the client to be back", |e| {
                matches!(e, ChatEvent::Core(ClientEvent::Reconnected { .. }))
            })?;
        }
        self.chat(BOB, XIAOMING, "we are all back, and nobody typed a thing")?;

        self.step("everyone logs out");
        for who in [ALICE, BOB, XIAOMING] {
            self.quit(who)?;
        }
        Ok(())
    }

    /// Starts the server on `udp` and `tcp` (port 0: any free one) and says where it listens.
    fn start_server(&mut self, udp: SocketAddr, tcp: SocketAddr) -> Result<(), DemoError> {
        let mut bound = None;
        let server = self.transport.start_server(ServerSetup {
            options: ServerOptions::new(udp, tcp),
            on_listening: &mut |at| bound = Some(at),
            on_event: Box::new(|event| tracing::info!("{event:?}")),
            metrics: Default::default(),
        })?;
        self.server = Some(server);
        if let Some(at) = bound {
            self.say(&format!("server {}", render::listening(at, Format::Human)));
        }
        Ok(())
    }

    /// Shuts the server down gracefully; where it listened.
    fn stop_server(&mut self) -> Result<(SocketAddr, SocketAddr), DemoError> {
        let server = self
            .server
            .take()
            .ok_or_else(|| DemoError("no server running".into()))?;
        let at = (server.udp_addr(), server.tcp_addr());
        server.stopper().stop();
        wait_until(|| server.is_finished(), self.deadline);
        if !server.is_finished() {
            return Err(DemoError("the server did not shut down".into()));
        }
        server.wait();
        self.say("server stopped");
        Ok(at)
    }

    /// `who` types `/quit` and is logged out.
    fn quit(&mut self, who: usize) -> Result<(), DemoError> {
        self.type_line(who, "/quit");
        let what = format!("{} to be logged out", self.name(who));
        self.expect(who, &what, |e| {
            matches!(e, ChatEvent::Core(ClientEvent::LoggedOut))
        })?;
        Ok(())
    }

    /// Starts `name`'s client; one started again takes the place of the same user's earlier
    /// run, once that has ended and closed its database.
    fn join(&mut self, name: &str) -> Result<(), DemoError> {
        let name = Name::new(name).map_err(|e| DemoError(format!("bad demo name: {e}")))?;
        let earlier = self.actors.iter().position(|a| a.name == name);
        if let Some(earlier) = earlier {
            let ended = self.actors.remove(earlier);
            wait_until(|| ended.client.is_finished(), self.deadline);
        }
        let server = self
            .server
            .as_ref()
            .map(|s| s.udp_addr())
            .ok_or_else(|| DemoError("no server running".into()))?;
        let (events, received) = mpsc::channel();
        let on_event = Box::new(move |event| {
            let _ = events.send(event);
        });
        let storage = Storage::for_user(Some(&self.data), &name)
            .map_err(|e| DemoError(format!("no data directory for {name}: {e}")))?;
        let persona = Persona::load(&storage, &name)
            .map_err(|e| DemoError(format!("no identity for {name}: {e}")))?;
        let store = std::sync::Arc::clone(persona.store());
        let options = chat_options(
            name.clone(),
            server,
            unspecified_for(server),
            None,
            persona,
            on_event,
        );
        let client = self.transport.start_chat(options)?;
        let actor = Actor {
            name,
            commands: client.commands(),
            client,
            store,
            events: received,
        };
        match earlier {
            Some(earlier) => self.actors.insert(earlier, actor),
            None => self.actors.push(actor),
        }
        Ok(())
    }

    /// Ends everything started (clients log out, then the server shuts down), waiting at most
    /// until `deadline`.
    fn stop(&mut self, deadline: Instant) {
        for actor in &self.actors {
            actor.commands.quit();
        }
        for actor in &self.actors {
            wait_until(|| actor.client.is_finished(), deadline);
        }
        if let Some(server) = self.server.take() {
            server.stopper().stop();
            wait_until(|| server.is_finished(), deadline);
        }
    }

    /// `from` sends `text` to `to`; it must reach `to` and come back acknowledged.
    fn chat(&mut self, from: usize, to: usize, text: &str) -> Result<(), DemoError> {
        let (from_name, to_name) = (self.name(from), self.name(to));
        self.step(&format!("{from_name} writes to {to_name}: {text:?}"));
        self.type_line(from, &format!("/msg {to_name} {text}"));
        let what = format!("{from_name}'s message to be sent");
        self.expect(from, &what, |e| {
            matches!(e, ChatEvent::Core(ClientEvent::Sent { .. }))
        })?;
        let what = format!("{to_name} to receive it");
        self.expect(to, &what, |e| {
            matches!(e, ChatEvent::Core(ClientEvent::Message { from: f, text: t, .. })
                if f.as_str() == from_name && t == text)
        })?;
        let what = format!("{from_name} to see it delivered");
        self.expect(from, &what, |e| {
            matches!(e, ChatEvent::Core(ClientEvent::Delivered { to: t, .. }) if t.as_str() == to_name)
        })?;
        Ok(())
    }

    fn name(&self, who: usize) -> String {
        self.actors
            .get(who)
            .map(|a| a.name.to_string())
            .unwrap_or_default()
    }

    fn type_line(&mut self, who: usize, line: &str) {
        let name = self.name(who);
        self.say(&format!("[{name}] > {line}"));
        if let Some(actor) = self.actors.get(who) {
            actor.commands.line(line.to_owned(), &actor.store);
        }
    }

    /// Shows `who`'s events until one matches; fails on a terminal event or at the deadline.
    fn expect(
        &mut self,
        who: usize,
        what: &str,
        matches: impl Fn(&ChatEvent) -> bool,
    ) -> Result<ChatEvent, DemoError> {
        loop {
            let Some(actor) = self.actors.get(who) else {
                return Err(DemoError(format!(
                    "no client #{who} while waiting for {what}"
                )));
            };
            let left = self.deadline.saturating_duration_since(Instant::now());
            let event = match actor.events.recv_timeout(left) {
                Ok(event) => event,
                Err(RecvTimeoutError::Timeout) => {
                    return Err(DemoError(format!("timed out waiting for {what}")))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(DemoError(format!("{} stopped before {what}", actor.name)))
                }
            };
            let name = actor.name.to_string();
            self.show(&name, &event);
            if matches(&event) {
                return Ok(event);
            }
            if event.outcome().is_some() {
                return Err(DemoError(format!("{name}'s session ended before {what}")));
            }
        }
    }

    /// Shows whatever the clients reported after the last expectation.
    fn flush_backlog(&mut self) {
        let backlog: Vec<(String, ChatEvent)> = self
            .actors
            .iter()
            .flat_map(|a| a.events.try_iter().map(|e| (a.name.to_string(), e)))
            .collect();
        for (name, event) in backlog {
            self.show(&name, &event);
        }
    }

    fn show(&mut self, name: &str, event: &ChatEvent) {
        for line in render::chat_event(event, Format::Human).lines() {
            self.say(&format!("[{name}] {line}"));
        }
    }

    fn step(&mut self, title: &str) {
        self.say(&format!("\n-- {title}"));
    }

    fn say(&mut self, line: &str) {
        let _ = writeln!(self.out, "{line}").and_then(|()| self.out.flush());
    }
}

fn is_logged_in(event: &ChatEvent) -> bool {
    matches!(event, ChatEvent::Core(ClientEvent::LoggedIn { .. }))
}

fn joined(event: &ChatEvent, name: &str) -> bool {
    matches!(event, ChatEvent::Core(ClientEvent::Joined(u)) if u.name.as_str() == name)
}

fn left(event: &ChatEvent, name: &str) -> bool {
    matches!(event, ChatEvent::Core(ClientEvent::Left(u)) if u.name.as_str() == name)
}

/// Polls `done` until it holds or `deadline` passes (threads cannot be joined with a timeout).
fn wait_until(done: impl Fn() -> bool, deadline: Instant) {
    while !done() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
}
