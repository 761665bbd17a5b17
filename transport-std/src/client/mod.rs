//! The chat client driver: one owner thread holds the [`Client`] state machine; the UDP reader,
//! the TCP session's threads, the connecting thread and the user (stdin, Ctrl-C, the demo) feed
//! it through one bounded channel.

mod local;

use std::io;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use feige_core::client::{Client, ClientConfig, ClientTransmit, MessageId, SendError};
use feige_core::wire::{Dialect, Name};

use crate::app::chat::{self, ChatEvent, ChatOutcome};
use crate::app::session_id;
use crate::conn::{ConnLimits, Connection, Writers};
use crate::inbox::{self, Next};
use crate::udp;

pub use local::local_endpoint;

const INBOX_CAPACITY: usize = 1024;

/// How long opening the TCP session may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long an exiting client waits for its last lines (the logout) to go out.
const FLUSH_AT_EXIT: Duration = Duration::from_secs(2);

/// Who logs in where.
#[derive(Debug, Clone)]
pub struct ChatOptions {
    /// Our name.
    pub name: Name,
    /// The server's UDP address.
    pub server: SocketAddr,
    /// The local UDP address to bind (login and all peer traffic use this one socket).
    pub bind: SocketAddr,
    /// The server's dialect: `None` for feige's own, `Some(Dialect::Classic)` for a textbook one.
    pub dialect: Option<Dialect>,
}

/// A message to send for the terminal UI, and where the result of `send_message` goes.
struct SendRequest {
    to: String,
    text: String,
    reply: Box<dyn FnOnce(Result<MessageId, SendError>) + Send>,
}

enum Input {
    Datagram { from: SocketAddr, data: Vec<u8> },
    Connected { attempt: u64, stream: TcpStream },
    ConnectFailed { attempt: u64 },
    TcpBytes { attempt: u64, data: Vec<u8> },
    TcpLost { attempt: u64 },
    Line(String),
    Quit,
    Send(SendRequest),
}

/// Sends the user's commands to a running client; cheap to clone.
#[derive(Clone)]
pub struct ChatCommander(SyncSender<Input>);

impl ChatCommander {
    /// One typed line: `/msg NAME TEXT`, `/list` or `/quit`.
    pub fn line(&self, line: String) {
        let _ = self.0.send(Input::Line(line));
    }

    /// Logs out properly (Ctrl-C, end of input). Harmless once the session has ended.
    pub fn quit(&self) {
        let _ = self.0.send(Input::Quit);
    }

    /// Sends `text` to `to` as `/msg` does; `reply` gets the result (the message's id, or
    /// why it was refused) on the client's side, before any event about that message.
    pub fn send_message(
        &self,
        to: &str,
        text: &str,
        reply: impl FnOnce(Result<MessageId, SendError>) + Send + 'static,
    ) {
        let _ = self.0.send(Input::Send(SendRequest {
            to: to.to_owned(),
            text: text.to_owned(),
            reply: Box::new(reply),
        }));
    }
}

/// A running client.
pub struct ChatHandle {
    commander: ChatCommander,
    owner: JoinHandle<ChatOutcome>,
    local: SocketAddr,
}

impl ChatHandle {
    /// A handle to send commands from other threads.
    pub fn commander(&self) -> ChatCommander {
        self.commander.clone()
    }

    /// The endpoint declared in the login.
    pub fn local_endpoint(&self) -> SocketAddr {
        self.local
    }

    /// Whether the session has ended.
    pub fn is_finished(&self) -> bool {
        self.owner.is_finished()
    }

    /// Blocks until the session ends; how it ended.
    pub fn wait(self) -> ChatOutcome {
        self.owner.join().unwrap_or_else(|_| {
            tracing::error!("the client thread panicked");
            ChatOutcome::Disconnected
        })
    }
}

/// Binds the UDP socket and starts logging in; every event goes to `on_event`, the last being
/// terminal (`logged_out`, `login_failed` or `disconnected`).
pub fn start(
    options: ChatOptions,
    on_event: impl FnMut(ChatEvent) + Send + 'static,
) -> io::Result<ChatHandle> {
    let socket = UdpSocket::bind(options.bind)?;
    let local = local_endpoint(&socket, options.server)?;
    let (tx, rx) = mpsc::sync_channel(INBOX_CAPACITY);
    let stop = Arc::new(AtomicBool::new(false));
    let datagrams = tx.clone();
    udp::spawn_reader(socket.try_clone()?, Arc::clone(&stop), move |from, data| {
        datagrams.send(Input::Datagram { from, data }).is_ok()
    })?;
    let config = ClientConfig {
        dialect: options.dialect,
        ..ClientConfig::new(options.name, options.server, local, session_id::fresh())
    };
    let inputs = tx.clone();
    let owner = thread::Builder::new()
        .name("client".into())
        .spawn(move || {
            let owner = Owner {
                client: Client::new(config, Instant::now()),
                udp: socket,
                tcp: None,
                attempt: 0,
                writers: Writers::default(),
                inputs,
                on_event: Box::new(on_event),
                outcome: None,
            };
            let outcome = owner.run(&rx);
            stop.store(true, Ordering::Relaxed);
            outcome
        })?;
    Ok(ChatHandle {
        commander: ChatCommander(tx),
        owner,
        local,
    })
}

struct Owner {
    client: Client,
    udp: UdpSocket,
    tcp: Option<Connection>,
    /// Numbers the TCP sessions, so late input from an abandoned one is recognised and ignored.
    attempt: u64,
    writers: Writers,
    inputs: SyncSender<Input>,
    on_event: Box<dyn FnMut(ChatEvent) + Send>,
    outcome: Option<ChatOutcome>,
}

