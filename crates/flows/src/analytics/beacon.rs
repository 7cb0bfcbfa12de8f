//! Beacon scoring for one pair.
//!
//! Starts from RITA's published method — Bowley skewness and MAD/median of the intervals between connections,
//! the same for the bytes sent per connection — and adds what RITA's interval statistics miss:
//! - **retries** are removed before timing (see [`crate::aggregate`]) and connections closer than
//!   `event_merge_secs` are one event;
//! - **period estimation** from several candidates (median of lag-1/2/3 differences and the peak of a
//!   lagged-difference histogram), so alternating or noisy patterns still yield the true period;
//! - **missed beats**: intervals are folded onto the period (an interval of ≈ k periods counts as k beats), so a
//!   beacon that skips beats stays regular, with a penalty for the missing and extra events;
//! - **periodicity**: the share of events followed by another event one period later (±20 %), corrected for the
//!   chance level of the pair's connection rate, which finds a beacon hidden among unrelated connections to the
//!   same destination;
//! - **coverage** of the observation window and a **confidence** that grows with the number of events.

use std::collections::BTreeMap;

use crate::aggregate::PairState;
use crate::alert::{BeaconEvidence, Component, rfc3339};
use crate::stats::Robust;

/// Tolerance of the periodicity test, as a fraction of the period.
const PERIOD_TOLERANCE: f64 = 0.2;
/// Lags used for the difference histogram.
const MAX_LAG: usize = 8;
/// Weight of each part of the final score (timing is a gate, see [`score`]).
const W_COVERAGE: f64 = 0.25;
const W_SIZE: f64 = 0.15;
const W_BASE: f64 = 0.60;

/// Beacon parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BeaconParams {
    /// Fewer events than this: no beacon analysis.
    pub min_events: usize,
    /// Connections closer than this (s) are one event.
    pub event_merge_secs: f64,
    /// Pairs scoring below this get no result (and no evidence is built for them).
    pub min_score: f64,
}

/// Result for one pair.
#[derive(Debug, Clone, PartialEq)]
pub struct BeaconScore {
    /// Final 0–1 score (before the prevalence modifier).
    pub score: f64,
    /// Evidence for the alert.
    pub evidence: BeaconEvidence,
}

