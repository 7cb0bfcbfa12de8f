//! Training: FTRL-Proximal (McMahan et al., 2013) on a softmax over the three classes, several seeded shuffled
//! passes, then temperature calibration on a held-out validation split.
//!
//! Reproducibility: the only randomness is the shuffling, driven by [`crate::rng::SplitMix64`] from the seed, and
//! the examples are processed on one thread in that order, so the same data, options and seed give a bit-identical
//! model. (Feature extraction, which is most of the time, is parallel and order-independent.)

use crate::model::{CLASSES, Label, Model, ModelInfo, softmax};
use crate::rng::SplitMix64;

/// One labelled message, as feature indices.
#[derive(Debug, Clone)]
pub struct Example {
    /// Sorted feature indices (from [`crate::features::hashed`]).
    pub indices: Vec<u32>,
    /// The class.
    pub label: Label,
}

/// Training settings. The defaults are what the shipped model uses.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    /// Hashed feature space, `2^bits` slots.
    pub bits: u8,
    /// Passes over the training data.
    pub epochs: u32,
    /// FTRL learning rate α.
    pub alpha: f32,
    /// FTRL β (smooths early learning rates).
    pub beta: f32,
    /// L1 strength: drives rare, useless weights to exactly zero (smaller model file).
    pub l1: f32,
    /// L2 strength.
    pub l2: f32,
    /// Seed for shuffling and the validation split.
    pub seed: u64,
    /// Share of each class held out to fit the calibration temperature.
    pub validation_fraction: f32,
    /// Per-class weight of a training example's gradient (ham, spam, phish): a ham weight above 1 trades recall
    /// for fewer false positives.
    pub class_weights: [f32; CLASSES],
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            bits: crate::DEFAULT_BITS,
            epochs: 6,
            alpha: 0.1,
            beta: 1.0,
            l1: 0.5,
            l2: 1.0,
            seed: 42,
            validation_fraction: 0.1,
            class_weights: [1.0, 1.0, 1.0],
        }
    }
}

/// Why training could not run.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TrainError {
    /// No example of a class: the model could never predict it.
    #[error("no training examples labelled {0}: every class (ham, spam, phish) needs at least one")]
    EmptyClass(Label),
    /// Settings out of range.
    #[error("invalid training option: {0}")]
    BadOption(String),
}

/// Facts about a training run.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainReport {
    /// Examples per class.
    pub examples: [u64; CLASSES],
    /// Validation examples used for calibration.
    pub validation: usize,
    /// Fitted temperature.
    pub temperature: f32,
    /// Validation log-loss before calibration (temperature 1).
    pub validation_loss_raw: f64,
    /// Validation log-loss after calibration.
    pub validation_loss: f64,
    /// Features with a non-zero weight.
    pub non_zero: usize,
}

/// FTRL-Proximal state for the weights of `2^bits` features × classes plus the biases.
struct Ftrl {
    z: Vec<f32>,
    n: Vec<f32>,
    bias_z: [f32; CLASSES],
    bias_n: [f32; CLASSES],
    opts: TrainOptions,
}

impl Ftrl {
    fn new(opts: &TrainOptions) -> Ftrl {
        let len = (1usize << opts.bits) * CLASSES;
        Ftrl {
            z: vec![0.0; len],
            n: vec![0.0; len],
            bias_z: [0.0; CLASSES],
            bias_n: [0.0; CLASSES],
            opts: opts.clone(),
        }
    }

    #[inline]
    fn weight(&self, z: f32, n: f32, l1: f32) -> f32 {
        if z.abs() <= l1 {
            0.0
        } else {
            let o = &self.opts;
            -(z - z.signum() * l1) / ((o.beta + n.sqrt()) / o.alpha + o.l2)
        }
    }

    fn step(&mut self, ex: &Example, scratch: &mut Vec<f32>) {
        let l1 = self.opts.l1;
        scratch.clear();
        let mut logits = [0f32; CLASSES];
        for (c, l) in logits.iter_mut().enumerate() {
            // The bias is not L1-regularised: it carries the class priors.
            *l = self.weight(self.bias_z[c], self.bias_n[c], 0.0);
        }
        for &i in &ex.indices {
            let base = i as usize * CLASSES;
            for (c, logit) in logits.iter_mut().enumerate() {
                let w = self.weight(self.z[base + c], self.n[base + c], l1);
                scratch.push(w);
                *logit += w;
            }
        }
        let p = softmax(logits);
        let y = ex.label.index();
        let scale = self.opts.class_weights[y];
        let mut g = [0f32; CLASSES];
        for (c, (gc, pc)) in g.iter_mut().zip(p).enumerate() {
            *gc = (pc - if c == y { 1.0 } else { 0.0 }) * scale;
        }
        let alpha = self.opts.alpha;
        for (c, &gc) in g.iter().enumerate() {
            let w = self.weight(self.bias_z[c], self.bias_n[c], 0.0);
            let n = self.bias_n[c];
            let sigma = ((n + gc * gc).sqrt() - n.sqrt()) / alpha;
            self.bias_z[c] += gc - sigma * w;
            self.bias_n[c] = n + gc * gc;
        }
        for (j, &i) in ex.indices.iter().enumerate() {
            let base = i as usize * CLASSES;
            for (c, &gc) in g.iter().enumerate() {
                let w = scratch[j * CLASSES + c];
                let n = self.n[base + c];
                let g2 = gc * gc;
                let sigma = ((n + g2).sqrt() - n.sqrt()) / alpha;
                self.z[base + c] += gc - sigma * w;
                self.n[base + c] = n + g2;
            }
        }
    }

