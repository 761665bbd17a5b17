//! feige core: the sans-IO heart of a hybrid peer-to-peer messenger.
//!
//! A coordinator [`server::Server`] handles presence only; [`client::Client`]s log in through
//! it and then chat directly with each other. Both are deterministic state machines with no I/O
//! of their own: no sockets, no clock, no threads, no randomness. A transport (blocking std,
//! smol, tokio, a simulator…) owns those and drives the machines.
//!
//! # The drain contract
//!
//! Every input is a `handle_*` call carrying `now`. After **every** input, the driver drains the
//! outputs until they are empty:
//!
//! 1. `poll_transmit()` — I/O to do, in order (datagrams, TCP bytes, connect/close);
//! 2. `poll_event()` — what to show or log;
//! 3. `poll_timeout()` — when to call `handle_timeout(now)` next, if nothing else happens first.
//!
//! Calling `handle_timeout` early, or twice, is harmless. Input is borrowed (`&[u8]`, split
//! anywhere: TCP reassembly happens here), output is owned ([`bytes::Bytes`], so one broadcast
//! buffer is shared by all its recipients). Same inputs in the same order give the same outputs.
//!
//! # Driving loop
//!
//! A server and two clients over an in-memory network: they log in, one sends a message, the
//! other logs out.
//!
//! ```
//! use std::net::SocketAddr;
//! use std::time::Instant;
//!
//! use feige_core::client::{Client, ClientConfig, ClientEvent, ClientTransmit, StaticKeys};
//! use feige_core::server::{CloseCause, ConnId, Roster, Server, ServerConfig, ServerTransmit};
//! use feige_core::wire::{Name, SessionId};
//!
//! const SERVER: &str = "127.0.0.1:9000";
//!
//! /// Moves every queued output to its destination until the network is quiet.
//! fn pump(server: &mut Server, roster: &mut Roster, clients: &mut [Client], eps: &[SocketAddr],
//!         now: Instant, seen: &mut Vec<(usize, ClientEvent)>) {
//!     let server_udp: SocketAddr = SERVER.parse().unwrap();
//!     let at = |to: SocketAddr| eps.iter().position(|e| *e == to).unwrap();
//!     loop {
//!         let mut quiet = true;
//!         while let Some(t) = server.poll_transmit() {
//!             quiet = false;
//!             roster.observe(&t); // whom a broadcast reaches: every session told its snapshot
//!             match t {
//!                 ServerTransmit::Datagram { to, data } =>
//!                     clients[at(to)].handle_datagram(now, server_udp, &data),
//!                 ServerTransmit::Send { conn, data } | ServerTransmit::Snapshot { conn, data } =>
//!                     clients[conn.0 as usize].handle_tcp_bytes(now, &data),
//!                 ServerTransmit::Broadcast { data } => for conn in roster.iter() {
//!                     clients[conn.0 as usize].handle_tcp_bytes(now, &data);
//!                 },
//!                 ServerTransmit::Close { conn } => clients[conn.0 as usize].handle_tcp_closed(now),
//!                 // Only a server configured with a cluster asks its store.
//!                 ServerTransmit::Store(_) => unreachable!("a server alone"),
//!             }
//!         }
//!         let mut outbox = Vec::new();
//!         for (i, client) in clients.iter_mut().enumerate() {
//!             outbox.extend(std::iter::from_fn(|| client.poll_transmit()).map(|t| (i, t)));
//!             seen.extend(std::iter::from_fn(|| client.poll_event()).map(|e| (i, e)));
//!         }
//!         for (i, t) in outbox {
//!             quiet = false;
//!             let conn = ConnId(i as u64);
//!             match t {
//!                 ClientTransmit::Datagram { to, data } if to == server_udp =>
//!                     server.handle_datagram(now, eps[i], &data),
//!                 ClientTransmit::Datagram { to, data } =>
//!                     clients[at(to)].handle_datagram(now, eps[i], &data),
//!                 ClientTransmit::Connect { .. } => {
//!                     server.handle_connection_opened(now, conn, eps[i]);
//!                     clients[i].handle_connected(now);
//!                 }
//!                 ClientTransmit::Send { data } => server.handle_bytes(now, conn, &data),
//!                 ClientTransmit::Close => {
//!                     roster.remove(conn);
//!                     server.handle_connection_closed(now, conn, CloseCause::Closed);
//!                 }
//!                 // A real driver makes the record durable here, before the next transmit.
//!                 ClientTransmit::Persist(_record) => {}
//!             }
//!         }
//!         if quiet {
//!             return;
//!         }
//!     }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let now = Instant::now();
//! let mut server = Server::new(ServerConfig::default());
//! let mut roster = Roster::default();
//! let eps: Vec<SocketAddr> = vec!["127.0.0.1:5001".parse()?, "127.0.0.1:5002".parse()?];
//! let mut clients: Vec<Client> = ["alice", "bob"]
//!     .into_iter()
//!     .zip(&eps)
//!     .zip(1u8..) // session ids and keys: randomness comes from the caller
//!     .map(|((name, &ep), n)| {
//!         let sid = SessionId::new(u64::from(n));
//!         let mut config = ClientConfig::new(Name::new(name)?, SERVER.parse()?, ep, sid);
//!         config.identity = Some(StaticKeys::from_private([n; 32])); // chat is sealed to it
//!         Ok(Client::new(config, now))
//!     })
//!     .collect::<Result<_, Box<dyn std::error::Error>>>()?;
//! let mut seen = Vec::new();
//! pump(&mut server, &mut roster, &mut clients, &eps, now, &mut seen);
//! assert_eq!(clients[0].users().count(), 2, "alice sees bob join");
//!
//! let id = clients[0].send_message(now, "bob", "你好, bob")?;
//! pump(&mut server, &mut roster, &mut clients, &eps, now, &mut seen);
//! assert!(seen.contains(&(1, ClientEvent::Message { from: Name::new("alice")?, text: "你好, bob".into(), encrypted: true })));
//! assert!(seen.contains(&(0, ClientEvent::Delivered { to: Name::new("bob")?, id, encrypted: true })));
//!
//! clients[1].logout(now);
//! pump(&mut server, &mut roster, &mut clients, &eps, now, &mut seen);
//! assert!(seen.iter().any(|(who, e)| *who == 0 && matches!(e, ClientEvent::Left(u) if u.name == "bob")));
//! assert_eq!(server.online().count(), 1);
//!
//! // With nothing else to do, a driver sleeps until the earliest deadline.
//! let next = [server.poll_timeout(), clients[0].poll_timeout()].into_iter().flatten().min();
//! assert!(next.is_some_and(|t| t > now));
//! # Ok(())
//! # }
//! ```

pub mod client;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod server;
mod timer;
pub mod wire;
