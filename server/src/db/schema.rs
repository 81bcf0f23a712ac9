//! The schema in both dialects: SQLite's migrations, applied in order and counted by
//! `user_version`, and PostgreSQL's, kept in step with them by `tests/tests/postgres.rs`.

/// Schema migrations, applied in order; `user_version` records how many ran.
pub const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE orgs (
    id TEXT PRIMARY KEY,
    parent_id TEXT REFERENCES orgs(id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,          -- district, committee (đảng bộ cơ sở), branch (chi bộ), sub_branch
    sector TEXT NOT NULL DEFAULT '',
    grassroots INTEGER NOT NULL DEFAULT 0,
    path TEXT NOT NULL           -- '/root/a/b/': subtree = path >= prefix AND path < prefix-with-last-'/'-as-'0'
);
CREATE TABLE org_years (
    org_id TEXT NOT NULL REFERENCES orgs(id),
    year INTEGER NOT NULL,
    members_start INTEGER NOT NULL DEFAULT 0,
    target INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, year)
);
CREATE TABLE term_targets (
    org_id TEXT NOT NULL REFERENCES orgs(id),
    term TEXT NOT NULL,          -- '2020-2025'
    target INTEGER NOT NULL,
    PRIMARY KEY (org_id, term)
);
CREATE TABLE members (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id),
    full_name TEXT NOT NULL,
    official_since TEXT,
    status TEXT NOT NULL DEFAULT 'official'
);
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,          -- cadre, reviewer, admin
    scope_org TEXT NOT NULL REFERENCES orgs(id),
    active INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    last_seen INTEGER
);
CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    device_id TEXT NOT NULL REFERENCES devices(id),
    expires_at INTEGER NOT NULL
);
CREATE TABLE actors (
    actor TEXT PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices(id),
    user_id INTEGER NOT NULL REFERENCES users(id)
);
CREATE TABLE docs (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    org_seq INTEGER NOT NULL,    -- log position when the file entered its organisation
    snapshot BLOB,
    snapshot_seq INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX docs_org ON docs(org_id);
CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL REFERENCES docs(id),
    hash BLOB NOT NULL UNIQUE,
    actor TEXT NOT NULL,
    bytes BLOB NOT NULL,
    received_at INTEGER NOT NULL
);
CREATE INDEX changes_doc ON changes(doc_id, seq);
CREATE TABLE projections (
    doc_id TEXT PRIMARY KEY REFERENCES docs(id),
    org_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    full_name TEXT NOT NULL,
    sex TEXT,
    ethnicity TEXT NOT NULL DEFAULT '',
    birth_date TEXT,
    education TEXT,
    youth_union INTEGER NOT NULL DEFAULT 0,
    introduced INTEGER NOT NULL DEFAULT 0,
    class_date TEXT,
    branch_vote_date TEXT,
    decision_date TEXT,
    ceremony_date TEXT,
    official_date TEXT,
    stopped INTEGER NOT NULL DEFAULT 0,
    blocking INTEGER NOT NULL DEFAULT 0,
    warnings INTEGER NOT NULL DEFAULT 0,
    returned INTEGER NOT NULL DEFAULT 0,
    review_comment TEXT NOT NULL DEFAULT '',
    rule_set TEXT NOT NULL,
    evaluated_on TEXT NOT NULL,
    case_json TEXT NOT NULL,
    eval_json TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX projections_org ON projections(org_id);
CREATE INDEX projections_decision ON projections(decision_date);
CREATE TABLE findings (
    doc_id TEXT NOT NULL,
    code TEXT NOT NULL,
    severity TEXT NOT NULL,
    field TEXT NOT NULL,
    message_vi TEXT NOT NULL,
    message_en TEXT NOT NULL,
    PRIMARY KEY (doc_id, code, field)
);
CREATE INDEX findings_code ON findings(code);
CREATE TABLE deadlines (
    doc_id TEXT NOT NULL,
    code TEXT NOT NULL,
    label_vi TEXT NOT NULL,
    label_en TEXT NOT NULL,
    due TEXT NOT NULL,
    done INTEGER NOT NULL,
    PRIMARY KEY (doc_id, code)
);
CREATE INDEX deadlines_due ON deadlines(done, due);
CREATE TABLE conflicts (
    id INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL,
    path TEXT NOT NULL,
    values_json TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    closed_at INTEGER,
    resolved_by TEXT,
    resolution_json TEXT
);
CREATE INDEX conflicts_open ON conflicts(doc_id, closed_at);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"#,
    // The dashboard counts files per organisation, stage, class and decision from this
    // covering index alone, without reading the wide projection rows.
    r#"
CREATE INDEX projections_report ON projections(org_id, stage, class_date, decision_date);
-- Which organisations admitted anyone in a period, answered from the index alone.
CREATE INDEX projections_decision_org ON projections(decision_date, org_id);
DROP INDEX projections_decision;
"#,
    // Which files each device holds (so files leaving its scope can be removed from it),
    // the scope it was last served, whether it ever wrote a change (devices that did are
    // never purged: the audit trail names them), login throttling, and an index for
    // subtree ranges on materialised paths.
    r#"
CREATE TABLE device_docs (
    device_id TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    PRIMARY KEY (device_id, doc_id)
) WITHOUT ROWID;
ALTER TABLE devices ADD COLUMN scope_path TEXT;
ALTER TABLE devices ADD COLUMN wrote_at INTEGER;
UPDATE devices SET wrote_at = created_at WHERE id IN (
    SELECT DISTINCT a.device_id FROM actors a JOIN changes c ON c.actor = a.actor);
CREATE TABLE login_failures (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    locked_until INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX orgs_path ON orgs(path);
"#,
    // Likely duplicate files: the identity keys of every file, and the pairs found, with
    // the office's decision (merged into a survivor, or dismissed for good).
    r#"
CREATE TABLE identity_keys (
    doc_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    key TEXT NOT NULL,
    PRIMARY KEY (doc_id, reason, key)
) WITHOUT ROWID;
CREATE INDEX identity_keys_key ON identity_keys(reason, key);
CREATE TABLE duplicates (
    id INTEGER PRIMARY KEY,
    a TEXT NOT NULL,             -- a < b
    b TEXT NOT NULL,
    reason TEXT NOT NULL,
    found_at INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'open',   -- open, merged, dismissed
    survivor TEXT,
    decided_by TEXT,
    decided_at INTEGER,
    UNIQUE (a, b)
);
CREATE INDEX duplicates_state ON duplicates(state);
CREATE INDEX projections_birth ON projections(org_id, birth_date);
"#,
    // Administration in the browser: the audit log of every administrative action,
    // account state, devices' refused pushes, closed organisations and the history of the
    // tree, and rule settings with their effective date and reason.
    r#"
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,         -- 'display name (username)'
    action TEXT NOT NULL,        -- e.g. account.create, device.revoke, org.move
    target TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_at ON audit_log(at);
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_login INTEGER;
ALTER TABLE users ADD COLUMN created_at INTEGER;
ALTER TABLE devices ADD COLUMN rejected_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN last_rejected_at INTEGER;
ALTER TABLE orgs ADD COLUMN closed_on TEXT;
CREATE TABLE org_history (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    org_id TEXT NOT NULL,
    action TEXT NOT NULL,        -- add, rename, move, merge, close
    detail_json TEXT NOT NULL,
    effective TEXT,              -- the date the change takes effect
    decision TEXT NOT NULL DEFAULT '',
    by TEXT NOT NULL
);
CREATE INDEX org_history_org ON org_history(org_id, at);
CREATE TABLE terms (
    org_id TEXT NOT NULL,
    name TEXT NOT NULL,          -- e.g. 'Nhiệm kỳ 2025–2030'
    start_date TEXT NOT NULL,    -- the congress that opened it
    end_date TEXT NOT NULL,      -- the next congress
    decision TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (org_id, name)
);
CREATE TABLE target_history (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    org_id TEXT NOT NULL,
    period TEXT NOT NULL,        -- a year ('2026') or a term's name
    field TEXT NOT NULL,         -- target, members_start
    old_value INTEGER,
    new_value INTEGER NOT NULL,
    effective TEXT,
    decision TEXT NOT NULL DEFAULT '',
    by TEXT NOT NULL
);
CREATE INDEX target_history_org ON target_history(org_id, period);
CREATE TABLE setting_history (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    key TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT NOT NULL,
    effective TEXT,
    reason TEXT NOT NULL DEFAULT '',
    by TEXT NOT NULL
);
"#,
    // The figures committees publish: structured source and occupation, the class a file
    // names, the dates that place it in a cohort, and what the aggregates need (ethnic
    // minority and age on the decision date, computed in Rust when a projection is
    // written; filled here from the stored JSON for older rows). Awareness classes and
    // sub-targets as records. Aggregates of admissions, recognitions and stages, kept up
    // to date by triggers on every projection write, so the dashboard reads them instead
    // of the projection rows (`aggregates.rs`).
    r#"
ALTER TABLE projections ADD COLUMN source_kind TEXT;
ALTER TABLE projections ADD COLUMN occupation TEXT;
ALTER TABLE projections ADD COLUMN class_id TEXT NOT NULL DEFAULT '';
ALTER TABLE projections ADD COLUMN outstanding_date TEXT;
ALTER TABLE projections ADD COLUMN application_date TEXT;
ALTER TABLE projections ADD COLUMN minority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE projections ADD COLUMN decision_age INTEGER;
UPDATE projections SET
    source_kind = CASE WHEN json_valid(case_json) THEN json_extract(case_json, '$.source.kind') END,
    occupation = CASE WHEN json_valid(case_json) THEN json_extract(case_json, '$.person.occupation') END,
    outstanding_date = CASE WHEN json_valid(case_json)
        THEN json_extract(case_json, '$.source.outstanding_list_date') END,
    application_date = CASE WHEN json_valid(case_json)
        THEN json_extract(case_json, '$.application.letter_date') END,
    minority = lower(trim(ethnicity)) NOT IN ('', 'kinh'),
    decision_age = CASE WHEN birth_date IS NULL OR decision_date IS NULL THEN NULL ELSE
        CAST(substr(decision_date, 1, 4) AS INTEGER) - CAST(substr(birth_date, 1, 4) AS INTEGER)
        - (substr(decision_date, 6, 5) < CASE
            WHEN substr(birth_date, 6, 5) = '02-29'
                 AND NOT ((CAST(substr(decision_date, 1, 4) AS INTEGER) % 4 = 0
                      AND CAST(substr(decision_date, 1, 4) AS INTEGER) % 100 <> 0)
                      OR CAST(substr(decision_date, 1, 4) AS INTEGER) % 400 = 0)
            THEN '02-28' ELSE substr(birth_date, 6, 5) END) END;
CREATE INDEX projections_class ON projections(class_id) WHERE class_id <> '';
CREATE INDEX projections_outstanding ON projections(outstanding_date);
CREATE INDEX projections_application ON projections(application_date);
CREATE INDEX projections_class_date ON projections(class_date);
CREATE INDEX projections_official ON projections(official_date);

CREATE TABLE classes (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,        -- the party organisation that opened the class
    name TEXT NOT NULL,
    organiser TEXT NOT NULL DEFAULT '',   -- e.g. the district's political centre
    start_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    place TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX classes_start ON classes(start_date);
CREATE TABLE sub_targets (
    org_id TEXT NOT NULL,
    period TEXT NOT NULL,        -- a year ('2026') or a term's name
    grp TEXT NOT NULL,           -- women, youth_union, minority, age_18_30, sector:dnk, ...
    value INTEGER NOT NULL,
    PRIMARY KEY (org_id, period, grp)
);

CREATE TABLE agg_admitted (
    day TEXT NOT NULL,
    org_id TEXT NOT NULL,
    sex TEXT NOT NULL,
    minority INTEGER NOT NULL,
    youth INTEGER NOT NULL,
    young INTEGER NOT NULL,      -- aged 18-30 on the decision date
    education TEXT NOT NULL,
    occupation TEXT NOT NULL,
    source_kind TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (day, org_id, sex, minority, youth, young, education, occupation, source_kind)
) WITHOUT ROWID;
CREATE TABLE agg_official (
    day TEXT NOT NULL,
    org_id TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (day, org_id)
) WITHOUT ROWID;
CREATE TABLE agg_stage (
    org_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (org_id, stage)
) WITHOUT ROWID;
INSERT INTO agg_admitted
    SELECT decision_date, org_id, COALESCE(sex, ''), minority, youth_union,
           COALESCE(decision_age BETWEEN 18 AND 30, 0), COALESCE(education, ''),
           COALESCE(occupation, ''), COALESCE(source_kind, ''), COUNT(*)
    FROM projections WHERE decision_date IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9;
INSERT INTO agg_official
    SELECT official_date, org_id, COUNT(*) FROM projections
    WHERE official_date IS NOT NULL GROUP BY 1, 2;
INSERT INTO agg_stage SELECT org_id, stage, COUNT(*) FROM projections GROUP BY 1, 2;
CREATE TRIGGER agg_admitted_ins AFTER INSERT ON projections
WHEN NEW.decision_date IS NOT NULL BEGIN
    INSERT INTO agg_admitted VALUES (NEW.decision_date, NEW.org_id, COALESCE(NEW.sex, ''), NEW.minority, NEW.youth_union, COALESCE(NEW.decision_age BETWEEN 18 AND 30, 0), COALESCE(NEW.education, ''), COALESCE(NEW.occupation, ''), COALESCE(NEW.source_kind, ''), 1)
        ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER agg_admitted_del AFTER DELETE ON projections
WHEN OLD.decision_date IS NOT NULL BEGIN
    UPDATE agg_admitted SET n = n - 1 WHERE day = OLD.decision_date AND org_id = OLD.org_id AND sex = COALESCE(OLD.sex, '')
        AND minority = OLD.minority AND youth = OLD.youth_union
        AND young = COALESCE(OLD.decision_age BETWEEN 18 AND 30, 0)
        AND education = COALESCE(OLD.education, '') AND occupation = COALESCE(OLD.occupation, '')
        AND source_kind = COALESCE(OLD.source_kind, '');
    DELETE FROM agg_admitted WHERE n <= 0 AND day = OLD.decision_date AND org_id = OLD.org_id AND sex = COALESCE(OLD.sex, '')
        AND minority = OLD.minority AND youth = OLD.youth_union
        AND young = COALESCE(OLD.decision_age BETWEEN 18 AND 30, 0)
        AND education = COALESCE(OLD.education, '') AND occupation = COALESCE(OLD.occupation, '')
        AND source_kind = COALESCE(OLD.source_kind, '');
END;
CREATE TRIGGER agg_admitted_upd_old AFTER UPDATE ON projections
WHEN OLD.decision_date IS NOT NULL AND (OLD.decision_date IS NOT NEW.decision_date OR OLD.org_id IS NOT NEW.org_id OR OLD.sex IS NOT NEW.sex OR OLD.minority IS NOT NEW.minority OR OLD.youth_union IS NOT NEW.youth_union OR OLD.decision_age IS NOT NEW.decision_age OR OLD.education IS NOT NEW.education OR OLD.occupation IS NOT NEW.occupation OR OLD.source_kind IS NOT NEW.source_kind) BEGIN
    UPDATE agg_admitted SET n = n - 1 WHERE day = OLD.decision_date AND org_id = OLD.org_id AND sex = COALESCE(OLD.sex, '')
        AND minority = OLD.minority AND youth = OLD.youth_union
        AND young = COALESCE(OLD.decision_age BETWEEN 18 AND 30, 0)
        AND education = COALESCE(OLD.education, '') AND occupation = COALESCE(OLD.occupation, '')
        AND source_kind = COALESCE(OLD.source_kind, '');
    DELETE FROM agg_admitted WHERE n <= 0 AND day = OLD.decision_date AND org_id = OLD.org_id AND sex = COALESCE(OLD.sex, '')
        AND minority = OLD.minority AND youth = OLD.youth_union
        AND young = COALESCE(OLD.decision_age BETWEEN 18 AND 30, 0)
        AND education = COALESCE(OLD.education, '') AND occupation = COALESCE(OLD.occupation, '')
        AND source_kind = COALESCE(OLD.source_kind, '');
END;
CREATE TRIGGER agg_admitted_upd_new AFTER UPDATE ON projections
WHEN NEW.decision_date IS NOT NULL AND (OLD.decision_date IS NOT NEW.decision_date OR OLD.org_id IS NOT NEW.org_id OR OLD.sex IS NOT NEW.sex OR OLD.minority IS NOT NEW.minority OR OLD.youth_union IS NOT NEW.youth_union OR OLD.decision_age IS NOT NEW.decision_age OR OLD.education IS NOT NEW.education OR OLD.occupation IS NOT NEW.occupation OR OLD.source_kind IS NOT NEW.source_kind) BEGIN
    INSERT INTO agg_admitted VALUES (NEW.decision_date, NEW.org_id, COALESCE(NEW.sex, ''), NEW.minority, NEW.youth_union, COALESCE(NEW.decision_age BETWEEN 18 AND 30, 0), COALESCE(NEW.education, ''), COALESCE(NEW.occupation, ''), COALESCE(NEW.source_kind, ''), 1)
        ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER agg_official_ins AFTER INSERT ON projections
WHEN NEW.official_date IS NOT NULL BEGIN
    INSERT INTO agg_official VALUES (NEW.official_date, NEW.org_id, 1)
        ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER agg_official_del AFTER DELETE ON projections
WHEN OLD.official_date IS NOT NULL BEGIN
    UPDATE agg_official SET n = n - 1 WHERE day = OLD.official_date AND org_id = OLD.org_id;
    DELETE FROM agg_official WHERE n <= 0 AND day = OLD.official_date AND org_id = OLD.org_id;
END;
CREATE TRIGGER agg_official_upd_old AFTER UPDATE ON projections
WHEN OLD.official_date IS NOT NULL AND (OLD.official_date IS NOT NEW.official_date OR OLD.org_id IS NOT NEW.org_id) BEGIN
    UPDATE agg_official SET n = n - 1 WHERE day = OLD.official_date AND org_id = OLD.org_id;
    DELETE FROM agg_official WHERE n <= 0 AND day = OLD.official_date AND org_id = OLD.org_id;
END;
CREATE TRIGGER agg_official_upd_new AFTER UPDATE ON projections
WHEN NEW.official_date IS NOT NULL AND (OLD.official_date IS NOT NEW.official_date OR OLD.org_id IS NOT NEW.org_id) BEGIN
    INSERT INTO agg_official VALUES (NEW.official_date, NEW.org_id, 1)
        ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER agg_stage_ins AFTER INSERT ON projections BEGIN
    INSERT INTO agg_stage VALUES (NEW.org_id, NEW.stage, 1)
        ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER agg_stage_del AFTER DELETE ON projections BEGIN
    UPDATE agg_stage SET n = n - 1 WHERE org_id = OLD.org_id AND stage = OLD.stage;
    DELETE FROM agg_stage WHERE n <= 0 AND org_id = OLD.org_id AND stage = OLD.stage;
END;
CREATE TRIGGER agg_stage_upd AFTER UPDATE ON projections
WHEN OLD.org_id IS NOT NEW.org_id OR OLD.stage IS NOT NEW.stage BEGIN
    UPDATE agg_stage SET n = n - 1 WHERE org_id = OLD.org_id AND stage = OLD.stage;
    DELETE FROM agg_stage WHERE n <= 0 AND org_id = OLD.org_id AND stage = OLD.stage;
    INSERT INTO agg_stage VALUES (NEW.org_id, NEW.stage, 1)
        ON CONFLICT DO UPDATE SET n = n + 1;
END;
"#,
    // The cohort of a period (files by their entry on the list of outstanding people) is
    // counted from this covering index alone.
    r#"
DROP INDEX projections_outstanding;
CREATE INDEX projections_cohort ON projections(outstanding_date, org_id, class_id, class_date,
    decision_date, source_kind, occupation);
"#,
    // Rollups of the published figures per organisation, month and year (`rollups.rs`),
    // replacing the day-level aggregates of admissions and recognitions.
    include_str!("rollups.sql"),
    // Disk per case file: the evaluation is computed again where it is shown (the case
    // page loads the document anyway), and only open deadlines are kept (every reader asks
    // for `done = 0`; met deadlines are part of the evaluation).
    r#"
UPDATE projections SET eval_json = '' WHERE eval_json <> '';
DELETE FROM deadlines WHERE done <> 0;
"#,
    // A pull finds the files placed since its cursor (those that may have left the
    // device's scope) without reading every file the device holds.
    "CREATE INDEX docs_org_seq ON docs(org_seq);",
    // What a first sync hands out for a file without loading it: its list summary and
    // heads, as of the log position `summary_seq` (written with the file's views).
    r#"
ALTER TABLE docs ADD COLUMN summary TEXT;
ALTER TABLE docs ADD COLUMN heads BLOB;
ALTER TABLE docs ADD COLUMN summary_seq INTEGER NOT NULL DEFAULT 0;
"#,
    // Disk per case file: only findings a queue shows (blocking and warning) are kept;
    // the case page shows the rest from the evaluation it computes again.
    "DELETE FROM findings WHERE severity NOT IN ('blocking', 'warning');",
    // `projections_report` and `projections_birth` begin with the organisation: a third
    // index on it alone served no query they do not.
    "DROP INDEX projections_org;",
    // A dated rollup's triggers run only for files with its date (`rollups.rs`).
    include_str!("rollups_guard.sql"),
];

/// PostgreSQL's whole schema, every statement of which may run again on a schema it
/// created: `pgschema.sql`, then the rollups' tables generated from their definitions.
pub fn postgres() -> String {
    let mut sql = include_str!("pgschema.sql").to_string();
    sql.push_str(&super::rollups::postgres_tables());
    sql
}
