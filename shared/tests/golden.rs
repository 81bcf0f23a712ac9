//! Golden corpus: every file in `corpus/` holds a case, the evaluation date and the
//! expected stage, findings and deadlines. The same runner compiles natively and for
//! wasm32 (wasm-bindgen-test in a browser); the corpus is embedded with `include_str!`
//! so no file system is needed, and a digest of all evaluations is compared with
//! `corpus/DIGEST` so both platforms prove they give byte-identical answers.

use serde::{Deserialize, Serialize};
use shared::calendar::WorkingCalendar;
use shared::date::Date;
use shared::model::CaseFile;
use shared::rules::{EvalContext, Evaluation, RuleSettings, Severity, evaluate};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// (file name, contents) of every corpus file, generated list (see `index_is_current`).
const CORPUS: &[(&str, &str)] = include!("../corpus/index.rs");
const DIGEST: &str = include_str!("../corpus/DIGEST");

#[derive(Debug, Deserialize)]
struct GoldenFile {
    #[serde(default)]
    description: String,
    today: Date,
    #[serde(default)]
    settings: RuleSettings,
    case: CaseFile,
    expected: Expected,
}

#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Expected {
    stage: String,
    rule_set: String,
    /// "CODE:severity", sorted.
    findings: Vec<String>,
    deadlines: Vec<ExpectedDeadline>,
}

#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
struct ExpectedDeadline {
    code: String,
    due: Date,
    done: bool,
    overdue: bool,
}

fn severity_code(s: Severity) -> &'static str {
    match s {
        Severity::Blocking => "blocking",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

fn summarise(eval: &Evaluation) -> Expected {
    let mut findings: Vec<String> = eval
        .findings
        .iter()
        .map(|f| format!("{}:{}", f.code, severity_code(f.severity)))
        .collect();
    findings.sort();
    findings.dedup();
    Expected {
        stage: eval.stage.code().to_owned(),
        rule_set: eval.rule_set.version().to_owned(),
        findings,
        deadlines: eval
            .deadlines
            .iter()
            .map(|d| ExpectedDeadline {
                code: d.code.to_owned(),
                due: d.due,
                done: d.done,
                overdue: d.overdue,
            })
            .collect(),
    }
}

/// FNV-1a, 64 bits: tiny, portable and identical on every platform.
fn fnv1a(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The outcome of running the whole corpus.
struct Run {
    failures: Vec<String>,
    digest: u64,
    // Read where the corpus is rewritten, which needs a file system (not in the browser).
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    evaluations: Vec<(String, Expected)>,
}

fn run_corpus() -> Run {
    let calendar = WorkingCalendar::vietnam_2021_2027();
    let mut failures = Vec::new();
    let mut digest = 0xcbf2_9ce4_8422_2325;
    let mut evaluations = Vec::new();
    for (name, text) in CORPUS {
        let file: GoldenFile = match serde_json::from_str(text) {
            Ok(f) => f,
            Err(e) => {
                failures.push(format!("{name}: cannot parse: {e}"));
                continue;
            }
        };
        let ctx = EvalContext::new(file.today, &file.settings, &calendar);
        let eval = evaluate(&file.case, &ctx);
        let json = serde_json::to_string(&eval).unwrap_or_default();
        digest = fnv1a(fnv1a(digest, name.as_bytes()), json.as_bytes());
        let actual = summarise(&eval);
        if actual != file.expected {
            failures.push(format!(
                "{name} ({}):\n  expected {}\n  actual   {}",
                file.description,
                serde_json::to_string(&file.expected).unwrap_or_default(),
                serde_json::to_string(&actual).unwrap_or_default()
            ));
        }
        evaluations.push((name.to_string(), actual));
    }
    Run {
        failures,
        digest,
        evaluations,
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn every_golden_case_gives_the_expected_stage_findings_and_deadlines() {
    assert!(CORPUS.len() >= 60, "the corpus must hold at least 60 files");
    let run = run_corpus();
    assert!(run.failures.is_empty(), "{}", run.failures.join("\n"));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn the_corpus_digest_is_the_same_on_every_platform() {
    let run = run_corpus();
    let digest = format!("{:016x}", run.digest);
    #[cfg(target_arch = "wasm32")]
    wasm_bindgen_test::console_log!("golden digest wasm: {digest}");
    #[cfg(not(target_arch = "wasm32"))]
    println!("golden digest native: {digest}");
    assert_eq!(
        digest,
        DIGEST.trim(),
        "evaluations differ from the recorded digest"
    );
}

/// Natively, checks that `corpus/index.rs` lists every corpus file. With
/// `UPDATE_GOLDEN=1` it rewrites the index, the digest and every file's `expected`
/// block from the current evaluation (review the diff before committing!).
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn the_index_lists_every_corpus_file() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    let mut index = String::from(
        "// Generated by `UPDATE_GOLDEN=1 cargo test -p shared --test golden`: every corpus file.\n&[\n",
    );
    for n in &names {
        index.push_str(&format!("    ({n:?}, include_str!({n:?})),\n"));
    }
    index.push_str("]\n");
    let update = std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1");
    let current = std::fs::read_to_string(dir.join("index.rs")).unwrap_or_default();
    if update {
        std::fs::write(dir.join("index.rs"), &index).unwrap();
        let run = run_corpus();
        for (name, actual) in &run.evaluations {
            let path = dir.join(name);
            let mut value: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            value["expected"] = serde_json::to_value(actual).unwrap();
            std::fs::write(&path, serde_json::to_string_pretty(&value).unwrap() + "\n").unwrap();
        }
        std::fs::write(dir.join("DIGEST"), format!("{:016x}\n", run.digest)).unwrap();
        return;
    }
    assert_eq!(
        current, index,
        "corpus/index.rs is stale: run with UPDATE_GOLDEN=1"
    );
}
