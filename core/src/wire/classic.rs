//! The classic dialect: the wire of the textbook C# program (see `shared/design/classic.md`).
//!
//! Its datagrams are the seed's messages written in UTF-16LE ([`ClassicDatagram`]), plus `talk`
//! chat; its user list is one .NET `BinaryWriter.Write(string)` value on a TCP connection the
//! server closes right after ([`encode_classic_list`], [`decode_classic_list`]).

mod datagram;
mod list;
mod utf16;

pub use datagram::{max_talk_text_units, ClassicDatagram, MAX_CLASSIC_DATAGRAM};
pub use list::{decode_classic_list, encode_classic_list, MAX_CLASSIC_LIST};
pub use utf16::{decode_utf16le, encode_utf16le, is_classic_datagram};

#[cfg(test)]
mod proptests;
