//! Replays every committed fuzz input — the seed corpora in `fuzz/seeds/<target>/` and the
//! crash reproducers in `fuzz/regressions/<target>/` — through the same fuzz bodies that
//! cargo-fuzz runs, on the stable toolchain, in every `cargo test`.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use feige_core::fuzzing;

/// A fuzz body: one input, panics on a broken invariant.
type Body = fn(&[u8]);

/// Every fuzz target by name (its `fuzz/fuzz_targets/<name>.rs` and its input folders).
const TARGETS: &[(&str, Body)] = &[
    ("client_datagram", fuzzing::client_datagram),
    ("server_datagram", fuzzing::server_datagram),
    ("peer_datagram", fuzzing::peer_datagram),
    ("client_line", fuzzing::client_line),
    ("server_line", fuzzing::server_line),
    ("line_decoder", fuzzing::line_decoder),
    ("snapshot", fuzzing::snapshot),
    ("classic", fuzzing::classic),
    ("roundtrip", fuzzing::roundtrip),
    ("command", fuzzing::command),
    ("server_ops", |data| {
        fuzzing::server_ops(Instant::now(), data)
    }),
    ("client_ops", |data| {
        fuzzing::client_ops(Instant::now(), data)
    }),
    ("sealed", fuzzing::sealed),
    ("secure_ops", |data| {
        fuzzing::secure_ops(Instant::now(), data)
    }),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files in `dir`, sorted; none if it does not exist.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// The names of the folders in `dir`.
fn folders(dir: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.is_dir())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn every_target_is_listed_in_the_fuzz_crate() {
    let manifest = fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("fuzz/Cargo.toml");
    for (name, _) in TARGETS {
        let target = fuzz_dir().join(format!("fuzz_targets/{name}.rs"));
        assert!(target.is_file(), "no {}", target.display());
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "{name} is not a [[bin]] of fuzz/Cargo.toml"
        );
    }
}

#[test]
fn input_folders_name_known_targets() {
    for kind in ["seeds", "regressions"] {
        for folder in folders(&fuzz_dir().join(kind)) {
            assert!(
                TARGETS.iter().any(|(name, _)| *name == folder),
                "fuzz/{kind}/{folder} names no target"
            );
        }
    }
}

#[test]
fn every_committed_input_passes_its_fuzz_body() {
    let mut replayed = 0;
    let mut failed = Vec::new();
    for (name, body) in TARGETS {
        let seeds = inputs(&fuzz_dir().join("seeds").join(name));
        assert!(!seeds.is_empty(), "fuzz/seeds/{name} holds no seed");
        let regressions = inputs(&fuzz_dir().join("regressions").join(name));
        for path in seeds.iter().chain(&regressions) {
            let data = fs::read(path).expect("readable input");
            // Each failure is reported (its panic message above), then the rest still run.
            if std::panic::catch_unwind(|| body(&data)).is_err() {
                failed.push(format!("{name}: {}", path.display()));
            }
            replayed += 1;
        }
    }
    assert!(
        failed.is_empty(),
        "failing fuzz inputs:\n{}",
        failed.join("\n")
    );
    assert!(replayed >= TARGETS.len(), "only {replayed} inputs replayed");
}
