//! At most one log line per interval for a condition that can repeat on every request (a
//! secret mismatch, a refused origin): the first occurrence is logged at once, the rest are
//! counted and the count goes out with the next line.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

#[derive(Debug)]
pub struct Throttle {
    every_secs: i64,
    last: AtomicI64,
    suppressed: AtomicU64,
}

impl Throttle {
    pub const fn new(every_secs: i64) -> Throttle {
        Throttle {
            every_secs,
            last: AtomicI64::new(i64::MIN),
            suppressed: AtomicU64::new(0),
        }
    }

    /// `Some(occurrences suppressed since the last line)` when a line is due now (one winner
    /// among concurrent callers), `None` when it must wait.
    pub fn admit(&self, now_secs: i64) -> Option<u64> {
        let last = self.last.load(Ordering::Relaxed);
        let due = last == i64::MIN || now_secs - last >= self.every_secs;
        if !due
            || self
                .last
                .compare_exchange(last, now_secs, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        Some(self.suppressed.swap(0, Ordering::Relaxed))
    }
}

/// Seconds since the Unix epoch, for [`Throttle::admit`].
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn once_per_interval_with_the_count_in_between() {
        let t = Throttle::new(60);
        assert_eq!(t.admit(1000), Some(0));
        assert_eq!(t.admit(1000), None);
        assert_eq!(t.admit(1059), None);
        assert_eq!(t.admit(1060), Some(2));
        assert_eq!(t.admit(1061), None);
    }
}
