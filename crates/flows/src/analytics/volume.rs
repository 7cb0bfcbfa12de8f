//! Detectors on volume and duration: long connections, bulk outbound transfers (the exfiltration signature:
//! much more sent than received, to a rare destination) and strobes (very many connections).

use super::{AnalysisConfig, Prevalence};
use crate::aggregate::PairState;
use crate::alert::{BulkOutboundEvidence, LongConnectionEvidence, StrobeEvidence};
use crate::stats::Robust;

/// A single upload at least this large counts as a "large connection" for T1029/T1030 analysis.
pub const LARGE_CONNECTION_BYTES: u32 = 1 << 20;

/// Long connection: `0.5` at the threshold rising log-linearly to `1.0` at 24× the threshold.
pub fn long_connection(
    p: &PairState,
    cfg: &AnalysisConfig,
) -> Option<(f64, LongConnectionEvidence)> {
    let threshold = cfg.long_connection_secs.max(1.0);
    let max_duration = f64::from(p.max_duration);
    if max_duration < threshold {
        return None;
    }
    let score = 0.5 + 0.5 * ((max_duration / threshold).ln() / 24f64.ln()).clamp(0.0, 1.0);
    Some((
        score,
        LongConnectionEvidence {
            max_duration_s: max_duration,
            total_duration_s: p.total_duration,
            threshold_s: threshold,
        },
    ))
}

/// Bulk outbound: `bytes_out ≥ bulk_min_bytes` and `bytes_out ≥ ratio × bytes_in`. Score 0.55 at the threshold
/// rising to 1.0 at 100× the threshold, times a rarity factor (1 for rare destinations, 0.85 when prevalence is
/// unknown, the prevalence modifier otherwise). T1030 when the large uploads have near-constant sizes, T1029
/// when they come at regular intervals.
pub fn bulk_outbound(
    p: &PairState,
    cfg: &AnalysisConfig,
    prev: &Prevalence,
    over_c2: bool,
) -> Option<(f64, BulkOutboundEvidence)> {
    let ratio = p.bytes_out as f64 / (p.bytes_in.max(1)) as f64;
    if p.bytes_out < cfg.bulk_min_bytes.max(1) || ratio < cfg.bulk_min_ratio {
        return None;
    }
    let volume =
        ((p.bytes_out as f64 / cfg.bulk_min_bytes.max(1) as f64).log10() / 2.0).clamp(0.0, 1.0);
    let rarity = if prev.rare {
        1.0
    } else if !prev.known {
        0.85
    } else {
        prev.modifier()
    };
    let score = (0.55 + 0.45 * volume) * rarity;

    let mut large: Vec<(f64, f64)> = p
        .samples()
        .iter()
        .filter(|s| s.size >= LARGE_CONNECTION_BYTES)
        .map(|s| (p.sample_secs(s), f64::from(s.size)))
        .collect();
    large.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut sizes: Vec<f64> = large.iter().map(|l| l.1).collect();
    let fixed_size_chunks =
        large.len() >= 4 && Robust::of(&mut sizes).is_some_and(|r| r.relative_mad() <= 0.05);
    let mut gaps: Vec<f64> = large.windows(2).map(|w| w[1].0 - w[0].0).collect();
    let scheduled = gaps.len() >= 3
        && Robust::of(&mut gaps).is_some_and(|r| r.median >= 60.0 && r.regularity() >= 0.85);
    Some((
        score,
        BulkOutboundEvidence {
            out_in_ratio: (ratio * 10.0).round() / 10.0,
            max_connection_bytes_out: p.max_conn_out,
            large_connections: large.len() as u64 * u64::from(p.stride),
            fixed_size_chunks,
            scheduled,
            over_c2_channel: over_c2,
            threshold_bytes: cfg.bulk_min_bytes,
        },
    ))
}

/// Strobe threshold for an observation window: `strobe_connections_per_day` scaled to the window, never below an
/// hour's worth.
pub fn strobe_threshold(cfg: &AnalysisConfig, window: (f64, f64)) -> u64 {
    let days = ((window.1 - window.0) / 86_400.0).max(1.0 / 24.0);
    ((cfg.strobe_connections_per_day as f64 * days).ceil() as u64).max(1)
}

/// Strobe: connections at or above the threshold. Score 0.6 at the threshold, 1.0 at 10× it.
pub fn strobe(p: &PairState, threshold: u64) -> Option<(f64, StrobeEvidence)> {
    if p.connections < threshold {
        return None;
    }
    let excess = (p.connections as f64 / threshold as f64)
        .log10()
        .clamp(0.0, 1.0);
    let span_h = ((p.last_ts - p.first_ts) / 3600.0).max(1.0 / 60.0);
    Some((
        0.6 + 0.4 * excess,
        StrobeEvidence {
            connections_per_hour: (p.connections as f64 / span_h).round(),
            threshold_connections: threshold,
        },
    ))
}
