//! `feige-smol`: the messenger over smol/async-io. Same command line and output as `feige`; see
//! `feige-smol --help`.

use std::process::ExitCode;

fn main() -> ExitCode {
    feige_app::main(&feige_smol::SmolTransport)
}
