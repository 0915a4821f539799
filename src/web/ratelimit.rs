//! Per-visitor rate limits: a token bucket for each visitor (or, for requests without a
//! visitor id, each client address, kept in memory only), so one client flooding votes or
//! events is turned away with 429 while everyone else carries on.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Buckets kept before idle ones are dropped.
const MAX_KEYS: usize = 100_000;

pub struct RateLimiter {
    /// Most requests in a burst.
    capacity: f64,
    /// Requests regained per second.
    per_second: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(capacity: u32, per_second: f64) -> Self {
        RateLimiter {
            capacity: f64::from(capacity),
            per_second,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`; false when it has none left.
    pub fn allow(&self, key: &str) -> bool {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_KEYS && !buckets.contains_key(key) {
            // Forget the buckets that have refilled: they hold no information.
            let (capacity, rate) = (self.capacity, self.per_second);
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * rate < capacity
            });
        }
        let (tokens, at) = buckets
            .entry(key.to_string())
            .or_insert((self.capacity, now));
        *tokens =
            (*tokens + now.duration_since(*at).as_secs_f64() * self.per_second).min(self.capacity);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flooding_key_is_limited_and_others_are_not() {
        let r = RateLimiter::new(5, 0.001);
        assert!((0..5).all(|_| r.allow("flood")));
        assert!(!r.allow("flood"));
        assert!(r.allow("someone else"));
    }

    #[test]
    fn tokens_come_back() {
        let r = RateLimiter::new(1, 1000.0);
        assert!(r.allow("k"));
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(r.allow("k"));
    }
}
