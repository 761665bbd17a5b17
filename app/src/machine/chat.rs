//! The chat client's owner, minus the sockets.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use feige_core::client::{Client, ClientState, ClientTransmit, Record};

use super::Overflow;
use crate::chat::ChatEvent;
use crate::driver::{ChatSinks, ClientJob};

/// What a client's owner is told; `S` is the transport's connected-stream type. TCP inputs carry
/// the number of the connection attempt they belong to, so that late input from an abandoned
/// session is recognised and dropped.
pub enum ClientInput<S> {
    /// A datagram on the client's UDP socket.
    Datagram {
        /// Its source.
        from: SocketAddr,
        /// Its bytes.
        data: Vec<u8>,
    },
    /// The TCP session of `attempt` is connected.
    Connected {
        /// The attempt.
        attempt: u64,
        /// The stream, for the transport to run.
        stream: S,
    },
    /// The TCP session of `attempt` could not be opened.
    ConnectFailed {
        /// The attempt.
        attempt: u64,
    },
    /// Bytes from the server on the session of `attempt`.
    TcpBytes {
        /// The attempt.
        attempt: u64,
        /// The bytes, split anywhere.
        data: Vec<u8>,
    },
    /// The session of `attempt` closed or failed.
    TcpLost {
        /// The attempt.
        attempt: u64,
    },
    /// A job of the application.
    Job(ClientJob),
}

/// The I/O a client's owner does, on the transport's own sockets.
pub trait ClientIo {
    /// A connected TCP stream, as the transport holds it.
    type Stream;

    /// Sends one datagram from the client's UDP socket.
    fn send_datagram(&mut self, to: SocketAddr, data: &[u8]);

    /// Starts opening a TCP session to `to`; the outcome comes back as
    /// [`ClientInput::Connected`] or [`ClientInput::ConnectFailed`] for `attempt`.
    fn connect(&mut self, to: SocketAddr, attempt: u64);

    /// Runs a connected stream as the session; its bytes and its loss come back for `attempt`.
    fn attach(&mut self, stream: Self::Stream, attempt: u64) -> io::Result<()>;

    /// Queues bytes on the session; past its bound the transport tears it down and says so.
    fn send(&mut self, data: Bytes) -> Result<(), Overflow>;

    /// Flushes what is queued on the session, then closes it; a connect under way is abandoned.
    fn close(&mut self);

    /// Tears the session down at once (it was lost, or a new one replaces it).
    fn abort(&mut self);
}

/// A [`Client`] whose events and records go to the application.
pub struct ChatMachine {
    client: Client,
    sinks: ChatSinks,
    /// Numbers the TCP sessions; input of any other number is stale.
    attempt: u64,
    /// A session of the current attempt is attached.
    attached: bool,
    /// I/O taken from the client whose records are durable and whose events were handed over.
    ready: VecDeque<ClientTransmit>,
}

impl ChatMachine {
    /// Attaches the application's `sinks` to `client`.
    pub fn new(client: Client, sinks: ChatSinks) -> Self {
        ChatMachine {
            client,
            sinks,
            attempt: 0,
            attached: false,
            ready: VecDeque::new(),
        }
    }

    /// The machine.
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }

    /// Runs a job of the application; what it answers is shown at once.
    pub fn run(&mut self, now: Instant, job: ClientJob) {
        if let Some(answer) = job(&mut self.client, now) {
            (self.sinks.on_event)(answer);
        }
    }

    /// One input.
    pub fn handle<S>(
        &mut self,
        now: Instant,
        input: ClientInput<S>,
        io: &mut impl ClientIo<Stream = S>,
    ) {
        let current = self.attempt;
        match input {
            ClientInput::Datagram { from, data } => self.client.handle_datagram(now, from, &data),
            ClientInput::Connected { attempt, stream } if attempt == current => {
                match io.attach(stream, attempt) {
                    Ok(()) => {
                        self.attached = true;
                        self.client.handle_connected(now);
                    }
                    Err(e) => {
                        tracing::warn!("cannot run the TCP session: {e}");
                        self.client.handle_tcp_closed(now);
                    }
                }
            }
            ClientInput::ConnectFailed { attempt } if attempt == current => {
                self.client.handle_tcp_closed(now);
            }
            ClientInput::TcpBytes { attempt, data } if attempt == current && self.attached => {
                self.client.handle_tcp_bytes(now, &data);
            }
            ClientInput::TcpLost { attempt } if attempt == current && self.attached => {
                self.attached = false;
                io.abort();
                self.client.handle_tcp_closed(now);
            }
            ClientInput::Job(job) => self.run(now, job),
            // Input from an abandoned TCP session.
            ClientInput::Connected { .. }
            | ClientInput::ConnectFailed { .. }
            | ClientInput::TcpBytes { .. }
            | ClientInput::TcpLost { .. } => {}
        }
    }

    /// The drain contract: every transmit done through `io`, every event handed over.
    pub fn drain(&mut self, now: Instant, io: &mut impl ClientIo) {
        while let Some(transmit) = self.poll_transmit() {
            match transmit {
                ClientTransmit::Datagram { to, data } => io.send_datagram(to, &data),
                ClientTransmit::Connect { to } => {
                    io.abort();
                    self.attached = false;
                    self.attempt += 1;
                    io.connect(to, self.attempt);
                }
                ClientTransmit::Send { data } if self.attached => {
                    if io.send(data) == Err(Overflow) {
                        self.attached = false;
                        self.client.handle_tcp_closed(now);
                    }
                }
                ClientTransmit::Send { data } => {
                    tracing::debug!("no TCP session for {} bytes", data.len());
                }
                ClientTransmit::Close => {
                    // Any connect still under way is abandoned too.
                    self.attempt += 1;
                    self.attached = false;
                    io.close();
                }
                // Made durable as it was polled.
                ClientTransmit::Persist(_) => {}
            }
        }
    }

    /// Makes a record durable, as [`ClientTransmit::Persist`] asks. A store that cannot write is
    /// said, and the chat goes on without it.
    fn persist(&mut self, record: &Record) {
        if let Err(why) = (self.sinks.persist)(record) {
            tracing::error!("cannot keep a record: {why}");
            (self.sinks.on_event)(ChatEvent::Error(format!(
                "cannot keep the history and outbox: {why}"
            )));
        }
    }

    /// The next I/O to do (never a [`ClientTransmit::Persist`]). Taken from the client a batch at
    /// a time: first every record of the batch is written, then every event is handed over, then
    /// the I/O goes out — so nothing is shown (`sent`, `queued`, a message) nor sent before the
    /// record it depends on is durable. Writing a record earlier than the core asked is always
    /// safe: it describes what the client has already decided.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<ClientTransmit> {
        if self.ready.is_empty() {
            while let Some(transmit) = self.client.poll_transmit() {
                match transmit {
                    ClientTransmit::Persist(record) => self.persist(&record),
                    io => self.ready.push_back(io),
                }
            }
            while let Some(event) = self.client.poll_event() {
                (self.sinks.on_event)(ChatEvent::Core(event));
            }
        }
        self.ready.pop_front()
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.client.poll_timeout()
    }

    /// The deadline passed (early calls are harmless).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.client.handle_timeout(now);
    }

    /// Whether the client has ended (its terminal event was handed over once drained).
    pub fn is_closed(&self) -> bool {
        self.client.state() == ClientState::Closed
    }
}
