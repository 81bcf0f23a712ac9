//! Fuzzing regressions: every input that ever made a fuzz target fail is kept under
//! `fuzz/regressions/<target>/` and replayed here through the same entry points the
//! targets use (`server::fuzzing`), so the failure cannot come back unnoticed. The seed
//! corpus is replayed too (`cargo xtask fuzz-seeds` rewrites it from the model).

use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

fn inputs(kind: &str, target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = fuzz_dir().join(kind).join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.path().is_file())
                .filter(|e| !e.file_name().to_string_lossy().ends_with(".md"))
                .map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    (name, std::fs::read(e.path()).unwrap())
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// A fuzz target's name and entry point.
type Target = (&'static str, fn(&[u8]));

fn replay(target: &str, run: fn(&[u8])) {
    for kind in ["regressions", "corpus-seed"] {
        for (name, bytes) in inputs(kind, target) {
            let outcome = std::panic::catch_unwind(|| run(&bytes));
            assert!(outcome.is_ok(), "{kind}/{target}/{name} fails again");
        }
    }
}

#[test]
fn sync_request_inputs_pass() {
    replay("sync_request", server::fuzzing::run_sync_request);
}

#[test]
fn push_inputs_pass() {
    replay("push", server::fuzzing::run_push);
}

#[test]
fn import_reference_inputs_pass() {
    replay("import_reference", server::fuzzing::run_import_reference);
}

#[test]
fn import_cases_inputs_pass() {
    replay("import_cases", server::fuzzing::run_import_cases);
}

/// Inputs of crashes not fixed yet (`fuzz/known-open.txt`): run with `--ignored` to see
/// whether a fix works, then move the input to `fuzz/regressions/<target>/`.
#[test]
#[ignore = "known open crashes, see fuzz/known-open.txt"]
fn open_crash_inputs_pass() {
    let targets: [Target; 4] = [
        ("sync_request", server::fuzzing::run_sync_request),
        ("push", server::fuzzing::run_push),
        ("import_reference", server::fuzzing::run_import_reference),
        ("import_cases", server::fuzzing::run_import_cases),
    ];
    for (target, run) in targets {
        for (name, bytes) in inputs("regressions/open", target) {
            let outcome = std::panic::catch_unwind(|| run(&bytes));
            assert!(
                outcome.is_ok(),
                "regressions/open/{target}/{name} still fails"
            );
        }
    }
}
