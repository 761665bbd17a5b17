//! The command line shared by `feige` and `feige-smol`, so either binary can stand in for the other.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use feige_core::wire::Dialect;

/// feige: a hybrid peer-to-peer messenger. A coordinator server tracks who is online; clients
/// chat with each other directly over UDP.
#[derive(Debug, Parser)]
#[command(version, propagate_version = true)]
pub struct Cli {
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The process's command line, for the binary named `program` (which `--version` shows).
    /// Bad arguments end the process as clap does (status 2, after the usage).
    pub fn parse_for(program: &'static str) -> Cli {
        let matches = Cli::command().name(program).get_matches();
        Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }
}

const CHAT_HELP: &str = "\
Commands (one per line on stdin):
  /msg NAME TEXT     send TEXT to NAME (the longest contact's name the line starts with); to a
                     contact who is offline it is queued and goes when they come online
  /list              show who is online
  /history NAME [N]  show the last N messages with NAME (20 if not given)
  /verify NAME       show the safety number you share with NAME, to compare out of band
  /trust NAME        believe NAME's new key (after a key change; compare /verify first)
  /quit              log out and exit (so does the end of input, and Ctrl-C)

Chat is end-to-end encrypted: each user has a key kept in its data directory, and the first
key seen for a contact is pinned. A contact whose key changes is reported, and chat with it is
held until you /trust it. The data directory also holds the history and the outbox (SQLite):
a message is kept until it is delivered or fails, across restarts. If the server goes away the
client logs in again by itself, chatting directly meanwhile.

Exit status: 0 after logging out, 3 if the login failed, 4 if the server session ended for good
(the name taken by someone else, or this user logged in elsewhere), 1 on a local error (the UDP
socket cannot be bound, the data directory or its database cannot be used), 2 on bad
arguments.";

/// The three things the binary does.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the coordinator server (presence only: it never sees chat messages).
    Server(ServerArgs),
    /// Log in as NAME and chat; commands on stdin: `/msg NAME TEXT`, `/list`, `/history NAME`,
    /// `/quit`.
    #[command(after_help = CHAT_HELP)]
    Chat(ChatArgs),
    /// Run a server and three scripted clients on loopback, narrate what happens, then exit.
    Demo,
}

/// `feige server`.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// UDP address for logins and logouts (port 0 picks any free port).
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:9000")]
    pub udp: SocketAddr,
    /// TCP address for the clients' sessions (port 0 picks any free port).
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:9001")]
    pub tcp: SocketAddr,
    /// Print one JSON object per line on stdout (first `listening`, then one per server event).
    #[arg(long)]
    pub json: bool,
    /// Drop a TCP session whose unsent output exceeds this many bytes (a slow consumer).
    #[arg(long, value_name = "BYTES", default_value_t = 8 << 20)]
    pub max_queued_bytes: usize,
    /// Serve Prometheus metrics over HTTP at ADDR (`GET /metrics`; port 0 picks any free port).
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<SocketAddr>,
    /// Relay chat datagrams (still end-to-end encrypted) between clients that find no direct
    /// path through their NATs; `off` refuses them.
    #[arg(long, value_enum, default_value_t = Switch::On)]
    pub relay: Switch,
    /// Join the cluster of coordinators sharing this Redis (`redis://HOST:PORT`): one namespace
    /// of names, everyone's presence on every coordinator (see docs/cluster.md).
    #[arg(long, value_name = "URL")]
    pub cluster: Option<String>,
}

/// A feature switched on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    /// Enabled.
    On,
    /// Disabled.
    Off,
}

impl Switch {
    /// Whether it is on.
    pub fn is_on(self) -> bool {
        self == Switch::On
    }
}

