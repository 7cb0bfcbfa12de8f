//! Per host-pair state built while records stream in. Addresses are interned to `u32` ids and each internal
//! source → external destination pair gets one [`PairState`]; a record updates counters in place and, for timing
//! analysis, appends an 8-byte sample. Samples per pair are capped: when a pair reaches the cap every second
//! sample is dropped and from then on only every 2nd (4th, …) connection is sampled ("thinning"), so memory is
//! bounded by `pairs × cap` whatever the number of records.

use std::net::IpAddr;

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::ingest::RecordSink;
use crate::network::{AddrClass, NetworkPolicy};
use crate::record::{ConnRecord, Proto};

/// Pair states per storage chunk.
const PAIR_CHUNK: usize = 1 << 14;

/// Options for aggregation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AggregateOptions {
    /// Timing samples kept per pair before thinning (8 bytes each).
    pub max_samples_per_pair: usize,
    /// A TCP connection from the same source port to the same destination within this many seconds of the previous
    /// one is a retransmitted attempt (Zeek logs a timed-out SYN and its retry as two records), not a new beat.
    pub retry_window_secs: f64,
}

impl Default for AggregateOptions {
    fn default() -> Self {
        Self {
            max_samples_per_pair: 8192,
            retry_window_secs: 30.0,
        }
    }
}

/// One connection as kept for timing/size analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Milliseconds after the pair's base time (saturating; covers 49 days).
    pub t_ms: u32,
    /// Bytes sent by the originator (IP level when known, payload otherwise), saturating at 4 GiB.
    pub size: u32,
}

/// Connection counts per destination port (the four busiest kept exactly, the rest summed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortTally {
    top: [(u16, Proto, u32); 4],
    used: u8,
    /// Connections to ports beyond the four tracked.
    pub other: u32,
}

impl PortTally {
    fn add(&mut self, port: u16, proto: Proto) {
        let used = usize::from(self.used);
        if let Some(slot) = self.top[..used]
            .iter_mut()
            .find(|(p, pr, _)| *p == port && *pr == proto)
        {
            slot.2 = slot.2.saturating_add(1);
        } else if used < self.top.len() {
            self.top[used] = (port, proto, 1);
            self.used += 1;
        } else {
            self.other = self.other.saturating_add(1);
        }
    }

    /// Tracked ports, busiest first.
    pub fn ports(&self) -> Vec<(u16, Proto, u64)> {
        let mut v: Vec<(u16, Proto, u64)> = self.top[..usize::from(self.used)]
            .iter()
            .map(|&(p, pr, n)| (p, pr, u64::from(n)))
            .collect();
        v.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
        v
    }
}

/// Everything known about one internal source → external destination pair.
#[derive(Debug, Clone)]
pub struct PairState {
    /// Source address id.
    pub src: u32,
    /// Destination address id.
    pub dst: u32,
    /// Connections (retries included).
    pub connections: u64,
    /// Connections recognised as retransmitted attempts (not sampled as beats).
    pub retries: u32,
    /// Earliest connection start.
    pub first_ts: f64,
    /// Latest connection start.
    pub last_ts: f64,
    /// Payload bytes from source to destination.
    pub bytes_out: u64,
    /// Payload bytes from destination to source.
    pub bytes_in: u64,
    /// Longest single connection (s).
    pub max_duration: f32,
    /// Sum of connection durations (s).
    pub total_duration: f64,
    /// Largest single-connection upload (payload bytes).
    pub max_conn_out: u64,
    /// Union of Zeek service flags seen.
    pub services: u8,
    /// Destination ports.
    pub ports: PortTally,
    /// The first sample, kept inline so single-connection pairs (most of them) need no heap allocation.
    first: Sample,
    /// Timing samples once there is more than one (unsorted; see module doc for thinning).
    samples: Vec<Sample>,
    /// Whether `first` holds a sample (and `samples` is still empty).
    first_used: bool,
    /// 1 = every beat sampled; 2^k after k thinnings.
    pub stride: u32,
    /// Base of `Sample::t_ms`, seconds.
    pub base_secs: f64,
    skip: u32,
    last_orig_p: u16,
    last_start: f64,
}

impl PairState {
    fn new(src: u32, dst: u32, ts: f64) -> Self {
        Self {
            src,
            dst,
            connections: 0,
            retries: 0,
            first_ts: ts,
            last_ts: ts,
            bytes_out: 0,
            bytes_in: 0,
            max_duration: 0.0,
            total_duration: 0.0,
            max_conn_out: 0,
            services: 0,
            ports: PortTally::default(),
            first: Sample { t_ms: 0, size: 0 },
            samples: Vec::new(),
            first_used: false,
            stride: 1,
            base_secs: ts.floor(),
            skip: 0,
            last_orig_p: 0,
            last_start: f64::NEG_INFINITY,
        }
    }

