//! The server binary's command line: usage, refusal of unknown commands, and the admin
//! commands against a fresh data directory. (`cargo test` also builds the binary here,
//! which the browser tests then start.)

use std::process::Command;

fn server() -> Command {
    Command::new(env!("CARGO_BIN_EXE_server"))
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("hoso-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn help_prints_the_vietnamese_usage() {
    let out = server().arg("--help").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Cách dùng"));
}

#[test]
fn an_unknown_command_is_refused_with_the_usage() {
    let out = server().arg("khong-co-lenh-nay").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Cách dùng"));
}

#[test]
fn stats_on_a_fresh_data_directory_show_an_empty_store() {
    let dir = temp_dir("stats");
    let out = server()
        .args(["stats", "--data"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["orgs"], 0);
    assert_eq!(stats["case_files"], 0);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_malformed_import_fails_with_a_clear_message_and_stores_nothing() {
    let dir = temp_dir("import");
    let file = dir.join("reference.json");
    std::fs::write(
        &file,
        r#"{"orgs":[{"id":"a","parent_id":"khong-co","name":"A","kind":"branch"}]}"#,
    )
    .unwrap();
    let out = server()
        .arg("import-reference")
        .arg(&file)
        .arg("--data")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Không có gì được lưu"));
    let out = server()
        .args(["stats", "--data"])
        .arg(&dir)
        .output()
        .unwrap();
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["orgs"], 0);
    std::fs::remove_dir_all(&dir).ok();
}

/// Starts `server serve` on a free port and returns the child and its address.
fn serve(dir: &std::path::Path, extra: &[&str]) -> (std::process::Child, String) {
    use std::io::BufRead as _;
    let mut child = server()
        .args(["serve", "--no-demo", "--addr", "127.0.0.1:0", "--data"])
        .arg(dir)
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(out).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("the server printed its address")
            .unwrap();
        if let Some(rest) = line.split("http://").nth(1) {
            break rest.trim_end_matches('/').to_string();
        }
    };
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, addr)
}

#[test]
fn sigterm_stops_the_server_within_the_shutdown_deadline_despite_a_stalled_request() {
    use std::io::Write as _;
    let dir = temp_dir("sigterm");
    let (mut child, addr) = serve(&dir, &["--shutdown-deadline", "2", "--read-timeout", "120"]);
    // A request whose body never comes: without a deadline, shutdown would wait for it.
    let mut stalled = std::net::TcpStream::connect(&addr).unwrap();
    stalled
        .write_all(
            b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{",
        )
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let started = std::time::Instant::now();
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > std::time::Duration::from_secs(15) {
            child.kill().ok();
            panic!("the server did not stop within 15 s of SIGTERM");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let took = started.elapsed();
    assert!(status.success(), "{status:?}");
    assert!(took < std::time::Duration::from_secs(6), "{took:?}");
    drop(stalled);
    std::fs::remove_dir_all(&dir).ok();
}
