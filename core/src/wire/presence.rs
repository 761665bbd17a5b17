//! `login,<name>,<endpoint>` and `logout,<name>,<endpoint>`: the seed's presence messages, which
//! travel on every channel (UDP login/logout, the TCP claim, the server's broadcasts).

use std::net::SocketAddr;

use super::error::WireError;
use super::fields::{endpoint, finish, name, next_field, next_name_field, write_endpoint};
use super::name::Name;

/// One user as the lists show them: a name and the endpoint peers reach them at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserEntry {
    /// The user's name.
    pub name: Name,
    /// Where that user receives datagrams.
    pub endpoint: SocketAddr,
}

impl UserEntry {
    /// Makes an entry.
    pub fn new(name: Name, endpoint: SocketAddr) -> Self {
        UserEntry { name, endpoint }
    }
}

/// Parses the `,<name>,<endpoint>` tail shared by every presence message.
pub(crate) fn entry_fields(rest: &str) -> Result<UserEntry, WireError> {
    let (rest, entry) = entry_prefix(rest)?;
    finish(rest)?;
    Ok(entry)
}

/// Parses `,<name>,<endpoint>` and leaves what follows it.
pub(crate) fn entry_prefix(rest: &str) -> Result<(&str, UserEntry), WireError> {
    let (rest, raw_name) = next_name_field(rest)?;
    let name = name(raw_name)?;
    let (rest, raw_ep) = next_field(rest, "endpoint")?;
    let endpoint = endpoint(raw_ep)?;
    Ok((rest, UserEntry { name, endpoint }))
}

/// Writes `<keyword>,<name>,<endpoint>` without a line end.
pub(crate) fn write_presence(out: &mut Vec<u8>, keyword: &str, entry: &UserEntry) {
    out.extend_from_slice(keyword.as_bytes());
    out.push(b',');
    out.extend_from_slice(entry.name.as_bytes());
    out.push(b',');
    write_endpoint(out, entry.endpoint);
}