    /// Timing samples (unsorted; thinned for busy pairs, see [`PairState::stride`]).
    pub fn samples(&self) -> &[Sample] {
        if self.first_used {
            std::slice::from_ref(&self.first)
        } else {
            &self.samples
        }
    }

    /// Sample times in seconds (same unit and origin as record timestamps).
    pub fn sample_secs(&self, s: &Sample) -> f64 {
        self.base_secs + f64::from(s.t_ms) / 1000.0
    }

    fn add_sample(&mut self, ts: f64, size: u64, cap: usize) {
        self.skip += 1;
        if self.skip < self.stride {
            return;
        }
        self.skip = 0;
        let mut offset = (ts - self.base_secs) * 1000.0;
        if offset < 0.0 {
            // Earlier than anything seen for this pair: move the base back and shift what is stored.
            let shift_ms = (-offset).ceil();
            let shift = shift_ms.min(f64::from(u32::MAX)) as u32;
            for s in &mut self.samples {
                s.t_ms = s.t_ms.saturating_add(shift);
            }
            self.first.t_ms = self.first.t_ms.saturating_add(shift);
            self.base_secs -= f64::from(shift) / 1000.0;
            offset = (ts - self.base_secs) * 1000.0;
        }
        let t_ms = offset.clamp(0.0, f64::from(u32::MAX)) as u32;
        let sample = Sample {
            t_ms,
            size: u32::try_from(size).unwrap_or(u32::MAX),
        };
        if self.samples.is_empty() && !self.first_used {
            self.first = sample;
            self.first_used = true;
            return;
        }
        if self.first_used {
            self.samples.reserve_exact(4);
            self.samples.push(self.first);
            self.first_used = false;
        }
        self.samples.push(sample);
        if self.samples.len() >= cap.max(2) {
            let mut i = 0;
            self.samples.retain(|_| {
                i += 1;
                i % 2 == 1
            });
            // The sample just pushed sat at an odd position and was dropped; the next one on the new grid is
            // `old stride` records away.
            self.skip = self.stride;
            self.stride = self.stride.saturating_mul(2);
        }
    }
}

/// Record counts by direction.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DirectionCounts {
    /// Internal → external (analysed).
    pub outbound: u64,
    /// External → internal.
    pub inbound: u64,
    /// Internal → internal.
    pub internal: u64,
    /// External → external (transit, or internal networks not configured).
    pub external: u64,
    /// Multicast / broadcast / unspecified endpoints.
    pub non_routable: u64,
    /// Outbound to allow-listed IPs/CIDRs.
    pub allowed: u64,
}

/// Streams records into per-pair state. Implements [`RecordSink`].
#[derive(Debug)]
pub struct FlowAggregator {
    policy: NetworkPolicy,
    opts: AggregateOptions,
    /// IPv4 address → id (the common case, one cache line per lookup).
    v4_ids: IdIndex,
    /// IPv6 address → id.
    v6_ids: FxHashMap<IpAddr, u32>,
    ips: Vec<IpAddr>,
    /// Per address id: class and allow-list flag.
    ip_info: Vec<(AddrClass, bool)>,
    pair_ids: IdIndex,
    /// Pair states in fixed-size chunks: growing never copies (or doubles the memory of) the whole table.
    pairs: Vec<Vec<PairState>>,
    pair_count: usize,
    /// Records not yet processed (see [`FlowAggregator::flush`]).
    batch: Vec<ConnRecord>,
    counts: DirectionCounts,
    window: Option<(f64, f64)>,
}

impl FlowAggregator {
    /// A new, empty aggregator.
    pub fn new(policy: NetworkPolicy, opts: AggregateOptions) -> Self {
        Self {
            policy,
            opts,
            v4_ids: IdIndex::default(),
            v6_ids: FxHashMap::default(),
            ips: Vec::new(),
            ip_info: Vec::new(),
            pair_ids: IdIndex::default(),
            pairs: Vec::new(),
            pair_count: 0,
            batch: Vec::with_capacity(BATCH),
            counts: DirectionCounts::default(),
            window: None,
        }
    }

