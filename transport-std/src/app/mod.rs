//! The application layer: everything between the command line and a running driver that does not
//! depend on how sockets are driven. `feige-smol` reuses it verbatim, so both binaries share one
//! command line and print the same lines.

pub mod chat;
pub mod cli;
pub mod demo;
pub mod interrupt;
pub mod logging;
pub mod output;
pub mod render;
pub mod session_id;
pub mod stdin;
