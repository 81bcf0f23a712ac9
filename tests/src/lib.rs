//! Test support for the cross-crate end-to-end tests: a real server on `127.0.0.1:0`
//! with a fresh SQLite file per test, and simulated devices that speak the same sync
//! protocol as the browser client (`shared::sync::Replica`) over real HTTP.

pub mod pg;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use anyhow::{Context, Result, bail};
use automerge::transaction::CommitOptions;
use automerge::{ActorId, ChangeHash};
use serde_json::Value;
use server::casedocs::{RulesConfig, today_vn};
use server::db::inspect;
use server::db::store::Store;
use server::{AppState, demo};
use shared::api::{LoginRequest, LoginResponse};
use shared::doc;
use shared::model::CaseFile;
use shared::sync::{DocId, Replica, SyncRequest, SyncResponse};

/// A running server with its own database file, stopped when dropped.
pub struct TestApp {
    pub url: String,
    pub state: Arc<AppState>,
    pub dir: PathBuf,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    pub http: reqwest::Client,
    /// The app's PostgreSQL database, dropped with the app.
    pg_database: Option<String>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some(name) = self.pg_database.take()
            && let Ok(admin) = server::db::Connection::postgres(&pg::shared_cluster().url())
        {
            // The server's connections end with it.
            let _ = admin.execute_batch(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

pub fn fresh_dir() -> PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("hoso-test-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("creating a temp dir");
    dir
}

/// Where test processes of one run share what they seed (`HOSO_TEST_SEED_DIR`, which
/// `cargo xtask test` sets to a directory of its own for the run and deletes after). Without
/// it each test process seeds its own.
fn shared_seed_dir() -> Option<PathBuf> {
    std::env::var_os("HOSO_TEST_SEED_DIR")
        .map(PathBuf::from)
        .filter(|d| !d.as_os_str().is_empty())
}

/// Builds `path` with `build` unless another test process of the run already has: the
/// first to take the lock builds, the others wait and use its result.
fn shared_once(path: &Path, build: impl FnOnce(&Path)) {
    let dir = path.parent().expect("a shared file has a directory");
    std::fs::create_dir_all(dir).expect("creating the shared seed directory");
    let lock = std::fs::File::create(path.with_extension("lock")).expect("opening the seed lock");
    lock.lock().expect("taking the seed lock");
    if !path.exists() {
        let partial = path.with_extension("partial");
        let _ = std::fs::remove_dir_all(&partial);
        let _ = std::fs::remove_file(&partial);
        build(&partial);
        std::fs::rename(&partial, path).expect("publishing the seed");
    }
}

/// Seeds the demo district into a new SQLite file at `path`.
fn seed_sqlite(path: &Path) {
    let dir = fresh_dir();
    let store = Store::open(&dir.join("seed.sqlite")).expect("opening the store");
    demo::seed(&store, &RulesConfig::default(), today_vn()).expect("seeding the demo");
    // One consistent file, without the write-ahead log beside it.
    store.backup_to(path).expect("copying the demo");
    drop(store);
    let _ = std::fs::remove_dir_all(dir);
}

/// The demo district in a database file that each app starts from a copy of: seeding
/// takes seconds in a debug build, a copy milliseconds. Seeded once per run when test
/// processes share a seed directory, else once per process.
fn demo_template() -> &'static Path {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let template = match shared_seed_dir() {
            Some(dir) => dir.join("demo.sqlite"),
            None => fresh_dir().join("template.sqlite"),
        };
        shared_once(&template, seed_sqlite);
        template
    })
}

/// Whether the end-to-end tests run on PostgreSQL (`HOSO_TEST_DATABASE=postgres`)
/// rather than on SQLite files.
pub fn on_postgres() -> bool {
    std::env::var("HOSO_TEST_DATABASE").is_ok_and(|v| v == "postgres")
}