impl Owner {
    fn run(mut self, inputs: &Receiver<Input>) -> ChatOutcome {
        loop {
            self.drain(Instant::now());
            if let Some(outcome) = self.outcome {
                if let Some(tcp) = self.tcp.take() {
                    tcp.close();
                }
                self.writers.wait_idle(Instant::now() + FLUSH_AT_EXIT);
                return outcome;
            }
            let input = match inbox::next(inputs, self.client.poll_timeout()) {
                Next::Input(input) => Some(input),
                Next::Deadline => None,
                Next::Closed => return ChatOutcome::Disconnected,
            };
            let now = Instant::now();
            if let Some(input) = input {
                self.handle(now, input);
                self.drain(now);
            }
            // Under a steady stream of input the wait never times out: check the deadline too.
            if self.client.poll_timeout().is_some_and(|at| at <= now) {
                self.client.handle_timeout(now);
            }
        }
    }

    fn handle(&mut self, now: Instant, input: Input) {
        match input {
            Input::Datagram { from, data } => self.client.handle_datagram(now, from, &data),
            Input::Connected { attempt, stream } if attempt == self.attempt => {
                self.attach(now, stream);
            }
            Input::ConnectFailed { attempt } if attempt == self.attempt => {
                self.client.handle_tcp_closed(now);
            }
            Input::TcpBytes { attempt, data } if attempt == self.attempt && self.tcp.is_some() => {
                self.client.handle_tcp_bytes(now, &data);
            }
            Input::TcpLost { attempt } if attempt == self.attempt => {
                if let Some(tcp) = self.tcp.take() {
                    tcp.abort();
                    self.client.handle_tcp_closed(now);
                }
            }
            Input::Line(line) => {
                if let Some(event) = chat::apply_command(&mut self.client, now, &line) {
                    self.emit(event);
                }
            }
            Input::Quit => self.client.logout(now),
            Input::Send(SendRequest { to, text, reply }) => {
                let stamp = chat::time_of_day();
                reply(self.client.send_message_stamped(now, &to, &text, &stamp));
            }
            // Input from an abandoned TCP session.
            Input::Connected { .. }
            | Input::ConnectFailed { .. }
            | Input::TcpBytes { .. }
            | Input::TcpLost { .. } => {}
        }
    }

    fn attach(&mut self, now: Instant, stream: TcpStream) {
        let attempt = self.attempt;
        let bytes = self.inputs.clone();
        let lost = self.inputs.clone();
        let limits = ConnLimits {
            max_queued_bytes: 1 << 20,
            linger: Duration::from_secs(1),
        };
        let spawned = Connection::spawn(
            stream,
            limits,
            &self.writers,
            move |data| bytes.send(Input::TcpBytes { attempt, data }).is_ok(),
            move || {
                let _ = lost.send(Input::TcpLost { attempt });
            },
        );
        match spawned {
            Ok(tcp) => {
                self.tcp = Some(tcp);
                self.client.handle_connected(now);
            }
            Err(e) => {
                tracing::warn!("cannot run the TCP session: {e}");
                self.client.handle_tcp_closed(now);
            }
        }
    }

    fn connect(&mut self, to: SocketAddr) {
        if let Some(old) = self.tcp.take() {
            old.abort();
        }
        self.attempt += 1;
        let attempt = self.attempt;
        let inputs = self.inputs.clone();
        let spawned = thread::Builder::new()
            .name("tcp-connect".into())
            .spawn(move || {
                let input = match TcpStream::connect_timeout(&to, CONNECT_TIMEOUT) {
                    Ok(stream) => {
                        let _ = stream.set_nodelay(true);
                        Input::Connected { attempt, stream }
                    }
                    Err(e) => {
                        tracing::warn!("cannot connect to {to}: {e}");
                        Input::ConnectFailed { attempt }
                    }
                };
                let _ = inputs.send(input);
            });
        if let Err(e) = spawned {
            tracing::warn!("cannot start connecting: {e}");
            let _ = self.inputs.try_send(Input::ConnectFailed { attempt });
        }
    }

    /// The drain contract: after every input, take every transmit and event until none is left.
    fn drain(&mut self, now: Instant) {
        loop {
            let mut progressed = false;
            while let Some(transmit) = self.client.poll_transmit() {
                progressed = true;
                self.transmit(now, transmit);
            }
            while let Some(event) = self.client.poll_event() {
                progressed = true;
                self.emit(ChatEvent::Core(event));
            }
            if !progressed {
                return;
            }
        }
    }

    fn transmit(&mut self, now: Instant, transmit: ClientTransmit) {
        match transmit {
            ClientTransmit::Datagram { to, data } => udp::send(&self.udp, to, &data),
            ClientTransmit::Connect { to } => self.connect(to),
            ClientTransmit::Send { data } => {
                let Some(tcp) = &self.tcp else {
                    tracing::debug!("no TCP session for {} bytes", data.len());
                    return;
                };
                match tcp.send(data) {
                    Ok(true) => tcp.wake(),
                    Ok(false) => {}
                    Err(_) => {
                        self.tcp = None;
                        self.client.handle_tcp_closed(now);
                    }
                }
            }
            ClientTransmit::Close => {
                // Any connect still under way is abandoned too.
                self.attempt += 1;
                if let Some(tcp) = self.tcp.take() {
                    tcp.close();
                }
            }
        }
    }

    fn emit(&mut self, event: ChatEvent) {
        if self.outcome.is_none() {
            self.outcome = event.outcome();
        }
        (self.on_event)(event);
    }
}
