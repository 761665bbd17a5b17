//! Test support.
pub mod classic_peer;
pub mod proc;
pub mod sim;
