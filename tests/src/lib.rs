//! Test support.
pub mod classic_peer;
pub mod forwarder;
pub mod natlab;
pub mod proc;
pub mod sim;
