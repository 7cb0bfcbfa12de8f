//! Scoring a message: its class probabilities, and on request its strongest features.
//!
//! Shaped by where the time goes (measured on the SpamAssassin corpus: `docs/ml.md`, "Cost in `scan`"). The
//! feature walk ([`features::extract`]) only hashes. A feature whose slot has no weight (most rare words) is
//! dropped there after one look at the model's bitmap of weighted slots; for the others the walk asks the
//! processor to fetch the weights and notes the slot, unsorted. One tight loop then counts each feature once (a
//! per-thread bitmap over the slots, cleared afterwards) and sums the classes, mostly from cache by then. A
//! look-up inside the walk, or an explanation step after each look-up, stalled on every cache miss (both were
//! measured slower than the sort this replaced).
//!
//! Explanations cost a pass of their own ([`Model::strongest`]): a scanner asks only for messages that get a
//! finding, and most mail gets none.

use std::cell::RefCell;

use crate::features::{self, Family, FeatureSink};
use crate::input::FeatureInput;
use crate::model::{CLASSES, Contribution, Model, Prediction};
use crate::text::Piece;

/// What scoring a message gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// Calibrated probabilities.
    pub prediction: Prediction,
    /// The message's distinct features that have a weight, in order of first occurrence, each packed as
    /// `position << 32 | slot`: its slot, and its position in the walk ([`features::extract`] order), which lets
    /// an explanation name a feature by counting, without hashing, and stop walking once it has its names.
    found: Vec<u64>,
}

impl Scored {
    /// Number of distinct features of the message that have a weight in the model.
    pub fn weighted_features(&self) -> usize {
        self.found.len()
    }

    fn slots(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.found.iter().map(|&f| (slot_of(f), position_of(f)))
    }
}

#[inline]
fn slot_of(found: u64) -> u32 {
    (found & 0xffff_ffff) as u32
}

#[inline]
fn position_of(found: u64) -> u32 {
    (found >> 32) as u32
}

thread_local! {
    /// One bit per slot: already counted for the current message. All zero between messages.
    static SEEN: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
    /// Buffers of dropped [`Scored`]s, reused by the next message: scanning then allocates nothing here.
    static SPARE: RefCell<Vec<Vec<u64>>> = const { RefCell::new(Vec::new()) };
}

/// An empty buffer, reused when one is spare.
fn buffer() -> Vec<u64> {
    SPARE
        .with(|spare| spare.try_borrow_mut().ok().and_then(|mut s| s.pop()))
        .unwrap_or_default()
}

impl Drop for Scored {
    fn drop(&mut self) {
        let mut found = std::mem::take(&mut self.found);
        SPARE.with(|spare| {
            // A few per thread are enough; an oversized one (a huge message) is not kept.
            if let Ok(mut spare) = spare.try_borrow_mut()
                && spare.len() < 4
                && found.capacity() <= 1 << 16
            {
                found.clear();
                spare.push(found);
            }
        });
    }
}

/// Collects the features that have a weight, and asks the processor to start fetching their weights: by the
/// time the look-up loop runs, most of them are in cache instead of each being a miss there. Features without a
/// weight (most rare words) are dropped here after one look at the model's bitmap, without touching the table.
struct SlotSink<'m> {
    model: &'m Model,
    /// Kept features (packed as in [`Scored`]) in `found[..count]`; written ahead, so that dropping a feature
    /// is not a branch.
    found: Vec<u64>,
    count: usize,
    position: u32,
}

impl FeatureSink for SlotSink<'_> {
    #[inline]
    fn pieces(&mut self, family: Family, parts: &[Piece<'_>]) {
        let slot = features::piece_index(family, parts, self.model.bits);
        let weighted = self.model.has_weight(slot);
        // Rows without a weight are not fetched: the first row (always cached by then) is asked for instead.
        prefetch(
            &self.model.weights,
            slot as usize * CLASSES * usize::from(weighted),
        );
        if self.count >= self.found.len() {
            self.found.resize(self.found.len() * 2 + 1024, 0);
        }
        if let Some(f) = self.found.get_mut(self.count) {
            *f = u64::from(self.position) << 32 | u64::from(slot);
        }
        self.count += usize::from(weighted);
        self.position = self.position.saturating_add(1);
    }
}

