//! Project rules checked over the source tree, so that a change breaking one fails the
//! suite: every Rust file opens with a `//!` comment; every code-like string a test or
//! the client names is a finding, deadline, error or rejection code that exists; every
//! route the server registers has its access in `server::routes::ACCESS` (which the role
//! test walks); and `ARCHITECTURE.md` names only files that exist.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use server::routes::{ACCESS, Access};
use shared::api::{ErrorCode, RejectionCode};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives in the workspace")
        .to_path_buf()
}

/// Directories never walked: build output, dependencies, version control, and the
/// fuzzing inputs (binary).
const SKIPPED_DIRS: [&str; 3] = ["target", ".git", "node_modules"];
const SKIPPED_PATHS: [&str; 4] = [
    "fuzz/corpus",
    "fuzz/corpus-seed",
    "fuzz/artifacts",
    "fuzz/regressions",
];

/// Files under `dir` (relative to the root) whose name ends with one of `exts`.
fn files(dir: &str, exts: &[&str]) -> Vec<PathBuf> {
    fn walk(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                let skipped = SKIPPED_DIRS.contains(&name.as_str())
                    || SKIPPED_PATHS.iter().any(|p| path.ends_with(p));
                if !skipped {
                    walk(&path, exts, out);
                }
            } else if exts.iter().any(|x| name.ends_with(x)) {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&root().join(dir), exts, &mut out);
    out.sort();
    out
}

