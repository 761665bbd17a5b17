//! The chat client driver: one owner task holds the client's [`ChatMachine`]; the UDP receive
//! task, the TCP session's tasks, the connecting task and the application (stdin, Ctrl-C, the UI,
//! the demo) feed it through one bounded channel.

use std::io;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::Arc;
use std::time::Instant;

use async_io::{Async, Timer};
use bytes::Bytes;
use feige_app::driver::{
    ChatCommands, ChatMachine, ChatOptions, ClientInput, ClientIo, Overflow, RunningChat,
};
use feige_core::client::Client;
use feige_platform::address::{local_endpoint, Outgoing};
use feige_platform::limits::{ConnLimits, CLIENT_FLUSH_AT_EXIT, CONNECT_TIMEOUT};
use smol::channel::{self, Receiver, Sender};
use smol::{future, Task};

use crate::conn::Connection;
use crate::inbox::{self, Next};
use crate::{runtime, udp};

const INBOX_CAPACITY: usize = 1024;

type Input = ClientInput<Async<TcpStream>>;

/// A running client.
pub struct ChatHandle {
    commands: ChatCommands,
    owner: Task<()>,
}

impl RunningChat for ChatHandle {
    fn commands(&self) -> ChatCommands {
        self.commands.clone()
    }

    fn is_finished(&self) -> bool {
        self.owner.is_finished()
    }

    fn wait(self: Box<Self>) {
        runtime::block_on(self.owner);
    }
}

/// Binds the UDP socket and starts logging in; every event goes to the options' sink, the last
/// being terminal (`logged_out`, `login_failed` or `disconnected`).
pub fn start(options: ChatOptions) -> io::Result<ChatHandle> {
    let socket = Arc::new(Async::<UdpSocket>::bind(options.bind)?);
    let local = local_endpoint(socket.get_ref(), options.server)?;
    let (tx, rx) = channel::bounded(INBOX_CAPACITY);
    let receiving = runtime::spawn(udp::receive(
        Arc::clone(&socket),
        tx.clone(),
        |from, data| Input::Datagram { from, data },
    ));
    let client = Client::new((options.config)(local), Instant::now());
    let machine = ChatMachine::new(client, options.sinks);
    let sockets = Sockets {
        udp: Outgoing::new(socket.get_ref().try_clone()?)?,
        tcp: None,
        connecting: None,
        flushing: Vec::new(),
        inputs: tx.clone(),
    };
    let owner = runtime::spawn(async move {
        run(machine, sockets, rx).await;
        drop(receiving);
    });
    // Blocks (briefly) while the inbox is full: the application calls from threads, not tasks.
    let commands = ChatCommands::new(move |job| {
        let _ = tx.send_blocking(Input::Job(job));
    });
    Ok(ChatHandle { commands, owner })
}

/// The owner task: until the client has closed, then a bounded wait for its last lines.
async fn run(mut machine: ChatMachine, mut sockets: Sockets, inputs: Receiver<Input>) {
    loop {
        machine.drain(Instant::now(), &mut sockets);
        if machine.is_closed() {
            sockets.finish().await;
            return;
        }
        let input = match inbox::next(&inputs, machine.poll_timeout()).await {
            Next::Input(input) => Some(input),
            Next::Deadline => None,
            Next::Closed => return,
        };
        let now = Instant::now();
        if let Some(input) = input {
            machine.handle(now, input, &mut sockets);
        }
        if machine.poll_timeout().is_some_and(|at| at <= now) {
            machine.handle_timeout(now);
        }
    }
}

/// The client's sockets: one UDP socket, and the TCP session's tasks.
struct Sockets {
    udp: Outgoing,
    tcp: Option<Connection>,
    /// The task opening the TCP session, if one is under way.
    connecting: Option<Task<()>>,
    /// Writers of closed sessions still flushing (the logout line, say).
    flushing: Vec<Task<()>>,
    inputs: Sender<Input>,
}

impl Sockets {
    /// Lets the last lines go out (bounded in time) before the process may exit.
    async fn finish(&mut self) {
        self.close();
        let flushing = std::mem::take(&mut self.flushing);
        let all_flushed = async {
            for writer in flushing {
                writer.await;
            }
        };
        future::or(all_flushed, async {
            Timer::after(CLIENT_FLUSH_AT_EXIT).await;
        })
        .await;
    }
}

impl ClientIo for Sockets {
    type Stream = Async<TcpStream>;

    fn send_datagram(&mut self, to: SocketAddr, data: &[u8]) {
        self.udp.send(to, data);
    }

    fn connect(&mut self, to: SocketAddr, attempt: u64) {
        let inputs = self.inputs.clone();
        self.connecting = Some(runtime::spawn(async move {
            let timeout = async {
                Timer::after(CONNECT_TIMEOUT).await;
                Err(io::ErrorKind::TimedOut.into())
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

    fn attach(&mut self, stream: Async<TcpStream>, attempt: u64) -> io::Result<()> {
        self.connecting = None;
        self.tcp = Some(Connection::spawn(
            stream,
            ConnLimits::CLIENT,
            self.inputs.clone(),
            move |data| Input::TcpBytes { attempt, data },
            Input::TcpLost { attempt },
        ));
        Ok(())
    }

    fn send(&mut self, data: Bytes) -> Result<(), Overflow> {
        let Some(tcp) = &mut self.tcp else {
            return Ok(());
        };
        match tcp.send(data) {
            Ok(_) => {
                tcp.wake_writer();
                Ok(())
            }
            Err(overflow) => {
                self.tcp = None;
                Err(overflow)
            }
        }
    }

    fn close(&mut self) {
        self.connecting = None;
        if let Some(writer) = self.tcp.take().and_then(|tcp| tcp.close(&Bytes::new())) {
            self.flushing.push(writer);
        }
    }

    fn abort(&mut self) {
        self.connecting = None;
        self.tcp = None;
    }
}
