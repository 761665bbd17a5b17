//! Where the cluster lives in Redis, and the scripts that change it: each is atomic, so that a
//! name, its listing and the log entry that announces it never disagree.
//!
//! - `feige:names` (hash): name → the node holding it (16 hex digits).
//! - `feige:users` (hash): name → the member, `node endpoint key classic` (`-` for no key,
//!   `1`/`0`).
//! - `feige:log` (stream): every join (`o=j n u e k c`) and leave (`o=l n u`), in order; trimmed to
//!   about [`LOG_MAX`] entries.
//! - `feige:node:<node>` (string with a TTL): the node's lease.
//! - `feige:mail:<node>` (stream): mail for the node (`f` sender, `t` `r`elay or `i`ntro, `a`
//!   from, `b` to, `p` payload or endpoint); trimmed, and gone a minute after the last mail.

/// The names held.
pub const NAMES: &str = "feige:names";
/// The members listed.
pub const USERS: &str = "feige:users";
/// The log of joins and leaves.
pub const LOG: &str = "feige:log";
/// Log entries kept (approximately): a coordinator further behind than this reads the whole
/// registry again.
pub const LOG_MAX: u64 = 1_000_000;
/// Mail entries kept per node.
pub const MAIL_MAX: u64 = 100_000;

/// Where each node's lease key starts (the scripts that need it are handed it).
pub const LEASE_PREFIX: &str = "feige:node:";

/// The lease key of `node`.
pub fn lease_key(node: &str) -> String {
    format!("{LEASE_PREFIX}{node}")
}

/// The mail stream of `node`.
pub fn mail_key(node: &str) -> String {
    format!("feige:mail:{node}")
}

/// KEYS names users log; ARGV name node lease-prefix log-max. 1 if `node` holds the name now:
/// it was free, or ours, or held by a node without a lease (whose member of that name is
/// unlisted and its leave logged).
pub const CLAIM: &str = r"
local owner = redis.call('HGET', KEYS[1], ARGV[1])
if owner and owner ~= ARGV[2] then
  if redis.call('EXISTS', ARGV[3] .. owner) == 1 then return 0 end
  local member = redis.call('HGET', KEYS[2], ARGV[1])
  if member and string.sub(member, 1, 16) == owner then
    redis.call('HDEL', KEYS[2], ARGV[1])
    redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'o', 'l', 'n', owner, 'u', ARGV[1])
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
";

/// KEYS names users; ARGV name node. Gives the name up if `node` holds it and lists no member
/// of that name.
pub const RELEASE: &str = r"
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
local member = redis.call('HGET', KEYS[2], ARGV[1])
if member and string.sub(member, 1, 16) == ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
";

/// KEYS names users; ARGV node. Gives up every name `node` holds with no member of it listed.
pub const FORGET: &str = r"
local names = redis.call('HGETALL', KEYS[1])
local forgotten = 0
for i = 1, #names, 2 do
  if names[i + 1] == ARGV[1] then
    local member = redis.call('HGET', KEYS[2], names[i])
    if not member or string.sub(member, 1, 16) ~= ARGV[1] then
      redis.call('HDEL', KEYS[1], names[i])
      forgotten = forgotten + 1
    end
  end
end
return forgotten
";

/// KEYS names users log; ARGV name node endpoint key classic log-max. Lists the member, holds
/// its name, logs the join.
pub const JOIN: &str = r"
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. ' ' .. ARGV[3] .. ' ' .. ARGV[4] .. ' ' .. ARGV[5])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], '*',
  'o', 'j', 'n', ARGV[2], 'u', ARGV[1], 'e', ARGV[3], 'k', ARGV[4], 'c', ARGV[5])
return 1
";

/// KEYS names users log; ARGV name node log-max. Unlists `node`'s member of that name (logging
/// the leave) and gives the name up.
pub const LEAVE: &str = r"
local member = redis.call('HGET', KEYS[2], ARGV[1])
if member and string.sub(member, 1, 16) == ARGV[2] then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'o', 'l', 'n', ARGV[2], 'u', ARGV[1])
end
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]) end
return 1
";

/// KEYS names users log; ARGV node lease-key log-max. If the node has no lease: unlists each of
/// its members (logging the leaves) and gives up its names; the number of members unlisted.
pub const REAP: &str = r"
if redis.call('EXISTS', ARGV[2]) == 1 then return -1 end
local reaped = 0
local users = redis.call('HGETALL', KEYS[2])
for i = 1, #users, 2 do
  if string.sub(users[i + 1], 1, 16) == ARGV[1] then
    redis.call('HDEL', KEYS[2], users[i])
    redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'o', 'l', 'n', ARGV[1], 'u', users[i])
    reaped = reaped + 1
  end
end
local names = redis.call('HGETALL', KEYS[1])
for i = 1, #names, 2 do
  if names[i + 1] == ARGV[1] then redis.call('HDEL', KEYS[1], names[i]) end
end
return reaped
";

/// KEYS users log mail. The log's last id, the mail stream's last id, then every member as name,
/// value pairs: one consistent point to follow the log from.
pub const SYNC: &str = r"
local function last(key)
  local entries = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
  if #entries > 0 then return entries[1][1] end
  return '0-0'
end
local out = {last(KEYS[2]), last(KEYS[3])}
local users = redis.call('HGETALL', KEYS[1])
for i = 1, #users do out[#out + 1] = users[i] end
return out
";
