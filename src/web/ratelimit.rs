//! Rate limits: token buckets per visitor and per client address (kept in memory only), so
//! one client flooding votes or events is turned away with 429 while everyone else carries
//! on.
//!
//! A write takes a token from its visitor's bucket (a request without a valid visitor id
//! shares its address's) and one from its address's larger bucket: a client that collects
//! many signed ids still writes no faster than its address allows, and the people behind one
//! office's NAT keep a bucket big enough for all of them.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use super::visitor::Tracking;

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
        self.update(key, true)
    }

    /// Whether `key` has a token, without taking it.
    pub fn has_token(&self, key: &str) -> bool {
        self.update(key, false)
    }

    /// Refills `key`'s bucket; whether it has a token, taken when `take`.
    fn update(&self, key: &str, take: bool) -> bool {
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
            if take {
                *tokens -= 1.0;
            }
            true
        } else {
            false
        }
    }
}

/// The limits of one kind of write.
pub struct WriteLimit {
    /// Per visitor (or, without a valid id, per address).
    visitor: RateLimiter,
    /// Per client address, whatever the visitor.
    address: RateLimiter,
}

impl WriteLimit {
    /// `visitor`: (burst, per second) for each visitor; `address`: for each address.
    pub fn new(visitor: (u32, f64), address: (u32, f64)) -> WriteLimit {
        WriteLimit {
            visitor: RateLimiter::new(visitor.0, visitor.1),
            address: RateLimiter::new(address.0, address.1),
        }
    }

    /// Takes a token for a write; false when the visitor's or the address's bucket is empty.
    /// The visitor's comes first, so a visitor who floods empties no one else's bucket.
    pub fn allow(&self, tracking: &Tracking) -> bool {
        self.visitor.allow(&tracking.rate_key()) && self.address.allow(&tracking.client)
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

#[cfg(test)]
mod write_tests {
    use super::*;
    use crate::web::client::Client;
    use crate::web::visitor::VisitorKey;
    use axum::http::HeaderMap;

    fn from(addr: &str, cookie: Option<&str>, key: &VisitorKey) -> Tracking {
        let mut h = HeaderMap::new();
        if let Some(c) = cookie {
            h.insert("cookie", format!("kb_visitor={c}").parse().unwrap());
        }
        let client = Client {
            addr: Some(addr.parse().unwrap()),
            https: false,
        };
        Tracking::of(&h, key, &client, false)
    }

    #[test]
    fn many_ids_from_one_address_share_its_bucket() {
        let key = VisitorKey::default();
        let limit = WriteLimit::new((2, 0.001), (5, 0.001));
        let ids: Vec<String> = (0..10).map(|i| key.sign(&format!("{i:032x}"))).collect();
        let accepted = ids
            .iter()
            .filter(|id| limit.allow(&from("192.0.2.1", Some(id), &key)))
            .count();
        assert_eq!(accepted, 5);
        // Another address is not affected.
        assert!(limit.allow(&from("192.0.2.2", Some(&ids[0]), &key)));
    }

    #[test]
    fn without_a_valid_id_the_address_is_the_visitor() {
        let key = VisitorKey::default();
        let limit = WriteLimit::new((3, 0.001), (100, 0.001));
        let accepted = (0..20)
            .filter(|i| {
                let forged = format!("{i:032x}.AAAAAAAAAAAAAAAAAAAAAA");
                limit.allow(&from("192.0.2.1", Some(&forged), &key))
            })
            .count();
        assert_eq!(accepted, 3);
    }
}
