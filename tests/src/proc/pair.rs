//! Which binary serves and which one chats: one suite, run for each transport alone and mixed.

use std::path::PathBuf;

use super::{binary_path, start_chat, start_server, ChatProc, ServerProc};

/// The binaries of a two-user test: (the server's and the first user's, the second user's),
/// each transport alone and the two mixed.
pub const BINARY_PAIRS: [(&str, &str); 3] = [
    ("feige", "feige"),
    ("feige-smol", "feige-smol"),
    ("feige", "feige-smol"),
];

/// The binary that serves and the one that chats.
pub struct Pair {
    server: PathBuf,
    client: PathBuf,
}

impl Pair {
    /// Builds (once per process) and locates both binaries.
    pub fn new(server: &str, client: &str) -> Pair {
        Pair {
            server: binary_path(server),
            client: binary_path(client),
        }
    }

    /// The serving binary, for tests that start it with options of their own.
    pub fn server_binary(&self) -> &std::path::Path {
        &self.server
    }

    /// The chatting binary, for tests that start it with options of their own.
    pub fn client(&self) -> &std::path::Path {
        &self.client
    }

    /// A server on 127.0.0.1, any free ports.
    pub fn server(&self) -> ServerProc {
        start_server(&self.server, "127.0.0.1")
    }

    /// A `--json` chat client logged in to `server`.
    pub fn chat(&self, name: &str, server: &ServerProc) -> ChatProc {
        start_chat(&self.client, name, server.udp)
    }

    /// A fresh user logs in and out: the server still serves.
    pub fn assert_serves(&self, server: &ServerProc, name: &str) {
        let mut probe = self.chat(name, server);
        probe.send_line("/quit");
        probe.wait_event("logged_out");
        assert!(probe.wait_exit().success());
    }
}