/// Seeds the demo district into a new database `hoso_seed` of `pg`.
fn seed_postgres(pg: &pg::PgCluster) {
    let admin =
        server::db::Connection::postgres(&pg.url()).expect("connecting to the test cluster");
    admin
        .execute_batch("CREATE DATABASE hoso_seed")
        .expect("creating the seed database");
    let store = Store::open_postgres(&pg.url_of("hoso_seed"), 1).expect("opening the store");
    demo::seed(&store, &RulesConfig::default(), today_vn()).expect("seeding the demo");
}

/// A cluster for this process holding the demo district in database `hoso_seed`, which
/// each app's database is created from (`CREATE DATABASE … TEMPLATE`). When test
/// processes share a seed directory, the first seeds and keeps a copy of the stopped
/// cluster's files; the others start on a copy of those.
pub fn seeded_cluster() -> pg::PgCluster {
    let Some(dir) = shared_seed_dir() else {
        let c = pg::PgCluster::start();
        seed_postgres(&c);
        return c;
    };
    let template = dir.join("pgdata");
    let mut built = None;
    shared_once(&template, |partial| {
        let c = pg::PgCluster::start();
        seed_postgres(&c);
        c.stop_server();
        let mut copy = std::process::Command::new("cp");
        copy.arg("-a").arg(c.data_dir()).arg(partial);
        let ok = copy.status().is_ok_and(|s| s.success());
        assert!(ok, "keeping the seeded cluster's files");
        c.start_server();
        built = Some(c);
    });
    built.unwrap_or_else(|| pg::PgCluster::start_from(&template))
}

/// The database every app's database is a copy of.
fn pg_template() -> &'static str {
    pg::shared_cluster();
    "hoso_seed"
}

/// Creates the empty database `name` on `pg`; its connection string.
pub fn create_database(pg: &pg::PgCluster, name: &str) -> String {
    let admin = server::db::Connection::postgres(&pg.url()).expect("connecting to the cluster");
    admin
        .execute_batch(&format!("CREATE DATABASE {name}"))
        .unwrap_or_else(|e| panic!("creating {name}: {e}"));
    pg.url_of(name)
}

/// A fresh PostgreSQL database holding the demo district; its name.
fn pg_demo_database() -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let template = pg_template();
    let name = format!(
        "hoso_app_{}",
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    );
    let admin = server::db::Connection::postgres(&pg::shared_cluster().url())
        .expect("connecting to the test cluster");
    // The template may not be copied while a connection to it is still closing.
    let mut tries = 0;
    loop {
        match admin.execute_batch(&format!("CREATE DATABASE {name} TEMPLATE {template}")) {
            Ok(()) => return name,
            Err(_) if tries < 50 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            Err(e) => panic!("creating {name}: {e}"),
        }
    }
}

/// A store holding the demo district, on the database the tests run on, and a fresh
/// directory.
fn demo_store() -> (Store, PathBuf, Option<String>) {
    if on_postgres() {
        let name = pg_demo_database();
        let store = Store::open_postgres(&pg::shared_cluster().url_of(&name), 4)
            .expect("opening the store");
        return (store, fresh_dir(), Some(name));
    }
    let dir = fresh_dir();
    let path = dir.join("store.sqlite");
    std::fs::copy(demo_template(), &path).expect("copying the demo");
    (Store::open(&path).expect("opening the store"), dir, None)
}

/// Starts a server seeded with the demo district.
pub async fn spawn_app() -> TestApp {
    let (store, dir, pg) = demo_store();
    let mut app = start(store, dir).await;
    app.pg_database = pg;
    app
}

/// Starts a server seeded with the demo district, with the given settings.
pub async fn spawn_app_with(config: server::ServerConfig) -> TestApp {
    let (store, dir, pg) = demo_store();
    let mut app = start_with(store, dir, config).await;
    app.pg_database = pg;
    app
}

async fn start(store: Store, dir: PathBuf) -> TestApp {
    start_with(store, dir, server::ServerConfig::default()).await
}

