//! The rules benchmark as a test: a small smoke run natively (the full native figure
//! comes from `examples/bench_rules.rs` in release mode) and the full 100,000-file run
//! in the browser under wasm-bindgen-test, timed with `js_sys::Date::now()`.

#[path = "support/bench.rs"]
mod bench;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn the_benchmark_loop_evaluates_every_generated_file() {
    let cases = bench::generate(2_000, 7);
    let origin = std::time::Instant::now();
    let report = bench::run(&cases, || origin.elapsed().as_secs_f64() * 1000.0);
    assert_eq!(report.files, 2_000);
    assert!(report.findings > 0);
    println!("{}", report.line("native (debug smoke)"));
}

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test::wasm_bindgen_test]
fn bench_rules_in_the_browser() {
    let cases = bench::generate(100_000, 2025);
    let report = bench::run(&cases, js_sys::Date::now);
    wasm_bindgen_test::console_log!("{}", report.line("wasm"));
    assert_eq!(report.files, 100_000);
}
