//! `chat NAME`: lines on stdin and events on stdout, or the terminal UI on a terminal.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use feige_core::client::{ClientConfig, ClientEvent, Restored, StaticKeys, WallClock};
use feige_core::wire::{Dialect, Name, PublicKey};

use crate::chat::{locked, ChatEvent, OutcomeWatch, SharedStore};
use crate::cli::ChatArgs;
use crate::driver::{ChatEvents, ChatOptions, ChatSinks, RunningChat, Transport};
use crate::output::print_line;
use crate::render::{self, Format};
use crate::stdin::{self, StdinLine};
use crate::store::{load_or_create_identity, random_bytes, Database, Storage, StoreError};
use crate::{interrupt, session_id, tui};

pub(super) fn run(transport: &dyn Transport, args: &ChatArgs) -> ExitCode {
    let program = transport.program();
    let format = match (args.json, args.plain) {
        (true, _) => Format::Json,
        (false, true) => Format::Plain,
        (false, false) => Format::Human,
    };
    let name = match Name::new(&args.name) {
        Ok(name) => name,
        Err(e) => {
            eprintln!("{program} chat: {:?} cannot be a name: {e}", args.name);
            return ExitCode::from(2);
        }
    };
    let server = match args.server_addr() {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("{program} chat: bad --server {:?}: {e}", args.server);
            return ExitCode::from(2);
        }
    };
    let storage = if args.ephemeral {
        Ok(Storage::Ephemeral)
    } else {
        Storage::for_user(args.data_dir.as_deref(), &name)
    };
    let persona = match storage.and_then(|storage| Persona::load(&storage, &name)) {
        Ok(persona) => persona,
        Err(e) => {
            eprintln!("{program} chat: {e}");
            return ExitCode::FAILURE;
        }
    };
    let store = Arc::clone(&persona.store);
    let dialect = args.dialect();
    let options = |on_event| {
        options(
            name,
            server,
            args.bind_addr(server),
            dialect,
            persona,
            on_event,
        )
    };
    let watch = OutcomeWatch::default();
    if tui::wanted(args.json, args.plain) {
        let history = tui::kept(&store);
        let (sender, inputs) = tui::channel();
        let feed = tui::ChatFeed::new(sender.clone());
        let Some(running) = start(transport, options(watch.watching(move |e| feed.deliver(e))))
        else {
            return ExitCode::FAILURE;
        };
        let commands = running.commands();
        interrupt::on_interrupt(move || commands.quit());
        tui::show(server, running.commands(), store, history, inputs, &sender);
        running.wait();
        return ExitCode::from(watch.outcome().exit_code());
    }
    let show = move |event: ChatEvent| {
        let text = render::chat_event(&event, format);
        // An empty `/history` prints no line at all in JSON, rather than a line that is not JSON.
        if !text.is_empty() {
            print_line(&text);
        }
    };
    let Some(running) = start(transport, options(watch.watching(show))) else {
        return ExitCode::FAILURE;
    };
    let commands = running.commands();
    interrupt::on_interrupt(move || commands.quit());
    let commands = running.commands();
    let reading = stdin::spawn(move |line| {
        match line {
            StdinLine::Line(line) => commands.line(line, &store),
            StdinLine::Invalid(why) => {
                print_line(&render::chat_event(&ChatEvent::Error(why), format));
            }
            StdinLine::End => commands.quit(),
        }
        true
    });
    if let Err(e) = reading {
        eprintln!("{program} chat: cannot read stdin: {e}");
        running.commands().quit();
    }
    running.wait();
    ExitCode::from(watch.outcome().exit_code())
}

/// Who a user is: its key pair, and its database (the keys it pinned for others, its history
/// and outbox), with what an earlier run left to go on from.
pub(crate) struct Persona {
    keys: StaticKeys,
    store: SharedStore,
    pinned: BTreeMap<Name, PublicKey>,
    /// `None` with ephemeral storage: nothing outlives the run, so what is still in the outbox
    /// at the end fails rather than waiting for a run that will not have it.
    restored: Option<Restored>,
    seed: [u8; 32],
}

