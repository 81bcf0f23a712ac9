//! Project automation: set-up of a fresh machine, the client build, running the product,
//! the whole test suite and the benchmarks. Needs only cargo; everything else it installs.
//!
//! `cargo xtask run`    builds the optimised PWA and starts the server with demo data.
//! `cargo xtask test`   runs every check and test (what CI runs).
//! `cargo xtask bench`  runs the benchmarks and prints their figures.
//! `cargo xtask dist`   only builds the optimised PWA into `target/dist`.
//! `cargo xtask fuzz`   runs the fuzz targets (libFuzzer) for a given time.

mod fuzz;
mod setup;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use setup::Toolchain;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = project_root();
    std::env::set_current_dir(&root)?;
    match args.first().map(String::as_str) {
        Some("run") => run(&root, &args[1..]),
        Some("test") => test(&root),
        Some("bench") => bench(&root, &args[1..]),
        Some("fuzz") => fuzz::command(&root, &args[1..]),
        Some("fuzz-seeds") => cargo(&[
            "run",
            "-p",
            "server",
            "--example",
            "fuzz_seeds",
            "--",
            "fuzz/corpus-seed",
        ]),
        Some("dist") => {
            let tc = setup::wasm_toolchain()?;
            build_dist(&root, &tc)
        }
        _ => {
            eprintln!(
                "usage: cargo xtask <run [server args] | test | bench [rules|sync|reports|client|peers] | dist | fuzz [target] [--seconds N] | fuzz-seeds>"
            );
            std::process::exit(2)
        }
    }
}

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the root")
        .to_path_buf()
}

/// Builds the client and starts the server in the foreground; Ctrl-C stops it.
fn run(root: &Path, server_args: &[String]) -> Result<()> {
    let tc = setup::wasm_toolchain()?;
    build_dist(root, &tc)?;
    step("build the server (release)", || {
        cargo(&["build", "--release", "-p", "server"])
    })?;
    let mut cmd = Command::new(root.join("target/release/server"));
    cmd.arg("serve")
        .arg("--dist")
        .arg(root.join("target/dist"))
        .args(server_args);
    let status = cmd.status().context("starting the server")?;
    if !status.success() {
        bail!("the server stopped with {status}");
    }
    Ok(())
}

/// The end-to-end test files that run a second time on PostgreSQL.
const E2E_ON_POSTGRES: &[&str] = &[
    "sync",
    "hardening",
    "roles",
    "central",
    "administration",
    "duplicates",
    "handoff",
    "admin",
    "figures",
];

