//! The chat client driver: one owner thread holds the client's [`ChatMachine`]; the UDP reader,
//! the TCP session's threads, the connecting thread and the application (stdin, Ctrl-C, the UI,
//! the demo) feed it through one bounded channel.

use std::io;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use bytes::Bytes;
use feige_app::driver::{
    ChatCommands, ChatMachine, ChatOptions, ChatThread, ClientInput, ClientIo, Overflow,
};
use feige_core::client::Client;
use feige_platform::address::{local_endpoint, Outgoing};
use feige_platform::limits::{ConnLimits, CLIENT_FLUSH_AT_EXIT, CONNECT_TIMEOUT};

use crate::conn::{Connection, Writers};
use crate::inbox::{self, Next};
use crate::udp;

const INBOX_CAPACITY: usize = 1024;

type Input = ClientInput<TcpStream>;

/// Binds the UDP socket and starts logging in; every event goes to the options' sink, the last
/// being terminal (`logged_out`, `login_failed` or `disconnected`).
pub fn start(options: ChatOptions) -> io::Result<ChatThread> {
    let socket = UdpSocket::bind(options.bind)?;
    let local = local_endpoint(&socket, options.server)?;
    let (tx, rx) = mpsc::sync_channel(INBOX_CAPACITY);
    let stop = Arc::new(AtomicBool::new(false));
    let datagrams = tx.clone();
    udp::spawn_reader(socket.try_clone()?, Arc::clone(&stop), move |from, data| {
        datagrams.send(Input::Datagram { from, data }).is_ok()
    })?;
    let client = Client::new((options.config)(local), Instant::now());
    let mut machine = ChatMachine::new(client, options.sinks);
    let mut sockets = Sockets {
        udp: Outgoing::new(socket)?,
        tcp: None,
        writers: Writers::default(),
        inputs: tx.clone(),
    };
    let owner = thread::Builder::new()
        .name("client".into())
        .spawn(move || {
            run(&mut machine, &mut sockets, &rx);
            stop.store(true, Ordering::Relaxed);
        })?;
    let commands = ChatCommands::new(move |job| {
        let _ = tx.send(Input::Job(job));
    });
    Ok(ChatThread { commands, owner })
}

/// The owner loop: until the client has closed, then a bounded wait for its last lines.
fn run(machine: &mut ChatMachine, sockets: &mut Sockets, inputs: &Receiver<Input>) {
    loop {
        machine.drain(Instant::now(), sockets);
        if machine.is_closed() {
            if let Some(tcp) = sockets.tcp.take() {
                tcp.close();
            }
            sockets
                .writers
                .wait_idle(Instant::now() + CLIENT_FLUSH_AT_EXIT);
            return;
        }
        let input = match inbox::next(inputs, machine.poll_timeout()) {
            Next::Input(input) => Some(input),
            Next::Deadline => None,
            Next::Closed => return,
        };
        let now = Instant::now();
        if let Some(input) = input {
            machine.handle(now, input, sockets);
            machine.drain(now, sockets);
        }
        // Under a steady stream of input the wait never times out: check the deadline too.
        if machine.poll_timeout().is_some_and(|at| at <= now) {
            machine.handle_timeout(now);
        }
    }
}

/// The client's sockets: one UDP socket, and the TCP session with its reader and writer threads.
struct Sockets {
    udp: Outgoing,
    tcp: Option<Connection>,
    writers: Writers,
    inputs: SyncSender<Input>,
}

impl ClientIo for Sockets {
    type Stream = TcpStream;

    fn send_datagram(&mut self, to: SocketAddr, data: &[u8]) {
        self.udp.send(to, data);
    }

    fn connect(&mut self, to: SocketAddr, attempt: u64) {
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

    fn attach(&mut self, stream: TcpStream, attempt: u64) -> io::Result<()> {
        let bytes = self.inputs.clone();
        let lost = self.inputs.clone();
        let tcp = Connection::spawn(
            stream,
            ConnLimits::CLIENT,
            &self.writers,
            move |data| bytes.send(Input::TcpBytes { attempt, data }).is_ok(),
            move || {
                let _ = lost.send(Input::TcpLost { attempt });
            },
        )?;
        self.tcp = Some(tcp);
        Ok(())
    }

    fn send(&mut self, data: Bytes) -> Result<(), Overflow> {
        let Some(tcp) = &self.tcp else {
            return Ok(());
        };
        // Each send is a turn of its own: the writer is woken at once.
        match tcp.send(data) {
            Ok(_) => {
                tcp.end_turn();
                Ok(())
            }
            Err(_) => {
                self.tcp = None;
                Err(Overflow)
            }
        }
    }

    fn close(&mut self) {
        if let Some(tcp) = self.tcp.take() {
            tcp.close();
        }
    }

    fn abort(&mut self) {
        if let Some(tcp) = self.tcp.take() {
            tcp.abort();
        }
    }
}
