//! The link between a coordinator and its cluster's Redis: it carries out the server machine's
//! [`StoreCommand`]s and turns what Redis holds into [`StoreEvent`]s (see
//! `feige_core::server::cluster` for what each means, and [`scripts`] for how Redis keeps it).
//!
//! Two threads with a blocking connection each, whatever the transport: one runs the commands in
//! the order the server gave them, the other follows the log and the coordinator's mail with a
//! blocking `XREAD` from the point the last sync read the registry at. The traffic is per
//! presence change and per relayed datagram between coordinators, never per line, so threads
//! cost nothing that matters, and both transports share one implementation.
//!
//! Redis going away is an event, not an error: the link says [`StoreEvent::Down`], drops what it
//! is asked meanwhile (the server refuses logins while down, and publishes everything again when
//! the link says [`StoreEvent::Up`]), and reconnects with backoff.

mod codec;
pub mod scripts;

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use feige_core::server::cluster::{ClusterConfig, NodeId, StoreCommand, StoreEvent};
use redis::{Connection, RedisError, Script};

use scripts::{LOG, LOG_MAX, MAIL_MAX, NAMES, USERS};

/// Waits between attempts to reach Redis again.
const RECONNECT_MIN: Duration = Duration::from_millis(100);
const RECONNECT_MAX: Duration = Duration::from_secs(2);
/// Longest wait for Redis to answer before the link counts it as gone.
const IO_TIMEOUT: Duration = Duration::from_secs(2);
/// How long the reader blocks in one `XREAD`, and so how soon it sees a stop.
const READ_BLOCK_MS: u64 = 500;
/// Entries taken per `XREAD`.
const READ_COUNT: u64 = 1000;
/// Mail streams vanish this long after their last mail.
const MAIL_TTL_MS: u64 = 60_000;

/// Where the store's events go: the owner's input channel, from either of the link's threads.
pub type Deliver = Arc<dyn Fn(StoreEvent) + Send + Sync>;

/// A running link.
pub struct StoreLink {
    commands: Sender<Order>,
    stop: Arc<AtomicBool>,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

enum Order {
    Run(StoreCommand),
    /// End, once what was queued before is done (or the stop's deadline passed).
    Stop,
}

/// Where the reader follows the log from, set by each sync.
#[derive(Default)]
struct Cursor {
    /// Counts the syncs: a batch read from before the latest one is dropped.
    generation: u64,
    at: Option<(String, String)>,
}

struct Shared {
    cursor: Mutex<Cursor>,
    moved: Condvar,
    /// Set by [`StoreLink::stop`]: past it, what is still queued is dropped.
    deadline: Mutex<Option<Instant>>,
}

impl Shared {
    fn cursor(&self) -> MutexGuard<'_, Cursor> {
        self.cursor.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn past_deadline(&self) -> bool {
        let deadline = *self.deadline.lock().unwrap_or_else(PoisonError::into_inner);
        deadline.is_some_and(|at| Instant::now() >= at)
    }
}

impl StoreLink {
    /// Starts the link to the Redis at `url` (`redis://host:port`) for coordinator `node`; the
    /// first event is [`StoreEvent::Up`] once Redis answers. Fails only on a URL that cannot
    /// be a Redis address.
    pub fn start(url: &str, node: NodeId, deliver: Deliver) -> Result<StoreLink, String> {
        let client = redis::Client::open(url).map_err(|e| format!("bad --cluster {url:?}: {e}"))?;
        let (commands, orders) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Shared {
            cursor: Mutex::new(Cursor::default()),
            moved: Condvar::new(),
            deadline: Mutex::new(None),
        });
        let runner = {
            let (client, deliver, shared) =
                (client.clone(), Arc::clone(&deliver), Arc::clone(&shared));
            thread::Builder::new()
                .name("cluster-commands".into())
                .spawn(move || Runner::new(client, node, deliver, shared).run(&orders))
                .map_err(|e| format!("cannot start the cluster link: {e}"))?
        };
        let reader = {
            let (stop, shared) = (Arc::clone(&stop), Arc::clone(&shared));
            thread::Builder::new()
                .name("cluster-log".into())
                .spawn(move || follow(&client, node, &deliver, &shared, &stop))
                .map_err(|e| format!("cannot start the cluster link: {e}"))?
        };
        Ok(StoreLink {
            commands,
            stop,
            shared,
            threads: vec![runner, reader],
        })
    }

