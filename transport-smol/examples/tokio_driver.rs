//! The same sans-IO core driven from tokio instead of smol: nothing in `feige-core` depends on a
//! runtime. A server and two clients on loopback; alice logs in, bob logs in, alice writes to bob,
//! and the delivered message is printed. Run: `cargo run -p feige-smol --example tokio_driver`.

use std::{collections::HashMap, error::Error, net::SocketAddr, time::Duration, time::Instant};

use feige_core::client::{Client, ClientConfig, ClientEvent, ClientTransmit};
use feige_core::server::{CloseCause, ConnId, Server, ServerConfig, ServerTransmit};
use feige_core::wire::{Name, SessionId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{tcp::OwnedWriteHalf, TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::time::{sleep_until, timeout};

type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

/// When to wake for a core's deadline (`None`: not before an input).
fn wake_at(deadline: Option<Instant>) -> tokio::time::Instant {
    let at = deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
    tokio::time::Instant::from_std(at)
}

async fn run_server(mut server: Server, udp: UdpSocket, listener: TcpListener) -> Res<()> {
    let (bytes_tx, mut bytes_rx) = mpsc::unbounded_channel::<(ConnId, Option<Vec<u8>>)>();
    let mut writers: HashMap<ConnId, OwnedWriteHalf> = HashMap::new();
    let (mut next_conn, mut buf) = (0, vec![0u8; 65_536]);
    loop {
        // The drain contract: every transmit and event, after every input.
        while let Some(transmit) = server.poll_transmit() {
            match transmit {
                ServerTransmit::Datagram { to, data } => _ = udp.send_to(&data, to).await,
                ServerTransmit::Send { conn, data } => {
                    if let Some(writer) = writers.get_mut(&conn) {
                        _ = writer.write_all(&data).await;
                    }
                }
                ServerTransmit::Close { conn } => drop(writers.remove(&conn)),
            }
        }
        while let Some(event) = server.poll_event() {
            eprintln!("server: {event:?}");
        }
        tokio::select! {
            received = udp.recv_from(&mut buf) => {
                let (len, from) = received?;
                server.handle_datagram(Instant::now(), from, buf.get(..len).unwrap_or_default());
            }
            accepted = listener.accept() => {
                let (stream, peer) = accepted?;
                next_conn += 1;
                let conn = ConnId(next_conn);
                let (mut reader, writer) = stream.into_split();
                writers.insert(conn, writer);
                server.handle_connection_opened(Instant::now(), conn, peer);
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
                Some(data) => server.handle_bytes(Instant::now(), conn, &data),
                None => {
                    writers.remove(&conn);
                    server.handle_connection_closed(Instant::now(), conn, CloseCause::Closed);
                }
            },
            () = sleep_until(wake_at(server.poll_timeout())) => server.handle_timeout(Instant::now()),
        }
    }
}

async fn run_client(
    mut client: Client,
    udp: UdpSocket,
    mut commands: UnboundedReceiver<(String, String)>,
    events: UnboundedSender<ClientEvent>,
) -> Res<()> {
    let (mut tcp, mut datagram, mut chunk) = (None, vec![0u8; 65_536], vec![0u8; 65_536]);
    loop {
        while let Some(transmit) = client.poll_transmit() {
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
            }
        }
        while let Some(event) = client.poll_event() {
            _ = events.send(event);
        }
        let now = Instant::now;
        tokio::select! {
            received = udp.recv_from(&mut datagram) => {
                let (len, from) = received?;
                client.handle_datagram(now(), from, datagram.get(..len).unwrap_or_default());
            }
            // With no TCP session the pattern does not match: the branch is off for this wait.
            Some(read) = async { Some(tcp.as_mut()?.read(&mut chunk).await) } => match read {
                Ok(len @ 1..) => client.handle_tcp_bytes(now(), chunk.get(..len).unwrap_or_default()),
                _ => {
                    tcp = None;
                    client.handle_tcp_closed(now());
                }
            },
            Some((to, text)) = commands.recv() => {
                client.send_message(now(), &to, &text)?;
            }
            () = sleep_until(wake_at(client.poll_timeout())) => client.handle_timeout(now()),
        }
    }
}

/// A client task: where to send it `(to, text)`, and the events it reports.
struct Party(Commands, UnboundedReceiver<ClientEvent>);
type Commands = UnboundedSender<(String, String)>;

/// Waits for `party`'s first event matching the pattern.
macro_rules! expect {
    ($party:expr, $pattern:pat $(if $guard:expr)?) => {
        loop {
            let event = $party.1.recv().await.ok_or("client ended")?;
            if matches!(&event, $pattern $(if $guard)?) {
                break event;
            }
        }
    };
}

/// Starts a client task logging in as `name`.
async fn start(name: &str, server: SocketAddr, id: u64) -> Res<Party> {
    let udp = UdpSocket::bind("127.0.0.1:0").await?;
    let local = udp.local_addr()?;
    let config = ClientConfig::new(Name::new(name)?, server, local, SessionId::new(id));
    let (commands, commands_rx) = mpsc::unbounded_channel();
    let (events, events_rx) = mpsc::unbounded_channel();
    let client = Client::new(config, Instant::now());
    tokio::spawn(run_client(client, udp, commands_rx, events));
    Ok(Party(commands, events_rx))
}

async fn script() -> Res<()> {
    let udp = UdpSocket::bind("127.0.0.1:0").await?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let server = udp.local_addr()?;
    let tcp_port = listener.local_addr()?.port();
    let config = ServerConfig {
        tcp_port,
        ..ServerConfig::default()
    };
    tokio::spawn(run_server(Server::new(config), udp, listener));

    let mut alice = start("alice", server, 0xa11ce).await?;
    expect!(alice, ClientEvent::LoggedIn { .. });
    let mut bob = start("bob", server, 0xb0b).await?;
    expect!(bob, ClientEvent::LoggedIn { .. });
    expect!(alice, ClientEvent::Joined(u) if u.name.as_str() == "bob");
    println!("alice and bob are logged in, driven by tokio");

    alice.0.send(("bob".into(), "hello from tokio".into()))?;
    println!("bob got: {:?}", expect!(bob, ClientEvent::Message { .. }));
    let delivered = expect!(alice, ClientEvent::Delivered { .. });
    println!("alice got: {delivered:?}");
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Res<()> {
    timeout(Duration::from_secs(10), script()).await?
}
