//! The chat client driver: one owner task holds the [`Client`] state machine; the UDP receive
//! task, the TCP session's tasks, the connecting task and the user (stdin, Ctrl-C, the demo)
//! feed it through one bounded channel.

use std::io;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_io::{Async, Timer};
use feige_core::client::{Client, ClientConfig, ClientTransmit, MessageId, SendError};
use feige_std::app::chat::{self, ChatEvent, ChatOutcome};
use feige_std::app::session_id;
use feige_std::client::local_endpoint;
use feige_std::tui::{self, SendReply};
use smol::channel::{self, Receiver, Sender};
use smol::{future, Task};

pub use feige_std::client::ChatOptions;

use crate::conn::{ConnLimits, Connection};
use crate::inbox::{self, Next};
use crate::{runtime, udp};

const INBOX_CAPACITY: usize = 1024;

/// How long opening the TCP session may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long an exiting client waits for its last lines (the logout) to go out.
const FLUSH_AT_EXIT: Duration = Duration::from_secs(2);

/// The client's own output is a few short lines; more than this unsent means the server is gone.
const TCP_LIMITS: ConnLimits = ConnLimits {
    max_queued_bytes: 1 << 20,
    linger: Duration::from_secs(1),
};

/// A message to send for the terminal UI, and where the result of `send_message` goes.
struct SendRequest {
    to: String,
    text: String,
    reply: SendReply,
}

enum Input {
    Datagram {
        from: SocketAddr,
        data: Vec<u8>,
    },
    Connected {
        attempt: u64,
        stream: Async<TcpStream>,
    },
    ConnectFailed {
        attempt: u64,
    },
    TcpBytes {
        attempt: u64,
        data: Vec<u8>,
    },
    TcpLost {
        attempt: u64,
    },
    Line(String),
    Quit,
    Send(SendRequest),
}

/// Sends the user's commands to a running client; cheap to clone. Its methods block (briefly)
/// while the client's inbox is full, so call them from a thread, not a task.
#[derive(Clone)]
pub struct ChatCommander(Sender<Input>);

impl ChatCommander {
    /// One typed line: `/msg NAME TEXT`, `/list` or `/quit`.
    pub fn line(&self, line: String) {
        let _ = self.0.send_blocking(Input::Line(line));
    }

    /// Logs out properly (Ctrl-C, end of input). Harmless once the session has ended.
    pub fn quit(&self) {
        let _ = self.0.send_blocking(Input::Quit);
    }

    /// Sends `text` to `to` as `/msg` does; `reply` gets the result (the message's id, or
    /// why it was refused) on the client's side, before any event about that message.
    pub fn send_message(
        &self,
        to: &str,
        text: &str,
        reply: impl FnOnce(Result<MessageId, SendError>) + Send + 'static,
    ) {
        let _ = self.0.send_blocking(Input::Send(SendRequest {
            to: to.to_owned(),
            text: text.to_owned(),
            reply: Box::new(reply),
        }));
    }
}

/// The terminal UI (shared with `feige`) reaches this driver through its commands.
impl tui::Commander for ChatCommander {
    fn send(&self, to: &str, text: &str, reply: SendReply) {
        self.send_message(to, text, reply);
    }

    fn log_out(&self) {
        self.quit();
    }
}

/// A running client.
pub struct ChatHandle {
    commander: ChatCommander,
    owner: Task<ChatOutcome>,
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
        runtime::block_on(self.owner)
    }
}

/// Binds the UDP socket and starts logging in; every event goes to `on_event`, the last being
/// terminal (`logged_out`, `login_failed` or `disconnected`).
pub fn start(
    options: ChatOptions,
    on_event: impl FnMut(ChatEvent) + Send + 'static,
) -> io::Result<ChatHandle> {
    let socket = Arc::new(Async::<UdpSocket>::bind(options.bind)?);
    let local = local_endpoint(socket.get_ref(), options.server)?;
    let (tx, rx) = channel::bounded(INBOX_CAPACITY);
    let receiving = runtime::spawn(udp::receive(
        Arc::clone(&socket),
        tx.clone(),
        |from, data| Input::Datagram { from, data },
    ));
    let config = ClientConfig {
        dialect: options.dialect,
        ..ClientConfig::new(options.name, options.server, local, session_id::fresh())
    };
    let inputs = tx.clone();
    let owner = runtime::spawn(async move {
        let owner = Owner {
            client: Client::new(config, Instant::now()),
            udp: socket,
            tcp: None,
            connecting: None,
            attempt: 0,
            flushing: Vec::new(),
            inputs,
            on_event: Box::new(on_event),
            outcome: None,
        };
        let outcome = owner.run(rx).await;
        drop(receiving);
        outcome
    });
    Ok(ChatHandle {
        commander: ChatCommander(tx),
        owner,
        local,
    })
}

