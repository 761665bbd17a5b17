//! The textbook server, as `classic.md` describes it: `Accept` from a fresh port, the one-shot
//! list on every TCP connection then close, and each `login`/`logout` datagram re-sent to the
//! others. Like the original it refuses nothing (not even a duplicate name) and checks nothing;
//! unlike it, it does not die on a malformed datagram or an early close (these tests aim at
//! feige's client, not at the original's crashes).

use std::io::{ErrorKind, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::dotnet::{from_utf16le, write_dotnet_string};
use super::send_from_fresh_socket;
use crate::proc::STEP;

/// How often the server's threads look at the stop flag.
const POLL: Duration = Duration::from_millis(20);

/// The users online, in login order, as the textbook server keeps them.
type Users = Arc<Mutex<Vec<(String, SocketAddr)>>>;

/// A running textbook server on loopback; stopped when dropped.
pub struct ClassicServer {
    udp: SocketAddr,
    tcp: SocketAddr,
    users: Users,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    /// Every datagram it received, decoded (`None`: not UTF-16LE), with its source.
    received: Receiver<(Option<String>, SocketAddr)>,
    seen: Vec<(Option<String>, SocketAddr)>,
}

impl ClassicServer {
    /// Starts on `ip`, any free UDP and TCP ports.
    pub fn start(ip: &str) -> ClassicServer {
        let ip: IpAddr = ip.parse().expect("an IP address");
        let socket = UdpSocket::bind(SocketAddr::new(ip, 0)).expect("bind the server's UDP");
        socket.set_read_timeout(Some(POLL)).expect("set a timeout");
        let listener = TcpListener::bind(SocketAddr::new(ip, 0)).expect("bind the server's TCP");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let udp = socket.local_addr().expect("a bound socket");
        let tcp = listener.local_addr().expect("a bound listener");
        let users = Users::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, received) = mpsc::channel();
        let threads = vec![
            spawn_udp_loop(
                socket,
                tcp.port(),
                Arc::clone(&users),
                Arc::clone(&stop),
                tx,
            ),
            spawn_list_loop(listener, Arc::clone(&users), Arc::clone(&stop)),
        ];
        ClassicServer {
            udp,
            tcp,
            users,
            stop,
            threads,
            received,
            seen: Vec::new(),
        }
    }

    /// Where logins go.
    pub fn udp(&self) -> SocketAddr {
        self.udp
    }

    /// Where lists are fetched.
    pub fn tcp(&self) -> SocketAddr {
        self.tcp
    }

    /// The users online now, as `name,ip:port`, in login order.
    pub fn users(&self) -> Vec<String> {
        lock(&self.users)
            .iter()
            .map(|(name, ep)| format!("{name},{ep}"))
            .collect()
    }

    /// Skips received datagrams until one satisfies `matches`; panics after [`STEP`].
    pub fn wait_for(&mut self, what: &str, matches: impl Fn(&str) -> bool) -> (String, SocketAddr) {
        let deadline = Instant::now() + STEP;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.received.recv_timeout(left) {
                Ok((text, from)) => {
                    self.seen.push((text.clone(), from));
                    if let Some(text) = text.filter(|t| matches(t)) {
                        return (text, from);
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                    panic!(
                        "classic server: no {what} within {STEP:?}; seen: {:#?}",
                        self.seen
                    )
                }
            }
        }
    }
}

impl Drop for ClassicServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

fn lock(users: &Users) -> std::sync::MutexGuard<'_, Vec<(String, SocketAddr)>> {
    users.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Logins and logouts: answered and re-sent to the others, each from a fresh socket.
fn spawn_udp_loop(
    socket: UdpSocket,
    tcp_port: u16,
    users: Users,
    stop: Arc<AtomicBool>,
    report: Sender<(Option<String>, SocketAddr)>,
) -> JoinHandle<()> {
    thread::spawn(move || {
        let ip = socket.local_addr().map(|a| a.ip()).ok();
        let mut buf = vec![0u8; 65_536];
        while !stop.load(Ordering::Relaxed) {
            let (len, from) = match socket.recv_from(&mut buf) {
                Ok(got) => got,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    continue
                }
                Err(_) => return,
            };
            let text = buf.get(..len).and_then(from_utf16le);
            if let (Some(text), Some(ip)) = (&text, ip) {
                serve_datagram(ip, text, tcp_port, &users);
            }
            let _ = report.send((text, from));
        }
    })
}

/// One datagram, as the textbook server handles it.
fn serve_datagram(ip: IpAddr, text: &str, tcp_port: u16, users: &Users) {
    let mut fields = text.splitn(3, ',');
    let (Some(keyword), Some(name), Some(endpoint)) = (fields.next(), fields.next(), fields.next())
    else {
        return;
    };
    let Ok(endpoint) = endpoint.parse::<SocketAddr>() else {
        return;
    };
    match keyword {
        "login" => {
            let others: Vec<SocketAddr> = {
                let mut users = lock(users);
                let others = users.iter().map(|(_, ep)| *ep).collect();
                users.push((name.to_owned(), endpoint));
                others
            };
            send_from_fresh_socket(ip, endpoint, &format!("Accept,{tcp_port}"));
            for other in others {
                send_from_fresh_socket(ip, other, text);
            }
        }
        "logout" => {
            let remaining: Vec<SocketAddr> = {
                let mut users = lock(users);
                users.retain(|(n, ep)| !(n == name && *ep == endpoint));
                users.iter().map(|(_, ep)| *ep).collect()
            };
            for other in remaining {
                send_from_fresh_socket(ip, other, text);
            }
        }
        _ => {}
    }
}

/// Every connection gets the list as one `BinaryWriter.Write(string)`, then is closed.
fn spawn_list_loop(listener: TcpListener, users: Users, stop: Arc<AtomicBool>) -> JoinHandle<()> {
    thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            let mut stream = match listener.accept() {
                Ok((stream, _)) => stream,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    thread::sleep(POLL);
                    continue;
                }
                Err(_) => return,
            };
            let mut text = String::new();
            for (name, ep) in lock(&users).iter() {
                text.push_str(&format!("{name},{ep};"));
            }
            text.push_str("end");
            let _ = stream.set_nonblocking(false);
            let _ = stream.write_all(&write_dotnet_string(&text));
        }
    })
}
