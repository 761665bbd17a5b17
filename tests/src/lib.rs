//! Test support.
pub mod classic_peer;
pub mod forwarder;
pub mod proc;
pub mod sim;
