//! Per-recipient sliding-window limit of SMS, in memory: a loop in the caller must not be able
//! to flood one technician's phone, nor run up the gateway's bill.

use std::collections::{HashMap, VecDeque};

/// Most numbers whose recent sends are remembered; past that the least recently used number
/// is forgotten, so memory stays bounded whatever the callers do.
pub const MAX_TRACKED_NUMBERS: usize = 10_000;

/// At most `max` SMS per `per_ms` milliseconds to one number (sliding window).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub max: u32,
    pub per_ms: i64,
}

/// The sends of one number still inside the window, oldest first (at most `max` of them).
#[derive(Debug)]
struct Recent {
    sends_ms: VecDeque<i64>,
    last_send_ms: i64,
}

/// The state of the limit for every tracked number. Time is always passed in (`now_ms`),
/// so the limit reads no clock and its tests replay exactly.
#[derive(Debug)]
pub(crate) struct Limiter {
    limit: RateLimit,
    numbers: HashMap<String, Recent>,
}

impl Limiter {
    pub(crate) fn new(limit: RateLimit) -> Limiter {
        Limiter {
            limit,
            numbers: HashMap::new(),
        }
    }

    /// When a send to `to` at `now_ms` would be refused, the first instant it would be
    /// allowed again; `None` when it is allowed now.
    pub(crate) fn limited_until(&self, to: &str, now_ms: i64) -> Option<i64> {
        let recent = self.numbers.get(to)?;
        let counted = recent
            .sends_ms
            .iter()
            .filter(|&&sent_ms| self.in_window(sent_ms, now_ms))
            .count();
        if counted < self.limit.max as usize {
            return None;
        }
        // At most `max` sends are kept, so here all of them count; the limit lifts when the
        // oldest leaves the window, `per_ms` after it happened.
        let oldest_ms = recent.sends_ms.iter().copied().min()?;
        Some(oldest_ms.saturating_add(self.limit.per_ms))
    }

    /// Records a send to `to` at `now_ms` if the limit allows it; otherwise returns the
    /// instant from which it will.
    pub(crate) fn try_acquire(&mut self, to: &str, now_ms: i64) -> Result<(), i64> {
        if let Some(until_ms) = self.limited_until(to, now_ms) {
            return Err(until_ms);
        }
        if !self.numbers.contains_key(to) && self.numbers.len() >= MAX_TRACKED_NUMBERS {
            self.forget_one(now_ms);
        }
        let limit = self.limit;
        let recent = self.numbers.entry(to.to_owned()).or_insert_with(|| Recent {
            sends_ms: VecDeque::new(),
            last_send_ms: now_ms,
        });
        recent.sends_ms.push_back(now_ms);
        recent.last_send_ms = recent.last_send_ms.max(now_ms);
        // Only the last `max` sends can ever decide a refusal.
        while recent.sends_ms.len() > limit.max as usize {
            recent.sends_ms.pop_front();
        }
        Ok(())
    }

    /// A send at `sent_ms` still counts at `now_ms`.
    fn in_window(&self, sent_ms: i64, now_ms: i64) -> bool {
        sent_ms > now_ms.saturating_sub(self.limit.per_ms)
    }

    /// Makes room for one number: numbers whose sends have all left the window go first (they
    /// constrain nothing); if none, the number least recently sent to.
    fn forget_one(&mut self, now_ms: i64) {
        let per_ms = self.limit.per_ms;
        self.numbers.retain(|_, recent| {
            recent
                .sends_ms
                .iter()
                .any(|&sent_ms| sent_ms > now_ms.saturating_sub(per_ms))
        });
        if self.numbers.len() < MAX_TRACKED_NUMBERS {
            return;
        }
        let oldest = self
            .numbers
            .iter()
            .min_by_key(|(_, recent)| recent.last_send_ms)
            .map(|(number, _)| number.clone());
        if let Some(number) = oldest {
            self.numbers.remove(&number);
        }
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.numbers.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: RateLimit = RateLimit {
        max: 3,
        per_ms: 60_000,
    };

    #[test]
    fn window_slides_from_the_oldest_send_counted() {
        let mut limiter = Limiter::new(LIMIT);
        assert_eq!(limiter.try_acquire("+33600000001", 0), Ok(()));
        assert_eq!(limiter.try_acquire("+33600000001", 10_000), Ok(()));
        assert_eq!(limiter.try_acquire("+33600000001", 20_000), Ok(()));
        assert_eq!(limiter.try_acquire("+33600000001", 30_000), Err(60_000));
        assert_eq!(limiter.limited_until("+33600000002", 30_000), None);
        assert_eq!(limiter.try_acquire("+33600000001", 60_000), Ok(()));
        assert_eq!(limiter.limited_until("+33600000001", 60_000), Some(70_000));
    }

    #[test]
    fn memory_is_bounded_and_the_least_recent_number_goes_first() {
        let mut limiter = Limiter::new(LIMIT);
        for index in 0..MAX_TRACKED_NUMBERS as i64 {
            limiter
                .try_acquire(&format!("+336{index:08}"), index)
                .unwrap();
        }
        // Every number is still inside its window: the least recently sent to is forgotten.
        limiter.try_acquire("+33799999999", 50_000).unwrap();
        assert_eq!(limiter.tracked(), MAX_TRACKED_NUMBERS);
        assert!(!limiter.numbers.contains_key("+33600000000"));
        assert!(limiter.numbers.contains_key("+33600000001"));
        // Once the windows are over, all the stale numbers are dropped at once.
        limiter.try_acquire("+33799999998", 200_000).unwrap();
        assert_eq!(limiter.tracked(), 1);
    }
}
