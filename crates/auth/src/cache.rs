//! DNS result caches shared by all messages, and the per-message view of them that counts lookups against the
//! message's budget.
//!
//! mail-auth asks its caches before every lookup it makes (TXT for SPF, DKIM keys and DMARC; MX, A/AAAA and PTR
//! for SPF mechanisms), so counting cache reads counts lookups. When a message has used its budget, TXT reads
//! answer with a resolver error (the check becomes `temperror`) and address reads answer with an empty set (the
//! mechanism does not match), so no further query goes out.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Instant;

use mail_auth::{DnsError, DnssecStatus, Error, MX, RecordSet, ResolverCache, Txt};

/// A bounded map with per-entry expiry.
pub struct SharedCache<K, V> {
    map: Mutex<HashMap<K, (V, Instant)>>,
    capacity: usize,
}

impl<K: Hash + Eq, V: Clone> SharedCache<K, V> {
    /// A cache holding at most `capacity` entries.
    pub fn new(capacity: usize) -> SharedCache<K, V> {
        SharedCache {
            map: Mutex::new(HashMap::new()),
            capacity: capacity.max(16),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (V, Instant)>> {
        match self.map.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// The live entry for `key`, without charging any budget.
    pub fn peek<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut map = self.lock();
        match map.get(key) {
            Some((v, until)) if *until > Instant::now() => Some(v.clone()),
            Some(_) => {
                map.remove(key);
                None
            }
            None => None,
        }
    }

    fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.lock().remove(key).map(|(v, _)| v)
    }

    fn insert(&self, key: K, value: V, until: Instant) {
        let mut map = self.lock();
        if map.len() >= self.capacity {
            let now = Instant::now();
            map.retain(|_, (_, t)| *t > now);
            if map.len() >= self.capacity {
                // Still full of live entries: start over rather than track recency.
                map.clear();
            }
        }
        map.insert(key, (value, until));
    }

    /// Number of entries (expired ones included until touched).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The shared caches, one per record kind mail-auth uses.
pub struct Caches {
    /// Parsed TXT records (SPF, DKIM keys, DMARC).
    pub txt: SharedCache<Box<str>, Txt>,
    /// MX records.
    pub mx: SharedCache<Box<str>, RecordSet<MX>>,
    /// A records.
    pub ipv4: SharedCache<Box<str>, RecordSet<Ipv4Addr>>,
    /// AAAA records.
    pub ipv6: SharedCache<Box<str>, RecordSet<Ipv6Addr>>,
    /// PTR records.
    pub ptr: SharedCache<IpAddr, RecordSet<Box<str>>>,
}

impl Caches {
    /// Caches of `entries` entries each.
    pub fn new(entries: usize) -> Caches {
        Caches {
            txt: SharedCache::new(entries),
            mx: SharedCache::new(entries / 4),
            ipv4: SharedCache::new(entries / 4),
            ipv6: SharedCache::new(entries / 4),
            ptr: SharedCache::new(entries / 4),
        }
    }
}

/// One message's lookup budget.
#[derive(Debug)]
pub struct Budget {
    used: AtomicU32,
    limit: u32,
    exhausted: AtomicBool,
}

impl Budget {
    /// A budget of `limit` lookups.
    pub fn new(limit: u32) -> Budget {
        Budget {
            used: AtomicU32::new(0),
            limit,
            exhausted: AtomicBool::new(false),
        }
    }

    /// Takes one lookup; false when none is left.
    fn take(&self) -> bool {
        let used = self.used.fetch_add(1, Ordering::Relaxed);
        if used >= self.limit {
            self.exhausted.store(true, Ordering::Relaxed);
            false
        } else {
            true
        }
    }

    /// Lookups asked for so far.
    pub fn used(&self) -> u32 {
        self.used.load(Ordering::Relaxed)
    }

    /// True once a lookup was refused, or [`Budget::mark_exhausted`] was called (time budget).
    pub fn exhausted(&self) -> bool {
        self.exhausted.load(Ordering::Relaxed)
    }

    /// Records that the time budget ran out.
    pub fn mark_exhausted(&self) {
        self.exhausted.store(true, Ordering::Relaxed);
    }
}

/// A shared cache seen through one message's budget.
pub struct Metered<'a, K, V> {
    shared: &'a SharedCache<K, V>,
    budget: &'a Budget,
}

impl<'a, K, V> Metered<'a, K, V> {
    /// Wraps `shared`, charging `budget`.
    pub fn new(shared: &'a SharedCache<K, V>, budget: &'a Budget) -> Metered<'a, K, V> {
        Metered { shared, budget }
    }
}

/// What a cache read answers once the message's budget is spent.
pub trait WhenExhausted: Sized {
    /// The answer.
    fn when_exhausted() -> Self;
}

impl WhenExhausted for Txt {
    fn when_exhausted() -> Self {
        Txt::Error(Error::Dns(DnsError::Resolver(
            "per-message DNS lookup budget exhausted".to_string(),
        )))
    }
}

impl<T> WhenExhausted for RecordSet<T> {
    fn when_exhausted() -> Self {
        RecordSet {
            rrset: std::sync::Arc::from(Vec::new()),
            dnssec_status: DnssecStatus::Indeterminate,
        }
    }
}

impl<K: Hash + Eq, V: Clone + WhenExhausted> ResolverCache<K, V> for Metered<'_, K, V> {
    fn get<Q>(&self, name: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if !self.budget.take() {
            return Some(V::when_exhausted());
        }
        self.shared.peek(name)
    }

    fn remove<Q>(&self, name: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.shared.remove(name)
    }

    fn insert(&self, key: K, value: V, valid_until: Instant) {
        self.shared.insert(key, value, valid_until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn expiry_capacity_and_budget() {
        let c: SharedCache<Box<str>, RecordSet<Ipv4Addr>> = SharedCache::new(16);
        let later = Instant::now() + Duration::from_secs(60);
        c.insert("a.".into(), RecordSet::when_exhausted(), later);
        c.insert("gone.".into(), RecordSet::when_exhausted(), Instant::now());
        assert!(c.peek("a.").is_some());
        assert!(c.peek("gone.").is_none());
        for i in 0..40 {
            c.insert(format!("n{i}.").into(), RecordSet::when_exhausted(), later);
        }
        assert!(c.len() <= 16);
        let budget = Budget::new(2);
        let m = Metered::new(&c, &budget);
        let _ = ResolverCache::get(&m, "x.");
        let _ = ResolverCache::get(&m, "x.");
        assert!(!budget.exhausted());
        let third = ResolverCache::get(&m, "x.").unwrap();
        assert!(third.rrset.is_empty());
        assert!(budget.exhausted());
        assert_eq!(budget.used(), 3);
    }
}
