//! A throw-away PostgreSQL cluster for one test: `initdb` into a temporary directory, a
//! server on a free loopback port (its socket in that directory too), stopped and deleted
//! when dropped. It uses PostgreSQL 15 from Debian's packages (`cargo xtask test` installs
//! them when missing). As root, the cluster belongs to the `postgres` account, since
//! PostgreSQL refuses to run as root.

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = "/usr/lib/postgresql/15/bin";

/// A running cluster; dropping it stops the server and deletes its files.
pub struct PgCluster {
    dir: PathBuf,
    pub port: u16,
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// `program` from PostgreSQL's directory, as the `postgres` account when we are root.
fn pg_command(program: &str) -> Command {
    let path = format!("{BIN}/{program}");
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", &path]);
        c
    } else {
        Command::new(path)
    }
}

/// A fresh directory for a cluster (its data, socket and log), which the `postgres`
/// account owns when we are root.
fn cluster_dir() -> PathBuf {
    let dir = crate::fresh_dir().join("pg");
    std::fs::create_dir_all(&dir).expect("creating the cluster directory");
    if is_root() {
        let mut c = Command::new("chown");
        c.args(["-R", "postgres:postgres"])
            .arg(dir.parent().unwrap());
        run(c, "chown");
    }
    dir
}

fn run(mut c: Command, what: &str) {
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl PgCluster {
    /// Creates and starts a cluster. Durability is off (`fsync=off`): a test cluster
    /// is thrown away, and the tests here are about visibility, not crashes.
    pub fn start() -> PgCluster {
        let dir = cluster_dir();
        let mut init = pg_command("initdb");
        init.arg("-D").arg(dir.join("data")).args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        ]);
        run(init, "initdb");
        PgCluster::launch(dir)
    }

    /// Starts a cluster on a copy of `template`, the data directory of a cluster that
    /// was stopped cleanly ([`PgCluster::stop_server`]): its databases without the
    /// seconds it took to fill them.
    pub fn start_from(template: &Path) -> PgCluster {
        let dir = cluster_dir();
        let mut copy = Command::new("cp");
        copy.arg("-a").arg(template).arg(dir.join("data"));
        run(copy, "copying the cluster's template");
        PgCluster::launch(dir)
    }

    /// Starts the server of the cluster in `dir` on a free loopback port.
    fn launch(dir: PathBuf) -> PgCluster {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let c = PgCluster { dir, port };
        c.start_server();
        c
    }

    /// Starts the cluster's server (again, after [`PgCluster::stop_server`]).
    pub fn start_server(&self) {
        let mut start = pg_command("pg_ctl");
        start
            .arg("-D")
            .arg(self.data_dir())
            .arg("-l")
            .arg(self.dir.join("log"))
            .arg("-o")
            .arg(format!(
                "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
                self.port,
                self.dir.display()
            ))
            .args(["-w", "start"]);
        run(start, "pg_ctl start");
    }

    /// The cluster's data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Stops the server cleanly and keeps its files, so that the data directory can be
    /// copied; [`PgCluster::start_server`] starts it again on the same port.
    pub fn stop_server(&self) {
        let mut stop = pg_command("pg_ctl");
        stop.arg("-D")
            .arg(self.data_dir())
            .args(["-m", "fast", "-w", "stop"]);
        run(stop, "pg_ctl stop");
    }

    /// A connection string for the `postgres` database of this cluster.
    pub fn url(&self) -> String {
        self.url_of("postgres")
    }

    /// A connection string for database `name` of this cluster.
    pub fn url_of(&self, name: &str) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname={name}",
            self.port
        )
    }

    /// Stops the server and deletes its files.
    pub fn stop(&self) {
        let mut stop = pg_command("pg_ctl");
        stop.arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "-w", "stop"]);
        let _ = stop.output();
        if let Some(parent) = self.dir.parent() {
            let _ = std::fs::remove_dir_all(parent);
        }
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The cluster the end-to-end tests of this process run on when
/// `HOSO_TEST_DATABASE=postgres`, holding the demo district in database `hoso_seed`:
/// started at the first use, and stopped and deleted by a
/// watcher process once this process has exited (a static is never dropped; the
/// watcher also cleans up after a test process that was killed).
pub fn shared_cluster() -> &'static PgCluster {
    static CLUSTER: std::sync::OnceLock<PgCluster> = std::sync::OnceLock::new();
    CLUSTER.get_or_init(|| {
        let c = crate::seeded_cluster();
        let data = c.data_dir();
        let stop = if is_root() {
            format!(
                "runuser -u postgres -- {BIN}/pg_ctl -D '{}' -m immediate -w stop",
                data.display()
            )
        } else {
            format!("{BIN}/pg_ctl -D '{}' -m immediate -w stop", data.display())
        };
        let parent = c
            .dir
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let script = format!(
            "tail --pid={} -f /dev/null; {stop} >/dev/null 2>&1; rm -rf '{parent}'",
            std::process::id()
        );
        // Started in the background by a shell that returns at once, so the watcher
        // outlives this process.
        Command::new("sh")
            .args([
                "-c",
                "\"$0\" -c \"$1\" </dev/null >/dev/null 2>&1 &",
                "sh",
                &script,
            ])
            .status()
            .expect("starting the cluster's watcher");
        c
    })
}
