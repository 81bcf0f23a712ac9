//! The server binary: `serve` runs the product; the other commands administer a store.
//! Command-line parsing lives here and only here.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use server::{AppState, admin, auth, casedocs, demo, store::Store};

const USAGE: &str = "\
Cách dùng / usage: server <lệnh> [tuỳ chọn]

  serve            chạy máy chủ / run the server
      --addr A     địa chỉ lắng nghe (mặc định 127.0.0.1:8080)
      --data D     thư mục dữ liệu (mặc định ./data), chứa store.sqlite
      --dist P     thư mục ứng dụng PWA đã build
      --no-demo    không tạo dữ liệu mẫu khi cơ sở dữ liệu trống
      --secure-cookies      cookie phiên chỉ gửi qua HTTPS / session cookie over HTTPS only
      --read-timeout S      giây chờ tiêu đề và nội dung yêu cầu (mặc định 30)
      --shutdown-deadline S giây chờ các yêu cầu dở dang khi dừng (mặc định 10)
  import-reference FILE   nhập cây tổ chức, đảng viên, chỉ tiêu, tài khoản (JSON)
  import-cases FILE       nhập hồ sơ (JSON, định dạng ho-so-phat-trien-dang-vien/1)
  export-cases FILE       xuất toàn bộ hồ sơ ra JSON
  backup FILE             sao lưu cơ sở dữ liệu đang chạy ra tệp
  stats                   thống kê
  create-user USER NAME PASSWORD ROLE ORG   tạo tài khoản (ROLE: cadre|reviewer|admin)
  (mọi lệnh nhận --data D)
";

struct Args {
    command: String,
    positional: Vec<String>,
    addr: SocketAddr,
    data: PathBuf,
    dist: Option<PathBuf>,
    demo: bool,
    config: server::ServerConfig,
}

fn parse_args() -> Result<Args> {
    let mut it = std::env::args().skip(1);
    let command = it.next().unwrap_or_default();
    if command == "-h" || command == "--help" {
        print!("{USAGE}");
        std::process::exit(0)
    }
    let mut args = Args {
        command,
        positional: Vec::new(),
        addr: "127.0.0.1:8080".parse()?,
        data: PathBuf::from("data"),
        dist: None,
        demo: true,
        config: server::ServerConfig::default(),
    };
    let secs = |v: Option<String>, name: &str| -> Result<std::time::Duration> {
        let v = v.with_context(|| format!("{name} needs a value"))?;
        let n: u64 = v
            .parse()
            .with_context(|| format!("{name}: not a number of seconds: {v}"))?;
        Ok(std::time::Duration::from_secs(n.max(1)))
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--addr" => args.addr = it.next().context("--addr needs a value")?.parse()?,
            "--data" => args.data = it.next().context("--data needs a value")?.into(),
            "--dist" => args.dist = Some(it.next().context("--dist needs a value")?.into()),
            "--no-demo" => args.demo = false,
            "--secure-cookies" => args.config.secure_cookies = true,
            "--read-timeout" => args.config.read_timeout = secs(it.next(), "--read-timeout")?,
            "--shutdown-deadline" => {
                args.config.shutdown_deadline = secs(it.next(), "--shutdown-deadline")?
            }
            "-h" | "--help" => {
                print!("{USAGE}");
                std::process::exit(0)
            }
            other if other.starts_with("--") => bail!("unknown option {other}\n{USAGE}"),
            other => args.positional.push(other.to_string()),
        }
    }
    Ok(args)
}

fn open_store(data: &std::path::Path) -> Result<Store> {
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
    let args = parse_args()?;
    let positional = |i: usize| -> Result<&String> {
        args.positional
            .get(i)
            .with_context(|| format!("missing argument\n{USAGE}"))
    };
    match args.command.as_str() {
        "serve" => serve(args),
        "import-reference" => {
            let store = open_store(&args.data)?;
            let json = std::fs::read_to_string(positional(0)?)?;
            let s = admin::import_reference(&store, &json).map_err(cli_error)?;
            println!("đã nhập / imported: {s:?}");
            Ok(())
        }
        "import-cases" => {
            let store = open_store(&args.data)?;
            let json = std::fs::read_to_string(positional(0)?)?;
            let rules = admin::load_rules_config(&store).unwrap_or_default();
            let s = admin::import_case_files(&store, &rules, &json).map_err(cli_error)?;
            println!("đã nhập / imported: {} hồ sơ", s.case_files);
            Ok(())
        }
        "export-cases" => {
            let store = open_store(&args.data)?;
            let out = admin::export_case_files(&store, "/").map_err(cli_error)?;
            std::fs::write(positional(0)?, serde_json::to_vec_pretty(&out)?)?;
            println!("đã xuất / exported: {} hồ sơ", out.case_files.len());
            Ok(())
        }
        "backup" => {
            let store = open_store(&args.data)?;
            store.backup_to(positional(0)?.as_ref())?;
            println!("đã sao lưu / backed up to {}", positional(0)?);
            Ok(())
        }
        "stats" => {
            let store = open_store(&args.data)?;
            let s = admin::stats(&store).map_err(cli_error)?;
            println!("{}", serde_json::to_string_pretty(&s)?);
            Ok(())
        }
        "create-user" => {
            let store = open_store(&args.data)?;
            let role = auth::Role::parse(positional(3)?).context("ROLE: cadre|reviewer|admin")?;
            auth::create_user(
                &store,
                positional(0)?,
                positional(1)?,
                positional(2)?,
                role,
                positional(4)?,
            )?;
            println!("đã tạo tài khoản / user created");
            Ok(())
        }
        _ => {
            eprint!("{USAGE}");
            std::process::exit(2)
        }
    }
}

fn serve(args: Args) -> Result<()> {
    let store = open_store(&args.data)?;
    let fresh = store.is_empty()?;
    if fresh && args.demo {
        let rules = casedocs::RulesConfig::default();
        let n = demo::seed(&store, &rules, casedocs::today_vn()).map_err(cli_error)?;
        println!(
            "Đã tạo dữ liệu mẫu quận Ngô Quyền: {n} hồ sơ / demo district created: {n} case files"
        );
    }
    let deadline = args.config.shutdown_deadline;
    let state = AppState::with_config(store, args.dist.clone(), args.config.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("binding {}", args.addr))?;
        let addr = listener.local_addr()?;
        println!("Máy chủ đang chạy / server listening on http://{addr}/");
        println!(
            "  dữ liệu / data: {}",
            args.data.join("store.sqlite").display()
        );
        if fresh && args.demo {
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
