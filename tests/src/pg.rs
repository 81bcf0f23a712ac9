//! A throw-away PostgreSQL cluster for one test: `initdb` into a temporary directory, a
//! server on a free loopback port (its socket in that directory too), stopped and deleted
//! when dropped. It uses PostgreSQL 15 from Debian's packages (`cargo xtask test` installs
//! them when missing). As root, the cluster belongs to the `postgres` account, since
//! PostgreSQL refuses to run as root.

use std::path::PathBuf;
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
        let dir = crate::fresh_dir().join("pg");
        std::fs::create_dir_all(&dir).expect("creating the cluster directory");
        if is_root() {
            run(
                {
                    let mut c = Command::new("chown");
                    c.args(["-R", "postgres:postgres"])
                        .arg(dir.parent().unwrap());
                    c
                },
                "chown",
            );
        }
        let data = dir.join("data");
        let mut init = pg_command("initdb");
        init.arg("-D").arg(&data).args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        ]);
        run(init, "initdb");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut start = pg_command("pg_ctl");
        start
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(dir.join("log"))
            .arg("-o")
            .arg(format!(
                "-p {port} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
                dir.display()
            ))
            .args(["-w", "start"]);
        run(start, "pg_ctl start");
        PgCluster { dir, port }
    }

    /// A connection string for the `postgres` database of this cluster.
    pub fn url(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres",
            self.port
        )
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
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
