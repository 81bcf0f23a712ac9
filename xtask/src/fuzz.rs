//! Fuzzing with libFuzzer: `cargo xtask fuzz` runs the targets of `fuzz/` (a cargo-fuzz
//! crate) for a given time and prints their figures; the test suite runs each for a short
//! smoke over the checked-in seed corpus.
//!
//! The targets are built with cargo fuzz's instrumentation flags, passed by this module;
//! the stable compiler takes the sanitizer's -Z flag with `RUSTC_BOOTSTRAP=1`. They build without a
//! sanitizer by default: the project's code forbids `unsafe`, the C code (SQLite) is not
//! instrumented either way, and the fuzzer runs about twice as fast; `--sanitizer address`
//! turns AddressSanitizer on.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::run_cmd;

/// Every fuzz target, in the order they run.
pub const TARGETS: [&str; 4] = ["sync_request", "push", "import_reference", "import_cases"];

/// What one run of one target did, read from libFuzzer's final statistics.
#[derive(Debug, Default)]
pub struct Figures {
    pub target: String,
    pub seconds: f64,
    pub execs: u64,
    pub corpus: usize,
    pub crashed: bool,
    /// Crash, timeout and out-of-memory inputs the run saved (with `-fork` it goes on
    /// after each).
    pub findings: usize,
    /// The run stopped on a crash listed in `fuzz/known-open.txt`.
    pub known: Option<String>,
}

#[derive(Debug)]
pub struct Options {
    pub targets: Vec<String>,
    pub seconds: u64,
    pub sanitizer: String,
    /// Optimised (`release`, for campaigns) or quick to build (`dev`, for the smoke).
    pub profile: &'static str,
    /// The corpus new inputs are written to; `None` keeps the growing corpus in `fuzz/corpus`.
    pub work_dir: Option<PathBuf>,
    /// Extra libFuzzer flags.
    pub extra: Vec<String>,
}

/// `cargo xtask fuzz [target…] [--seconds N] [--sanitizer none|address] [--profile release|dev]
/// [-- libFuzzer flags]`.
pub fn command(root: &Path, args: &[String]) -> Result<()> {
    let mut opts = Options {
        targets: Vec::new(),
        seconds: 60,
        sanitizer: "none".into(),
        profile: "release",
        work_dir: None,
        extra: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => {
                opts.seconds = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .context("--seconds needs a number")?;
            }
            "--sanitizer" => {
                opts.sanitizer = it.next().context("--sanitizer needs a name")?.clone();
            }
            "--profile" => {
                opts.profile = match it.next().map(String::as_str) {
                    Some("release") => "release",
                    Some("dev") => "dev",
                    _ => bail!("--profile needs release or dev"),
                };
            }
            "--" => opts.extra.extend(it.by_ref().cloned()),
            t if TARGETS.contains(&t) => opts.targets.push(t.to_string()),
            other => bail!(
                "unknown fuzz argument {other:?}; targets: {}; options: --seconds N, --sanitizer none|address, --profile release|dev",
                TARGETS.join(", ")
            ),
        }
    }
    if opts.targets.is_empty() {
        opts.targets = TARGETS.iter().map(|t| t.to_string()).collect();
    }
    let figures = run(root, &opts)?;
    print_figures(&figures);
    if let Some(f) = figures.iter().find(|f| f.crashed) {
        bail!(
            "fuzz target {} failed: see fuzz/artifacts/{}/ and fuzz/logs/{}.log",
            f.target,
            f.target,
            f.target
        );
    }
    Ok(())
}

/// The step of `cargo xtask test`: every target for `seconds` over the seed corpus, with
/// a fresh working corpus so that a run depends only on what is checked in.
pub fn smoke(root: &Path, seconds: u64) -> Result<()> {
    let work = root.join("target/fuzz-smoke");
    if work.exists() {
        std::fs::remove_dir_all(&work)?;
    }
    let opts = Options {
        targets: TARGETS.iter().map(|t| t.to_string()).collect(),
        seconds,
        sanitizer: "none".into(),
        // On a fresh machine the release build of the targets took about 7 minutes of
        // CI's 40; the dev profile (our code unoptimised with every check on, the hot
        // dependencies optimised as in `fuzz/Cargo.toml`) builds in about half that. It
        // still replays every seed; `push` gets no further than its seeds in 8 s in either
        // build, the other targets run hundreds to thousands of new inputs a second.
        profile: "dev",
        work_dir: Some(work),
        // A fixed seed: a commit's smoke mutates the same way on every machine, so the
        // step fails for a finding, not for luck.
        extra: vec!["-seed=1".into()],
    };
    let figures = run(root, &opts)?;
    print_figures(&figures);
    if let Some(f) = figures.iter().find(|f| f.crashed) {
        bail!(
            "fuzz target {} found a failing input: see fuzz/artifacts/{}/ and fuzz/logs/{}.log",
            f.target,
            f.target,
            f.target
        );
    }
    Ok(())
}