    fn intern(&mut self, ip: IpAddr) -> u32 {
        let next = u32::try_from(self.ips.len()).unwrap_or(u32::MAX);
        let id = match ip {
            IpAddr::V4(v4) => self
                .v4_ids
                .get_or_insert(mix64(u64::from(u32::from(v4))), next),
            IpAddr::V6(_) => *self.v6_ids.entry(ip).or_insert(next),
        };
        if id == next && self.ips.len() == next as usize {
            self.ips.push(ip);
            self.ip_info
                .push((self.policy.classify(ip), self.policy.allowed_ip(ip)));
        }
        id
    }

    /// The policy in force.
    pub fn policy(&self) -> &NetworkPolicy {
        &self.policy
    }

    /// Address of an id.
    pub fn ip(&self, id: u32) -> IpAddr {
        self.ips
            .get(id as usize)
            .copied()
            .unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    /// Id of an address, if seen.
    pub fn ip_id(&self, ip: &IpAddr) -> Option<u32> {
        match ip {
            IpAddr::V4(v4) => self.v4_ids.get(mix64(u64::from(u32::from(*v4)))),
            IpAddr::V6(_) => self.v6_ids.get(ip).copied(),
        }
    }

    /// All outbound pairs.
    pub fn pairs(&self) -> impl Iterator<Item = &PairState> {
        debug_assert!(self.batch.is_empty(), "FlowAggregator read before flush()");
        self.pairs.iter().flatten()
    }

    /// Number of outbound pairs.
    pub fn pair_count(&self) -> usize {
        self.pair_count
    }

    /// Record counts by direction.
    pub fn counts(&self) -> &DirectionCounts {
        debug_assert!(self.batch.is_empty(), "FlowAggregator read before flush()");
        &self.counts
    }

    /// Distinct addresses seen.
    pub fn addresses(&self) -> usize {
        self.ips.len()
    }

    /// Earliest and latest connection start over all records.
    pub fn window(&self) -> Option<(f64, f64)> {
        self.window
    }
}

/// Records processed together: looking up a whole batch's addresses, then its pairs, then updating their states
/// lets the CPU overlap the cache misses of different records instead of waiting for each in turn.
const BATCH: usize = 32;

impl RecordSink for FlowAggregator {
    fn push(&mut self, rec: &ConnRecord) {
        self.batch.push(*rec);
        if self.batch.len() >= BATCH {
            self.flush();
        }
    }

    fn finish(&mut self) {
        self.flush();
    }
}

impl FlowAggregator {
    /// Process buffered records. [`RecordSink::finish`] (called by ingest at the end of every file) does this;
    /// call it after pushing records by hand, before reading the results.
    pub fn flush(&mut self) {
        let batch = std::mem::take(&mut self.batch);
        let mut ids = [(0u32, 0u32); BATCH];
        for (rec, id) in batch.iter().zip(ids.iter_mut()) {
            *id = (self.intern(rec.orig_h), self.intern(rec.resp_h));
        }
        let mut targets = [u32::MAX; BATCH];
        for ((rec, &(src, dst)), target) in batch.iter().zip(ids.iter()).zip(targets.iter_mut()) {
            *target = self.route(rec, src, dst);
        }
        for (rec, &target) in batch.iter().zip(targets.iter()) {
            if target != u32::MAX {
                self.update(target as usize, rec);
            }
        }
        self.batch = batch;
        self.batch.clear();
    }

    /// Direction bookkeeping; the pair index for outbound records (created if new), `u32::MAX` otherwise.
    fn route(&mut self, rec: &ConnRecord, src: u32, dst: u32) -> u32 {
        self.window = Some(match self.window {
            None => (rec.ts, rec.ts),
            Some((a, b)) => (a.min(rec.ts), b.max(rec.ts)),
        });
        let (src_class, _) = self.ip_info[src as usize];
        let (dst_class, dst_allowed) = self.ip_info[dst as usize];
        if src_class == AddrClass::NonRoutable || dst_class == AddrClass::NonRoutable {
            self.counts.non_routable += 1;
            return u32::MAX;
        }
        let trust = self.policy.trust_zeek_local;
        let src_internal =
            src_class == AddrClass::Internal || (trust && rec.local_orig == Some(true));
        let dst_internal =
            dst_class == AddrClass::Internal || (trust && rec.local_resp == Some(true));
        match (src_internal, dst_internal) {
            (true, false) => {}
            (true, true) => {
                self.counts.internal += 1;
                return u32::MAX;
            }
            (false, true) => {
                self.counts.inbound += 1;
                return u32::MAX;
            }
            (false, false) => {
                self.counts.external += 1;
                return u32::MAX;
            }
        }
        if dst_allowed {
            self.counts.allowed += 1;
            return u32::MAX;
        }
        self.counts.outbound += 1;
        let next = u32::try_from(self.pair_count).unwrap_or(u32::MAX - 1);
        let idx = self.pair_ids.get_or_insert(pair_key(src, dst), next);
        if idx as usize == self.pair_count {
            if self.pairs.last().is_none_or(|c| c.len() == PAIR_CHUNK) {
                self.pairs.push(Vec::with_capacity(PAIR_CHUNK));
            }
            if let Some(chunk) = self.pairs.last_mut() {
                chunk.push(PairState::new(src, dst, rec.ts));
            }
            self.pair_count += 1;
        }
        idx
    }

