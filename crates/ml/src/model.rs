//! The model: a multi-class (ham / spam / phish) linear model over hashed features, with softmax probabilities
//! calibrated by a temperature. Prediction is a sum of weights over the message's features, so it is fast and
//! every probability can be explained by the features that pushed it.

use serde::{Deserialize, Serialize};

use crate::features;
use crate::input::FeatureInput;

/// Number of classes.
pub const CLASSES: usize = 3;

/// A class the model knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    /// Legitimate mail.
    Ham = 0,
    /// Unsolicited bulk mail.
    Spam = 1,
    /// Phishing: credential theft, impersonation, fraud lures.
    Phish = 2,
}

impl Label {
    /// Every label, in index order.
    pub const ALL: [Label; CLASSES] = [Label::Ham, Label::Spam, Label::Phish];

    /// Lower-case name (`ham`, `spam`, `phish`).
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Ham => "ham",
            Label::Spam => "spam",
            Label::Phish => "phish",
        }
    }

    /// Parses a lower-case name.
    pub fn parse(name: &str) -> Option<Label> {
        match name {
            "ham" => Some(Label::Ham),
            "spam" => Some(Label::Spam),
            "phish" => Some(Label::Phish),
            _ => None,
        }
    }

    /// Index in probability arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the model was trained on, stored in the model file for people (not used for prediction).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelInfo {
    /// Free text: corpora, command.
    pub description: String,
    /// Training examples per class (ham, spam, phish).
    pub examples: [u64; CLASSES],
    /// Seed of the training run.
    pub seed: u64,
    /// Passes over the data.
    pub epochs: u32,
    /// Examples learnt afterwards with `mamori learn`.
    pub learned: u64,
}

/// A trained model.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub(crate) bits: u8,
    /// `2^bits × CLASSES` weights, the classes of one feature side by side (one cache line per feature).
    pub(crate) weights: Vec<f32>,
    pub(crate) bias: [f32; CLASSES],
    pub(crate) temperature: f32,
    pub(crate) info: ModelInfo,
    /// Bit `i` set when slot `i` has a non-zero weight for some class (FTRL's L1 leaves most at zero): scoring
    /// checks this 128 KB bitmap, which stays in cache, instead of the 12 MB table. Kept in step with `weights`
    /// by every constructor and by [`Model::learn`].
    pub(crate) present: Vec<u64>,
}

/// Class probabilities of one message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    /// Calibrated probabilities (ham, spam, phish); they sum to 1.
    pub probabilities: [f32; CLASSES],
}

impl Prediction {
    /// Probability of `label`.
    pub fn probability(&self, label: Label) -> f32 {
        self.probabilities[label.index()]
    }

    /// Probability that the message is not ham (spam + phish).
    pub fn not_ham(&self) -> f32 {
        1.0 - self.probabilities[0]
    }

    /// The most likely class.
    pub fn best(&self) -> Label {
        let mut best = Label::Ham;
        for l in Label::ALL {
            if self.probabilities[l.index()] > self.probabilities[best.index()] {
                best = l;
            }
        }
        best
    }
}

/// A feature's push towards a class, for explanations.
#[derive(Debug, Clone, PartialEq)]
pub struct Contribution {
    /// Readable feature, e.g. `token 'パスワード'` or `url host 'xn--…'`.
    pub feature: String,
    /// Log-odds it adds to the class against ham (against the strongest other class when explaining ham).
    pub weight: f32,
}

impl std::fmt::Display for Contribution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:+.1}", self.feature, self.weight)
    }
}

/// Numerically safe softmax.
pub(crate) fn softmax(logits: [f32; CLASSES]) -> [f32; CLASSES] {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut exp = [0f32; CLASSES];
    let mut sum = 0.0;
    for (e, l) in exp.iter_mut().zip(logits) {
        *e = (l - max).exp();
        sum += *e;
    }
    for e in &mut exp {
        *e /= sum;
    }
    exp
}

impl Model {
    /// A model with all weights zero (every class equally likely).
    pub fn zeroed(bits: u8) -> Model {
        let bits = bits.clamp(crate::MIN_BITS, crate::MAX_BITS);
        Model::from_parts(
            bits,
            vec![0.0; (1usize << bits) * CLASSES],
            [0.0; CLASSES],
            1.0,
            ModelInfo::default(),
        )
    }

    /// A model from its parts (`weights` holds `2^bits × CLASSES` values).
    pub(crate) fn from_parts(
        bits: u8,
        weights: Vec<f32>,
        bias: [f32; CLASSES],
        temperature: f32,
        info: ModelInfo,
    ) -> Model {
        let mut model = Model {
            bits,
            present: vec![0; (1usize << bits).div_ceil(64)],
            weights,
            bias,
            temperature,
            info,
        };
        for slot in 0..1u32 << bits {
            model.refresh_present(slot);
        }
        model
    }

    /// Sets or clears the bit of `slot` in `present` from its weights.
    fn refresh_present(&mut self, slot: u32) {
        let base = slot as usize * CLASSES;
        let non_zero = self
            .weights
            .get(base..base + CLASSES)
            .is_some_and(|w| w.iter().any(|&x| x != 0.0));
        if let Some(word) = self.present.get_mut(slot as usize / 64) {
            let bit = 1u64 << (slot % 64);
            if non_zero {
                *word |= bit;
            } else {
                *word &= !bit;
            }
        }
    }