async fn start_with(store: Store, dir: PathBuf, config: server::ServerConfig) -> TestApp {
    let state = AppState::with_config(store, None, config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding a port");
    let url = format!("http://{}", listener.local_addr().expect("local addr"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server::run(listener, state.clone(), async {
        let _ = rx.await;
    }));
    TestApp {
        url,
        state,
        dir,
        shutdown: Some(tx),
        http: reqwest::Client::new(),
        pg_database: None,
    }
}

impl TestApp {
    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// A second store over this app's database, as another server process would open.
    pub fn open_store_again(&self) -> Store {
        match &self.pg_database {
            Some(name) => Store::open_postgres(&pg::shared_cluster().url_of(name), 2),
            None => Store::open(&self.dir.join("store.sqlite")),
        }
        .expect("opening the store again")
    }

    /// Logs in a new device of `username` (demo password) writing with a fresh actor.
    pub async fn device(&self, username: &str) -> Result<Device> {
        self.device_with_password(username, demo::DEMO_PASSWORD)
            .await
    }

    pub async fn device_with_password(&self, username: &str, password: &str) -> Result<Device> {
        login_device(&self.http, &self.url, username, password).await
    }

    /// The server's current heads of every stored document.
    pub fn server_heads(&self) -> Result<std::collections::BTreeMap<String, Vec<ChangeHash>>> {
        let conn = self.store().conn();
        let ids = inspect::doc_ids(&conn)?;
        let mut out = std::collections::BTreeMap::new();
        for id in ids {
            let (_, mut d) = server::casedocs::load_doc(&conn, &id)?.context("doc")?;
            let mut heads = d.get_heads();
            heads.sort();
            out.insert(id, heads);
        }
        Ok(out)
    }

    pub async fn get_json(&self, token: &str, path: &str) -> Result<(u16, Value)> {
        let resp = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(token)
            .send()
            .await?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await.unwrap_or(Value::Null)))
    }

    pub async fn post_json(&self, token: &str, path: &str, body: &Value) -> Result<(u16, Value)> {
        let resp = self
            .http
            .post(format!("{}{path}", self.url))
            .bearer_auth(token)
            .json(body)
            .send()
            .await?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await.unwrap_or(Value::Null)))
    }
}

/// Logs in a new device against the server at `url`, writing with a fresh actor id.
pub async fn login_device(
    http: &reqwest::Client,
    url: &str,
    username: &str,
    password: &str,
) -> Result<Device> {
    let actor = ActorId::random();
    let resp = http
        .post(format!("{url}/api/login"))
        .json(&LoginRequest {
            username: username.into(),
            password: password.into(),
            device_name: format!("máy thử {username}"),
            actor: Some(actor.to_hex_string()),
        })
        .send()
        .await?;
    if !resp.status().is_success() {
        bail!("login failed: {} {}", resp.status(), resp.text().await?);
    }
    let login: LoginResponse = resp.json().await?;
    Ok(Device {
        url: url.to_string(),
        http: http.clone(),
        token: login.token,
        device_id: login.device_id,
        scope_org: login.user.scope_org,
        actor: actor.clone(),
        replica: Replica {
            actor: Some(actor),
            ..Replica::default()
        },
        acknowledged: Vec::new(),
    })
}

/// A simulated device: a login, an actor id and a replica of the documents in its scope.
pub struct Device {
    pub url: String,
    pub http: reqwest::Client,
    pub token: String,
    pub device_id: String,
    pub scope_org: String,
    pub actor: ActorId,
    pub replica: Replica,
    /// Every change hash the server acknowledged to this device.
    pub acknowledged: Vec<ChangeHash>,
}

/// What happened to one simulated round trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    /// The request never reaches the server.
    DropRequest,
    /// The server processes the request but the answer is lost.
    DropResponse,
    /// The request is delivered twice; the device sees the second answer.
    Duplicate,
}

