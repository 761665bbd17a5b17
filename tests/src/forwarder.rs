//! A UDP forwarder to stand in front of one client, the way a router does, and to keep a copy of
//! every datagram between the client and its peers that passed it.
//!
//! The client is told the server is at the forwarder's `server_face`; the forwarder relays its
//! datagrams to the real server from its `public` socket, so the server lists the client at the
//! forwarder's public address, and every peer's datagram for the client arrives there. Those are
//! relayed to the client from a socket of that peer's own (its mapping, as a NAT would make
//! one), and kept; what the client sends back to that socket goes out to the peer from the
//! public socket, so the peer sees the client where it is listed.

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// How long a blocked socket waits before looking at the stop flag.
const POLL: Duration = Duration::from_millis(50);

/// A forwarder for one client; stops when dropped.
pub struct Forwarder {
    server_face: SocketAddr,
    public: SocketAddr,
    peer_traffic: Arc<Mutex<Vec<Vec<u8>>>>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Forwarder {
    /// A forwarder on `ip` in front of the client that will use [`server_face`](Self::server_face)
    /// as its server, toward the real server at `server`.
    pub fn start(ip: &str, server: SocketAddr) -> Forwarder {
        let bind = || {
            let socket = UdpSocket::bind((ip, 0)).expect("bind a forwarder socket");
            socket.set_read_timeout(Some(POLL)).expect("a read timeout");
            Arc::new(socket)
        };
        let (face, public) = (bind(), bind());
        let server_face = face.local_addr().expect("a bound socket");
        let public_addr = public.local_addr().expect("a bound socket");
        let client: Arc<Mutex<Option<SocketAddr>>> = Arc::default();
        let peer_traffic: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        // Client → server, from the public socket.
        {
            let (face, public) = (Arc::clone(&face), Arc::clone(&public));
            let (client, stop) = (Arc::clone(&client), Arc::clone(&stop));
            threads.push(thread::spawn(move || {
                relay_loop(&face, &stop, |data, from| {
                    *client.lock().unwrap_or_else(|e| e.into_inner()) = Some(from);
                    let _ = public.send_to(data, server);
                });
            }));
        }
        // Anything to the public address: the server's answers go back from the face the client
        // believes is the server; a peer's datagrams go from that peer's mapping, and are kept.
        {
            let (peer_traffic, stop) = (Arc::clone(&peer_traffic), Arc::clone(&stop));
            let ip = ip.to_owned();
            threads.push(thread::spawn(move || {
                let mut mappings: HashMap<SocketAddr, Arc<UdpSocket>> = HashMap::new();
                let mut returns = Vec::new();
                relay_loop(&public, &stop, |data, from| {
                    let Some(to) = *client.lock().unwrap_or_else(|e| e.into_inner()) else {
                        return;
                    };
                    if from == server {
                        let _ = face.send_to(data, to);
                        return;
                    }
                    peer_traffic
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(data.to_vec());
                    let mapping = mappings.entry(from).or_insert_with(|| {
                        let mapping = Arc::new(
                            UdpSocket::bind((ip.as_str(), 0)).expect("bind a mapping socket"),
                        );
                        mapping
                            .set_read_timeout(Some(POLL))
                            .expect("a read timeout");
                        // What the client answers there goes to the peer, from the public face.
                        let (back, public, stop) =
                            (Arc::clone(&mapping), Arc::clone(&public), Arc::clone(&stop));
                        let kept = Arc::clone(&peer_traffic);
                        returns.push(thread::spawn(move || {
                            relay_loop(&back, &stop, |data, _| {
                                kept.lock()
                                    .unwrap_or_else(|e| e.into_inner())
                                    .push(data.to_vec());
                                let _ = public.send_to(data, from);
                            });
                        }));
                        mapping
                    });
                    let _ = mapping.send_to(data, to);
                });
                for thread in returns {
                    let _ = thread.join();
                }
            }));
        }
        Forwarder {
            server_face,
            public: public_addr,
            peer_traffic,
            stop,
            threads,
        }
    }

    /// Where the client must think the server is.
    pub fn server_face(&self) -> SocketAddr {
        self.server_face
    }

    /// Where the server (and every peer) sees the client.
    pub fn public(&self) -> SocketAddr {
        self.public
    }

    /// Every datagram between the client and its peers that passed so far, both ways.
    pub fn peer_traffic(&self) -> Vec<Vec<u8>> {
        self.peer_traffic
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

fn relay_loop(socket: &UdpSocket, stop: &AtomicBool, mut each: impl FnMut(&[u8], SocketAddr)) {
    let mut buf = vec![0u8; 65_536];
    while !stop.load(Ordering::Relaxed) {
        if let Ok((len, from)) = socket.recv_from(&mut buf) {
            each(buf.get(..len).unwrap_or_default(), from);
        }
    }
}