    /// Fold one outbound record into its pair.
    fn update(&mut self, idx: usize, rec: &ConnRecord) {
        let Some(p) = self
            .pairs
            .get_mut(idx / PAIR_CHUNK)
            .and_then(|c| c.get_mut(idx % PAIR_CHUNK))
        else {
            return;
        };
        p.connections += 1;
        p.first_ts = p.first_ts.min(rec.ts);
        p.last_ts = p.last_ts.max(rec.ts);
        p.bytes_out = p.bytes_out.saturating_add(rec.orig_bytes);
        p.bytes_in = p.bytes_in.saturating_add(rec.resp_bytes);
        p.max_duration = p.max_duration.max(rec.duration as f32);
        p.total_duration += rec.duration;
        p.max_conn_out = p.max_conn_out.max(rec.orig_bytes);
        p.services |= rec.service.0;
        p.ports.add(rec.resp_p, rec.proto);
        let retry = rec.proto == Proto::Tcp
            && rec.orig_p != 0
            && rec.orig_p == p.last_orig_p
            && (rec.ts - p.last_start).abs() <= self.opts.retry_window_secs;
        p.last_orig_p = rec.orig_p;
        if retry {
            p.retries = p.retries.saturating_add(1);
            return;
        }
        p.last_start = rec.ts;
        let size = if rec.orig_ip_bytes > 0 {
            rec.orig_ip_bytes
        } else {
            rec.orig_bytes
        };
        p.add_sample(rec.ts, size, self.opts.max_samples_per_pair);
    }
}

/// Mixed 64-bit key → id (pairs, IPv4 addresses): open addressing with linear probing over 16-byte slots, at
/// most half full. A lookup touches one cache line in the common case (a general-purpose map reads a control
/// byte array and then the bucket: two cache misses per record on a table of millions of entries).
#[derive(Debug, Default)]
struct IdIndex {
    slots: Vec<(u64, u32)>,
    len: usize,
}

impl IdIndex {
    const EMPTY: u32 = u32::MAX;

    /// Id stored for `key`, if any.
    fn get(&self, key: u64) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = (key as usize) & mask;
        loop {
            let slot = self.slots[i];
            if slot.1 == Self::EMPTY {
                return None;
            }
            if slot.0 == key {
                return Some(slot.1);
            }
            i = (i + 1) & mask;
        }
    }