/// A hint to load `values[index]` into cache; no effect on results, and none at all off x86-64.
#[inline(always)]
fn prefetch(values: &[f32], index: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // `wrapping_add` keeps the pointer arithmetic defined even past the end of the slice.
        let p = values.as_ptr().wrapping_add(index).cast::<i8>();
        // SAFETY: a prefetch reads nothing the program sees and never faults, whatever the address; SSE, the
        // only target feature it needs, is part of every x86-64 processor.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (values, index);
}

/// The strongest features towards one class so far, strongest first, at most `wanted`.
#[derive(Debug, Default)]
struct Strongest {
    wanted: usize,
    /// (push before temperature, slot, position of first occurrence).
    entries: Vec<(f32, u32, u32)>,
}

impl Strongest {
    #[inline]
    fn offer(&mut self, push: f32, slot: u32, first_at: u32) {
        // Explanations name features that push towards the class, never against it.
        if self.wanted == 0 || push <= 0.0 || push.is_nan() {
            return;
        }
        // Stronger first; equal pushes by lower slot, so the ranking does not depend on the walk order.
        let beats = |e: &(f32, u32, u32)| push > e.0 || (push == e.0 && slot < e.1);
        if self.entries.len() >= self.wanted {
            if !self.entries.last().is_some_and(beats) {
                return;
            }
            self.entries.pop();
        }
        let at = self
            .entries
            .iter()
            .position(beats)
            .unwrap_or(self.entries.len());
        self.entries.insert(at, (push, slot, first_at));
    }
}

/// Names the features at given positions of the walk, and is done once it has them all.
struct NameSink {
    /// Sorted positions.
    wanted: Vec<u32>,
    names: Vec<Option<String>>,
    /// Position of the next feature of the walk.
    position: u32,
    /// Index in `wanted` of the next position to name.
    next: usize,
}

impl FeatureSink for NameSink {
    #[inline]
    fn pieces(&mut self, family: Family, parts: &[Piece<'_>]) {
        if self.wanted.get(self.next) == Some(&self.position) {
            if let Some(name @ None) = self.names.get_mut(self.next) {
                let mut text = String::new();
                features::write_name(&mut text, family, parts);
                *name = Some(text);
            }
            self.next += 1;
        }
        self.position = self.position.saturating_add(1);
    }

    fn done(&self) -> bool {
        self.next >= self.wanted.len()
    }
}

impl Model {
    /// Scores `input`: its calibrated probabilities, equal to [`Model::predict_indices`] of
    /// [`Model::features`] up to float rounding in the last bit.
    pub fn score(&self, input: &FeatureInput<'_>) -> Scored {
        let mut sink = SlotSink {
            model: self,
            found: buffer(),
            count: 0,
            position: 0,
        };
        features::extract(input, &mut sink);
        let mut found = sink.found;
        found.truncate(sink.count);
        let (sums, count) = SEEN.with(|seen| match seen.try_borrow_mut() {
            Ok(mut seen) => self.sum_distinct(&mut found, &mut seen),
            // Not reachable (nothing here calls back into a model), but a fresh bitmap is correct anyway.
            Err(_) => self.sum_distinct(&mut found, &mut Vec::new()),
        });
        found.truncate(count);
        Scored {
            prediction: self.predict_sums(sums),
            found,
        }
    }

