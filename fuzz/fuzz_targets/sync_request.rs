//! Fuzz target: a sync request body through `shared::sync::decode_request`, every pushed
//! change decoded, and the request re-encoded (`server::fuzzing::run_sync_request`).
#![no_main]

libfuzzer_sys::fuzz_target!(
    init: server::fuzzing::init(),
    |data: &[u8]| server::fuzzing::run_sync_request(data)
);