/// Every check CI runs, in an order that fails fast on the cheap ones.
fn test(root: &Path) -> Result<()> {
    let started = Instant::now();
    let mut report = Report::default();
    let tc = setup::wasm_toolchain()?;
    setup::browser()?;
    setup::postgres()?;
    setup::npm_packages(root)?;

    report.run("cargo fmt --check", || {
        cargo(&["fmt", "--all", "--", "--check"])
    })?;
    // Natively the client compiles to its device model only (`client::device`).
    report.run("clippy (native, all targets)", || {
        cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])
    })?;
    // Checking `shared` for wasm32 here is also the invariant that it builds for wasm32.
    report.run("clippy (wasm32: shared, client)", || {
        tc.clippy(&["-p", "shared", "-p", "client", "--", "-D", "warnings"])
    })?;
    report.run(
        "invariant: shared depends on no I/O crate",
        shared_has_no_io,
    )?;
    // One build for the whole workspace: natively the client is its device model
    // (`client::device`); it is also checked for wasm32 above and tested in Chromium.
    // Testing packages one by one would build shared dependencies twice with other features.
    // The server's CLI tests also build `target/debug/server`, which the browser tests run.
    // Libraries, binaries and test targets: the benchmarks' examples are checked by clippy
    // above and built in release by `cargo xtask bench`; linking them here is time only.
    // The test processes of this run seed the demo district once between them (a SQLite
    // file and a stopped PostgreSQL cluster's files, in a directory of this run's own).
    let seeds = SeedDir::new(root)?;
    report.run(
        "native tests (workspace, client device model included)",
        || {
            run_cmd(
                Command::new("cargo")
                    .args(["test", "--workspace", "--lib", "--bins", "--tests"])
                    .env("HOSO_TEST_SEED_DIR", &seeds.0),
            )
        },
    )?;
    // The end-to-end tests that start a server again, each app on its own database of a
    // throw-away PostgreSQL cluster (one per test process, stopped when it exits).
    report.run("end-to-end tests on PostgreSQL", || {
        let mut args = vec!["test", "-p", "tests"];
        for t in E2E_ON_POSTGRES {
            args.extend(["--test", t]);
        }
        run_cmd(
            Command::new("cargo")
                .args(&args)
                .env("HOSO_TEST_DATABASE", "postgres")
                .env("HOSO_TEST_SEED_DIR", &seeds.0),
        )
    })?;
    drop(seeds);
    // Each target over the checked-in seed corpus, in a dev build (about 90 s of runs);
    // the long campaigns are `cargo xtask fuzz` in release, and every input that ever
    // failed is a native test.
    report.run("fuzz smoke (libFuzzer, each target 8 s)", || {
        fuzz::smoke(root, 8)
    })?;
    report.run("shared tests in headless Chromium (wasm32)", || {
        // The golden corpus, compared by digest with the native run.
        tc.test_in_browser(&["-p", "shared", "--test", "golden"])
    })?;
    build_dist(root, &tc)?;
    report.run("browser end-to-end tests (optimised bundle)", || {
        browser_tests(root)
    })?;
    report.print(started);
    Ok(())
}

/// A directory for what the test processes of one run seed once, deleted with it.
struct SeedDir(PathBuf);

