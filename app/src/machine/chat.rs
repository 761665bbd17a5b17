//! The chat client's owner, minus the sockets.

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use feige_core::client::{Client, ClientState, ClientTransmit};

use super::Overflow;
use crate::chat::ChatEvent;
use crate::driver::{ChatEvents, ClientJob};

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

/// A [`Client`] whose events go to the application.
pub struct ChatMachine {
    client: Client,
    on_event: ChatEvents,
    /// Numbers the TCP sessions; input of any other number is stale.
    attempt: u64,
    /// A session of the current attempt is attached.
    attached: bool,
}

impl ChatMachine {
    /// Attaches `on_event` to `client`.
    pub fn new(client: Client, on_event: ChatEvents) -> Self {
        ChatMachine {
            client,
            on_event,
            attempt: 0,
            attached: false,
        }
    }

    /// The machine.
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }

    /// Runs a job of the application; what it answers is shown at once.
    pub fn run(&mut self, now: Instant, job: ClientJob) {
        if let Some(answer) = job(&mut self.client, now) {
            (self.on_event)(answer);
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
            }
        }
    }

    /// The next I/O to do, once every event before it has been handed over.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<ClientTransmit> {
        while let Some(event) = self.client.poll_event() {
            (self.on_event)(ChatEvent::Core(event));
        }
        self.client.poll_transmit()
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
