//! Fuzz target: a case-file exchange file through `admin::import_case_files` on an
//! in-memory store (`server::fuzzing::run_import_cases`).
#![no_main]

libfuzzer_sys::fuzz_target!(
    init: server::fuzzing::init(),
    |data: &[u8]| server::fuzzing::run_import_cases(data)
);