    /// The link of a server: none when it serves alone (`cluster` and `url` both unset), one to
    /// `url` for the coordinator `cluster` names; an error when only one of the two is set, or
    /// the URL cannot be a Redis address.
    pub fn for_server(
        url: Option<&str>,
        cluster: Option<ClusterConfig>,
        deliver: Deliver,
    ) -> io::Result<Option<StoreLink>> {
        match (url, cluster) {
            (None, None) => Ok(None),
            (Some(url), Some(cluster)) => StoreLink::start(url, cluster.node, deliver)
                .map(Some)
                .map_err(io::Error::other),
            _ => Err(io::Error::other(
                "a coordinator needs both its place in the cluster and the cluster's Redis",
            )),
        }
    }

    /// Hands a command to the link, in order.
    pub fn send(&self, command: StoreCommand) {
        let _ = self.commands.send(Order::Run(command));
    }

    /// Runs what was sent before (a shutting-down server's leaves, say) until `deadline`, then
    /// ends both threads.
    pub fn stop(self, deadline: Instant) {
        *self
            .shared
            .deadline
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(deadline);
        let _ = self.commands.send(Order::Stop);
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads {
            if thread.join().is_err() {
                tracing::error!("a cluster link thread panicked");
            }
        }
    }
}

/// Whether an error means Redis is out of reach (rather than a command it refused).
fn is_gone(e: &RedisError) -> bool {
    e.is_io_error() || e.is_connection_dropped() || e.is_timeout() || e.is_connection_refusal()
}

fn connect(client: &redis::Client) -> Result<Connection, RedisError> {
    let conn = client.get_connection_with_timeout(IO_TIMEOUT)?;
    conn.set_write_timeout(Some(IO_TIMEOUT))?;
    Ok(conn)
}

/// The command thread.
struct Runner {
    client: redis::Client,
    node: NodeId,
    me: String,
    deliver: Deliver,
    shared: Arc<Shared>,
    conn: Option<Connection>,
    wait: Duration,
    scripts: Scripts,
}

struct Scripts {
    claim: Script,
    release: Script,
    forget: Script,
    join: Script,
    leave: Script,
    reap: Script,
    sync: Script,
}

impl Runner {
    fn new(client: redis::Client, node: NodeId, deliver: Deliver, shared: Arc<Shared>) -> Self {
        Runner {
            client,
            node,
            me: node.to_string(),
            deliver,
            shared,
            conn: None,
            wait: RECONNECT_MIN,
            scripts: Scripts {
                claim: Script::new(scripts::CLAIM),
                release: Script::new(scripts::RELEASE),
                forget: Script::new(scripts::FORGET),
                join: Script::new(scripts::JOIN),
                leave: Script::new(scripts::LEAVE),
                reap: Script::new(scripts::REAP),
                sync: Script::new(scripts::SYNC),
            },
        }
    }