fn relative(p: &Path) -> String {
    p.strip_prefix(root())
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Expression files pulled in with `include!`, where an inner doc comment cannot stand.
const INCLUDED: [&str; 1] = ["shared/corpus/index.rs"];

#[test]
fn every_rust_file_opens_with_a_doc_comment() {
    let mut missing = Vec::new();
    let all = files(".", &[".rs"]);
    assert!(all.len() > 100, "only {} files found", all.len());
    for path in all {
        let name = relative(&path);
        if INCLUDED.contains(&name.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        if !text.starts_with("//!") {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "files without a `//!` opening: {missing:#?}"
    );
    for name in INCLUDED {
        let text = std::fs::read_to_string(root().join(name)).unwrap();
        assert!(
            !text.starts_with("//!"),
            "{name} may have a doc comment now"
        );
    }
}

/// Code-shaped string literals (`"AGE_BELOW_18"`: capitals, digits, at least one `_`).
fn code_literals(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, piece) in text.split('"').enumerate() {
        let is_code = i % 2 == 1
            && piece.contains('_')
            && piece.starts_with(|c: char| c.is_ascii_uppercase())
            && piece
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            && !piece.ends_with('_')
            && !piece.contains("__");
        if is_code {
            out.insert(piece.to_string());
        }
    }
    out
}

/// Code-shaped strings that are no code: environment variables the tests read, and the
/// client's own error codes for failures that never reached the server.
const NOT_CODES: [&str; 14] = [
    "CARGO_MANIFEST_DIR",
    "BENCH_CONFIGS",
    "HOSO_TEST_DATABASE",
    "HOSO_TEST_SEED_DIR",
    "HOSO_CHILD_PG",
    "PEERS_WHOLE",
    "HOSO_CHILD_ADDR",
    "HOSO_CHILD_DATA",
    "UPDATE_GOLDEN",
    "BENCH_DEVICES",
    "BENCH_TIMELINE",
    "HOSO_BENCH_CHILD",
    "BAD_ANSWER",
    "BAD_SYNC",
];

#[test]
fn every_code_a_test_or_the_client_names_exists() {
    let mut sources = Vec::new();
    for dir in ["tests", "client", "shared/tests", "server/tests"] {
        sources.extend(files(dir, &[".rs", ".mjs", ".js"]));
    }
    sources.push(root().join("shared/src/rules/tests.rs"));
    let mut unknown = Vec::new();
    let mut seen = 0;
    for path in &sources {
        if path.ends_with("tests/tests/tidy.rs") {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        for code in code_literals(&text) {
            seen += 1;
            let known = shared::rules::is_finding_code(&code)
                || shared::deadlines::is_deadline_code(&code)
                || ErrorCode::ALL.iter().any(|c| c.as_str() == code)
                || RejectionCode::ALL.iter().any(|c| c.as_str() == code)
                || NOT_CODES.contains(&code.as_str());
            if !known {
                unknown.push(format!("{}: {code}", relative(path)));
            }
        }
    }
    assert!(seen > 50, "only {seen} codes found");
    assert!(unknown.is_empty(), "codes no registry knows: {unknown:#?}");
    // The registry check itself can fail.
    assert!(!shared::rules::is_finding_code("AGE_BELOW_81"));
    assert!(shared::rules::is_finding_code("AGE_BELOW_18"));
    assert!(shared::rules::is_finding_code("STOP_REASON_MISSING"));
}

/// `(method, path)` of every `.route(…)` call in the server's sources, read from the
/// text: a path literal and the method routers (`get(`, `post(`, `.post(`…) up to the
/// call's closing parenthesis.
fn registered_routes() -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for path in files("server/src", &[".rs"]) {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut rest = text.as_str();
        while let Some(at) = rest.find(".route(") {
            rest = &rest[at + ".route(".len()..];
            let Some(open) = rest.trim_start().strip_prefix('"') else {
                continue; // `.route(p, m)` over a table, such as the admin pages' ROUTES.
            };
            let (route, after) = open.split_once('"').unwrap();
            let mut depth = 1;
            let mut end = after.len();
            for (i, c) in after.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            end = i;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let args = &after[..end];
            for (method, token) in [("GET", "get("), ("POST", "post(")] {
                let called = args.match_indices(token).any(|(i, _)| {
                    i == 0 || !args[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
                });
                if called {
                    out.insert((method.to_string(), route.to_string()));
                }
            }
        }
    }
    out
}

#[test]
fn every_route_the_server_registers_has_its_access_listed() {
    let registered = registered_routes();
    assert!(
        registered.len() > 40,
        "only {} routes found",
        registered.len()
    );
    let listed: BTreeSet<(String, String)> = ACCESS
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    let unlisted: Vec<_> = registered.difference(&listed).collect();
    assert!(
        unlisted.is_empty(),
        "routes missing from server::routes::ACCESS: {unlisted:#?}"
    );
    let stale: Vec<_> = listed.difference(&registered).collect();
    assert!(
        stale.is_empty(),
        "listed routes nothing registers: {stale:#?}"
    );
    // The administration pages come from their own table, all for administrators.
    let all = server::routes::all();
    assert_eq!(
        all.len(),
        ACCESS.len() + server::central::admin::ROUTES.len()
    );
    for (path, method) in server::central::admin::ROUTES {
        assert!(
            all.contains(&(*method, *path, Access::Admin)),
            "{method} {path}"
        );
    }
}

/// Backticked names in ARCHITECTURE.md that look like files or directories.
fn named_paths(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    // Bare file names are looked up in the crate whose section names them.
    let mut base = String::new();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("### `") {
            base = h.trim_end_matches('`').to_string();
            continue;
        }
        if line.starts_with("## ") {
            base.clear();
        }
        for (i, piece) in line.split('`').enumerate() {
            let looks_like_file = i % 2 == 1
                && !piece.is_empty()
                && !piece.starts_with('/')
                && !piece.starts_with("target/")
                && !piece.contains(|c: char| " <>{}…*:=".contains(c))
                && (piece.ends_with('/')
                    || [
                        ".rs", ".md", ".mjs", ".js", ".sql", ".toml", ".txt", ".json",
                    ]
                    .iter()
                    .any(|x| piece.ends_with(x))
                    || ["shared/", "server/", "client/", "tests/", "xtask/", "fuzz/"]
                        .iter()
                        .any(|d| piece.starts_with(d)));
            if looks_like_file {
                out.push((base.clone(), piece.to_string()));
            }
        }
    }
    out
}

/// Paths ARCHITECTURE.md names that a run makes (not in git).
const MADE_BY_RUNS: [&str; 1] = ["fuzz/corpus/"];

#[test]
fn architecture_names_only_files_that_exist() {
    let root = root();
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let named = named_paths(&text);
    assert!(named.len() > 50, "only {} names found", named.len());
    let mut missing = Vec::new();
    for (base, name) in named {
        if MADE_BY_RUNS.contains(&name.as_str()) {
            continue;
        }
        let name_path = name.trim_end_matches('/');
        let bare = !name_path.contains('/');
        let candidates = if base.is_empty() {
            vec![root.join(name_path)]
        } else {
            vec![
                root.join(name_path),
                root.join(&base).join(name_path),
                root.join(&base).join("src").join(name_path),
            ]
        };
        let mut found = candidates.iter().any(|c| c.exists());
        // Outside a crate's section, a bare name must be a file of some crate's sources.
        if !found && bare && base.is_empty() {
            found = ["shared", "server", "client", "tests", "xtask"]
                .iter()
                .any(|d| {
                    files(d, &[name_path])
                        .iter()
                        .any(|f| f.ends_with(name_path))
                });
        }
        if !found {
            missing.push(if base.is_empty() {
                name
            } else {
                format!("{name} (in `{base}`)")
            });
        }
    }
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names what does not exist: {missing:#?}"
    );
}

/// The statement methods of `server::db::Connection` (and the raw SQLite connection
/// behind it): outside the boundary, code calls the named operations of `server::db`'s
/// modules instead. (`prepare` is left out: the sync replica has a method of that name,
/// and a statement prepared anywhere carries SQL text, which the check sees.)
const STATEMENT_CALLS: [&str; 9] = [
    ".prepare_cached(",
    ".query_row(",
    ".query_map(",
    ".execute(",
    ".execute_batch(",
    ".insert_many(",
    ".last_insert_rowid(",
    ".sqlite()",
    ".sqlite_mut()",
];

/// Files outside `server/src/db/` allowed to speak SQL, each for its reason.
const SQL_ALLOWED: [(&str, &str); 3] = [
    (
        "tests/tests/postgres.rs",
        "the boundary's own test: the same statements through both backends",
    ),
    (
        "tests/src/pg.rs",
        "the harness's throw-away PostgreSQL cluster: databases made and dropped",
    ),
    (
        "tests/src/lib.rs",
        "the harness's throw-away PostgreSQL cluster: databases made and dropped",
    ),
];

/// Whether a string literal opens at byte `i` (after `"` or `r#"`) with an SQL verb.
fn sql_literal_at(text: &str, i: usize) -> bool {
    let rest = text[i..].trim_start();
    [
        "SELECT ", "INSERT ", "UPDATE ", "DELETE ", "CREATE ", "DROP ", "ALTER ", "WITH ",
        "PRAGMA ",
    ]
    .iter()
    .any(|verb| rest.starts_with(verb))
}

/// The lines of a Rust file (comments left out) that call a statement method or open a
/// string with SQL (which may begin on the next line, as raw strings often do).
fn sql_lines(text: &str) -> Vec<String> {
    let code: String = text
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let line_of = |i: usize| code[..i].matches('\n').count();
    let mut hits = BTreeSet::new();
    for call in STATEMENT_CALLS {
        hits.extend(code.match_indices(call).map(|(i, _)| line_of(i)));
    }
    hits.extend(
        code.match_indices('"')
            .filter(|(i, _)| sql_literal_at(&code, i + 1))
            .map(|(i, _)| line_of(i)),
    );
    let lines: Vec<&str> = text.lines().collect();
    hits.into_iter()
        .map(|n| format!("{}: {}", n + 1, lines[n].trim()))
        .collect()
}

#[test]
fn only_the_database_boundary_speaks_sql() {
    let mut found = Vec::new();
    let mut walked = 0;
    for dir in ["server", "tests", "xtask", "fuzz/fuzz_targets"] {
        for path in files(dir, &[".rs"]) {
            let name = relative(&path);
            if name.starts_with("server/src/db/")
                || SQL_ALLOWED.iter().any(|(allowed, _)| *allowed == name)
                || name == "tests/tests/tidy.rs"
            {
                continue;
            }
            walked += 1;
            let text = std::fs::read_to_string(&path).unwrap();
            for line in sql_lines(&text) {
                found.push(format!("{name}:{line}"));
            }
        }
    }
    assert!(walked > 60, "only {walked} files walked");
    assert!(
        found.is_empty(),
        "SQL outside `server/src/db/` (move it into a named operation there): {found:#?}"
    );
}

#[test]
fn the_sql_check_sees_statements_and_sql_text_but_not_prose() {
    let code = r##"
        let n: i64 = conn.query_row("SELECT 1", (), |r| r.get(0))?;
        let sql = r#"
            UPDATE docs SET summary = NULL"#;
        // conn.execute("DELETE FROM docs", ())
        let label = "Chọn đơn vị";
    "##;
    let lines: Vec<usize> = sql_lines(code)
        .iter()
        .map(|l| l.split(':').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(lines, [2, 3]);
}

#[test]
fn the_server_never_calls_what_tests_use_to_inspect_and_damage_data() {
    let mut found = Vec::new();
    for path in files("server/src", &[".rs"]) {
        let name = relative(&path);
        // The fuzz targets' entry points compare stored data before and after an input.
        if name == "server/src/db/inspect.rs" || name == "server/src/fuzzing.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        if text.contains("inspect::") {
            found.push(name);
        }
    }
    assert!(
        found.is_empty(),
        "server modules using db::inspect: {found:?}"
    );
}