impl SeedDir {
    fn new(root: &Path) -> Result<SeedDir> {
        let dir = root
            .join("target")
            .join(format!("test-seeds-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        Ok(SeedDir(dir))
    }
}

impl Drop for SeedDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn bench(root: &Path, which: &[String]) -> Result<()> {
    let all = which.is_empty();
    let wants = |name: &str| all || which.iter().any(|w| w == name);
    if wants("rules") {
        cargo(&[
            "run",
            "--release",
            "-p",
            "shared",
            "--example",
            "bench_rules",
        ])?;
        let tc = setup::wasm_toolchain()?;
        setup::browser()?;
        tc.test_in_browser_release(&[
            "-p",
            "shared",
            "--test",
            "bench_rules",
            "--",
            "--nocapture",
        ])?;
    }
    if wants("sync") {
        cargo(&["run", "--release", "-p", "tests", "--example", "bench_sync"])?;
    }
    if wants("reports") {
        cargo(&[
            "run",
            "--release",
            "-p",
            "server",
            "--example",
            "bench_reports",
        ])?;
    }
    // Not part of `bench` with no name: it installs other engines and runs for long.
    if which.iter().any(|w| w == "peers") {
        peers(root)?;
    }
    if wants("client") {
        let tc = setup::wasm_toolchain()?;
        setup::browser()?;
        setup::npm_packages(root)?;
        build_dist(root, &tc)?;
        cargo(&["build", "--release", "-p", "server"])?;
        let status = Command::new("node")
            .arg("tests/browser/bench_client.mjs")
            .env("SERVER_BIN", root.join("target/release/server"))
            .env("DIST_DIR", root.join("target/dist"))
            .status()?;
        if !status.success() {
            bail!("client benchmark failed");
        }
    }
    Ok(())
}

/// `cargo xtask bench peers`: our sync against PouchDB and automerge-repo, side by side
/// (`tests/peers/bench_peers.mjs`).
fn peers(root: &Path) -> Result<()> {
    let tc = setup::wasm_toolchain()?;
    setup::browser()?;
    setup::npm_packages(root)?;
    setup::npm_packages_in(
        &root.join("tests/peers"),
        "PouchDB, express-pouchdb, automerge-repo",
    )?;
    build_dist(root, &tc)?;
    cargo(&["build", "--release", "-p", "server"])?;
    cargo(&[
        "build",
        "--release",
        "-p",
        "tests",
        "--example",
        "bench_peers",
    ])?;
    let status = Command::new("node")
        .arg("tests/peers/bench_peers.mjs")
        .current_dir(root)
        .env("SERVER_BIN", root.join("target/release/server"))
        .env(
            "PEERS_BIN",
            root.join("target/release/examples/bench_peers"),
        )
        .env("DIST_DIR", root.join("target/dist"))
        .status()?;
    if !status.success() {
        bail!("peer benchmark failed");
    }
    Ok(())
}

/// Builds the optimised PWA: wasm (size profile) → wasm-bindgen → wasm-opt, plus the
/// static shell, manifest and service worker, into `target/dist`.
fn build_dist(root: &Path, tc: &Toolchain) -> Result<()> {
    step("build the client (wasm32, size-optimised)", || {
        tc.cargo(&["build", "-p", "client", "--profile", "wasm-release"])
    })?;
    let wasm = tc
        .target_dir
        .join("wasm32-unknown-unknown/wasm-release/client.wasm");
    let dist = root.join("target/dist");
    let pkg = root.join("target/wasm-bindgen");
    std::fs::create_dir_all(&pkg)?;
    step("wasm-bindgen", || {
        run_cmd(
            Command::new(setup::wasm_bindgen_bin())
                .args(["--target", "web", "--no-typescript", "--out-dir"])
                .arg(&pkg)
                .arg(&wasm),
        )
    })?;
    if dist.exists() {
        std::fs::remove_dir_all(&dist)?;
    }
    std::fs::create_dir_all(&dist)?;
    step("wasm-opt -Oz", || {
        run_cmd(
            Command::new(root.join("tests/browser/node_modules/.bin/wasm-opt"))
                .args([
                    "-Oz",
                    "--enable-bulk-memory",
                    "--enable-nontrapping-float-to-int",
                    "--enable-sign-ext",
                    "--enable-mutable-globals",
                    "--enable-reference-types",
                    "--enable-multivalue",
                ])
                .arg(pkg.join("client_bg.wasm"))
                .arg("-o")
                .arg(dist.join("client_bg.wasm")),
        )
    })?;
    std::fs::copy(pkg.join("client.js"), dist.join("client.js"))?;
    copy_dir(&root.join("client/static"), &dist)?;
    // The service worker's cache name carries a digest of the bundle, so a new build is
    // announced to installed apps as an update.
    let version = bundle_digest(&dist)?;
    let sw = std::fs::read_to_string(dist.join("sw.js"))?.replace("__BUILD__", &version);
    std::fs::write(dist.join("sw.js"), sw)?;
    std::fs::write(dist.join("version.txt"), &version)?;
    let size = std::fs::metadata(dist.join("client_bg.wasm"))?.len();
    println!(
        "   bundle: client_bg.wasm {} KB, version {version}",
        size / 1024
    );
    Ok(())
}

fn bundle_digest(dist: &Path) -> Result<String> {
    // FNV-1a over the bundle files: cheap, dependency-free and stable across machines.
    let mut h: u64 = 0xcbf29ce484222325;
    for name in ["client_bg.wasm", "client.js", "index.html", "app.css"] {
        let path = dist.join(name);
        if let Ok(bytes) = std::fs::read(&path) {
            for b in bytes {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x100000001b3);
            }
        }
    }
    Ok(format!("{h:016x}"))
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            std::fs::create_dir_all(&target)?;
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

fn browser_tests(root: &Path) -> Result<()> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("tests/browser"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".test.mjs"))
        })
        .collect();
    files.sort();
    let server = root.join("target/debug/server");
    let template = demo_template(&server, &root.join("target/browser-demo"))?;
    run_cmd(
        Command::new("node")
            .arg("--test")
            // One at a time: two at once saved two minutes but made a list test time out
            // under load once in four full runs.
            .arg("--test-concurrency=1")
            // A hung browser test must fail the run, not stall CI.
            .arg("--test-timeout=240000")
            .args(&files)
            .env("SERVER_BIN", &server)
            .env("DEMO_TEMPLATE", &template)
            .env("DIST_DIR", root.join("target/dist")),
    )
}