    /// The class sums of the distinct features in `found`, whose first `count` (returned) are then their first
    /// occurrences.
    fn sum_distinct(&self, found: &mut [u64], seen: &mut Vec<u64>) -> ([f64; CLASSES], usize) {
        let words = (1usize << self.bits).div_ceil(64);
        if seen.len() < words {
            seen.resize(words, 0);
        }
        // In f64, so that the order of the features does not matter.
        let mut sums = [0f64; CLASSES];
        let mut kept = 0;
        for i in 0..found.len() {
            let f = found[i];
            let slot = slot_of(f);
            let base = slot as usize * CLASSES;
            let (Some(w), Some(word)) = (
                self.weights.get(base..base + CLASSES),
                seen.get_mut(slot as usize / 64),
            ) else {
                continue;
            };
            let bit = 1u64 << (slot % 64);
            let fresh = *word & bit == 0;
            *word |= bit;
            // A repeat adds zero and is overwritten by the next feature, instead of being skipped: no branch.
            let count = if fresh { 1.0 } else { 0.0 };
            for (sum, &x) in sums.iter_mut().zip(w) {
                *sum += f64::from(x) * count;
            }
            found[kept] = f;
            kept += usize::from(fresh);
        }
        // A repeat's bit is in the same word as its first occurrence's.
        for &f in found.iter().take(kept) {
            if let Some(word) = seen.get_mut(slot_of(f) as usize / 64) {
                *word = 0;
            }
        }
        (sums, kept)
    }

