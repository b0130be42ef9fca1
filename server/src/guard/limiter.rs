//! The brute-force limit: failed tokens per client in a sliding window.
//!
//! Three rules keep it from being gamed or turned against operators:
//! a success never clears failures (they age out with the window, so mixing
//! in one good request does not buy more guesses); a request that presents no
//! token at all does not count (any web page can make a browser send those,
//! and must not be able to lock an operator out); and IPv6 clients are keyed
//! by their /64, the block one host usually holds.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most clients tracked at once; beyond this the stalest are forgotten, so a
/// flood of distinct addresses cannot grow memory without bound.
pub const LIMITER_MAX_CLIENTS: usize = 10_000;

/// The key a client is counted under: its IPv4 address, or its IPv6 /64.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

/// Counts failed tokens per client in a sliding window.
#[derive(Debug)]
pub struct FailureLimiter {
    limit: u32,
    window: Duration,
    failures: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl FailureLimiter {
    /// `limit` failures within `window` lock a client out.
    pub fn new(limit: u32, window: Duration) -> Self {
        FailureLimiter {
            limit: limit.max(1),
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// If `ip`'s client is locked out at `now`, how long until it may try again.
    pub fn locked(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let entry = map.get_mut(&client_key(ip))?;
        while entry
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            entry.pop_front();
        }
        if entry.len() >= self.limit as usize {
            let oldest = *entry.front()?;
            Some(self.window.saturating_sub(now.duration_since(oldest)))
        } else {
            None
        }
    }

    /// Note a wrong token from `ip`.
    pub fn fail(&self, ip: IpAddr, now: Instant) {
        let key = client_key(ip);
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= LIMITER_MAX_CLIENTS && !map.contains_key(&key) {
            let window = self.window;
            map.retain(|_, v| v.back().is_some_and(|t| now.duration_since(*t) < window));
            if map.len() >= LIMITER_MAX_CLIENTS
                && let Some(stalest) = map
                    .iter()
                    .min_by_key(|(_, v)| v.back().copied())
                    .map(|(k, _)| *k)
            {
                map.remove(&stalest);
            }
        }
        let entry = map.entry(key).or_default();
        entry.push_back(now);
        while entry.len() > self.limit as usize {
            entry.pop_front();
        }
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.failures.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn locks_after_the_limit_and_forgets_after_the_window() {
        let l = FailureLimiter::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        let a = ip("127.0.0.1");
        for i in 0..2 {
            l.fail(a, t0 + Duration::from_secs(i));
            assert_eq!(l.locked(a, t0 + Duration::from_secs(i)), None);
        }
        l.fail(a, t0 + Duration::from_secs(2));
        let wait = l.locked(a, t0 + Duration::from_secs(10)).unwrap();
        assert_eq!(wait, Duration::from_secs(50));
        assert_eq!(l.locked(ip("127.0.0.2"), t0), None, "other IPs unaffected");
        assert_eq!(l.locked(a, t0 + Duration::from_secs(60)), None);
    }

    #[test]
    fn failures_age_out_one_by_one_rather_than_being_cleared() {
        let l = FailureLimiter::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        let a = ip("10.0.0.1");
        l.fail(a, t0);
        l.fail(a, t0 + Duration::from_secs(30));
        assert!(l.locked(a, t0 + Duration::from_secs(31)).is_some());
        // the first ages out; the second still counts
        assert_eq!(l.locked(a, t0 + Duration::from_secs(61)), None);
        l.fail(a, t0 + Duration::from_secs(62));
        assert!(l.locked(a, t0 + Duration::from_secs(62)).is_some());
    }

    #[test]
    fn ipv6_clients_are_one_client_per_64() {
        let l = FailureLimiter::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        l.fail(ip("2001:db8:1:2::1"), t0);
        l.fail(ip("2001:db8:1:2:ffff::9"), t0);
        assert!(l.locked(ip("2001:db8:1:2::77"), t0).is_some());
        assert_eq!(l.locked(ip("2001:db8:1:3::1"), t0), None);
        assert_eq!(client_key(ip("::ffff:10.1.2.3")), ip("10.1.2.3"));
    }

    #[test]
    fn memory_is_bounded() {
        let l = FailureLimiter::new(1, Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..(LIMITER_MAX_CLIENTS as u32 + 50) {
            l.fail(IpAddr::from(i.to_be_bytes()), t0);
        }
        assert!(l.tracked() <= LIMITER_MAX_CLIENTS);
    }
}