/// A data directory holding the demo district, made by starting `server` once on it and
/// stopping it: the browser tests copy it rather than seed the demo in every server.
fn demo_template(server: &Path, dir: &Path) -> Result<PathBuf> {
    use std::io::{BufRead, BufReader};
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    let mut child = Command::new(server)
        .args(["serve", "--addr", "127.0.0.1:0", "--data"])
        .arg(dir)
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().expect("piped stdout");
    let mut started = false;
    // Read to the end, so that the server never writes to a closed pipe.
    for line in BufReader::new(stdout).lines() {
        if !started && line?.contains("listening on") {
            started = true;
            // SIGTERM: the server stops cleanly and closes the database.
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
        }
    }
    let status = child.wait()?;
    if !started {
        bail!("the server did not start to seed the demo ({status})");
    }
    Ok(dir.to_path_buf())
}

/// `shared` runs in the browser and on the server: nothing that does I/O may enter it.
fn shared_has_no_io() -> Result<()> {
    for forbidden in ["tokio", "rusqlite", "axum", "leptos", "web-sys"] {
        let out = Command::new("cargo")
            .args(["tree", "-p", "shared", "-e", "normal", "-i", forbidden])
            .output()?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        // `cargo tree -i` fails when the package is absent from the graph, which is the
        // healthy case; when present, it prints the path that pulls it in.
        if out.status.success() && stdout.lines().any(|l| l.contains("shared v")) {
            bail!("shared depends on {forbidden}:\n{stdout}");
        }
    }
    for target in ["wasm32-unknown-unknown"] {
        let out = Command::new("cargo")
            .args(["tree", "-p", "shared", "-e", "normal", "--target", target])
            .output()?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        for forbidden in ["tokio v", "rusqlite v", "web-sys v", "leptos v"] {
            if stdout.contains(forbidden) {
                bail!("shared pulls {forbidden} on {target}");
            }
        }
    }
    Ok(())
}

pub(crate) fn cargo(args: &[&str]) -> Result<()> {
    run_cmd(Command::new("cargo").args(args))
}

pub(crate) fn run_cmd(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("could not start {:?}", cmd.get_program()))?;
    if !status.success() {
        bail!("{:?} failed with {status}", cmd.get_program());
    }
    Ok(())
}

fn step(name: &str, f: impl FnOnce() -> Result<()>) -> Result<()> {
    println!("==> {name}");
    let t = Instant::now();
    f().with_context(|| format!("step failed: {name}"))?;
    println!("    {name}: {:.1}s", t.elapsed().as_secs_f64());
    Ok(())
}

#[derive(Default)]
struct Report {
    done: Vec<(String, f64)>,
}

impl Report {
    fn run(&mut self, name: &str, f: impl FnOnce() -> Result<()>) -> Result<()> {
        let t = Instant::now();
        step(name, f)?;
        self.done
            .push((name.to_string(), t.elapsed().as_secs_f64()));
        Ok(())
    }

    fn print(&self, started: Instant) {
        println!("\n==================== summary ====================");
        for (name, secs) in &self.done {
            println!("  ok   {secs:7.1}s  {name}");
        }
        println!(
            "all {} steps passed in {:.1}s",
            self.done.len(),
            started.elapsed().as_secs_f64()
        );
    }
}
