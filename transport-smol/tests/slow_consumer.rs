//! A session that never reads its output is dropped as a slow consumer and logged out: everyone
//! else sees it leave, and the server goes on serving. Raw protocol on loopback against the
//! library's server, with a small output bound so a few thousand `pong`s pass it.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use feige_app::driver::{RunningServer, ServerOptions, ServerSetup};
use feige_core::server::{LeaveReason, ServerEvent};
use feige_smol::server;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

const STEP: Duration = Duration::from_secs(15);

/// Logs `name` in by UDP and returns where to claim it, and the endpoint to declare.
fn udp_login(server: SocketAddr, name: &str) -> (SocketAddr, SocketAddr) {
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let local = udp.local_addr().unwrap();
    let mut answer = [0u8; 64];
    for _ in 0..20 {
        udp.send_to(format!("login,{name},{local}").as_bytes(), server)
            .unwrap();
        if let Ok((len, _)) = udp.recv_from(&mut answer) {
            let text = String::from_utf8_lossy(&answer[..len])
                .trim_end()
                .to_owned();
            let port: u16 = text.strip_prefix("Accept,").unwrap().parse().unwrap();
            return (SocketAddr::new(server.ip(), port), local);
        }
    }
    panic!("no answer to {name}'s login");
}

/// A session that reads its lines.
fn reading_session(server: SocketAddr, name: &str) -> BufReader<TcpStream> {
    let (tcp, local) = udp_login(server, name);
    let mut stream = TcpStream::connect(tcp).unwrap();
    stream.set_read_timeout(Some(STEP)).unwrap();
    writeln!(stream, "login,{name},{local}").unwrap();
    let mut reader = BufReader::new(stream);
    let mut snapshot = String::new();
    reader.read_line(&mut snapshot).unwrap();
    assert!(snapshot.trim_end().ends_with(";end"), "{snapshot}");
    reader
}

/// A session whose receive window is tiny, so unread output piles up at the server quickly.
fn deaf_session(server: SocketAddr, name: &str) -> TcpStream {
    let (tcp, local) = udp_login(server, name);
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect_timeout(&SockAddr::from(tcp), STEP).unwrap();
    let mut stream = TcpStream::from(socket);
    // A server that stopped reading must fail the test, not hang it.
    stream.set_write_timeout(Some(STEP)).unwrap();
    writeln!(stream, "login,{name},{local}").unwrap();
    stream
}

fn dropped_deaf(event: &ServerEvent) -> bool {
    matches!(event, ServerEvent::Left { name, reason: LeaveReason::SlowConsumer, .. }
        if name.as_str() == "deaf")
}

#[test]
fn a_session_that_does_not_read_is_dropped_and_logged_out() {
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    let mut options = ServerOptions::new(loopback, loopback);
    options.max_queued_bytes = 64 << 10;
    // On a loaded machine the flood can take a while: no one may idle out meanwhile.
    options.config.idle_timeout = Duration::from_secs(3600);
    let (events_tx, events) = mpsc::channel();
    let server = server::start(ServerSetup {
        options,
        on_listening: &mut |_| {},
        metrics: Default::default(),
        on_event: Box::new(move |event| {
            let _ = events_tx.send(event);
        }),
    })
    .unwrap();
    let udp = server.udp_addr();

    let mut alice = reading_session(udp, "alice");
    let mut deaf = deaf_session(udp, "deaf");
    let mut line = String::new();
    alice.read_line(&mut line).unwrap();
    assert!(line.starts_with("login,deaf,"), "{line}");

    // Every ping is answered with a pong that `deaf` never reads.
    let pings = "ping\n".repeat(1000);
    // The kernel's send buffer absorbs megabytes of pongs before the server's own queue fills.
    let deadline = Instant::now() + 4 * STEP;
    let mut dropped = false;
    while !dropped && Instant::now() < deadline {
        if deaf.write_all(pings.as_bytes()).is_err() {
            // The server closed it; the event says why.
            dropped = events
                .recv_timeout(STEP)
                .into_iter()
                .any(|e| dropped_deaf(&e));
            break;
        }
        dropped = events.try_iter().any(|e| dropped_deaf(&e));
    }
    assert!(dropped, "deaf is dropped as a slow consumer");
    line.clear();
    alice.read_line(&mut line).unwrap();
    assert!(
        line.starts_with("logout,deaf,"),
        "alice sees deaf leave: {line}"
    );

    // The server still serves: a newcomer sees alice and itself.
    let (tcp, local) = udp_login(udp, "bob");
    let mut bob = TcpStream::connect(tcp).unwrap();
    bob.set_read_timeout(Some(STEP)).unwrap();
    writeln!(bob, "login,bob,{local}").unwrap();
    let mut snapshot = String::new();
    BufReader::new(bob).read_line(&mut snapshot).unwrap();
    assert!(
        snapshot.starts_with("alice,") && snapshot.contains(";bob,"),
        "{snapshot}"
    );

    server.stopper().stop();
    Box::new(server).wait();
}