/// `feige chat`.
#[derive(Debug, Args)]
pub struct ChatArgs {
    /// The name to log in with (1-32 characters; no `,`, `;` or control characters).
    pub name: String,
    /// The server's UDP address (`host:port`, IPv6 as `[::1]:9000`).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9000")]
    pub server: String,
    /// Local UDP address for the login and all chat traffic [default: any IP of the server's
    /// family, any free port].
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<SocketAddr>,
    /// Print one JSON object per line on stdout for every event.
    #[arg(long, conflicts_with = "plain")]
    pub json: bool,
    /// Print human lines with ASCII markers only (no `✓`, `✗`, `→`).
    #[arg(long)]
    pub plain: bool,
    /// Log in to a textbook (classic) server: UTF-16LE datagrams, the one-shot list, `talk`
    /// chat with everyone, no keepalive.
    #[arg(long)]
    pub classic: bool,
    /// Keep this user's identity key and pinned keys in DIR/<NAME> [default: the platform's
    /// per-user data directory, e.g. ~/.local/share/feige/<NAME>].
    #[arg(long, value_name = "DIR", conflicts_with = "ephemeral")]
    pub data_dir: Option<PathBuf>,
    /// Keep nothing on disk: a new identity key for this run only, nothing pinned for later.
    #[arg(long)]
    pub ephemeral: bool,
}

impl ChatArgs {
    /// The server address: a literal, or the first address the host name resolves to.
    pub fn server_addr(&self) -> io::Result<SocketAddr> {
        if let Ok(addr) = self.server.parse() {
            return Ok(addr);
        }
        self.server.to_socket_addrs()?.next().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} resolves to no address", self.server),
            )
        })
    }

    /// The dialect spoken to the server: `--classic` for a textbook one, else feige's own.
    pub fn dialect(&self) -> Option<Dialect> {
        self.classic.then_some(Dialect::Classic)
    }

    /// Where to bind the UDP socket: `--bind`, or any port on the unspecified IP of the server's
    /// address family.
    pub fn bind_addr(&self, server: SocketAddr) -> SocketAddr {
        self.bind.unwrap_or_else(|| unspecified_for(server))
    }
}

/// Port 0 on the unspecified IP of `peer`'s address family.
pub fn unspecified_for(peer: SocketAddr) -> SocketAddr {
    let ip = match peer {
        SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    SocketAddr::new(ip, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_defaults_bind_to_the_server_family() {
        let cli = Cli::parse_from(["feige", "chat", "alice", "--server", "[::1]:9000"]);
        let Command::Chat(args) = cli.command else {
            panic!("expected chat");
        };
        let server = args.server_addr().unwrap();
        assert_eq!(args.bind_addr(server), "[::]:0".parse().unwrap());
    }

    #[test]
    fn classic_is_off_unless_asked() {
        let chat = |args: &[&str]| match Cli::parse_from(args).command {
            Command::Chat(args) => args.dialect(),
            _ => panic!("expected chat"),
        };
        assert_eq!(chat(&["feige", "chat", "a"]), None);
        assert_eq!(
            chat(&["feige", "chat", "a", "--classic"]),
            Some(Dialect::Classic)
        );
    }

    #[test]
    fn json_and_plain_conflict() {
        assert!(Cli::try_parse_from(["feige", "chat", "a", "--json", "--plain"]).is_err());
    }

    #[test]
    fn server_defaults() {
        let cli = Cli::parse_from(["feige", "server"]);
        let Command::Server(args) = cli.command else {
            panic!("expected server");
        };
        assert_eq!(args.udp, "0.0.0.0:9000".parse().unwrap());
        assert_eq!(args.tcp, "0.0.0.0:9001".parse().unwrap());
        assert!(!args.json);
        assert_eq!(args.relay, Switch::On);
    }

    #[test]
    fn relay_is_on_or_off() {
        let relay = |value: &str| match Cli::try_parse_from(["feige", "server", "--relay", value]) {
            Ok(Cli {
                command: Command::Server(args),
            }) => Ok(args.relay.is_on()),
            Ok(_) => panic!("expected server"),
            Err(e) => Err(e.kind()),
        };
        assert_eq!(relay("on"), Ok(true));
        assert_eq!(relay("off"), Ok(false));
        assert_eq!(relay("maybe"), Err(clap::error::ErrorKind::InvalidValue));
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
