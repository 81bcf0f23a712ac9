//! The server binary: `serve` runs the product; the other commands administer a store.
//! Command-line parsing lives here and only here, declared with `clap`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use server::db::store::{self, Store};
use server::{AppState, admin, auth, casedocs, demo};

#[global_allocator]
static ALLOCATOR: server::Allocator = server::Allocator;

/// Máy chủ hồ sơ phát triển đảng viên / the case-file server.
#[derive(Debug, Parser)]
#[command(
    name = "server",
    version,
    help_template = "{about}\n\nCách dùng / usage: {usage}\n\n{all-args}",
    subcommand_help_heading = "Lệnh / commands",
    next_help_heading = "Tuỳ chọn / options"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Thư mục dữ liệu, chứa store.sqlite / data directory, holding store.sqlite
    #[arg(long, global = true, default_value = "data", value_name = "D")]
    data: PathBuf,
    /// Cơ sở dữ liệu PostgreSQL thay cho SQLite (postgres://…); nhiều máy chủ dùng chung
    /// được / a PostgreSQL database instead of SQLite (postgres://…), which several
    /// server processes may share
    #[arg(long, global = true, value_name = "URL")]
    database: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Chạy máy chủ / run the server
    Serve(ServeArgs),
    /// Nhập cây tổ chức, đảng viên, chỉ tiêu, tài khoản (JSON) / import reference data
    ImportReference { file: PathBuf },
    /// Nhập hồ sơ (JSON, ho-so-phat-trien-dang-vien/1) / import case files
    ImportCases { file: PathBuf },
    /// Xuất toàn bộ hồ sơ ra JSON / export every case file
    ExportCases { file: PathBuf },
    /// Sao lưu cơ sở dữ liệu đang chạy ra tệp / back up the live database
    Backup { file: PathBuf },
    /// Thống kê / statistics
    Stats,
    /// Tạo tài khoản / create an account
    CreateUser {
        user: String,
        name: String,
        password: String,
        /// cadre | reviewer | admin
        #[arg(value_parser = parse_role)]
        role: auth::Role,
        org: String,
    },
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Địa chỉ lắng nghe / address to listen on
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "A")]
    addr: SocketAddr,
    /// Thư mục ứng dụng PWA đã build / the built PWA
    #[arg(long, value_name = "P")]
    dist: Option<PathBuf>,
    /// Không tạo dữ liệu mẫu khi cơ sở dữ liệu trống / no demo data on an empty database
    #[arg(long)]
    no_demo: bool,
    /// Cookie phiên chỉ gửi qua HTTPS / session cookie over HTTPS only
    #[arg(long)]
    secure_cookies: bool,
    /// Giây chờ tiêu đề và nội dung yêu cầu / seconds to wait for a request's headers and body
    #[arg(long, default_value_t = 30, value_name = "S", value_parser = clap::value_parser!(u64).range(1..))]
    read_timeout: u64,
    /// Giây chờ các yêu cầu dở dang khi dừng / seconds a stop waits for requests in flight
    #[arg(long, default_value_t = 10, value_name = "S", value_parser = clap::value_parser!(u64).range(1..))]
    shutdown_deadline: u64,
    /// Số yêu cầu đồng bộ xử lý cùng lúc (mặc định: gấp đôi số lõi) / sync requests worked on at once (default: twice the cores)
    #[arg(long, value_name = "N", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=4096))]
    sync_workers: Option<usize>,
    /// Số yêu cầu đồng bộ được chờ lượt; quá thì báo máy chủ bận / sync requests that may wait their turn; past it the server answers busy
    #[arg(long, default_value_t = server::sync_api::DEFAULT_SYNC_QUEUE, value_name = "N")]
    sync_queue: usize,
    /// Giây tối đa một yêu cầu đồng bộ chờ lượt; quá thì báo máy chủ bận / longest a sync request waits for its turn, in seconds; past it the server answers busy
    #[arg(long, default_value_t = server::sync_api::DEFAULT_SYNC_MAX_WAIT.as_secs(), value_name = "S", value_parser = clap::value_parser!(u64).range(1..))]
    sync_max_wait: u64,
}

impl ServeArgs {
    fn config(&self) -> server::ServerConfig {
        let defaults = server::ServerConfig::default();
        server::ServerConfig {
            secure_cookies: self.secure_cookies,
            read_timeout: Duration::from_secs(self.read_timeout),
            shutdown_deadline: Duration::from_secs(self.shutdown_deadline),
            sync_turns: server::sync_api::TurnsConfig {
                workers: self.sync_workers.unwrap_or(defaults.sync_turns.workers),
                queue: self.sync_queue,
                max_wait: Duration::from_secs(self.sync_max_wait),
            },
            ..defaults
        }
    }
}

fn parse_role(s: &str) -> Result<auth::Role, String> {
    auth::Role::parse(s).ok_or_else(|| "cadre | reviewer | admin".to_string())
}

/// Where the data lives: a PostgreSQL database when one is named, else the SQLite file
/// in the data directory.
struct Place {
    data: PathBuf,
    database: Option<String>,
}

