//! The bounds every transport puts on its TCP connections and on its exits, so both behave alike
//! whatever drives their sockets.

use std::time::Duration;

/// How a connection is set up.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// Most unwritten bytes (queued or being written) before the connection is dropped.
    pub max_queued_bytes: usize,
    /// After our close, how long the peer's remaining input is read and discarded before the
    /// socket is torn down: closing on unread input would make the kernel answer with a reset,
    /// and the peer could lose our last line (`error,<reason>`).
    pub linger: Duration,
    /// Most bytes taken by one read, so each chunk on its way to the owner is bounded.
    pub read_chunk: usize,
}

impl ConnLimits {
    /// A client's session with its server: its own output is a few short lines, so more than
    /// this unsent means the server is gone.
    pub const CLIENT: ConnLimits = ConnLimits {
        max_queued_bytes: 1 << 20,
        linger: Duration::from_secs(1),
        // A snapshot may be megabytes long.
        read_chunk: 16 << 10,
    };

    /// A server's session, dropped as a slow consumer past `max_queued_bytes`.
    pub fn server(max_queued_bytes: usize) -> ConnLimits {
        ConnLimits {
            max_queued_bytes,
            linger: Duration::from_secs(2),
            read_chunk: SERVER_READ_CHUNK,
        }
    }
}

/// A client's lines are at most 512 bytes: a server reads its connections in small chunks.
pub const SERVER_READ_CHUNK: usize = 4 << 10;

/// Inputs a server's owner may have waiting. Each is at most one datagram (truncated one byte
/// past the longest valid one) or one read chunk, so the inbox holds at most
/// `SERVER_INBOX * SERVER_READ_CHUNK` bytes, 16 MiB.
pub const SERVER_INBOX: usize = 4096;

/// How long opening a client's TCP session may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long an exiting client waits for its last lines (the logout) to go out.
pub const CLIENT_FLUSH_AT_EXIT: Duration = Duration::from_secs(2);

/// How long a server's shutdown waits for its sessions' last lines to go out.
pub const SERVER_FLUSH_AT_EXIT: Duration = Duration::from_secs(3);