    fn into_model(self, info: ModelInfo) -> Model {
        let l1 = self.opts.l1;
        let weights = self
            .z
            .iter()
            .zip(&self.n)
            .map(|(&z, &n)| self.weight(z, n, l1))
            .collect();
        let mut bias = [0f32; CLASSES];
        for (c, b) in bias.iter_mut().enumerate() {
            *b = self.weight(self.bias_z[c], self.bias_n[c], 0.0);
        }
        Model::from_parts(self.opts.bits, weights, bias, 1.0, info)
    }
}

fn fit(
    examples: &[&Example],
    opts: &TrainOptions,
    info: ModelInfo,
    progress: &mut dyn FnMut(u64),
) -> Model {
    let mut ftrl = Ftrl::new(opts);
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut rng = SplitMix64::new(opts.seed);
    let mut scratch = Vec::new();
    for _ in 0..opts.epochs {
        rng.shuffle(&mut order);
        for &i in &order {
            ftrl.step(examples[i], &mut scratch);
        }
        progress(examples.len() as u64);
    }
    ftrl.into_model(info)
}

/// Mean negative log-likelihood of `logits` (one per example) at temperature `t`.
fn nll(logits: &[([f32; CLASSES], usize)], t: f32) -> f64 {
    if logits.is_empty() {
        return 0.0;
    }
    let sum: f64 = logits
        .iter()
        .map(|(l, y)| {
            let p = softmax(l.map(|x| x / t));
            -f64::from(p[*y].max(1e-12)).ln()
        })
        .sum();
    sum / logits.len() as f64
}

/// The temperature minimising validation log-loss (golden-section search over log T in [1/20, 20]).
pub fn fit_temperature(logits: &[([f32; CLASSES], usize)]) -> f32 {
    if logits.is_empty() {
        return 1.0;
    }
    let (mut lo, mut hi) = ((0.05f64).ln(), (20.0f64).ln());
    let phi = (5f64.sqrt() - 1.0) / 2.0;
    let f = |x: f64| nll(logits, x.exp() as f32);
    let mut a = hi - phi * (hi - lo);
    let mut b = lo + phi * (hi - lo);
    let (mut fa, mut fb) = (f(a), f(b));
    for _ in 0..60 {
        if fa < fb {
            hi = b;
            b = a;
            fb = fa;
            a = hi - phi * (hi - lo);
            fa = f(a);
        } else {
            lo = a;
            a = b;
            fa = fb;
            b = lo + phi * (hi - lo);
            fb = f(b);
        }
    }
    ((lo + hi) / 2.0).exp() as f32
}

