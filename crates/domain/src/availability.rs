//! Availability over a period, from the state changes of an equipment's checks (DSH-1): an
//! equipment is unavailable while at least one of its checks is down; its downtime is the
//! union of its checks' down intervals within the period. A rate is `1 − downtime ÷ (number
//! of equipment × length of the period)`. Unknown (no news) counts as available here; the
//! monthly report (DSH-2) is where monitoring gaps get their own column.

/// What is known of one check over a period: whether it was down when the period began, and
/// its changes within the period (instant, down after it), in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckTrack {
    pub down_at_start: bool,
    pub changes: Vec<(i64, bool)>,
}

/// The down intervals of one check within `[from, to)`.
fn down_intervals(from: i64, to: i64, track: &CheckTrack) -> Vec<(i64, i64)> {
    let mut intervals = Vec::new();
    let mut down_since = track.down_at_start.then_some(from);
    for &(at, down) in &track.changes {
        let at = at.clamp(from, to);
        match (down_since, down) {
            (None, true) => down_since = Some(at),
            (Some(since), false) => {
                intervals.push((since, at));
                down_since = None;
            }
            _ => {}
        }
    }
    if let Some(since) = down_since {
        intervals.push((since, to));
    }
    intervals
}

/// How long, within `[from, to)`, at least one of an equipment's checks was down (ms).
pub fn equipment_down_ms(from: i64, to: i64, checks: &[CheckTrack]) -> i64 {
    equipment_down_intervals(from, to, checks)
        .iter()
        .map(|(start, end)| end - start)
        .sum()
}

/// When, within `[from, to)`, at least one of an equipment's checks was down: the union of
/// its checks' down intervals, in order, none overlapping.
pub fn equipment_down_intervals(from: i64, to: i64, checks: &[CheckTrack]) -> Vec<(i64, i64)> {
    if to <= from {
        return Vec::new();
    }
    let mut intervals: Vec<(i64, i64)> = checks
        .iter()
        .flat_map(|track| down_intervals(from, to, track))
        .filter(|(start, end)| end > start)
        .collect();
    intervals.sort_unstable();
    let mut union: Vec<(i64, i64)> = Vec::new();
    for (start, end) in intervals {
        match union.last_mut() {
            Some((_, last_end)) if start <= *last_end => *last_end = (*last_end).max(end),
            _ => union.push((start, end)),
        }
    }
    union
}

/// How much of each period between consecutive `bounds` (`[bounds[i], bounds[i + 1])`, bounds
/// in increasing order) the down `intervals` cover (ms): one figure per period, so that the
/// days of a chart come from one reading of the changes.
pub fn down_ms_per_period(intervals: &[(i64, i64)], bounds: &[i64]) -> Vec<i64> {
    bounds
        .windows(2)
        .map(|period| {
            let (from, to) = (period[0], period[1]);
            intervals
                .iter()
                .map(|(start, end)| ((*end).min(to) - (*start).max(from)).max(0))
                .sum()
        })
        .collect()
}

/// The share of time available, of `equipment` equipment over `period_ms` with `down_ms` of
/// downtime in all; None when there is nothing to measure.
pub fn rate(equipment: u64, period_ms: i64, down_ms: i64) -> Option<f64> {
    if equipment == 0 || period_ms <= 0 {
        return None;
    }
    let total = equipment as f64 * period_ms as f64;
    Some((1.0 - down_ms as f64 / total).clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    #[test]
    fn an_outage_across_the_start_counts_from_the_start() {
        let track = CheckTrack {
            down_at_start: true,
            changes: vec![(2 * H, false)],
        };
        assert_eq!(equipment_down_ms(0, 10 * H, &[track]), 2 * H);
    }

    #[test]
    fn an_outage_still_running_counts_to_the_end() {
        let track = CheckTrack {
            down_at_start: false,
            changes: vec![(8 * H, true)],
        };
        assert_eq!(equipment_down_ms(0, 10 * H, &[track]), 2 * H);
    }

    #[test]
    fn overlapping_checks_count_once() {
        let ping = CheckTrack {
            down_at_start: false,
            changes: vec![(H, true), (4 * H, false)],
        };
        let rtsp = CheckTrack {
            down_at_start: false,
            changes: vec![(3 * H, true), (5 * H, false), (7 * H, true), (8 * H, false)],
        };
        // 1 h–5 h and 7 h–8 h.
        assert_eq!(equipment_down_ms(0, 10 * H, &[ping, rtsp]), 5 * H);
    }

    #[test]
    fn repeated_downs_do_not_restart_the_outage() {
        let track = CheckTrack {
            down_at_start: false,
            changes: vec![(H, true), (2 * H, true), (3 * H, false)],
        };
        assert_eq!(equipment_down_ms(0, 10 * H, &[track]), 2 * H);
    }

    #[test]
    fn periods_share_the_downtime_that_crosses_them() {
        let ping = CheckTrack {
            down_at_start: true,
            changes: vec![(3 * H, false), (5 * H, true), (9 * H, false)],
        };
        let rtsp = CheckTrack {
            down_at_start: false,
            changes: vec![(2 * H, true), (4 * H, false)],
        };
        let intervals = equipment_down_intervals(0, 10 * H, &[ping, rtsp]);
        assert_eq!(intervals, vec![(0, 4 * H), (5 * H, 9 * H)]);
        // Periods of 4 h, 4 h and 2 h: the same downtime as the whole, shared out.
        let per_period = down_ms_per_period(&intervals, &[0, 4 * H, 8 * H, 10 * H]);
        assert_eq!(per_period, vec![4 * H, 3 * H, H]);
        assert_eq!(per_period.iter().sum::<i64>(), 8 * H);
        assert!(down_ms_per_period(&intervals, &[0]).is_empty());
    }

    #[test]
    fn rates_are_shares_of_equipment_time() {
        assert_eq!(rate(0, H, 0), None);
        assert_eq!(rate(2, 10 * H, 0), Some(1.0));
        assert_eq!(rate(2, 10 * H, 5 * H), Some(0.75));
    }

    #[test]
    fn downtime_never_exceeds_the_period_whatever_the_changes() {
        // A small deterministic sweep over change patterns (the property: 0 ≤ down ≤ period,
        // adding a check never lowers the downtime, and periods share it out exactly).
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..2000 {
            let mut checks = Vec::new();
            let mut last = 0;
            for _ in 0..(next() % 4) {
                let mut changes = Vec::new();
                let mut at = -((next() % (5 * H as u64)) as i64);
                for _ in 0..(next() % 6) {
                    at += (next() % (4 * H as u64)) as i64;
                    changes.push((at, next() % 2 == 0));
                }
                checks.push(CheckTrack {
                    down_at_start: next() % 2 == 0,
                    changes,
                });
                let down = equipment_down_ms(0, 10 * H, &checks);
                assert!((0..=10 * H).contains(&down), "{checks:?}: {down}");
                // Shared out over periods, the downtime is the same as over the whole.
                let cut = (next() % (10 * H as u64)) as i64;
                let intervals = equipment_down_intervals(0, 10 * H, &checks);
                let shared = down_ms_per_period(&intervals, &[0, cut, 10 * H]);
                assert_eq!(shared.iter().sum::<i64>(), down, "{checks:?} cut at {cut}");
                assert!(down >= last, "{checks:?}");
                last = down;
            }
        }
    }
}