impl Device {
    /// Sends a raw sync request and returns the status and body.
    pub async fn send(&self, req: &SyncRequest) -> Result<(u16, Vec<u8>)> {
        post_sync(&self.http, &self.url, &self.token, req).await
    }

    /// One round trip with an optional network fault. Returns whether the server has more.
    pub async fn sync_once(&mut self, fault: Fault) -> Result<bool> {
        let (req, pending) = self.replica.prepare(Some(256 * 1024));
        match fault {
            Fault::DropRequest => return Ok(true),
            Fault::DropResponse => {
                let _ = self.send(&req).await?;
                return Ok(true);
            }
            Fault::Duplicate => {
                let _ = self.send(&req).await?;
            }
            Fault::None => {}
        }
        let (status, body) = self.send(&req).await?;
        if status != 200 {
            bail!("sync failed: {status} {}", String::from_utf8_lossy(&body));
        }
        let resp: SyncResponse = shared::sync::decode_response(&body)?;
        self.record_acks(&req, &resp);
        match self.replica.receive(pending, resp) {
            Ok(report) => Ok(report.more),
            // Nothing was taken; the next request asks for whole hashes.
            Err(shared::sync::SyncError::ShortDeps(..)) => Ok(true),
            Err(e) => Err(e.into()),
        }
    }

    fn record_acks(&mut self, req: &SyncRequest, resp: &SyncResponse) {
        for dc in &req.push {
            if resp.accepted.contains(&dc.doc_id) {
                for c in &dc.changes {
                    if let Ok(c) = c.decode() {
                        self.acknowledged.push(c.hash());
                    }
                }
            }
        }
    }

    /// Syncs until nothing is left to push or pull.
    pub async fn sync(&mut self) -> Result<()> {
        for _ in 0..1000 {
            let more = self.sync_once(Fault::None).await?;
            let pending = self.unsynced_docs();
            if !more && pending == 0 {
                return Ok(());
            }
        }
        bail!("sync did not settle")
    }

    pub fn unsynced_docs(&mut self) -> usize {
        let mut n = 0;
        for d in self.replica.docs.values_mut() {
            if d.rejected.is_none() && !d.unsynced().is_empty() {
                n += 1;
            }
        }
        n
    }

    /// Creates a new case file in `org_id` and returns its id.
    pub fn create_case(
        &mut self,
        org_id: &str,
        full_name: &str,
        id_bytes: [u8; 16],
    ) -> Result<DocId> {
        let case = CaseFile {
            org_id: org_id.to_string(),
            person: shared::model::Person {
                full_name: full_name.to_string(),
                ..Default::default()
            },
            ..Default::default()
        };
        let mut d = automerge::AutoCommit::new().with_actor(self.actor.clone());
        doc::init_case_doc(&mut d, &case)?;
        d.commit_with(CommitOptions::default().with_time(now_ms()));
        let id = DocId::from_bytes(id_bytes);
        self.replica
            .docs
            .insert(id.clone(), shared::sync::ReplicaDoc::new(d));
        Ok(id)
    }

    /// Sets one field of a case file as the cadre would, with this device's actor.
    pub fn edit(&mut self, id: &DocId, path: &str, value: Value) -> Result<()> {
        let rd = self
            .replica
            .docs
            .get_mut(id)
            .context("no such document here")?;
        rd.doc.set_actor(self.actor.clone());
        doc::set_field(&mut rd.doc, &doc::parse_path(path), &value)?;
        rd.doc
            .commit_with(CommitOptions::default().with_time(now_ms()));
        Ok(())
    }

    pub fn case(&self, id: &DocId) -> Result<CaseFile> {
        let rd = self.replica.docs.get(id).context("no such document here")?;
        Ok(doc::read_case(&rd.doc)?)
    }

