//! feige core.
pub mod wire;