impl Persona {
    /// `name`'s identity and database from `storage` (created on a first run), and fresh
    /// randomness for the client.
    pub(crate) fn load(storage: &Storage, name: &Name) -> Result<Persona, StoreError> {
        let keys = load_or_create_identity(storage)?;
        let db = Database::open(storage, name)?;
        let pinned = db.pins()?;
        let restored = match storage {
            Storage::Ephemeral => None,
            Storage::Dir(_) => Some(db.restored()?),
        };
        Ok(Persona {
            keys,
            store: Arc::new(Mutex::new(db)),
            pinned,
            restored,
            seed: random_bytes()?,
        })
    }

    /// The database, shared with `/history`.
    pub(crate) fn store(&self) -> &SharedStore {
        &self.store
    }
}

/// Who logs in where, with a fresh session id, reporting to `on_event`; the client's records and
/// the keys pinned during the session are written to the user's database as they come, and the
/// database is closed before the terminal event is reported.
pub(crate) fn options(
    name: Name,
    server: SocketAddr,
    bind: SocketAddr,
    dialect: Option<Dialect>,
    persona: Persona,
    mut on_event: ChatEvents,
) -> ChatOptions {
    let Persona {
        keys,
        store,
        pinned,
        restored,
        seed,
    } = persona;
    let records = Arc::clone(&store);
    let clock = WallClock {
        unix_ms: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        at: Instant::now(),
    };
    ChatOptions {
        server,
        bind,
        config: Box::new(move |local| ClientConfig {
            dialect,
            // A textbook server lists no keys: classic chat is plain `talk`.
            identity: dialect.is_none().then_some(keys),
            pinned,
            restored,
            seed,
            clock: Some(clock),
            ..ClientConfig::new(name, server, local, session_id::fresh())
        }),
        sinks: ChatSinks {
            on_event: Box::new(move |event| {
                if let ChatEvent::Core(ClientEvent::KeyPinned { name, key }) = &event {
                    if let Err(e) = locked(&store).pin(name, *key) {
                        tracing::error!("cannot keep the key pinned for {name}: {e}");
                    }
                }
                // The last event says the client has ended: by then the data directory is free
                // for the next run, even one started before this process has exited.
                if event.outcome().is_some() {
                    if let Err(e) = locked(&store).close() {
                        tracing::error!("{e}");
                    }
                }
                on_event(event);
            }),
            persist: Box::new(move |record| {
                locked(&records).apply(record).map_err(|e| e.to_string())
            }),
        },
    }
}

/// Starts the client, or says why it could not.
fn start(transport: &dyn Transport, options: ChatOptions) -> Option<Box<dyn RunningChat>> {
    let bind = options.bind;
    match transport.start_chat(options) {
        Ok(running) => Some(running),
        Err(e) => {
            eprintln!("{} chat: cannot bind {bind}: {e}", transport.program());
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Database;

    /// `logged_out` tells a script it may start the user again at once: the process may still be
    /// ending, but its database must already be free.
    #[test]
    fn the_terminal_event_comes_after_the_database_is_closed() {
        let dir = std::env::temp_dir().join(format!("feige-run-close-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let storage = Storage::Dir(dir.clone());
        let name = Name::new("alice").expect("a name");
        let persona = Persona::load(&storage, &name).expect("a first run");
        let (shown, seen) = std::sync::mpsc::channel();
        let server: SocketAddr = "127.0.0.1:9".parse().expect("an address");
        let (again, me) = (storage.clone(), name.clone());
        let mut options = options(
            name,
            server,
            server,
            None,
            persona,
            Box::new(move |event| {
                let free = Database::open(&again, &me).is_ok();
                let _ = shown.send((event.outcome().is_some(), free));
            }),
        );
        (options.sinks.on_event)(ChatEvent::Error("not the end".into()));
        (options.sinks.on_event)(ChatEvent::Core(ClientEvent::LoggedOut));
        let _ = std::fs::remove_dir_all(&dir);
        let seen: Vec<(bool, bool)> = seen.try_iter().collect();
        assert_eq!(seen, [(false, false), (true, true)], "(terminal, free)");
    }
}