    /// Id stored for `key`, inserting `next` if absent. `key` must be well mixed ([`mix64`]).
    fn get_or_insert(&mut self, key: u64, next: u32) -> u32 {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = (key as usize) & mask;
        loop {
            let slot = &mut self.slots[i];
            if slot.1 == Self::EMPTY {
                *slot = (key, next);
                self.len += 1;
                return next;
            }
            if slot.0 == key {
                return slot.1;
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(1024);
        let old = std::mem::replace(&mut self.slots, vec![(0, Self::EMPTY); size]);
        let mask = size - 1;
        for (key, value) in old.into_iter().filter(|s| s.1 != Self::EMPTY) {
            let mut i = (key as usize) & mask;
            while self.slots[i].1 != Self::EMPTY {
                i = (i + 1) & mask;
            }
            self.slots[i] = (key, value);
        }
    }
}

/// Key of a pair: `src << 32 | dst` mixed with a bijection (MurmurHash3's finaliser), so keys stay unique and
/// their low bits — the table position — depend on both ends.
fn pair_key(src: u32, dst: u32) -> u64 {
    mix64((u64::from(src) << 32) | u64::from(dst))
}

/// MurmurHash3's 64-bit finaliser: a bijection, so distinct inputs stay distinct keys.
fn mix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Services;

    fn rec(ts: f64, src: &str, sport: u16, dst: &str) -> ConnRecord {
        ConnRecord {
            ts,
            orig_h: src.parse().unwrap(),
            orig_p: sport,
            resp_h: dst.parse().unwrap(),
            resp_p: 443,
            proto: Proto::Tcp,
            service: Services(Services::TLS),
            duration: 1.0,
            orig_bytes: 100,
            resp_bytes: 1000,
            orig_ip_bytes: 200,
            resp_ip_bytes: 1100,
            local_orig: None,
            local_resp: None,
        }
    }

    #[test]
    fn directions_and_pairs() {
        let mut agg = FlowAggregator::new(NetworkPolicy::default(), AggregateOptions::default());
        agg.push(&rec(1.0, "10.0.0.1", 1000, "8.8.8.8"));
        agg.push(&rec(2.0, "10.0.0.1", 1001, "8.8.8.8"));
        agg.push(&rec(3.0, "8.8.8.8", 1, "10.0.0.1"));
        agg.push(&rec(4.0, "10.0.0.1", 1, "10.0.0.2"));
        agg.push(&rec(5.0, "1.1.1.1", 1, "8.8.8.8"));
        agg.push(&rec(6.0, "10.0.0.1", 1, "224.0.0.251"));
        let mut zeek_local = rec(7.0, "147.32.81.167", 5, "8.8.8.8");
        zeek_local.local_orig = Some(true);
        agg.push(&zeek_local);
        agg.flush();
        let c = agg.counts();
        assert_eq!(
            (
                c.outbound,
                c.inbound,
                c.internal,
                c.external,
                c.non_routable
            ),
            (3, 1, 1, 1, 1)
        );
        assert_eq!(agg.pair_count(), 2);
        let p = agg.pairs().next().unwrap();
        assert_eq!(
            (p.connections, p.bytes_out, p.bytes_in, p.samples().len()),
            (2, 200, 2000, 2)
        );
        assert_eq!(agg.window(), Some((1.0, 7.0)));
    }

    #[test]
    fn retries_are_not_beats() {
        let mut agg = FlowAggregator::new(NetworkPolicy::default(), AggregateOptions::default());
        agg.push(&rec(100.0, "10.0.0.1", 49162, "41.108.179.197"));
        agg.push(&rec(109.0, "10.0.0.1", 49162, "41.108.179.197"));
        agg.push(&rec(123.0, "10.0.0.1", 60042, "41.108.179.197"));
        agg.flush();
        let p = agg.pairs().next().unwrap();
        assert_eq!((p.connections, p.retries, p.samples().len()), (3, 1, 2));
    }

    #[test]
    fn samples_are_capped_by_thinning() {
        let opts = AggregateOptions {
            max_samples_per_pair: 64,
            ..AggregateOptions::default()
        };
        let mut agg = FlowAggregator::new(NetworkPolicy::default(), opts);
        for i in 0..10_000u16 {
            agg.push(&rec(f64::from(i) * 60.0, "10.0.0.1", i, "203.0.113.9"));
        }
        agg.flush();
        let p = agg.pairs().next().unwrap();
        assert!(p.samples().len() < 64, "{}", p.samples().len());
        assert!(p.stride >= 128);
        assert_eq!(p.connections, 10_000);
        // Thinned samples stay evenly spaced: a regular beacon remains regular.
        let mut t: Vec<u32> = p.samples().iter().map(|s| s.t_ms).collect();
        t.sort_unstable();
        let gaps: Vec<u32> = t.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps.iter().all(|&g| g == gaps[0]), "{gaps:?}");
    }

    #[test]
    fn pair_index_grows_and_finds_everything() {
        let mut idx = IdIndex::default();
        for i in 0..50_000u32 {
            assert_eq!(idx.get_or_insert(pair_key(i % 700, i / 700), i), i);
        }
        for i in 0..50_000u32 {
            assert_eq!(
                idx.get_or_insert(pair_key(i % 700, i / 700), u32::MAX - 1),
                i
            );
        }
        assert_eq!(idx.len, 50_000);
        assert_eq!(idx.get(pair_key(5, 3)), Some(3 * 700 + 5));
        assert_eq!(idx.get(pair_key(50_000, 3)), None);
    }

    #[test]
    fn out_of_order_records_rebase() {
        let mut agg = FlowAggregator::new(NetworkPolicy::default(), AggregateOptions::default());
        agg.push(&rec(1000.5, "10.0.0.1", 1, "203.0.113.9"));
        agg.push(&rec(400.25, "10.0.0.1", 2, "203.0.113.9"));
        agg.flush();
        let p = agg.pairs().next().unwrap();
        let mut secs: Vec<f64> = p.samples().iter().map(|s| p.sample_secs(s)).collect();
        secs.sort_by(f64::total_cmp);
        assert!(
            (secs[0] - 400.25).abs() < 0.002 && (secs[1] - 1000.5).abs() < 0.002,
            "{secs:?}"
        );
        assert_eq!((p.first_ts, p.last_ts), (400.25, 1000.5));
    }
}
