//! The application on a third runtime: tokio drives the same core behind the same
//! [`Transport`] as `feige` (threads) and `feige-smol` (smol tasks), and the app's demo runs on it
//! unchanged. Kept minimal on purpose (no output bound, no write batching): it shows the seam,
//! not a production transport. Run: `cargo run -p feige-app --example tokio_transport`.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::process::ExitCode;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use feige_app::driver::{
    ChatCommands, ChatMachine, ChatOptions, ChatThread, ClientJob, Listening, RunningChat,
    RunningServer, ServerMachine, ServerSetup, ServerThread, Stopper, Transport,
};
use feige_core::client::{Client, ClientTransmit};
use feige_core::server::{CloseCause, ConnId, Roster, Server, ServerTransmit};
use feige_platform::address::local_endpoint;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{tcp::OwnedWriteHalf, TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc::{self, UnboundedReceiver};
use tokio::time::sleep_until;

/// tokio, one current-thread runtime per server or client.
struct TokioTransport;

impl Transport for TokioTransport {
    fn program(&self) -> &'static str {
        "tokio_transport"
    }

    fn start_server(&self, setup: ServerSetup<'_>) -> io::Result<Box<dyn RunningServer>> {
        let ServerSetup {
            options,
            on_listening,
            on_event,
            metrics,
        } = setup;
        if options.cluster_url.is_some() {
            return Err(io::Error::other(
                "the tokio example serves alone, not in a cluster",
            ));
        }
        let udp = std::net::UdpSocket::bind(options.udp)?;
        let listener = std::net::TcpListener::bind(options.tcp)?;
        udp.set_nonblocking(true)?;
        listener.set_nonblocking(true)?;
        let (udp_addr, tcp_addr) = (udp.local_addr()?, listener.local_addr()?);
        // No metrics endpoint here: the example keeps to the protocol.
        on_listening(Listening {
            udp: udp_addr,
            tcp: tcp_addr,
            metrics: None,
        });
        let mut config = options.config;
        config.tcp_port = tcp_addr.port();
        let machine = ServerMachine::new(Server::new(config), on_event, metrics, None);
        let (stop, stopped) = mpsc::unbounded_channel();
        let owner = on_runtime(async move {
            let (udp, listener) = (UdpSocket::from_std(udp)?, TcpListener::from_std(listener)?);
            serve(machine, udp, listener, stopped).await
        })?;
        let stopper = Stopper::new(move || {
            let _ = stop.send(());
        });
        Ok(Box::new(ServerThread {
            udp: udp_addr,
            tcp: tcp_addr,
            stopper,
            owner,
        }))
    }

    fn start_chat(&self, options: ChatOptions) -> io::Result<Box<dyn RunningChat>> {
        let udp = std::net::UdpSocket::bind(options.bind)?;
        udp.set_nonblocking(true)?;
        let config = (options.config)(local_endpoint(&udp, options.server)?);
        let machine = ChatMachine::new(Client::new(config, Instant::now()), options.sinks);
        let (jobs, inbox) = mpsc::unbounded_channel();
        let owner =
            on_runtime(async move { chat(machine, UdpSocket::from_std(udp)?, inbox).await })?;
        let commands = ChatCommands::new(move |job| {
            let _ = jobs.send(job);
        });
        Ok(Box::new(ChatThread { commands, owner }))
    }
}

/// Runs `task` to its end on a runtime of its own, on a thread of its own.
fn on_runtime(
    task: impl Future<Output = io::Result<()>> + Send + 'static,
) -> io::Result<JoinHandle<()>> {
    thread::Builder::new().spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        if let Err(e) = runtime.and_then(|runtime| runtime.block_on(task)) {
            eprintln!("tokio transport: {e}");
        }
    })
}

/// When to wake for a core's deadline (`None`: not before an input).
fn wake_at(deadline: Option<Instant>) -> tokio::time::Instant {
    let at = deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
    tokio::time::Instant::from_std(at)
}