    /// Document ids this device holds, in order.
    pub fn doc_ids(&self) -> Vec<DocId> {
        self.replica.docs.keys().cloned().collect()
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// One sync request with a session token: the answer's status and body. A free function,
/// so that a request can be sent from a task that does not hold the device.
pub async fn post_sync(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    req: &SyncRequest,
) -> Result<(u16, Vec<u8>)> {
    let resp = http
        .post(format!("{url}/api/sync"))
        .bearer_auth(token)
        .json(req)
        .send()
        .await?;
    let status = resp.status().as_u16();
    Ok((status, resp.bytes().await?.to_vec()))
}

/// Serves `store` on a free loopback port until the process ends, printing
/// `listening on URL/` first: the body of a server run as a child process (the crash,
/// replica and benchmark children).
pub fn serve_forever(store: Store) {
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    rt.block_on(async move {
        let state = AppState::new(store, None);
        let listener = tokio::net::TcpListener::bind(
            std::env::var("HOSO_CHILD_ADDR").unwrap_or_else(|_| "127.0.0.1:0".into()),
        )
        .await
        .expect("binding a port");
        println!(
            "listening on http://{}/",
            listener.local_addr().expect("local addr")
        );
        server::run(listener, state, std::future::pending())
            .await
            .expect("serving");
    });
}

/// Starts `cmd` (a server child that prints `listening on URL/`) and returns it with
/// its URL; its output is drained from then on, so it never blocks on a full pipe.
pub fn spawn_server_child(cmd: &mut std::process::Command) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("starting a server child");
    let mut lines = std::io::BufReader::new(child.stdout.take().expect("its output")).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("the server child exited")
            .expect("reading its output");
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.trim_end_matches('/').to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, url)
}

/// One round of offline work of a simulated device, as the lossy-network simulations
/// make it: up to two edits, a fifth of them a new file in one of the commune's first
/// three branches, the rest a field of one of its first four files (so that devices
/// edit the same files concurrently).
pub fn random_offline_edits(
    d: &mut Device,
    rng: &mut shared::rand::XorShift,
    fields: &[&str],
    tag: &str,
) {
    for _ in 0..rng.below(3) {
        if rng.below(5) == 0 {
            let org = format!("{}-cb{}", d.scope_org, 1 + rng.below(3));
            d.create_case(&org, &format!("Ứng viên {tag}"), rng.bytes16())
                .expect("creating a file");
        } else {
            let ids = d.doc_ids();
            if ids.is_empty() {
                continue;
            }
            let id = ids[(rng.below(ids.len().min(4) as u64)) as usize].clone();
            let field = fields[rng.below(fields.len() as u64) as usize];
            d.edit(&id, field, serde_json::json!(format!("giá trị {tag}")))
                .expect("editing a file");
        }
    }
}

impl Device {
    /// Checks the end of a simulation for this device: it holds exactly `expected` (the
    /// server's heads of every file of its scope), and every change the server
    /// acknowledged to it is stored once. Returns how many acknowledgements it checked.
    pub fn assert_converged(
        &mut self,
        expected: &std::collections::BTreeMap<String, Vec<ChangeHash>>,
        conn: &server::db::Connection,
    ) -> usize {
        let mut held = std::collections::BTreeMap::new();
        for (id, rd) in self.replica.docs.iter_mut() {
            let mut heads = rd.doc.get_heads();
            heads.sort();
            held.insert(id.to_string(), heads);
        }
        assert_eq!(&held, expected, "device {} diverged", self.device_id);
        self.assert_acknowledged_stored(conn)
    }

    /// Checks that every change the server acknowledged to this device is stored once in
    /// its change log; returns how many it checked.
    pub fn assert_acknowledged_stored(&self, conn: &server::db::Connection) -> usize {
        for h in &self.acknowledged {
            let found = inspect::changes_with_hash(conn, &h.0).expect("counting a change");
            assert_eq!(found, 1, "an acknowledged change is missing");
        }
        self.acknowledged.len()
    }
}
