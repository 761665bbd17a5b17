//! The driver end to end, in process: sockets on loopback, the test as a raw client.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::mpsc;
use std::time::Duration;

use feige_app::driver::{RunningServer, ServerEvents, ServerOptions, ServerSetup, ServerThread};
use feige_core::server::{LeaveReason, ServerEvent};

use super::start;

const WAIT: Duration = Duration::from_secs(10);

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// Logs `name` in by UDP and claims the login on a new TCP connection.
fn log_in(udp: SocketAddr, name: &str) -> TcpStream {
    let socket = UdpSocket::bind(loopback()).unwrap();
    socket.set_read_timeout(Some(WAIT)).unwrap();
    let local = socket.local_addr().unwrap();
    socket
        .send_to(format!("login,{name},{local}").as_bytes(), udp)
        .unwrap();
    let mut buf = [0u8; 64];
    let (len, _) = socket.recv_from(&mut buf).unwrap();
    let accept = std::str::from_utf8(&buf[..len]).unwrap();
    let port: u16 = accept
        .trim()
        .strip_prefix("Accept,")
        .unwrap()
        .parse()
        .unwrap();
    let mut tcp = TcpStream::connect(SocketAddr::new(udp.ip(), port)).unwrap();
    tcp.set_read_timeout(Some(WAIT)).unwrap();
    tcp.write_all(format!("login,{name},{local}\n").as_bytes())
        .unwrap();
    tcp
}

#[test]
fn the_accept_announces_the_bound_tcp_port_and_the_snapshot_follows() {
    let options = ServerOptions::new(loopback(), loopback());
    let server = serve(options, Box::new(|_| {}));
    let tcp = log_in(server.udp_addr(), "alice");
    let mut line = String::new();
    BufReader::new(tcp).read_line(&mut line).unwrap();
    assert!(line.starts_with("alice,127.0.0.1:"), "{line}");
    assert!(line.ends_with(";end\n"), "{line}");
    shut_down(server);
}

#[test]
fn a_session_over_its_output_bound_is_logged_out_as_a_slow_consumer() {
    let mut options = ServerOptions::new(loopback(), loopback());
    // The snapshot always goes out whole; nothing after it fits.
    options.max_queued_bytes = 1;
    let (events, received) = mpsc::channel();
    let server = serve(
        options,
        Box::new(move |e| {
            let _ = events.send(e);
        }),
    );
    let mut slow = BufReader::new(log_in(server.udp_addr(), "slow"));
    let mut snapshot = String::new();
    slow.read_line(&mut snapshot).unwrap();
    assert!(snapshot.starts_with("slow,127.0.0.1:"), "{snapshot}");
    let _alice = log_in(server.udp_addr(), "alice");
    let left = received
        .iter()
        .find(|e| matches!(e, ServerEvent::Left { .. }))
        .unwrap();
    assert!(
        matches!(left, ServerEvent::Left { ref name, reason: LeaveReason::SlowConsumer, .. } if name.as_str() == "slow"),
        "{left:?}"
    );
    let mut rest = String::new();
    let _ = slow.read_line(&mut rest);
    assert_eq!(rest, "", "the connection is closed, alice's join not sent");
    shut_down(server);
}

#[test]
fn shutdown_tells_every_session_and_ends() {
    let options = ServerOptions::new(loopback(), loopback());
    let server = serve(options, Box::new(|_| {}));
    let tcp = log_in(server.udp_addr(), "alice");
    let mut reader = BufReader::new(tcp);
    let mut snapshot = String::new();
    reader.read_line(&mut snapshot).unwrap();
    shut_down(server);
    let mut last = String::new();
    reader.read_line(&mut last).unwrap();
    assert_eq!(last, "error,shutdown\n");
}

/// A server on `options`, its events to `on_event`.
fn serve(options: ServerOptions, on_event: ServerEvents) -> ServerThread {
    start(ServerSetup {
        options,
        on_listening: &mut |_| {},
        on_event,
        metrics: Default::default(),
    })
    .unwrap()
}

/// Stops the server and waits until it has ended.
fn shut_down(server: ServerThread) {
    server.stopper.stop();
    Box::new(server).wait();
}
