//! `feige`: the messenger over blocking std sockets. See `feige --help`.

use std::process::ExitCode;

fn main() -> ExitCode {
    feige_app::main(&feige_std::StdTransport)
}
