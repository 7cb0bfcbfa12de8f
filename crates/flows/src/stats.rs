//! Robust statistics used by the scores: quantiles, median absolute deviation, Bowley (quartile) skewness, and
//! the RITA-style regularity score built from them.

/// Quantile `q` (0..=1) of an ascending slice, linear interpolation between order statistics. `NaN` when empty.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let pos = q.clamp(0.0, 1.0) * (n - 1) as f64;
            let lo = pos.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            let frac = pos - lo as f64;
            sorted[lo] + (sorted[hi] - sorted[lo]) * frac
        }
    }
}

/// Quantile `q` of unsorted values by selection (same interpolation as [`quantile_sorted`]); reorders `values`.
pub fn quantile_select(values: &mut [f64], q: f64) -> f64 {
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    let pos = q.clamp(0.0, 1.0) * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let frac = pos - lo as f64;
    let (_, &mut lo_val, rest) = values.select_nth_unstable_by(lo, f64::total_cmp);
    if frac == 0.0 || rest.is_empty() {
        return lo_val;
    }
    let hi_val = rest.iter().copied().fold(f64::INFINITY, f64::min);
    lo_val + (hi_val - lo_val) * frac
}

/// Summary of a sample: quartiles, MAD and Bowley skewness.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Robust {
    /// First quartile.
    pub q1: f64,
    /// Median.
    pub median: f64,
    /// Third quartile.
    pub q3: f64,
    /// Median absolute deviation from the median.
    pub mad: f64,
    /// Bowley skewness `(Q1 + Q3 − 2·Q2) / (Q3 − Q1)`, 0 when the quartiles coincide.
    pub bowley: f64,
}

impl Robust {
    /// Compute from unsorted values (`None` when empty). Reorders `values` (selection, not a full sort: O(n)).
    pub fn of(values: &mut [f64]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        let q1 = quantile_select(values, 0.25);
        let median = quantile_select(values, 0.5);
        let q3 = quantile_select(values, 0.75);
        let iqr = q3 - q1;
        // Quartiles within float noise of each other: perfectly symmetric for our purposes.
        let bowley = if iqr <= f64::EPSILON * median.abs().max(1.0) {
            0.0
        } else {
            (q1 + q3 - 2.0 * median) / iqr
        };
        let mut dev: Vec<f64> = values.iter().map(|v| (v - median).abs()).collect();
        let mad = quantile_select(&mut dev, 0.5);
        Some(Self {
            q1,
            median,
            q3,
            mad,
            bowley,
        })
    }

    /// MAD relative to the median (a robust coefficient of variation); 0 for a constant sample, 1 for a sample
    /// centred on zero that still varies.
    pub fn relative_mad(&self) -> f64 {
        if self.median.abs() <= f64::EPSILON {
            if self.mad <= f64::EPSILON { 0.0 } else { 1.0 }
        } else {
            self.mad / self.median.abs()
        }
    }

    /// RITA's regularity: mean of the skew score `1 − |bowley|` and the dispersion score `1 − MAD/median`
    /// (each clamped to 0..=1). 1 for a perfectly regular sample.
    pub fn regularity(&self) -> f64 {
        let skew = 1.0 - self.bowley.abs().min(1.0);
        let disp = (1.0 - self.relative_mad()).clamp(0.0, 1.0);
        0.5 * skew + 0.5 * disp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartiles_and_mad() {
        let mut v = vec![5.0, 1.0, 3.0, 2.0, 4.0];
        let r = Robust::of(&mut v).unwrap();
        assert_eq!(
            (r.q1, r.median, r.q3, r.mad, r.bowley),
            (2.0, 3.0, 4.0, 1.0, 0.0)
        );
        assert!((r.regularity() - (0.5 + 0.5 * (1.0 - 1.0 / 3.0))).abs() < 1e-12);
    }

    #[test]
    fn selection_matches_sorting() {
        let mut seed = 17u64;
        for n in 1..60 {
            let mut v: Vec<f64> = (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    (seed >> 40) as f64
                })
                .collect();
            let mut sorted = v.clone();
            sorted.sort_by(f64::total_cmp);
            for q in [0.0, 0.25, 0.5, 0.75, 1.0] {
                assert_eq!(
                    quantile_select(&mut v, q),
                    quantile_sorted(&sorted, q),
                    "n {n} q {q}"
                );
            }
        }
    }

    #[test]
    fn skewed_and_constant() {
        let mut v = vec![1.0, 1.0, 1.0, 2.0, 10.0, 10.0, 10.0, 10.0];
        let r = Robust::of(&mut v).unwrap();
        assert!(r.bowley < 0.0);
        let mut c = vec![60.0; 10];
        let r = Robust::of(&mut c).unwrap();
        assert_eq!((r.mad, r.bowley, r.regularity()), (0.0, 0.0, 1.0));
        let mut z = vec![0.0; 4];
        assert_eq!(Robust::of(&mut z).unwrap().regularity(), 1.0);
        assert!(Robust::of(&mut []).is_none());
    }
}
