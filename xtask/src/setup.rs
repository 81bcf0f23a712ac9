//! Finds or installs what the build and the tests need on a fresh machine: a wasm32
//! toolchain (rustup's target, or Debian's rustc-web with `-Zbuild-std`), the pinned
//! wasm-bindgen CLI, npm packages (binaryen's wasm-opt, playwright-core), Chromium and
//! chromedriver. Every check is cheap, so a warm machine pays almost nothing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{Context, Result, bail};

use crate::run_cmd;

const TARGET: &str = "wasm32-unknown-unknown";

/// How to invoke cargo for the wasm32 target on this machine.
pub struct Toolchain {
    /// True when the target comes from Debian's compiler with a std built by cargo.
    debian: bool,
    pub target_dir: PathBuf,
}

impl Toolchain {
    fn command(&self, program: &str, sub: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(program);
        cmd.arg(sub).args(["--target", TARGET]);
        cmd.arg("--target-dir").arg(&self.target_dir);
        if self.debian {
            cmd.arg("-Zbuild-std=std,panic_abort")
                .env("RUSTC", "/usr/bin/rustc")
                .env("RUSTDOC", "/usr/bin/rustdoc")
                .env("RUSTC_BOOTSTRAP", "1")
                .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER", "wasm-ld-19");
        }
        cmd.args(args);
        cmd
    }

    pub fn cargo(&self, args: &[&str]) -> Result<()> {
        let (sub, rest) = args.split_first().context("no cargo subcommand")?;
        run_cmd(&mut self.command("cargo", sub, rest))
    }

    pub fn clippy(&self, args: &[&str]) -> Result<()> {
        // Debian's clippy matches Debian's compiler; rustup's could not read its std.
        let program = if self.debian {
            "/usr/bin/cargo-clippy"
        } else {
            "cargo"
        };
        run_cmd(&mut self.command(program, "clippy", args))
    }

    fn browser_test_command(&self, args: &[&str]) -> Command {
        let mut cmd = self.command("cargo", "test", args);
        cmd.env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            wasm_bindgen_bin().with_file_name("wasm-bindgen-test-runner"),
        )
        .env("CHROMEDRIVER", "/usr/bin/chromedriver")
        .env("WASM_BINDGEN_TEST_TIMEOUT", "300");
        cmd
    }

    pub fn test_in_browser(&self, args: &[&str]) -> Result<()> {
        run_cmd(&mut self.browser_test_command(args))
    }

    pub fn test_in_browser_release(&self, args: &[&str]) -> Result<()> {
        let mut all = vec!["--release"];
        all.extend_from_slice(args);
        run_cmd(&mut self.browser_test_command(&all))
    }
}

/// Finds a wasm32 toolchain, installing one if needed, and the pinned wasm-bindgen CLI.
pub fn wasm_toolchain() -> Result<Toolchain> {
    static TRIED_RUSTUP: OnceLock<bool> = OnceLock::new();
    let root = crate::project_root();
    let target_dir = root.join("target/wasm");
    let rustup_ok = *TRIED_RUSTUP.get_or_init(|| {
        let installed = Command::new("rustup")
            .args(["target", "list", "--installed"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).contains(TARGET))
            .unwrap_or(false);
        installed
            || Command::new("rustup")
                .args(["target", "add", TARGET])
                .stderr(std::process::Stdio::null())
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
    });
    let tc = if rustup_ok {
        Toolchain {
            debian: false,
            target_dir,
        }
    } else {
        ensure_apt(&[
            ("/usr/bin/rustc", "rustc-web"),
            ("/usr/lib/rustlib/src/rust/library", "rust-web-src"),
            ("/usr/bin/wasm-ld-19", "lld-19"),
            ("/usr/bin/clippy-driver", "rust-web-clippy"),
        ])?;
        Toolchain {
            debian: true,
            target_dir,
        }
    };
    ensure_wasm_bindgen(&root)?;
    Ok(tc)
}

/// Chromium and chromedriver for the browser tests.
pub fn browser() -> Result<()> {
    ensure_apt(&[
        ("/usr/bin/chromium", "chromium"),
        ("/usr/bin/chromedriver", "chromium-driver"),
    ])
}

/// PostgreSQL 15, whose tests start their own throw-away cluster on loopback.
pub fn postgres() -> Result<()> {
    ensure_apt(&[("/usr/lib/postgresql/15/bin/initdb", "postgresql-15")])
}

/// binaryen (wasm-opt) and playwright-core, from the npm registry, into tests/browser.
pub fn npm_packages(root: &Path) -> Result<()> {
    npm_packages_in(
        &root.join("tests/browser"),
        "axe-core, binaryen, playwright-core",
    )
}

/// Installs the pinned npm packages of `dir` when its `package.json` is newer than them.
pub fn npm_packages_in(dir: &Path, what: &str) -> Result<()> {
    let marker = dir.join("node_modules/.package-lock.json");
    let fresh = match (marker.metadata(), dir.join("package.json").metadata()) {
        (Ok(m), Ok(p)) => m.modified()? >= p.modified()?,
        _ => false,
    };
    if fresh {
        return Ok(());
    }
    if Command::new("npm").arg("--version").output().is_err() {
        bail!("npm is missing: install Node.js and npm (apt-get install nodejs npm)");
    }
    println!("==> npm install ({what})");
    run_cmd(
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(dir),
    )
}

pub fn wasm_bindgen_bin() -> PathBuf {
    cargo_home().join("bin/wasm-bindgen")
}

fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from("/root/.cargo"))
}

/// The CLI must be exactly the version in Cargo.lock, or the generated glue mismatches.
fn ensure_wasm_bindgen(root: &Path) -> Result<()> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).context("reading Cargo.lock")?;
    let version = lock
        .split("[[package]]")
        .find(|p| p.contains("name = \"wasm-bindgen\"\n"))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = ")))
        .map(|v| v.trim_matches('"').to_string())
        .context("wasm-bindgen is not in Cargo.lock")?;
    let have = Command::new(wasm_bindgen_bin())
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    if have.ends_with(&version) {
        return Ok(());
    }
    println!("==> cargo install wasm-bindgen-cli {version} (once, a few minutes)");
    // No --locked: the registry mirror lacks one version pinned in the CLI's lock file.
    run_cmd(cargo_install_tool().args([
        "install",
        "wasm-bindgen-cli",
        "--version",
        &version,
        "--force",
    ]))
}

/// `cargo` for installing a build tool: a light release profile (no link-time
/// optimisation, many codegen units, level 1), since a fresh CI machine compiles the
/// tools on every run and they do little work (seconds per run).
pub fn cargo_install_tool() -> Command {
    let mut c = Command::new("cargo");
    c.env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "1")
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "256")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_STRIP", "true");
    c
}

/// Installs the Debian packages whose marker paths are missing; needs root.
fn ensure_apt(wanted: &[(&str, &str)]) -> Result<()> {
    let missing: Vec<&str> = wanted
        .iter()
        .filter(|(path, _)| !Path::new(path).exists())
        .map(|(_, pkg)| *pkg)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if !is_root {
        bail!(
            "missing Debian packages: {} — install them as root: apt-get install -y --no-install-recommends {}",
            missing.join(", "),
            missing.join(" ")
        );
    }
    println!("==> apt-get install {}", missing.join(" "));
    run_cmd(
        Command::new("apt-get")
            .args(["update", "-qq"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    run_cmd(
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
    .with_context(|| format!("apt-get could not install {}", missing.join(" ")))
}