    /// True when `slot` has a non-zero weight for some class (false out of range).
    #[inline]
    pub(crate) fn has_weight(&self, slot: u32) -> bool {
        self.present
            .get(slot as usize / 64)
            .is_some_and(|word| word >> (slot % 64) & 1 == 1)
    }

    /// Size of the hashed feature space, as a power of two.
    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// Calibration temperature (logits are divided by it).
    pub fn temperature(&self) -> f32 {
        self.temperature
    }

    /// Training facts.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Number of features with a non-zero weight for some class.
    pub fn non_zero(&self) -> usize {
        self.weights
            .chunks_exact(CLASSES)
            .filter(|w| w.iter().any(|&x| x != 0.0))
            .count()
    }

    /// Uncalibrated scores of a feature set (sorted or not, without repeats; indices must be below `2^bits`,
    /// others are ignored).
    pub fn logits(&self, indices: &[u32]) -> [f32; CLASSES] {
        self.logits_of_sums(self.sums(indices))
    }

    /// Per-class sums of the weights of `indices`, in f64 so that the order of the indices does not matter.
    fn sums(&self, indices: &[u32]) -> [f64; CLASSES] {
        let mut sums = [0f64; CLASSES];
        for &i in indices {
            let base = i as usize * CLASSES;
            if let Some(w) = self.weights.get(base..base + CLASSES) {
                for (s, &x) in sums.iter_mut().zip(w) {
                    *s += f64::from(x);
                }
            }
        }
        sums
    }

    fn logits_of_sums(&self, sums: [f64; CLASSES]) -> [f32; CLASSES] {
        let mut logits = self.bias;
        for (l, s) in logits.iter_mut().zip(sums) {
            *l = (f64::from(*l) + s) as f32;
        }
        logits
    }

    /// Calibrated probabilities from per-class weight sums.
    pub(crate) fn predict_sums(&self, sums: [f64; CLASSES]) -> Prediction {
        let logits = self.logits_of_sums(sums);
        let t = self.temperature.max(1e-3);
        Prediction {
            probabilities: softmax(logits.map(|l| l / t)),
        }
    }

    /// Calibrated probabilities of a feature set.
    pub fn predict_indices(&self, indices: &[u32]) -> Prediction {
        self.predict_sums(self.sums(indices))
    }

    /// Feature indices of a message for this model (sorted, without repeats): what training and `learn` need.
    /// Scanning uses [`Model::score`], which does not collect them.
    pub fn features(&self, input: &FeatureInput<'_>) -> Vec<u32> {
        features::hashed(input, self.bits)
    }

    /// Calibrated probabilities of a message.
    pub fn predict(&self, input: &FeatureInput<'_>) -> Prediction {
        self.score(input).prediction
    }

    /// The `n` features of `input` that pushed it most towards `label`, strongest first, in readable form.
    pub fn explain(&self, input: &FeatureInput<'_>, label: Label, n: usize) -> Vec<Contribution> {
        let mut wanted = [0; CLASSES];
        wanted[label.index()] = n;
        let scored = self.score(input);
        let mut named = self.strongest(input, &scored, wanted);
        std::mem::take(&mut named[label.index()])
    }

    /// Online learning from one analyst-labelled message: small gradient steps on its features until the model
    /// gives `label` at least `target` probability (or `max_steps` were taken). Only this message's features
    /// move, so what the model knows about other mail stays put. Returns the probability of `label` afterwards.
    pub fn learn(&mut self, indices: &[u32], label: Label, target: f32, max_steps: u32) -> f32 {
        let k = label.index();
        let valid: Vec<usize> = indices
            .iter()
            .map(|&i| i as usize)
            .filter(|&i| i < (1usize << self.bits))
            .collect();
        // The step is shared by all features so that one message moves its total score by about `RATE`.
        const RATE: f32 = 1.0;
        let step = RATE / (valid.len().max(1) as f32).sqrt().max(1.0);
        let mut p = self.predict_indices(indices).probabilities;
        for _ in 0..max_steps {
            if p[k] >= target {
                break;
            }
            for &i in &valid {
                let base = i * CLASSES;
                for (c, &pc) in p.iter().enumerate() {
                    let y = if c == k { 1.0 } else { 0.0 };
                    self.weights[base + c] -= step * (pc - y);
                }
            }
            p = self.predict_indices(indices).probabilities;
        }
        for &i in &valid {
            self.refresh_present(u32::try_from(i).unwrap_or(u32::MAX));
        }
        self.info.learned += 1;
        p[k]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_is_stable() {
        let p = softmax([1000.0, 0.0, -1000.0]);
        assert!((p[0] - 1.0).abs() < 1e-6);
        assert!(p.iter().all(|x| x.is_finite()));
        let p = softmax([0.0; 3]);
        assert!((p[1] - 1.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn learn_moves_towards_the_label() {
        let mut m = Model::zeroed(12);
        let idx = vec![1, 5, 77, 4000];
        let before = m.predict_indices(&idx).probability(Label::Phish);
        let after = m.learn(&idx, Label::Phish, 0.9, 50);
        assert!(before < 0.4 && after >= 0.9, "{before} → {after}");
        // Other messages without these features are unaffected.
        assert_eq!(m.predict_indices(&[2, 3]).probabilities, [1.0 / 3.0; 3]);
        assert_eq!(m.info().learned, 1);
        // Out-of-range indices are ignored, not a panic.
        let _ = m.predict_indices(&[u32::MAX]);
        let _ = m.learn(&[u32::MAX], Label::Ham, 0.9, 3);
    }
}
