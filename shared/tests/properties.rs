//! Property tests: month arithmetic, working-day counting, stage monotonicity, and
//! determinism and robustness of the rules on generated and corrupted files.
//! Native only: proptest's process forking and timeouts do not exist in the browser.
#![cfg(not(target_arch = "wasm32"))]

#[path = "support/bench.rs"]
mod bench;

use proptest::prelude::*;
use shared::calendar::{WorkingCalendar, WorkingDayConventions};
use shared::date::Date;
use shared::model::CaseFile;
use shared::rand::XorShift;
use shared::rules::{EvalContext, RuleSettings, evaluate};
use shared::stage::derive_stage;

fn date() -> impl Strategy<Value = Date> {
    // 1950..2100 covers every birth date and deadline the product will see.
    (-7305i32..47_482).prop_map(Date::from_days_since_epoch)
}

proptest! {
    /// Whatever a server sends as a short change, rebuilding it never panics. (Random
    /// bytes are all but always refused; should one be rebuilt, its hash must still begin
    /// with the checksum it was sent with.)
    #[test]
    fn a_forged_short_change_is_refused_or_rebuilt_faithfully(
        body in proptest::collection::vec(any::<u8>(), 0..200),
        held in proptest::collection::vec(any::<[u8; 32]>(), 0..4),
    ) {
        let mut bytes = vec![shared::short_deps::SHORT];
        bytes.extend_from_slice(&body);
        let held: Vec<automerge::ChangeHash> = held.into_iter().map(automerge::ChangeHash).collect();
        let result = shared::short_deps::expand(&bytes, &mut |prefix| {
            shared::short_deps::matching(prefix, &held)
        });
        if let Ok(change) = result {
            prop_assert_eq!(&change.hash().0[..4], &bytes[1..5]);
        }
    }

    #[test]
    fn adding_months_keeps_the_day_or_clamps_to_the_month_end(d in date(), n in -1200i32..1200) {
        let r = d.add_months(n);
        prop_assert!(r.day() <= d.day());
        if d.day() <= 28 {
            prop_assert_eq!(r.day(), d.day());
        } else if r.day() < d.day() {
            // Clamped: the result is the last day of its month.
            prop_assert_eq!(r.add_days(1).day(), 1);
        }
        let months = (r.year() - d.year()) * 12 + r.month() as i32 - d.month() as i32;
        prop_assert_eq!(months, n);
    }

    #[test]
    fn months_between_inverts_add_months(d in date(), n in 0i32..1200) {
        prop_assert_eq!(d.months_between(d.add_months(n)), n);
    }

    #[test]
    fn add_months_is_monotone(a in date(), b in date(), n in -600i32..600) {
        prop_assume!(a <= b);
        prop_assert!(a.add_months(n) <= b.add_months(n));
    }

    #[test]
    fn iso_strings_round_trip(d in date()) {
        let s = d.to_string();
        prop_assert_eq!(s.parse::<Date>().unwrap(), d);
        let (y, m, dd) = d.ymd();
        prop_assert_eq!(Date::from_ymd(y, m, dd).unwrap(), d);
        prop_assert_eq!(d.format_vn(), format!("{dd:02}/{m:02}/{y:04}"));
    }

    #[test]
    fn the_nth_working_day_is_a_working_day_n_working_days_later(
        start in (18_600i32..21_200).prop_map(Date::from_days_since_epoch),
        n in 1u32..120,
    ) {
        let cal = WorkingCalendar::vietnam_2021_2027();
        let due = cal.add_working_days(start, n, &WorkingDayConventions::default());
        prop_assert!(cal.is_working_day(due));
        prop_assert_eq!(cal.working_days_between(start, due), n as i32);
    }

    #[test]
    fn recording_a_later_fact_never_moves_a_file_backwards(seed in any::<u64>(), a in 0u8..9, b in 0u8..9) {
        let (lo, hi) = (a.min(b), a.max(b));
        let mut rng = XorShift::new(seed);
        let start = Date::from_days_since_epoch(19_000 + rng.below(1000) as i32);
        let (early, _) = bench::timeline(start, lo, &mut rng.clone());
        let (late, _) = bench::timeline(start, hi, &mut rng);
        prop_assert!(derive_stage(&early) <= derive_stage(&late));
        prop_assert_eq!(derive_stage(&late).index(), hi);
    }

    #[test]
    fn evaluation_is_deterministic_and_survives_a_json_round_trip(seed in any::<u64>()) {
        let cases = bench::generate(3, seed);
        let cal = WorkingCalendar::vietnam_2021_2027();
        let settings = RuleSettings::default();
        for (case, today) in &cases {
            let ctx = EvalContext::new(*today, &settings, &cal);
            let first = evaluate(case, &ctx);
            let reparsed: CaseFile = serde_json::from_str(&serde_json::to_string(case).unwrap()).unwrap();
            let second = evaluate(&reparsed, &ctx);
            prop_assert_eq!(&first, &second);
            prop_assert_eq!(serde_json::to_string(&first).unwrap(), serde_json::to_string(&second).unwrap());
        }
    }

    #[test]
    fn absurd_counts_and_dates_never_panic(
        seed in any::<u64>(),
        counts in proptest::collection::vec(any::<u32>(), 6),
        when in any::<i32>(),
    ) {
        let (mut case, today) = bench::timeline(Date::from_days_since_epoch(19_500), (seed % 9) as u8, &mut XorShift::new(seed));
        let wild = Date::from_days_since_epoch(when);
        case.person.birth_date = Some(wild);
        case.branch_votes.push(shared::model::Vote {
            meeting_date: Some(wild),
            official_members_total: Some(counts[0]),
            excluded_temporary: Some(counts[1]),
            excluded_exempt_absent: Some(counts[2]),
            present: Some(counts[3]),
            votes_for: Some(counts[4]),
            votes_against: Some(counts[5]),
            ..Default::default()
        });
        case.committee.members_total = Some(counts[0]);
        case.committee.votes_for = Some(counts[4]);
        case.probation.ceremony_date = Some(wild);
        let cal = WorkingCalendar::vietnam_2021_2027();
        let settings = RuleSettings { verification_reply_working_days: Some(counts[5] % 1000), ..RuleSettings::default() };
        let ctx = EvalContext::new(today, &settings, &cal);
        let _ = evaluate(&case, &ctx);
    }
}
