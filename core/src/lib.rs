//! feige core: the sans-IO heart of a hybrid peer-to-peer messenger.
pub mod client;
pub mod server;
mod timer;
pub mod wire;
