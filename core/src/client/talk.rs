//! Chat with classic (textbook) peers: one UTF-16LE `talk` datagram per message, best effort.
//!
//! The textbook program never acknowledges a `talk`, so nothing can be retransmitted or
//! confirmed: a message is `sent` once its one datagram is queued, and never `delivered` or
//! `failed`. It sends every datagram from a throw-away port, so a received `talk` can only be
//! checked by its source IP; see `docs/protocol.md`, section 13.

use std::net::SocketAddr;

use bytes::Bytes;

use super::output::{ClientStats, SendError};
use super::roster::Roster;
use crate::wire::{max_talk_text_units, ClassicDatagram, Dialect, Name};

/// The `talk` datagram carrying `text` from `from`, stamped `time_of_day`.
///
/// The time is opaque text; one holding a `,` would shift the receiver's fields, so it is sent
/// empty instead. A comma in `text` is sent as is (the textbook receiver cuts the text there).
/// Too long is measured in UTF-16 code units, the classic datagram's own unit.
pub(crate) fn encode_talk(from: &Name, time_of_day: &str, text: &str) -> Result<Bytes, SendError> {
    let time = if time_of_day.contains(',') {
        ""
    } else {
        time_of_day
    };
    let max = max_talk_text_units(time, from);
    if text.encode_utf16().count() > max {
        return Err(SendError::TooLong { max });
    }
    let talk = ClassicDatagram::Talk {
        time: time.to_owned(),
        from: from.clone(),
        text: text.to_owned(),
    };
    Ok(Bytes::from(talk.to_vec()))
}

/// Whether a `talk` naming `from` and arriving from `source` is shown. It must name a listed
/// classic user other than `me` and come from that user's listed IP, at any port (the textbook
/// client sends from a fresh port each time). Anything else is counted and dropped.
pub(crate) fn accept_talk(
    roster: &Roster,
    me: &Name,
    from: &Name,
    source: SocketAddr,
    stats: &mut ClientStats,
) -> bool {
    let listed = match roster.get(from) {
        Some((_, endpoint)) if from != me && roster.dialect(from) == Some(Dialect::Classic) => {
            endpoint
        }
        _ => {
            stats.unknown_sender += 1;
            return false;
        }
    };
    if listed.ip() != source.ip() {
        stats.wrong_source += 1;
        return false;
    }
    true
}
