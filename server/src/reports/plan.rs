//! Plan vs done for every organisation of a subtree.

use std::collections::{BTreeMap, HashMap};

use crate::db::Connection;
use crate::db::targets::{self as db_targets, OrgYearFigure};
use serde::Serialize;
use shared::date::Date;

use super::*;
use crate::auth::Caller;
use crate::error::AppResult;
use crate::figures::{self, Via};

/// Where an organisation stands against its plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    /// No target recorded.
    NoTarget,
    /// Nobody admitted.
    Zero,
    /// Below the target pro rata of the days elapsed.
    Behind,
    /// At or above the target pro rata of the days elapsed.
    OnPlan,
    /// The whole target reached.
    Reached,
}

/// One organisation of a plan-vs-done table.
#[derive(Debug, Clone, Serialize)]
pub struct PlanRow {
    pub org_id: String,
    pub name: String,
    pub sector: String,
    /// Depth below the table's root (0 for the root).
    pub depth: usize,
    pub grassroots: bool,
    pub target: Option<i64>,
    pub admitted: usize,
    pub percent: Option<f64>,
    /// The target pro rata of the days elapsed in the period (to today at most).
    pub expected: Option<f64>,
    pub status: PlanStatus,
    /// The organisation's term running at the end of the period, its target and the
    /// admissions from its congress to the end of the period.
    pub term: Option<String>,
    pub term_target: Option<i64>,
    pub term_admitted: Option<usize>,
    pub term_percent: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub org_id: String,
    pub org_name: String,
    pub period: Period,
    pub rows: Vec<PlanRow>,
    pub base: CaseFilter,
}

