//! Fuzz target: a reference-data file through `admin::import_reference` on an in-memory
//! store (`server::fuzzing::run_import_reference`).
#![no_main]

libfuzzer_sys::fuzz_target!(
    init: server::fuzzing::init(),
    |data: &[u8]| server::fuzzing::run_import_reference(data)
);
