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