/// Score a pair. `window` is the observation window of the whole data set (s).
pub fn score(pair: &PairState, window: (f64, f64), p: &BeaconParams) -> Option<BeaconScore> {
    if pair.samples().len() < p.min_events.max(3) {
        return None;
    }
    let mut samples: Vec<(f64, f64)> = pair
        .samples()
        .iter()
        .map(|s| (pair.sample_secs(s), f64::from(s.size)))
        .collect();
    samples.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Merge connections closer than the merge window into one event (keeps the first one's size).
    let mut events: Vec<(f64, f64)> = Vec::with_capacity(samples.len());
    for s in samples {
        match events.last() {
            Some(last) if s.0 - last.0 < p.event_merge_secs => {}
            _ => events.push(s),
        }
    }
    if events.len() < p.min_events.max(3) {
        return None;
    }
    let times: Vec<f64> = events.iter().map(|e| e.0).collect();
    let intervals: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    let raw = Robust::of(&mut intervals.clone())?;
    let raw_regularity = raw.regularity();

    let (mut period, candidate_strength) = estimate_period(&times, &intervals, &raw);
    let mut fold = fold_intervals(&intervals, period);
    // Refine the period to the median per-beat interval when folding agrees with it.
    if fold.score > 0.0 && fold.per_beat_median > 0.0 {
        let refined = fold_intervals(&intervals, fold.per_beat_median);
        let strength =
            |f: &Folded, p: f64| regularity_strength(f.score).max(periodicity(&times, p));
        if strength(&refined, fold.per_beat_median) >= strength(&fold, period) {
            period = fold.per_beat_median;
            fold = refined;
        }
    }
    let periodicity = periodicity(&times, period);
    // Regularity scores sit near 0.5 for Poisson-like traffic; map them to a 0–1 strength first. Periodicity is
    // already chance-corrected (0 = what random traffic at this rate shows).
    let timing = regularity_strength(raw_regularity)
        .max(regularity_strength(fold.score))
        .max(periodicity)
        .max(candidate_strength);

    let mut sizes: Vec<f64> = events.iter().map(|e| e.1).collect();
    let size = Robust::of(&mut sizes)?;
    let size_regularity = size.regularity();

    let coverage = coverage(&times, window, period);
    let n = events.len() as f64;
    let confidence = 1.0 - (-(n - 3.0) / 10.0).exp();
    // Timing is a gate: without regular timing, coverage and sizes mean nothing.
    let total = confidence * timing * (W_BASE + W_COVERAGE * coverage + W_SIZE * size_regularity);
    if total < p.min_score {
        return None;
    }

    let mut components = BTreeMap::new();
    let mut put = |k: &str, value: f64, weight: f64| {
        components.insert(
            k.to_string(),
            Component {
                value: round4(value),
                weight,
            },
        );
    };
    put("interval_regularity", raw_regularity, 0.0);
    put("folded_regularity", fold.score, 0.0);
    put("periodicity", periodicity, 0.0);
    put("timing", timing, 1.0);
    put("size_regularity", size_regularity, W_SIZE);
    put("coverage", coverage, W_COVERAGE);
    put("confidence", confidence, 1.0);
    Some(BeaconScore {
        score: total.clamp(0.0, 1.0),
        evidence: BeaconEvidence {
            period_s: round4(period),
            median_interval_s: round4(raw.median),
            interval_mad_s: round4(raw.mad),
            interval_bowley_skew: round4(raw.bowley),
            jitter: round4(fold.jitter),
            events: events.len() as u64,
            missed_beats: fold.missed,
            extra_events: fold.extras,
            retries: u64::from(pair.retries),
            median_bytes_out: size.median,
            bytes_out_mad: size.mad,
            sampling_stride: pair.stride,
            components,
            sample_times: times.iter().take(8).map(|t| rfc3339(*t)).collect(),
        },
    })
}

/// Map a RITA-style regularity (≈ 0.52 for Poisson arrivals, 1 − jitter/4 for a uniformly jittered beacon) to
/// a 0–1 strength: 0 up to 0.55, 1 from 0.95.
fn regularity_strength(r: f64) -> f64 {
    ((r - 0.55) / 0.4).clamp(0.0, 1.0)
}

fn round4(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}

/// Candidate periods, each with its timing strength `max(strength(folded regularity), periodicity)`. Returns
/// the fundamental period and the best strength over all candidates (a beacon is also periodic at multiples of
/// its period, and with heavy jitter a multiple can show it more clearly).
fn estimate_period(times: &[f64], intervals: &[f64], raw: &Robust) -> (f64, f64) {
    let mut candidates = vec![raw.median];
    for lag in 2..=3 {
        if times.len() > lag + 2 {
            let mut d: Vec<f64> = times.windows(lag + 1).map(|w| w[lag] - w[0]).collect();
            if let Some(r) = Robust::of(&mut d) {
                candidates.push(r.median);
            }
        }
    }
    if let Some(peak) = histogram_peak(times) {
        candidates.push(peak);
    }
    // A period far below the typical interval would mean most beats are missing: not a beacon.
    let floor = 0.5 * raw.q1;
    let usable = |c: &f64| c.is_finite() && *c > 0.0 && *c >= floor;
    let strength =
        |c: f64| regularity_strength(fold_intervals(intervals, c).score).max(periodicity(times, c));
    candidates.retain(usable);
    candidates.sort_by(f64::total_cmp);
    candidates.dedup_by(|a, b| (*a - *b).abs() <= 0.02 * b.abs());
    let Some((mut period, best)) = candidates
        .iter()
        .map(|&c| (c, strength(c)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
    else {
        return (raw.median, 0.0);
    };
    // Prefer the fundamental: the longest sub-multiple of the best candidate that is nearly as strong (a beacon
    // is also periodic at 2, 3, 4 times its period, and heavy jitter can make a multiple look cleaner).
    for m in 2..=4 {
        let c = period / f64::from(m);
        if usable(&c) && strength(c) >= 0.6 * best {
            period = c;
            break;
        }
    }
    (period, best)
}

/// Lag with the highest density of pairwise differences (lags 1..=MAX_LAG, log-spaced 8 % bins), refined to the
/// median of the differences in that bin. Density (count / bin width) removes the bias towards long lags.
fn histogram_peak(times: &[f64]) -> Option<f64> {
    const RATIO: f64 = 1.08;
    // Bins from 1 s up: 1.08^256 s is far beyond any observation window.
    const BINS: usize = 256;
    let ln_ratio = RATIO.ln();
    let bin_of = |d: f64| ((d.ln() / ln_ratio).floor() as usize).min(BINS - 1);
    let mut counts = [0u32; BINS];
    for (i, &t) in times.iter().enumerate() {
        for &u in times.iter().skip(i + 1).take(MAX_LAG) {
            let d = u - t;
            if d >= 1.0 {
                counts[bin_of(d)] += 1;
            }
        }
    }
    let mut best: Option<(f64, usize)> = None;
    for b in 0..BINS {
        // Count neighbours too so a period on a bin edge is not split in two.
        let count = counts[b]
            + b.checked_sub(1).map_or(0, |p| counts[p])
            + counts.get(b + 1).copied().unwrap_or(0);
        if counts[b] == 0 || count < 4 {
            continue;
        }
        let width = RATIO.powi(b as i32) * (RATIO.powi(2) - RATIO.powi(-1));
        let density = f64::from(count) / width;
        if best.is_none_or(|(d, _)| density > d) {
            best = Some((density, b));
        }
    }
    let (_, b) = best?;
    let mut v: Vec<f64> = Vec::with_capacity(counts[b] as usize);
    for (i, &t) in times.iter().enumerate() {
        for &u in times.iter().skip(i + 1).take(MAX_LAG) {
            let d = u - t;
            if d >= 1.0 && bin_of(d) == b {
                v.push(d);
            }
        }
    }
    Robust::of(&mut v).map(|r| r.median)
}

/// Share of events followed by another event one period later (± tolerance), corrected for chance:
/// `(observed − chance) / (1 − chance)`, chance = `1 − exp(−rate · 2·tol·P)`.
fn periodicity(times: &[f64], period: f64) -> f64 {
    let observed = support(times, period);
    let (Some(first), Some(last)) = (times.first(), times.last()) else {
        return 0.0;
    };
    let span = last - first;
    if span <= 0.0 || period <= 0.0 {
        return 0.0;
    }
    let rate = (times.len() - 1) as f64 / span;
    let chance = 1.0 - (-rate * 2.0 * PERIOD_TOLERANCE * period).exp();
    if chance >= 0.999 {
        return 0.0;
    }
    ((observed - chance) / (1.0 - chance)).clamp(0.0, 1.0)
}

/// Fraction of events (that have a full period of data after them) with a successor at `period` ± tolerance.
fn support(times: &[f64], period: f64) -> f64 {
    let Some(&last) = times.last() else {
        return 0.0;
    };
    let lo_f = 1.0 - PERIOD_TOLERANCE;
    let hi_f = 1.0 + PERIOD_TOLERANCE;
    let mut eligible = 0usize;
    let mut hits = 0usize;
    // Targets increase with `t`, so one forward-moving cursor finds the first event ≥ each target.
    let mut j = 0usize;
    for &t in times {
        if t + period * hi_f > last {
            break;
        }
        eligible += 1;
        let lo = t + period * lo_f;
        while times.get(j).is_some_and(|&x| x < lo) {
            j += 1;
        }
        if times.get(j).is_some_and(|&x| x <= t + period * hi_f) {
            hits += 1;
        }
    }
    if eligible == 0 {
        0.0
    } else {
        hits as f64 / eligible as f64
    }
}

struct Folded {
    score: f64,
    per_beat_median: f64,
    jitter: f64,
    missed: u64,
    extras: u64,
}

/// Fold intervals onto the period: `k = round(d / P)` beats each; `k = 0` is an extra event. Regularity of the
/// per-beat intervals, penalised by the share of extra events (squared) and by `sqrt(1 − missed share)`.
fn fold_intervals(intervals: &[f64], period: f64) -> Folded {
    let mut per_beat = Vec::with_capacity(intervals.len());
    let (mut missed, mut extras) = (0u64, 0u64);
    for &d in intervals {
        let k = (d / period).round();
        if k < 1.0 {
            extras += 1;
        } else {
            per_beat.push(d / k);
            missed += (k as u64).saturating_sub(1);
        }
    }
    let Some(r) = Robust::of(&mut per_beat) else {
        return Folded {
            score: 0.0,
            per_beat_median: 0.0,
            jitter: 1.0,
            missed,
            extras,
        };
    };
    let m = intervals.len() as f64;
    let extra_frac = extras as f64 / m;
    let beats = per_beat.len() as f64 + missed as f64;
    let miss_frac = if beats > 0.0 {
        missed as f64 / beats
    } else {
        0.0
    };
    // Folding onto a wrong period can still give regular per-beat intervals (300 s beats folded at 225 s are
    // all k = 1): the per-beat median must agree with the period.
    let consistent = (r.median - period).abs() <= 0.15 * period;
    let score = if consistent {
        r.regularity() * (1.0 - extra_frac).powi(2) * (1.0 - miss_frac).sqrt()
    } else {
        0.0
    };
    Folded {
        score,
        per_beat_median: r.median,
        jitter: r.relative_mad(),
        missed,
        extras,
    }
}

/// Share of the observation window's bins holding at least one event. Bins are a 24th of the window but never
/// shorter than 1.5 periods, so a slow beacon can still fill every bin.
fn coverage(times: &[f64], window: (f64, f64), period: f64) -> f64 {
    let span = (window.1 - window.0).max(0.0);
    if span <= 0.0 {
        return 0.0;
    }
    let width = (span / 24.0).max(1.5 * period);
    let n_bins = (span / width).ceil().max(1.0) as usize;
    let mut filled = vec![false; n_bins];
    for &t in times {
        let b = (((t - window.0) / width).floor().max(0.0) as usize).min(n_bins - 1);
        filled[b] = true;
    }
    filled.iter().filter(|&&f| f).count() as f64 / n_bins as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::{AggregateOptions, FlowAggregator};
    use crate::ingest::RecordSink;
    use crate::network::NetworkPolicy;
    use crate::record::{ConnRecord, Proto, Services};

    /// Deterministic pseudo-random numbers in [0, 1).
    fn lcg(seed: &mut u64) -> f64 {
        *seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (*seed >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pair_from(times: &[f64], sizes: impl Fn(usize) -> u64) -> PairState {
        let mut agg = FlowAggregator::new(NetworkPolicy::default(), AggregateOptions::default());
        for (i, &t) in times.iter().enumerate() {
            agg.push(&ConnRecord {
                ts: t,
                orig_h: "10.1.1.1".parse().unwrap(),
                orig_p: 40_000 + (i % 20_000) as u16,
                resp_h: "203.0.113.50".parse().unwrap(),
                resp_p: 443,
                proto: Proto::Tcp,
                service: Services(Services::TLS),
                duration: 0.5,
                orig_bytes: sizes(i),
                resp_bytes: 300,
                orig_ip_bytes: 0,
                resp_ip_bytes: 0,
                local_orig: None,
                local_resp: None,
            });
        }
        agg.flush();
        agg.pairs().next().unwrap().clone()
    }

    const P: BeaconParams = BeaconParams {
        min_events: 6,
        event_merge_secs: 1.0,
        min_score: 0.0,
    };
    const DAY: (f64, f64) = (0.0, 86_400.0);

    #[test]
    fn perfect_beacon_scores_high() {
        let times: Vec<f64> = (0..288).map(|i| f64::from(i) * 300.0).collect();
        let s = score(&pair_from(&times, |_| 420), DAY, &P).unwrap();
        assert!(s.score > 0.95, "{s:?}");
        assert!((s.evidence.period_s - 300.0).abs() < 1.0, "{s:?}");
    }

    #[test]
    fn poisson_traffic_scores_low() {
        let mut seed = 7;
        let mut t = 0.0;
        let mut times = Vec::new();
        while t < 86_400.0 {
            t += -300.0 * (1.0 - lcg(&mut seed)).ln();
            times.push(t);
        }
        let s = score(
            &pair_from(&times, |i| 200 + (i as u64 * 7919) % 5000),
            DAY,
            &P,
        )
        .unwrap();
        assert!(s.score < 0.25, "{:?}", s);
    }

    #[test]
    fn jitter_and_missed_beats_are_tolerated() {
        let mut seed = 11;
        let mut times = Vec::new();
        let mut t = 0.0;
        while t < 86_400.0 {
            t += 600.0 * (1.0 + 0.3 * (2.0 * lcg(&mut seed) - 1.0));
            if lcg(&mut seed) > 0.25 {
                times.push(t);
            }
        }
        let s = score(&pair_from(&times, |_| 512), DAY, &P).unwrap();
        assert!(s.score > 0.7, "{s:?}");
        assert!(s.evidence.missed_beats > 10, "{s:?}");
        assert!((s.evidence.period_s - 600.0).abs() < 60.0, "{s:?}");
    }

    #[test]
    fn beacon_hidden_among_other_connections_is_found() {
        let mut seed = 3;
        let mut times: Vec<f64> = (0..144)
            .map(|i| f64::from(i) * 600.0 + 5.0 * lcg(&mut seed))
            .collect();
        // As many unrelated connections at random times.
        times.extend((0..144).map(|_| 86_400.0 * lcg(&mut seed)));
        times.sort_by(f64::total_cmp);
        let s = score(
            &pair_from(&times, |i| 300 + (i as u64 * 7919) % 900),
            DAY,
            &P,
        )
        .unwrap();
        assert!(s.evidence.components["periodicity"].value > 0.5, "{s:?}");
        assert!(s.score > 0.5, "{s:?}");
        assert!((s.evidence.period_s - 600.0).abs() < 30.0, "{s:?}");
    }

    #[test]
    fn too_few_events_are_not_scored() {
        let times = [0.0, 60.0, 120.0];
        assert!(score(&pair_from(&times, |_| 1), DAY, &P).is_none());
    }
}