async fn serve(
    mut machine: ServerMachine,
    udp: UdpSocket,
    listener: TcpListener,
    mut stop: UnboundedReceiver<()>,
) -> io::Result<()> {
    let (bytes_tx, mut bytes_rx) = mpsc::unbounded_channel::<(ConnId, Option<Vec<u8>>)>();
    let mut writers: HashMap<ConnId, OwnedWriteHalf> = HashMap::new();
    let mut roster = Roster::default();
    let (mut next_conn, mut buf) = (0, vec![0u8; 65_536]);
    loop {
        drain_server(&mut machine, &udp, &mut writers, &mut roster).await;
        let now = Instant::now;
        tokio::select! {
            received = udp.recv_from(&mut buf) => {
                let (len, from) = received?;
                machine.server().handle_datagram(now(), from, buf.get(..len).unwrap_or_default());
            }
            accepted = listener.accept() => {
                let (stream, peer) = accepted?;
                next_conn += 1;
                let conn = ConnId(next_conn);
                let (mut reader, writer) = stream.into_split();
                writers.insert(conn, writer);
                machine.server().handle_connection_opened(now(), conn, peer);
                let bytes_tx = bytes_tx.clone();
                tokio::spawn(async move {
                    let mut chunk = vec![0u8; 4096];
                    while let Ok(len @ 1..) = reader.read(&mut chunk).await {
                        _ = bytes_tx.send((conn, chunk.get(..len).map(<[u8]>::to_vec)));
                    }
                    _ = bytes_tx.send((conn, None));
                });
            }
            Some((conn, data)) = bytes_rx.recv() => match data {
                Some(data) => machine.server().handle_bytes(now(), conn, &data),
                None => {
                    writers.remove(&conn);
                    roster.remove(conn);
                    machine.server().handle_connection_closed(now(), conn, CloseCause::Closed);
                }
            },
            () = sleep_until(wake_at(machine.poll_timeout())) => machine.server().handle_timeout(now()),
            _ = stop.recv() => break,
        }
    }
    machine.server().shutdown(Instant::now());
    drain_server(&mut machine, &udp, &mut writers, &mut roster).await;
    Ok(())
}

/// The drain contract, each broadcast fanned out over the roster (a real transport bounds and
/// batches the writes).
async fn drain_server(
    machine: &mut ServerMachine,
    udp: &UdpSocket,
    writers: &mut HashMap<ConnId, OwnedWriteHalf>,
    roster: &mut Roster,
) {
    while let Some(transmit) = machine.poll_transmit() {
        let fanned: Vec<_> = roster.fan_out(transmit).collect();
        for transmit in fanned {
            transmit_one(transmit, udp, writers).await;
        }
    }
}

/// One transmit, a broadcast already fanned out; each write is awaited in turn.
async fn transmit_one(
    transmit: ServerTransmit,
    udp: &UdpSocket,
    writers: &mut HashMap<ConnId, OwnedWriteHalf>,
) {
    match transmit {
        ServerTransmit::Datagram { to, data } => _ = udp.send_to(&data, to).await,
        ServerTransmit::Send { conn, data } | ServerTransmit::Snapshot { conn, data } => {
            if let Some(writer) = writers.get_mut(&conn) {
                _ = writer.write_all(&data).await;
            }
        }
        ServerTransmit::Close { conn } => drop(writers.remove(&conn)),
        // Never asked: this server is not in a cluster.
        ServerTransmit::Store(_) => {}
        ServerTransmit::Broadcast { .. } => unreachable!("fanned out over the roster"),
    }
}

async fn chat(
    mut machine: ChatMachine,
    udp: UdpSocket,
    mut jobs: UnboundedReceiver<ClientJob>,
) -> io::Result<()> {
    let (mut tcp, mut datagram, mut chunk) = (None, vec![0u8; 65_536], vec![0u8; 65_536]);
    loop {
        while let Some(transmit) = machine.poll_transmit() {
            let client = machine.client();
            match transmit {
                ClientTransmit::Datagram { to, data } => _ = udp.send_to(&data, to).await,
                ClientTransmit::Connect { to } => {
                    tcp = TcpStream::connect(to).await.ok();
                    match tcp {
                        Some(_) => client.handle_connected(Instant::now()),
                        None => client.handle_tcp_closed(Instant::now()),
                    }
                }
                ClientTransmit::Send { data } => {
                    if let Some(tcp) = tcp.as_mut() {
                        _ = tcp.write_all(&data).await;
                    }
                }
                ClientTransmit::Close => tcp = None,
                // The machine made it durable as it was polled.
                ClientTransmit::Persist(_) => {}
            }
        }
        if machine.is_closed() {
            return Ok(());
        }
        let now = Instant::now;
        tokio::select! {
            received = udp.recv_from(&mut datagram) => {
                let (len, from) = received?;
                machine.client().handle_datagram(now(), from, datagram.get(..len).unwrap_or_default());
            }
            // With no TCP session the pattern does not match: the branch is off for this wait.
            Some(read) = async { Some(tcp.as_mut()?.read(&mut chunk).await) } => match read {
                Ok(len @ 1..) => machine.client().handle_tcp_bytes(now(), chunk.get(..len).unwrap_or_default()),
                _ => {
                    tcp = None;
                    machine.client().handle_tcp_closed(now());
                }
            },
            Some(job) = jobs.recv() => machine.run(now(), job),
            () = sleep_until(wake_at(machine.poll_timeout())) => machine.client().handle_timeout(now()),
        }
    }
}

fn main() -> ExitCode {
    feige_app::demo::main(&TokioTransport)
}
