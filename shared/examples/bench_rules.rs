//! Native benchmark: evaluates 100,000 generated case files and prints files per second.
//!
//! Run with `cargo run --release -p shared --example bench_rules [files]`.

#[path = "../tests/support/bench.rs"]
mod bench;

use std::time::Instant;

fn main() {
    let files = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let cases = bench::generate(files, 2025);
    let origin = Instant::now();
    let now_ms = || origin.elapsed().as_secs_f64() * 1000.0;
    // One warm-up pass so the first measured pass does not pay for cold caches.
    bench::run(&cases[..cases.len().min(10_000)], now_ms);
    let report = bench::run(&cases, now_ms);
    println!("{}", report.line("native"));
}