    /// The strongest features of a scored message towards each class `k`, `wanted[k]` of them at most,
    /// strongest first, in readable form. The push of a feature towards a class is its weight for the class
    /// minus its weight for ham (for ham: minus the stronger other class), divided by the temperature; only
    /// features that push towards the class are listed, ties go to the lower slot, and a feature is named after
    /// its first occurrence in the message. Costs one more walk over the features, which names them by position
    /// (no hashing) and stops once it has them all.
    pub fn strongest(
        &self,
        input: &FeatureInput<'_>,
        scored: &Scored,
        wanted: [usize; CLASSES],
    ) -> [Vec<Contribution>; CLASSES] {
        if wanted.iter().all(|&n| n == 0) {
            return Default::default();
        }
        let mut strongest = wanted.map(|wanted| Strongest {
            wanted,
            entries: Vec::with_capacity(wanted.min(64) + 1),
        });
        // Ranked before dividing by the temperature (it is positive, so the order is the same).
        for (slot, first_at) in scored.slots() {
            let base = slot as usize * CLASSES;
            let Some(w) = self.weights.get(base..base + CLASSES) else {
                continue;
            };
            strongest[0].offer(w[0] - w[1].max(w[2]), slot, first_at);
            strongest[1].offer(w[1] - w[0], slot, first_at);
            strongest[2].offer(w[2] - w[0], slot, first_at);
        }
        let mut wanted_at: Vec<u32> = strongest
            .iter()
            .flat_map(|s| s.entries.iter().map(|&(_, _, at)| at))
            .collect();
        wanted_at.sort_unstable();
        wanted_at.dedup();
        if wanted_at.is_empty() {
            return Default::default();
        }
        let mut sink = NameSink {
            names: vec![None; wanted_at.len()],
            wanted: wanted_at,
            position: 0,
            next: 0,
        };
        features::extract(input, &mut sink);
        let t = self.temperature.max(1e-3);
        strongest.map(|s| {
            s.entries
                .into_iter()
                .filter_map(|(push, _, at)| {
                    let i = sink.wanted.binary_search(&at).ok()?;
                    let feature = sink.names.get(i)?.clone()?;
                    Some(Contribution {
                        feature,
                        weight: push / t,
                    })
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::{Label, ModelInfo};
    use crate::rng::SplitMix64;

    fn inputs() -> Vec<FeatureInput<'static>> {
        vec![
            // Repeated words and pairs: each must count once.
            FeatureInput {
                subject: "【重要】アカウント確認 verify your account",
                body: "Please verify your password at the link below, verify your password now. \
                       パスワードを変更してください。パスワード",
                content_types: vec!["text/html", "text/plain"],
                ..features::tests::sample()
            },
            FeatureInput {
                subject: "meeting notes",
                body: "Hi all, the notes from today's meeting are attached. Thanks, Bob",
                from_domain: Some("example.org"),
                ..FeatureInput::default()
            },
            FeatureInput::default(),
        ]
    }

    /// A model with random weights, a share of them zero.
    fn random_model(bits: u8, seed: u64) -> Model {
        let mut rng = SplitMix64::new(seed);
        let mut weights = vec![0f32; (1usize << bits) * CLASSES];
        for row in weights.chunks_exact_mut(CLASSES) {
            // Half the rows all zero (as L1 leaves most), the others with some zero classes.
            if rng.below(2) == 0 {
                continue;
            }
            for w in row {
                if rng.below(3) > 0 {
                    *w = (rng.below(2001) as f32 - 1000.0) / 300.0;
                }
            }
        }
        Model::from_parts(bits, weights, [0.3, -0.2, 0.1], 1.7, ModelInfo::default())
    }

    /// The strongest features towards `label` by brute force: every named feature, first occurrence of each slot,
    /// ranked as documented.
    fn brute_force(
        model: &Model,
        input: &FeatureInput<'_>,
        label: Label,
        n: usize,
    ) -> Vec<Contribution> {
        let t = model.temperature;
        let k = label.index();
        let mut ranked: Vec<(f32, u32, String)> = features::tests::named(input, model.bits)
            .into_iter()
            .filter_map(|(slot, name)| {
                let base = slot as usize * CLASSES;
                let w = &model.weights[base..base + CLASSES];
                let against = if k == 0 { w[1].max(w[2]) } else { w[0] };
                let push = w[k] - against;
                (push > 0.0).then_some((push, slot, name))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        ranked
            .into_iter()
            .take(n)
            .map(|(push, _, feature)| Contribution {
                feature,
                weight: push / t,
            })
            .collect()
    }

    #[test]
    fn equals_predict_and_brute_force_ranking() {
        for (bits, seed) in [(8u8, 1u64), (12, 2), (20, 3)] {
            let model = random_model(bits, seed);
            for input in inputs() {
                let reference = model.predict_indices(&model.features(&input));
                // Twice: the per-thread seen set must be clean after a message.
                for _ in 0..2 {
                    let scored = model.score(&input);
                    let named = model.strongest(&input, &scored, [4, 5, 6]);
                    for (a, b) in scored
                        .prediction
                        .probabilities
                        .iter()
                        .zip(reference.probabilities)
                    {
                        assert!((a - b).abs() < 1e-6, "bits {bits}: {a} vs {b}");
                    }
                    for (label, n) in Label::ALL.into_iter().zip([4, 5, 6]) {
                        let expected = brute_force(&model, &input, label, n);
                        assert_eq!(named[label.index()], expected, "bits {bits} {label}");
                        assert_eq!(model.explain(&input, label, n), expected);
                    }
                }
            }
        }
    }

    #[test]
    fn asks_only_for_what_is_wanted() {
        let model = random_model(12, 9);
        let input = &inputs()[0];
        let scored = model.score(input);
        let named = model.strongest(input, &scored, [0, 3, 0]);
        assert!(named[0].is_empty() && named[2].is_empty());
        assert_eq!(named[1].len(), 3);
        let none = model.strongest(input, &scored, [0; CLASSES]);
        assert!(none.iter().all(Vec::is_empty));
        assert_eq!(model.predict(input), scored.prediction);
        // Each feature once, as training sees them; only those with a weight.
        let mut slots: Vec<u32> = scored.slots().map(|(slot, _)| slot).collect();
        slots.sort_unstable();
        let mut weighted = model.features(input);
        weighted.retain(|&slot| model.has_weight(slot));
        assert_eq!(slots, weighted);
        assert_eq!(scored.weighted_features(), slots.len());
    }

    #[test]
    fn learning_after_scoring_is_seen_by_the_next_score() {
        let mut model = Model::zeroed(12);
        let input = &inputs()[1];
        assert_eq!(model.predict(input).probabilities, [1.0 / 3.0; CLASSES]);
        let p = model.learn(&model.features(input), Label::Spam, 0.9, 50);
        assert!(p >= 0.9);
        assert!((model.predict(input).probability(Label::Spam) - p).abs() < 1e-6);
        assert!(!model.explain(input, Label::Spam, 3).is_empty());
    }

    #[test]
    fn a_zero_model_has_nothing_to_explain() {
        let model = Model::zeroed(10);
        let input = &inputs()[0];
        let scored = model.score(input);
        assert_eq!(scored.prediction.probabilities, [1.0 / 3.0; CLASSES]);
        assert_eq!(scored.weighted_features(), 0);
        let named = model.strongest(input, &scored, [5; CLASSES]);
        assert!(named.iter().all(Vec::is_empty));
    }
}