impl Place {
    /// Where the data is, for the operator: the SQLite file, or the PostgreSQL database
    /// without its password.
    fn describe(&self) -> String {
        match &self.database {
            Some(url) => match (url.find("://"), url.rfind('@')) {
                (Some(scheme), Some(at)) if at > scheme => {
                    format!("{}://…{}", &url[..scheme], &url[at..])
                }
                _ if url.contains("password") => "PostgreSQL".to_string(),
                _ => url.clone(),
            },
            None => self.data.join("store.sqlite").display().to_string(),
        }
    }
}

fn open_store(place: &Place) -> Result<Store> {
    if let Some(url) = &place.database {
        return Store::open_postgres(url, store::DEFAULT_READERS)
            .context("mở cơ sở dữ liệu PostgreSQL / opening the PostgreSQL database");
    }
    let data = &place.data;
    std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
    Store::open(&data.join("store.sqlite")).context("opening the database")
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .init();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            eprintln!("Lệnh hoặc tuỳ chọn không hợp lệ / invalid command or option.");
            eprintln!("Cách dùng / usage: server --help\n");
            e.exit()
        }
        Err(e) => e.exit(),
    };
    let data = Place {
        data: cli.data,
        database: cli.database,
    };
    match cli.command {
        Command::Serve(args) => serve(&data, args),
        Command::ImportReference { file } => {
            let store = open_store(&data)?;
            let json = std::fs::read_to_string(&file)?;
            let s = admin::import_reference(&store, &json).map_err(cli_error)?;
            println!("đã nhập / imported: {s:?}");
            Ok(())
        }
        Command::ImportCases { file } => {
            let store = open_store(&data)?;
            let json = std::fs::read_to_string(&file)?;
            let rules = admin::load_rules_config(&store).unwrap_or_default();
            let s = admin::import_case_files(&store, &rules, &json).map_err(cli_error)?;
            println!("đã nhập / imported: {} hồ sơ", s.case_files);
            Ok(())
        }
        Command::ExportCases { file } => {
            let store = open_store(&data)?;
            let out = admin::export_case_files(&store, "/").map_err(cli_error)?;
            std::fs::write(&file, serde_json::to_vec_pretty(&out)?)?;
            println!("đã xuất / exported: {} hồ sơ", out.case_files.len());
            Ok(())
        }
        Command::Backup { file } => {
            let store = open_store(&data)?;
            store.backup_to(&file)?;
            println!("đã sao lưu / backed up to {}", file.display());
            Ok(())
        }
        Command::Stats => {
            let store = open_store(&data)?;
            let s = admin::stats(&store).map_err(cli_error)?;
            println!("{}", serde_json::to_string_pretty(&s)?);
            Ok(())
        }
        Command::CreateUser {
            user,
            name,
            password,
            role,
            org,
        } => {
            let store = open_store(&data)?;
            auth::create_user(&store, &user, &name, &password, role, &org)?;
            println!("đã tạo tài khoản / user created");
            Ok(())
        }
    }
}

fn serve(data: &Place, args: ServeArgs) -> Result<()> {
    let store = open_store(data)?;
    let seeded = match args.no_demo {
        true => None,
        false => demo::seed_if_empty(
            &store,
            &casedocs::RulesConfig::default(),
            casedocs::today_vn(),
        )
        .map_err(cli_error)?,
    };
    if let Some(n) = seeded {
        println!(
            "Đã tạo dữ liệu mẫu quận Ngô Quyền: {n} hồ sơ / demo district created: {n} case files"
        );
    }
    let config = args.config();
    let deadline = config.shutdown_deadline;
    let state = AppState::with_config(store, args.dist.clone(), config);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("binding {}", args.addr))?;
        let addr = listener.local_addr()?;
        println!("Máy chủ đang chạy / server listening on http://{addr}/");
        println!("  dữ liệu / data: {}", data.describe());
        if seeded.is_some() {
            println!(
                "  tài khoản mẫu / demo accounts (mật khẩu / password: {}):",
                demo::DEMO_PASSWORD
            );
            println!("    admin           quản trị / administrator");
            println!("    bantochuc       ban tổ chức (rà soát) / central office reviewer");
            println!("    canbo.lachtray  cán bộ Đảng bộ phường Lạch Tray / cadre");
            println!("    canbo.caute     cán bộ Đảng bộ phường Cầu Tre / cadre");
        }
        println!("Nhấn Ctrl-C để dừng / press Ctrl-C to stop.");
        server::run(listener, state, async {
            shutdown_signal().await;
            println!("Đang dừng… / stopping…");
        })
        .await?;
        Ok(())
    });
    // Work still running on the blocking pool past the deadline is abandoned: every
    // acknowledged change is committed before its answer is sent, so nothing is lost.
    runtime.shutdown_timeout(deadline);
    result
}

/// Ctrl-C, or SIGTERM from a service manager: both stop the server cleanly.
async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// An error for the terminal: the Vietnamese message first, then the English one.
fn cli_error(e: server::error::AppError) -> anyhow::Error {
    match e {
        server::error::AppError::User {
            message_vi,
            message_en,
            ..
        } => anyhow::anyhow!("{message_vi}\n{message_en}"),
        other => anyhow::anyhow!("{other}"),
    }
}
