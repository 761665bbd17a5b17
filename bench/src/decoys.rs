//! Decoy logins that keep at least two logins pending from every source address the clients
//! use, so the server never binds a connection by silence (`silent_claim_after`, 500 ms).
//!
//! Why: under a storm a native client's claim line can reach the server's state machine more
//! than 500 ms after its connection was opened; the server then binds the connection to the
//! single pending login of that IP, and the claim line that follows gets `error,bad-line`. With
//! two or more logins pending per IP there is no single one to bind to, so every claim is read
//! as a claim. The cost to the server: one unclaimed login per address per second, which
//! expires unseen (nobody is told of a pending login).

use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::Duration;

use smol::{Async, Timer};

use crate::net::{source_ip, SOURCE_IPS};

/// How often each address gets a fresh decoy; a pending login lives 10 s, so about ten decoys
/// are pending per address at any time.
const EVERY: Duration = Duration::from_secs(1);

/// Sends decoy logins to `server_udp` until dropped.
pub async fn run(server_udp: SocketAddr) -> io::Result<()> {
    let sockets = (0..SOURCE_IPS as usize)
        .map(|i| {
            let socket = Async::<UdpSocket>::bind(SocketAddr::new(IpAddr::V4(source_ip(i)), 0))?;
            let endpoint = socket.get_ref().local_addr()?;
            Ok((socket, endpoint))
        })
        .collect::<io::Result<Vec<_>>>()?;
    let mut round = 0u64;
    loop {
        for (i, (socket, endpoint)) in sockets.iter().enumerate() {
            let login = format!("login,decoy{round}x{i},{endpoint}");
            socket.send_to(login.as_bytes(), server_udp).await?;
        }
        round += 1;
        Timer::after(EVERY).await;
    }
}
