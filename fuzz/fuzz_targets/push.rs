//! Fuzz target: bytes turned into a push of a cadre device (raw changes, change chunks
//! with a rebuilt header, or scripts of edits making real Automerge changes), merged
//! through `DocStore::apply_push` with the model check (`server::fuzzing::run_push`).
#![no_main]

libfuzzer_sys::fuzz_target!(
    init: server::fuzzing::init(),
    |data: &[u8]| server::fuzzing::run_push(data)
);