/// The flags libFuzzer's instrumentation needs, as cargo fuzz passes them: coverage
/// counters, the table of instrumented code, comparisons traced for the mutator, and
/// `--cfg fuzzing`. They are set here rather than through cargo fuzz so that a fresh
/// machine does not compile the tool (a minute or two) before every run; the directory
/// stays a cargo-fuzz crate, so `cargo fuzz run` works too.
fn rustflags(sanitizer: &str) -> Result<String> {
    let mut flags = vec![
        "-Cpasses=sancov-module",
        "-Cllvm-args=-sanitizer-coverage-level=4",
        "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
        "-Cllvm-args=-sanitizer-coverage-pc-table",
        "-Cllvm-args=-sanitizer-coverage-trace-compares",
        "-Cllvm-args=-sanitizer-coverage-stack-depth",
        "-Cllvm-args=-simplifycfg-branch-fold-threshold=0",
        "--cfg",
        "fuzzing",
        // One codegen unit (cargo fuzz's default) makes the build several minutes longer
        // on two cores for a small gain in executions per second.
        "-Ccodegen-units=16",
    ];
    // No `-Cdebug-assertions` for every crate (cargo fuzz adds it unless `-O`), which no
    // profile can undo: `fuzz/Cargo.toml` turns debug assertions and overflow checks on
    // for every crate except automerge, whose debug builds re-encode every change list a
    // second way as a self-check that fails on change graphs the release build handles,
    // and the server ships the release build.
    match sanitizer {
        "none" => {}
        "address" => flags.push("-Zsanitizer=address"),
        other => bail!("unknown sanitizer {other:?}: none or address"),
    }
    Ok(flags.join(" "))
}

/// The host's target triple: the instrumented flags must not reach build scripts and
/// proc macros, which cargo ensures only when `--target` is given.
fn host_triple() -> Result<String> {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .context("running rustc -vV")?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_string)
        .context("rustc -vV printed no host")
}

/// Builds every fuzz target in `profile` (with line tables for the backtraces of a
/// finding) and returns the directory of the binaries.
fn build(root: &Path, sanitizer: &str, profile: &str) -> Result<PathBuf> {
    let triple = host_triple()?;
    run_cmd(
        Command::new("cargo")
            .current_dir(root)
            .args(["build", "--manifest-path", "fuzz/Cargo.toml", "--bins"])
            .args(["--profile", profile, "--target", &triple])
            .env("RUSTFLAGS", rustflags(sanitizer)?)
            // The sanitizer is a -Z flag: the stable compiler takes it with this set.
            .env("RUSTC_BOOTSTRAP", "1"),
    )?;
    let dir = if profile == "dev" { "debug" } else { profile };
    Ok(root.join("fuzz/target").join(triple).join(dir))
}