    fn run(mut self, orders: &Receiver<Order>) {
        loop {
            if self.conn.is_none() && !self.reconnect() {
                // Out of reach: what is asked meanwhile is dropped (the server publishes again
                // once the link is up); a stop ends the thread at once, nothing can be flushed.
                match orders.recv_timeout(self.wait) {
                    Ok(Order::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                    Ok(Order::Run(_)) | Err(RecvTimeoutError::Timeout) => {}
                }
                self.wait = (self.wait * 2).min(RECONNECT_MAX);
                continue;
            }
            // Everything sent before the stop has been run once it is received.
            let Ok(Order::Run(command)) = orders.recv() else {
                return;
            };
            if self.shared.past_deadline() {
                return;
            }
            if let Err(e) = self.execute(command) {
                if is_gone(&e) {
                    tracing::warn!("cluster store out of reach: {e}");
                    self.conn = None;
                    (self.deliver)(StoreEvent::Down);
                } else {
                    tracing::error!("cluster store refused a command: {e}");
                }
            }
        }
    }

    /// Tries to reach Redis; says so when it does.
    fn reconnect(&mut self) -> bool {
        match connect(&self.client) {
            Ok(conn) => {
                self.conn = Some(conn);
                self.wait = RECONNECT_MIN;
                (self.deliver)(StoreEvent::Up);
                true
            }
            Err(e) => {
                tracing::debug!("cluster store not reached: {e}");
                false
            }
        }
    }

    fn execute(&mut self, command: StoreCommand) -> Result<(), RedisError> {
        let Some(conn) = self.conn.as_mut() else {
            return Ok(());
        };
        let me = self.me.as_str();
        let s = &self.scripts;
        match command {
            StoreCommand::Claim { name, ticket } => {
                let granted: i64 = s
                    .claim
                    .key(NAMES)
                    .key(USERS)
                    .key(LOG)
                    .arg(name.as_str())
                    .arg(me)
                    .arg(scripts::LEASE_PREFIX)
                    .arg(LOG_MAX)
                    .invoke(conn)?;
                (self.deliver)(StoreEvent::Claimed {
                    name,
                    ticket,
                    granted: granted == 1,
                });
            }
            StoreCommand::Release { name } => {
                let _: i64 = s
                    .release
                    .key(NAMES)
                    .key(USERS)
                    .arg(name.as_str())
                    .arg(me)
                    .invoke(conn)?;
            }
            StoreCommand::Forget => {
                let _: i64 = s.forget.key(NAMES).key(USERS).arg(me).invoke(conn)?;
            }
            StoreCommand::Join(member) => {
                let _: i64 = s
                    .join
                    .key(NAMES)
                    .key(USERS)
                    .key(LOG)
                    .arg(member.entry.name.as_str())
                    .arg(me)
                    .arg(member.entry.endpoint.to_string())
                    .arg(codec::key_text(member.key))
                    .arg(codec::classic_text(member.classic))
                    .arg(LOG_MAX)
                    .invoke(conn)?;
            }
            StoreCommand::Leave { name } => {
                let _: i64 = s
                    .leave
                    .key(NAMES)
                    .key(USERS)
                    .key(LOG)
                    .arg(name.as_str())
                    .arg(me)
                    .arg(LOG_MAX)
                    .invoke(conn)?;
            }
            StoreCommand::Heartbeat { lease } => {
                let ms = u64::try_from(lease.as_millis()).unwrap_or(u64::MAX).max(1);
                redis::cmd("SET")
                    .arg(scripts::lease_key(me))
                    .arg(1)
                    .arg("PX")
                    .arg(ms)
                    .query::<()>(conn)?;
            }
            StoreCommand::CheckNodes(nodes) => {
                let mut pipe = redis::pipe();
                for node in &nodes {
                    pipe.cmd("EXISTS")
                        .arg(scripts::lease_key(&node.to_string()));
                }
                let alive: Vec<i64> = pipe.query(conn)?;
                let dead = nodes
                    .into_iter()
                    .zip(alive)
                    .filter(|(_, exists)| *exists == 0)
                    .map(|(node, _)| node)
                    .collect();
                (self.deliver)(StoreEvent::Checked { dead });
            }
            StoreCommand::Reap(node) => {
                let node = node.to_string();
                let reaped: i64 = s
                    .reap
                    .key(NAMES)
                    .key(USERS)
                    .key(LOG)
                    .arg(&node)
                    .arg(scripts::lease_key(&node))
                    .arg(LOG_MAX)
                    .invoke(conn)?;
                if reaped >= 0 {
                    tracing::info!("cluster: reaped {reaped} member(s) of lost node {node}");
                }
            }
            StoreCommand::Mail { to, mail } => {
                let key = scripts::mail_key(&to.to_string());
                let mut xadd = redis::cmd("XADD");
                xadd.arg(&key).arg("MAXLEN").arg("~").arg(MAIL_MAX).arg("*");
                for (field, value) in codec::mail_fields(self.node, &mail) {
                    xadd.arg(field).arg(value);
                }
                redis::pipe()
                    .add_command(xadd)
                    .ignore()
                    .cmd("PEXPIRE")
                    .arg(&key)
                    .arg(MAIL_TTL_MS)
                    .ignore()
                    .query::<()>(conn)?;
            }
            StoreCommand::Sync => {
                let reply: Vec<String> = s
                    .sync
                    .key(USERS)
                    .key(LOG)
                    .key(scripts::mail_key(me))
                    .invoke(conn)?;
                self.synced(reply);
            }
        }
        Ok(())
    }

    /// The registry read at one point of the log: handed over, and the reader moved to that
    /// point, together, so that nothing read from before it is delivered after it.
    fn synced(&self, reply: Vec<String>) {
        let mut values = reply.into_iter();
        let (Some(log), Some(mail)) = (values.next(), values.next()) else {
            tracing::error!("cluster store: a sync without its log position");
            return;
        };
        let rest: Vec<String> = values.collect();
        let members = rest
            .chunks_exact(2)
            .filter_map(|pair| {
                let member = codec::parse_member(&pair[0], &pair[1]);
                if member.is_none() {
                    tracing::warn!("cluster store: skipped a malformed member {pair:?}");
                }
                member
            })
            .collect();
        let mut cursor = self.shared.cursor();
        cursor.generation += 1;
        cursor.at = Some((log, mail));
        (self.deliver)(StoreEvent::Synced(members));
        drop(cursor);
        self.shared.moved.notify_all();
    }
}

/// The reader thread: follows the log and this coordinator's mail from the last sync's point.
fn follow(
    client: &redis::Client,
    node: NodeId,
    deliver: &Deliver,
    shared: &Shared,
    stop: &AtomicBool,
) {
    let mail_key = scripts::mail_key(&node.to_string());
    let mut conn: Option<Connection> = None;
    let mut wait = RECONNECT_MIN;
    while !stop.load(Ordering::Relaxed) {
        let (generation, (log_at, mail_at)) = {
            let cursor = shared.cursor();
            let cursor = match &cursor.at {
                Some(_) => cursor,
                None => {
                    let (cursor, _) = shared
                        .moved
                        .wait_timeout(cursor, Duration::from_millis(READ_BLOCK_MS))
                        .unwrap_or_else(PoisonError::into_inner);
                    cursor
                }
            };
            match &cursor.at {
                Some(at) => (cursor.generation, at.clone()),
                None => continue,
            }
        };
        if conn.is_none() {
            match connect(client) {
                Ok(c) => {
                    conn = Some(c);
                    wait = RECONNECT_MIN;
                }
                Err(e) => {
                    tracing::debug!("cluster log not reached: {e}");
                    thread::sleep(wait);
                    wait = (wait * 2).min(RECONNECT_MAX);
                    continue;
                }
            }
        }
        let Some(c) = conn.as_mut() else {
            continue;
        };
        type Entries = Vec<(String, Vec<String>)>;
        let read: Result<Option<Vec<(String, Entries)>>, RedisError> = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(READ_COUNT)
            .arg("BLOCK")
            .arg(READ_BLOCK_MS)
            .arg("STREAMS")
            .arg(LOG)
            .arg(&mail_key)
            .arg(&log_at)
            .arg(&mail_at)
            .query(c);
        let streams = match read {
            Ok(streams) => streams.unwrap_or_default(),
            Err(e) => {
                tracing::debug!("cluster log read failed: {e}");
                conn = None;
                continue;
            }
        };
        let mut cursor = shared.cursor();
        if cursor.generation != generation {
            // A sync happened meanwhile: this batch is from before its point.
            continue;
        }
        let Some(at) = cursor.at.as_mut() else {
            continue;
        };
        for (stream, entries) in streams {
            let is_log = stream == LOG;
            for (id, fields) in entries {
                let event = if is_log {
                    codec::parse_log_entry(&fields)
                } else {
                    codec::parse_mail(&fields)
                };
                match event {
                    Some(event) => deliver(event),
                    None => tracing::warn!("cluster store: skipped a malformed entry {id}"),
                }
                if is_log {
                    at.0 = id;
                } else {
                    at.1 = id;
                }
            }
        }
    }
}