/// Plan vs done for every organisation of a subtree down to the grassroots level: the
/// period's target (a year's, or the term's when a term is asked for), admissions, % and
/// the term-to-date figure; sorted by %, lowest first, organisations without a target
/// last.
pub fn plan(
    conn: &Connection,
    orgs: &OrgIndex,
    caller: &Caller,
    f: &CaseFilter,
    today: Date,
    via: Via,
) -> AppResult<Plan> {
    let root = resolve_org(orgs, caller, f.org_id())?.clone();
    let resolved = f.resolve(conn, orgs, &root, today)?;
    let period = resolved.period;
    let base = CaseFilter {
        org: Some(OrgId(root.id.clone())),
        ..f.scope_only()
    };
    // Organisations down to the grassroots level (not their sub-branches).
    let rows_orgs: Vec<&OrgInfo> = orgs
        .subtree(&root.path)
        .filter(|o| {
            o.id == root.id
                || o.grassroots
                || orgs
                    .grassroots_of(&o.id)
                    .is_none_or(|g| !orgs.in_subtree(&g.id, &root.path))
        })
        .collect();
    let wanted: HashMap<&str, usize> = rows_orgs
        .iter()
        .enumerate()
        .map(|(i, o)| (o.id.as_str(), i))
        .collect();
    // Terms running at the end of the period, per row.
    let mut terms = Vec::with_capacity(rows_orgs.len());
    for o in &rows_orgs {
        terms.push(crate::targets::term_on(conn, orgs, &o.id, period.to)?);
    }
    // Admissions per organisation of the files in the period, and from each distinct
    // term's congress to its end (terms are mostly inherited, so there are few).
    let in_period = figures::admitted_per_org(conn, orgs, &root, period, via)?;
    let mut in_term: HashMap<(Date, Date), BTreeMap<String, usize>> = HashMap::new();
    for t in terms.iter().flatten() {
        let key = (t.start, t.end);
        let to = t.end.add_days(-1).min(period.to);
        if !in_term.contains_key(&key) && to >= t.start {
            let p = Period { from: t.start, to };
            in_term.insert(key, figures::admitted_per_org(conn, orgs, &root, p, via)?);
        }
    }
    // Each organisation's count goes to every row of its chain up to the root.
    let mut chains: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut chain_of = |org: &str| -> Vec<usize> {
        chains
            .entry(orgs.get(org).map_or("", |o| o.id.as_str()))
            .or_insert_with(|| {
                let mut out = Vec::new();
                let mut cur = orgs.get(org);
                while let Some(o) = cur {
                    if let Some(i) = wanted.get(o.id.as_str()) {
                        out.push(*i);
                    }
                    if o.id == root.id {
                        break;
                    }
                    cur = o.parent_id.as_deref().and_then(|p| orgs.get(p));
                }
                out
            })
            .clone()
    };
    let mut done = vec![0usize; rows_orgs.len()];
    for (org, n) in &in_period {
        for i in chain_of(org) {
            done[i] += n;
        }
    }
    // From the congress to the end of the period, for the rows whose term it is.
    let mut term_done = vec![0usize; rows_orgs.len()];
    for (key, counts) in &in_term {
        for (org, n) in counts {
            for i in chain_of(org) {
                if terms[i].as_ref().is_some_and(|t| (t.start, t.end) == *key) {
                    term_done[i] += n;
                }
            }
        }
    }
    let asked_term = f.term.as_deref();
    let year = (period.from.year() == period.to.year()).then(|| period.from.year());
    let elapsed_end = period.to.min(today);
    let share = if elapsed_end < period.from {
        0.0
    } else {
        f64::from(period.from.days_until(elapsed_end) + 1)
            / f64::from(period.from.days_until(period.to) + 1)
    };
    let mut year_targets: HashMap<String, i64> = HashMap::new();
    if let Some(y) = year {
        for row in db_targets::year_figures(conn, y, OrgYearFigure::Target)? {
            let (o, t) = row?;
            if t > 0 {
                year_targets.insert(o, t);
            }
        }
    }
    // A figure the office publishes: a failed read is an error, never "no target".
    let term_target = |org: &str, name: &str| db_targets::term_target(conn, org, name);
    let root_depth = root.path.matches('/').count();
    let mut rows = Vec::new();
    for (i, o) in rows_orgs.iter().enumerate() {
        let target = match (asked_term, year) {
            (Some(t), _) => {
                let of_resolved = match resolved.term.as_ref() {
                    Some(rt) => term_target(&o.id, &rt.name)?,
                    None => None,
                };
                match of_resolved {
                    Some(v) => Some(v),
                    None => term_target(&o.id, t)?,
                }
            }
            (None, Some(_)) => year_targets.get(&o.id).copied(),
            (None, None) => None,
        };
        let n = done[i];
        let expected = target.map(|t| (t as f64 * share * 10.0).round() / 10.0);
        let status = match (target, expected) {
            (None, _) | (Some(0), _) => PlanStatus::NoTarget,
            _ if n == 0 => PlanStatus::Zero,
            (Some(t), _) if n as i64 >= t => PlanStatus::Reached,
            (_, Some(e)) if n as f64 >= e => PlanStatus::OnPlan,
            _ => PlanStatus::Behind,
        };
        let t = terms[i].as_ref();
        let tt = match t {
            Some(t) => term_target(&o.id, &t.name)?,
            None => None,
        };
        rows.push(PlanRow {
            org_id: o.id.clone(),
            name: o.name.clone(),
            sector: o.sector.clone(),
            depth: o.path.matches('/').count().saturating_sub(root_depth),
            grassroots: o.grassroots,
            target,
            admitted: n,
            percent: target.and_then(|t| pct(n as f64, t as f64)),
            expected,
            status,
            term: t.map(|t| t.name.clone()),
            term_target: tt,
            term_admitted: t.map(|_| term_done[i]),
            term_percent: tt.and_then(|x| pct(term_done[i] as f64, x as f64)),
        });
    }
    rows.sort_by(|a, b| {
        let key = |r: &PlanRow| (r.target.is_none_or(|t| t == 0), r.percent.unwrap_or(0.0));
        let (ka, kb) = (key(a), key(b));
        ka.0.cmp(&kb.0)
            .then(ka.1.total_cmp(&kb.1))
            .then(a.depth.cmp(&b.depth))
            .then(a.org_id.cmp(&b.org_id))
    });
    Ok(Plan {
        org_id: root.id.clone(),
        org_name: root.name.clone(),
        period,
        rows,
        base,
    })
}