/// Builds every target, then runs the chosen ones one after another (one process at a
/// time: the machine has two cores) and reads their figures.
pub fn run(root: &Path, opts: &Options) -> Result<Vec<Figures>> {
    let t = Instant::now();
    println!(
        "==> build the fuzz targets ({} profile, sanitizer: {})",
        opts.profile, opts.sanitizer
    );
    let bin_dir = build(root, &opts.sanitizer, opts.profile)?;
    println!("    built in {:.1}s", t.elapsed().as_secs_f64());
    let fuzz = root.join("fuzz");
    std::fs::create_dir_all(fuzz.join("logs"))?;
    let mut out = Vec::new();
    for target in &opts.targets {
        let work = match &opts.work_dir {
            Some(w) => w.join(target),
            None => fuzz.join("corpus").join(target),
        };
        let artifacts = fuzz.join("artifacts").join(target);
        std::fs::create_dir_all(&work)?;
        std::fs::create_dir_all(&artifacts)?;
        let seeds = fuzz.join("corpus-seed").join(target);
        let log = fuzz.join("logs").join(format!("{target}.log"));
        println!("==> fuzz {target} for {}s", opts.seconds);
        let mut cmd = Command::new(bin_dir.join(target));
        if opts.sanitizer == "address" {
            // As cargo fuzz: Rust's generics trip the one-definition-rule check.
            cmd.env("ASAN_OPTIONS", "detect_odr_violation=0");
        }
        cmd.arg(&work);
        if seeds.is_dir() {
            cmd.arg(&seeds);
        }
        cmd.arg(format!("-max_total_time={}", opts.seconds))
            .arg(format!("-artifact_prefix={}/", artifacts.display()))
            .args([
                "-max_len=16384",
                "-timeout=20",
                "-rss_limit_mb=2048",
                "-print_final_stats=1",
            ])
            .args(&opts.extra)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?);
        let findings_before = count_findings(&artifacts);
        let started = Instant::now();
        let status = cmd
            .status()
            .with_context(|| format!("starting fuzz target {target}"))?;
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let mut fig = read_figures(&text);
        fig.target = target.clone();
        fig.seconds = started.elapsed().as_secs_f64();
        fig.corpus = std::fs::read_dir(&work).map(|d| d.count()).unwrap_or(0);
        fig.crashed = !status.success();
        fig.findings = count_findings(&artifacts).saturating_sub(findings_before);
        if fig.crashed
            && let Some(site) = panic_site(&text)
            && known_open(&fuzz).contains(&site)
        {
            println!(
                "    {target}: stopped on the known open crash at {site} (fuzz/known-open.txt)"
            );
            fig.crashed = false;
            fig.known = Some(site);
        }
        if fig.crashed {
            let tail: Vec<&str> = text.lines().rev().take(40).collect();
            for line in tail.iter().rev() {
                eprintln!("    {line}");
            }
        }
        println!(
            "    {target}: {} executions, {:.0} exec/s{}",
            fig.execs,
            fig.execs as f64 / fig.seconds.max(0.001),
            if fig.crashed { ", FAILED" } else { "" }
        );
        out.push(fig);
    }
    Ok(out)
}

/// Where the first panic of a log happened, as `<crate-version>/<path>:<line>` (or the
/// workspace path), without the registry prefix and the column.
fn panic_site(log: &str) -> Option<String> {
    let line = log.lines().find(|l| l.contains("panicked at "))?;
    let at = line.split("panicked at ").nth(1)?.trim_end_matches(':');
    let mut parts: Vec<&str> = at.rsplitn(3, ':').collect();
    parts.reverse();
    let (path, line_no) = (parts.first()?, parts.get(1)?);
    let short = path
        .split('/')
        .skip_while(|seg| {
            // The first `<crate>-<version>` segment, as in the cargo registry.
            !seg.rsplit_once('-').is_some_and(|(_, v)| {
                v.starts_with(|c: char| c.is_ascii_digit()) && v.contains('.')
            })
        })
        .collect::<Vec<_>>()
        .join("/");
    let short = if short.is_empty() {
        path.to_string()
    } else {
        short
    };
    Some(format!("{short}:{line_no}"))
}

fn count_findings(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    ["crash-", "timeout-", "oom-"]
                        .iter()
                        .any(|p| n.starts_with(p))
                })
                .count()
        })
        .unwrap_or(0)
}

/// Panic sites of known open crashes (`fuzz/known-open.txt`).
fn known_open(fuzz: &Path) -> Vec<String> {
    std::fs::read_to_string(fuzz.join("known-open.txt"))
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// Reads `stat::number_of_executed_units` (or the last `#N` status line) from a log.
fn read_figures(log: &str) -> Figures {
    let mut f = Figures::default();
    for line in log.lines() {
        if let Some(v) = line.strip_prefix("stat::number_of_executed_units:") {
            f.execs = v.trim().parse().unwrap_or(f.execs);
        } else if let Some(rest) = line.strip_prefix('#')
            && let Some(n) = rest.split_whitespace().next()
            && let Ok(n) = n.trim_end_matches(':').parse::<u64>()
        {
            f.execs = f.execs.max(n);
        }
    }
    f
}

pub fn print_figures(figures: &[Figures]) {
    println!("\n  target              seconds   executions     exec/s   corpus  findings  result");
    let mut total = 0;
    for f in figures {
        total += f.execs;
        println!(
            "  {:<18} {:>8.0} {:>12} {:>10.0} {:>8} {:>9}  {}",
            f.target,
            f.seconds,
            f.execs,
            f.execs as f64 / f.seconds.max(0.001),
            f.corpus,
            f.findings,
            match (f.crashed, &f.known) {
                (true, _) => "FAILED",
                (false, Some(_)) => "known open crash",
                _ => "ok",
            }
        );
    }
    println!("  total executions: {total}");
}
