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
        Model {
            bits,
            weights: vec![0.0; (1usize << bits) * CLASSES],
            bias: [0.0; CLASSES],
            temperature: 1.0,
            info: ModelInfo::default(),
        }
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

    /// Uncalibrated scores of a feature set (sorted or not; indices must be below `2^bits`, others are ignored).
    pub fn logits(&self, indices: &[u32]) -> [f32; CLASSES] {
        let mut logits = self.bias;
        for &i in indices {
            let base = i as usize * CLASSES;
            if let Some(w) = self.weights.get(base..base + CLASSES) {
                logits[0] += w[0];
                logits[1] += w[1];
                logits[2] += w[2];
            }
        }
        logits
    }

    /// Calibrated probabilities of a feature set.
    pub fn predict_indices(&self, indices: &[u32]) -> Prediction {
        let logits = self.logits(indices);
        let t = self.temperature.max(1e-3);
        Prediction {
            probabilities: softmax(logits.map(|l| l / t)),
        }
    }

    /// Feature indices of a message for this model.
    pub fn features(&self, input: &FeatureInput<'_>) -> Vec<u32> {
        features::hashed(input, self.bits)
    }

    /// Calibrated probabilities of a message.
    pub fn predict(&self, input: &FeatureInput<'_>) -> Prediction {
        self.predict_indices(&self.features(input))
    }

    /// The `n` features of `input` that pushed it most towards `label`, strongest first, in readable form.
    pub fn explain(&self, input: &FeatureInput<'_>, label: Label, n: usize) -> Vec<Contribution> {
        self.explain_indices(input, &self.features(input), label, n)
    }

    /// [`Model::explain`] when the feature indices of `input` ([`Model::features`]) are already known: saves
    /// extracting them again.
    pub fn explain_indices(
        &self,
        input: &FeatureInput<'_>,
        indices: &[u32],
        label: Label,
        n: usize,
    ) -> Vec<Contribution> {
        let t = self.temperature.max(1e-3);
        let k = label.index();
        let push = |i: u32| -> Option<f32> {
            let base = i as usize * CLASSES;
            let w = self.weights.get(base..base + CLASSES)?;
            let against = if label == Label::Ham {
                w[1].max(w[2])
            } else {
                w[0]
            };
            Some((w[k] - against) / t)
        };
        // Rank on hashed indices first; only the winners are turned into readable names.
        let mut ranked: Vec<(u32, f32)> = indices
            .iter()
            .filter_map(|&i| push(i).filter(|w| *w > 0.0).map(|w| (i, w)))
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(n);
        let mut wanted: Vec<u32> = ranked.iter().map(|(i, _)| *i).collect();
        wanted.sort_unstable();
        let names = features::named(input, self.bits, Some(&wanted));
        ranked
            .into_iter()
            .filter_map(|(i, weight)| {
                let feature = names.iter().find(|(j, _)| *j == i)?.1.clone();
                Some(Contribution { feature, weight })
            })
            .collect()
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