struct Owner {
    client: Client,
    udp: Arc<Async<UdpSocket>>,
    tcp: Option<Connection>,
    /// The task opening the TCP session, if one is under way.
    connecting: Option<Task<()>>,
    /// Numbers the TCP sessions, so late input from an abandoned one is recognised and ignored.
    attempt: u64,
    /// Writers of closed sessions still flushing (the logout line, say).
    flushing: Vec<Task<()>>,
    inputs: Sender<Input>,
    on_event: Box<dyn FnMut(ChatEvent) + Send>,
    outcome: Option<ChatOutcome>,
}

impl Owner {
    async fn run(mut self, inputs: Receiver<Input>) -> ChatOutcome {
        loop {
            self.drain(Instant::now());
            if let Some(outcome) = self.outcome {
                self.finish().await;
                return outcome;
            }
            let input = match inbox::next(&inputs, self.client.poll_timeout()).await {
                Next::Input(input) => Some(input),
                Next::Deadline => None,
                Next::Closed => return ChatOutcome::Disconnected,
            };
            let now = Instant::now();
            if let Some(input) = input {
                self.handle(now, input);
            }
            if self.client.poll_timeout().is_some_and(|at| at <= now) {
                self.client.handle_timeout(now);
            }
        }
    }

    /// Lets the last lines go out (bounded in time) before the process may exit.
    async fn finish(&mut self) {
        self.connecting = None;
        if let Some(writer) = self.tcp.take().and_then(Connection::close) {
            self.flushing.push(writer);
        }
        let flushing = std::mem::take(&mut self.flushing);
        let all_flushed = async {
            for writer in flushing {
                writer.await;
            }
        };
        future::or(all_flushed, async {
            Timer::after(FLUSH_AT_EXIT).await;
        })
        .await;
    }

    fn handle(&mut self, now: Instant, input: Input) {
        match input {
            Input::Datagram { from, data } => self.client.handle_datagram(now, from, &data),
            Input::Connected { attempt, stream } if attempt == self.attempt => {
                self.connecting = None;
                self.attach(now, stream);
            }
            Input::ConnectFailed { attempt } if attempt == self.attempt => {
                self.connecting = None;
                self.client.handle_tcp_closed(now);
            }
            Input::TcpBytes { attempt, data } if attempt == self.attempt && self.tcp.is_some() => {
                self.client.handle_tcp_bytes(now, &data);
            }
            Input::TcpLost { attempt } if attempt == self.attempt => {
                if self.tcp.take().is_some() {
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

    fn attach(&mut self, now: Instant, stream: Async<TcpStream>) {
        let attempt = self.attempt;
        let tcp = Connection::spawn(
            stream,
            TCP_LIMITS,
            self.inputs.clone(),
            move |data| Input::TcpBytes { attempt, data },
            Input::TcpLost { attempt },
        );
        self.tcp = Some(tcp);
        self.client.handle_connected(now);
    }

    fn connect(&mut self, to: SocketAddr) {
        self.tcp = None;
        self.attempt += 1;
        let attempt = self.attempt;
        let inputs = self.inputs.clone();
        self.connecting = Some(runtime::spawn(async move {
            let timeout = async {
                Timer::after(CONNECT_TIMEOUT).await;
                Err(std::io::ErrorKind::TimedOut.into())
            };
            let input = match future::or(Async::<TcpStream>::connect(to), timeout).await {
                Ok(stream) => {
                    let _ = stream.get_ref().set_nodelay(true);
                    Input::Connected { attempt, stream }
                }
                Err(e) => {
                    tracing::warn!("cannot connect to {to}: {e}");
                    Input::ConnectFailed { attempt }
                }
            };
            let _ = inputs.send(input).await;
        }));
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
                let Some(tcp) = &mut self.tcp else {
                    tracing::debug!("no TCP session for {} bytes", data.len());
                    return;
                };
                match tcp.send(data) {
                    Ok(_) => tcp.wake_writer(),
                    Err(_) => {
                        self.tcp = None;
                        self.client.handle_tcp_closed(now);
                    }
                }
            }
            ClientTransmit::Close => {
                // Any connect still under way is abandoned too.
                self.attempt += 1;
                self.connecting = None;
                if let Some(writer) = self.tcp.take().and_then(Connection::close) {
                    self.flushing.push(writer);
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
