//! The crate's examples as programs the tests run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// The compiled example `name`, next to this test binary:
/// `target/<profile>/deps/…` → `target/<profile>/examples/<name>`.
///
/// `cargo test` builds the examples, but `cargo test --test integration` does
/// not, so each example is built (or brought up to date) once per test run
/// here: a test never runs a stale binary.
pub fn example_binary(name: &str) -> PathBuf {
    static BUILT: Mutex<Option<HashMap<String, PathBuf>>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(path) = built.get_or_insert_with(HashMap::new).get(name) {
        return path.clone();
    }
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary in target/<profile>/deps");
    let binary = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let mut build = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    build
        // Every feature, as `cargo test --all-features` builds the library:
        // the demo's PostgreSQL and Redis options are behind theirs.
        .args(["build", "--quiet", "--all-features", "--example", name])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => {}
        Some("release") => {
            build.arg("--release");
        }
        Some(other) => {
            build.args(["--profile", other]);
        }
    }
    let status = build
        .status()
        .unwrap_or_else(|e| panic!("run cargo build --example {name}: {e}"));
    assert!(status.success(), "cargo build --example {name} failed");
    assert!(binary.exists(), "{} was not built", binary.display());
    built
        .get_or_insert_with(HashMap::new)
        .insert(name.to_owned(), binary.clone());
    binary
}