/// Trains a model: fits on the examples minus a stratified validation share, fits the temperature on that share,
/// then refits on all examples and keeps the temperature. `progress` is called with the number of examples
/// processed after each pass.
pub fn train(
    examples: &[Example],
    opts: &TrainOptions,
    description: &str,
    mut progress: impl FnMut(u64),
) -> Result<(Model, TrainReport), TrainError> {
    if !(crate::MIN_BITS..=crate::MAX_BITS).contains(&opts.bits) {
        return Err(TrainError::BadOption(format!(
            "bits must be within {}..={}, not {}",
            crate::MIN_BITS,
            crate::MAX_BITS,
            opts.bits
        )));
    }
    if opts.epochs == 0 || opts.alpha <= 0.0 || opts.beta < 0.0 || opts.l1 < 0.0 || opts.l2 < 0.0 {
        return Err(TrainError::BadOption(
            "epochs and alpha must be positive, beta, l1 and l2 not negative".into(),
        ));
    }
    if !(0.0..0.9).contains(&opts.validation_fraction) {
        return Err(TrainError::BadOption(
            "validation fraction must be within [0, 0.9)".into(),
        ));
    }
    let mut counts = [0u64; CLASSES];
    for e in examples {
        counts[e.label.index()] += 1;
    }
    if let Some(l) = Label::ALL.into_iter().find(|l| counts[l.index()] == 0) {
        return Err(TrainError::EmptyClass(l));
    }
    // Stratified validation split: a seeded shuffle per class, the first share of each held out.
    let mut rng = SplitMix64::new(opts.seed ^ 0x5eed_ca1b);
    let mut train_part: Vec<&Example> = Vec::new();
    let mut validation: Vec<&Example> = Vec::new();
    for l in Label::ALL {
        let mut of_class: Vec<&Example> = examples.iter().filter(|e| e.label == l).collect();
        rng.shuffle(&mut of_class);
        let held = ((of_class.len() as f32) * opts.validation_fraction).floor() as usize;
        // Keep at least one training example per class.
        let held = held.min(of_class.len().saturating_sub(1));
        validation.extend_from_slice(&of_class[..held]);
        train_part.extend_from_slice(&of_class[held..]);
    }
    let info = ModelInfo {
        description: description.to_string(),
        examples: counts,
        seed: opts.seed,
        epochs: opts.epochs,
        learned: 0,
    };
    let (temperature, loss_raw, loss) = if validation.is_empty() {
        (1.0, 0.0, 0.0)
    } else {
        let first = fit(&train_part, opts, info.clone(), &mut progress);
        let logits: Vec<([f32; CLASSES], usize)> = validation
            .iter()
            .map(|e| (first.logits(&e.indices), e.label.index()))
            .collect();
        let t = fit_temperature(&logits);
        (t, nll(&logits, 1.0), nll(&logits, t))
    };
    let all: Vec<&Example> = examples.iter().collect();
    let mut model = fit(&all, opts, info, &mut progress);
    model.temperature = temperature;
    let report = TrainReport {
        examples: counts,
        validation: validation.len(),
        temperature,
        validation_loss_raw: loss_raw,
        validation_loss: loss,
        non_zero: model.non_zero(),
    };
    Ok((model, report))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Synthetic data with a known separable signal: features 0–9 mean ham, 10–19 spam, 20–29 phish, every
    /// example also has 5 random noise features from 100–999.
    pub(crate) fn synthetic(n: usize, seed: u64) -> Vec<Example> {
        let mut rng = SplitMix64::new(seed);
        (0..n)
            .map(|i| {
                let label = Label::ALL[i % 3];
                let base = 10 * label.index() as u32;
                let mut indices: Vec<u32> = (0..3)
                    .map(|_| base + (rng.next_u64() % 10) as u32)
                    .collect();
                indices.extend((0..5).map(|_| 100 + (rng.next_u64() % 900) as u32));
                indices.sort_unstable();
                indices.dedup();
                Example { indices, label }
            })
            .collect()
    }

    fn small() -> TrainOptions {
        TrainOptions {
            bits: 12,
            ..TrainOptions::default()
        }
    }

    #[test]
    fn learns_a_separable_signal() {
        let data = synthetic(600, 1);
        let (model, report) = train(&data, &small(), "synthetic", |_| {}).expect("trains");
        let test = synthetic(300, 2);
        let correct = test
            .iter()
            .filter(|e| model.predict_indices(&e.indices).best() == e.label)
            .count();
        assert!(correct >= 297, "{correct}/300 correct");
        assert_eq!(report.examples, [200, 200, 200]);
        assert!(report.validation_loss <= report.validation_loss_raw + 1e-9);
        assert!(report.temperature > 0.0);
        // Confident on clean signal.
        let p = model.predict_indices(&[10, 11, 12]);
        assert!(p.probability(Label::Spam) > 0.9, "{p:?}");
    }

    #[test]
    fn reproducible_with_a_seed() {
        let data = synthetic(300, 3);
        let (a, _) = train(&data, &small(), "", |_| {}).expect("trains");
        let (b, _) = train(&data, &small(), "", |_| {}).expect("trains");
        assert_eq!(a, b);
        let other = TrainOptions { seed: 7, ..small() };
        let (c, _) = train(&data, &other, "", |_| {}).expect("trains");
        assert_ne!(a.weights, c.weights);
    }

    #[test]
    fn refuses_an_empty_class_and_bad_options() {
        let data: Vec<Example> = synthetic(30, 4)
            .into_iter()
            .filter(|e| e.label != Label::Phish)
            .collect();
        assert_eq!(
            train(&data, &small(), "", |_| {}).err(),
            Some(TrainError::EmptyClass(Label::Phish))
        );
        let bad = TrainOptions {
            bits: 40,
            ..small()
        };
        assert!(matches!(
            train(&synthetic(30, 4), &bad, "", |_| {}),
            Err(TrainError::BadOption(_))
        ));
    }

    #[test]
    fn temperature_fixes_overconfidence() {
        // Logits that are right 75 % of the time but claim near certainty: T must grow above 1.
        let mut logits = Vec::new();
        for i in 0..400 {
            let y = if i % 4 == 0 { 1 } else { 0 };
            logits.push(([8.0, 0.0, 0.0], y));
        }
        let t = fit_temperature(&logits);
        assert!(t > 2.0, "{t}");
    }
}
