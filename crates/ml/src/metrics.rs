//! Evaluation metrics: confusion matrix, per-class precision/recall/F1, ROC AUC, recall at fixed ham
//! false-positive rates, and expected calibration error.

use serde::Serialize;

use crate::model::{CLASSES, Label};

/// One evaluated message: its true label and the model's probabilities.
#[derive(Debug, Clone, Copy)]
pub struct Scored {
    /// True class.
    pub label: Label,
    /// Predicted probabilities (ham, spam, phish).
    pub probabilities: [f32; CLASSES],
}

impl Scored {
    fn not_ham(&self) -> f32 {
        1.0 - self.probabilities[0]
    }
}

/// Precision, recall and F1 of one class (argmax decisions).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClassMetrics {
    /// The class.
    pub label: Label,
    /// Messages of this class.
    pub support: u64,
    /// Precision (NaN-free: 0 when nothing was predicted).
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1.
    pub f1: f64,
    /// ROC AUC of this class's probability, one class against the rest (`None` without both sides).
    pub auc: Option<f64>,
}

/// Recall of the non-ham classes at the threshold that keeps the ham false-positive rate at most `target`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RecallAtFpr {
    /// Ham false-positive rate allowed.
    pub target_fpr: f64,
    /// Threshold on P(not ham): flagged when strictly above.
    pub threshold: f64,
    /// Ham false-positive rate actually reached.
    pub fpr: f64,
    /// Recall of spam messages (flagged as not ham).
    pub spam_recall: Option<f64>,
    /// Recall of phish messages.
    pub phish_recall: Option<f64>,
    /// Recall of all non-ham messages.
    pub not_ham_recall: Option<f64>,
}

/// Everything `mamori eval` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Messages evaluated.
    pub messages: u64,
    /// `confusion[true][predicted]` over (ham, spam, phish), argmax decisions.
    pub confusion: [[u64; CLASSES]; CLASSES],
    /// Accuracy of argmax decisions.
    pub accuracy: f64,
    /// Per class.
    pub classes: Vec<ClassMetrics>,
    /// ROC AUC of P(not ham), ham against the rest.
    pub auc_not_ham: Option<f64>,
    /// Recall at ham FPR 0.1 %, 0.5 % and 1 %.
    pub recall_at_fpr: Vec<RecallAtFpr>,
    /// At a fixed threshold on P(not ham) (the configured model threshold).
    pub at_threshold: RecallAtFpr,
    /// Expected calibration error of the top-class probability (15 equal-width bins).
    pub ece: f64,
}

/// ROC AUC of `scores` for positives against negatives (ties count half). `None` when a side is empty.
pub fn auc(positives: &[f32], negatives: &[f32]) -> Option<f64> {
    if positives.is_empty() || negatives.is_empty() {
        return None;
    }
    // Rank-sum (Mann–Whitney U) with average ranks for ties.
    let mut all: Vec<(f32, bool)> = positives
        .iter()
        .map(|&s| (s, true))
        .chain(negatives.iter().map(|&s| (s, false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut rank_sum = 0f64;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j < all.len() && all[j].0 == all[i].0 {
            j += 1;
        }
        let avg_rank = (i + j + 1) as f64 / 2.0; // ranks are 1-based
        rank_sum += avg_rank * all[i..j].iter().filter(|x| x.1).count() as f64;
        i = j;
    }
    let p = positives.len() as f64;
    let n = negatives.len() as f64;
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * n))
}

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

fn recall_at(scored: &[Scored], threshold: f64, target: f64) -> RecallAtFpr {
    let mut flagged = [0u64; CLASSES];
    let mut total = [0u64; CLASSES];
    for s in scored {
        total[s.label.index()] += 1;
        if f64::from(s.not_ham()) > threshold {
            flagged[s.label.index()] += 1;
        }
    }
    RecallAtFpr {
        target_fpr: target,
        threshold,
        fpr: ratio(flagged[0], total[0]).unwrap_or(0.0),
        spam_recall: ratio(flagged[1], total[1]),
        phish_recall: ratio(flagged[2], total[2]),
        not_ham_recall: ratio(flagged[1] + flagged[2], total[1] + total[2]),
    }
}

/// The threshold on P(not ham) that flags at most `target` of the ham.
fn threshold_for_fpr(ham_scores: &[f32], target: f64) -> f64 {
    let mut sorted: Vec<f32> = ham_scores.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let allowed = (target * sorted.len() as f64).floor() as usize;
    // Flag strictly above the (allowed+1)-th highest ham score.
    sorted.get(allowed).map_or(0.0, |&s| f64::from(s))
}

/// Computes the report; `threshold` is the operating threshold on P(not ham) to report besides the fixed FPRs.
pub fn evaluate(scored: &[Scored], threshold: f64) -> Report {
    let mut confusion = [[0u64; CLASSES]; CLASSES];
    for s in scored {
        let mut best = 0;
        for k in 1..CLASSES {
            if s.probabilities[k] > s.probabilities[best] {
                best = k;
            }
        }
        confusion[s.label.index()][best] += 1;
    }
    let classes = Label::ALL
        .iter()
        .map(|&l| {
            let k = l.index();
            let tp = confusion[k][k];
            let support: u64 = confusion[k].iter().sum();
            let predicted: u64 = (0..CLASSES).map(|t| confusion[t][k]).sum();
            let precision = ratio(tp, predicted).unwrap_or(0.0);
            let recall = ratio(tp, support).unwrap_or(0.0);
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            let pos: Vec<f32> = scored
                .iter()
                .filter(|s| s.label == l)
                .map(|s| s.probabilities[k])
                .collect();
            let neg: Vec<f32> = scored
                .iter()
                .filter(|s| s.label != l)
                .map(|s| s.probabilities[k])
                .collect();
            ClassMetrics {
                label: l,
                support,
                precision,
                recall,
                f1,
                auc: auc(&pos, &neg),
            }
        })
        .collect();
    let ham: Vec<f32> = scored
        .iter()
        .filter(|s| s.label == Label::Ham)
        .map(Scored::not_ham)
        .collect();
    let rest: Vec<f32> = scored
        .iter()
        .filter(|s| s.label != Label::Ham)
        .map(Scored::not_ham)
        .collect();
    let recall_at_fpr = [0.001, 0.005, 0.01]
        .into_iter()
        .map(|target| recall_at(scored, threshold_for_fpr(&ham, target), target))
        .collect();
    let correct: u64 = (0..CLASSES).map(|k| confusion[k][k]).sum();
    let at = recall_at(scored, threshold, f64::NAN);
    Report {
        messages: scored.len() as u64,
        confusion,
        accuracy: ratio(correct, scored.len() as u64).unwrap_or(0.0),
        classes,
        auc_not_ham: auc(&rest, &ham),
        recall_at_fpr,
        at_threshold: RecallAtFpr {
            target_fpr: at.fpr,
            ..at
        },
        ece: ece(scored, 15),
    }
}

/// Expected calibration error: the mean gap between confidence (top probability) and accuracy, over equal-width
/// confidence bins, weighted by bin size.
pub fn ece(scored: &[Scored], bins: usize) -> f64 {
    if scored.is_empty() || bins == 0 {
        return 0.0;
    }
    let mut conf = vec![0f64; bins];
    let mut hit = vec![0f64; bins];
    let mut count = vec![0u64; bins];
    for s in scored {
        let mut best = 0;
        for k in 1..CLASSES {
            if s.probabilities[k] > s.probabilities[best] {
                best = k;
            }
        }
        let c = f64::from(s.probabilities[best]).clamp(0.0, 1.0);
        let b = ((c * bins as f64) as usize).min(bins - 1);
        conf[b] += c;
        hit[b] += if best == s.label.index() { 1.0 } else { 0.0 };
        count[b] += 1;
    }
    let n = scored.len() as f64;
    (0..bins)
        .filter(|&b| count[b] > 0)
        .map(|b| (conf[b] - hit[b]).abs() / n)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(label: Label, not_ham: f32) -> Scored {
        Scored {
            label,
            probabilities: [1.0 - not_ham, not_ham, 0.0],
        }
    }

    #[test]
    fn auc_known_values() {
        assert_eq!(auc(&[0.9, 0.8], &[0.1, 0.2]), Some(1.0));
        assert_eq!(auc(&[0.1], &[0.9]), Some(0.0));
        assert_eq!(auc(&[0.5], &[0.5]), Some(0.5));
        assert_eq!(auc(&[], &[0.5]), None);
        // 3 of 4 pairs ordered right.
        assert_eq!(auc(&[0.6, 0.3], &[0.4, 0.2]), Some(0.75));
    }

    #[test]
    fn recall_at_fpr_and_confusion() {
        // 1000 ham at 0.0..0.999, 10 spam at 0.9995 and one spam at 0.5.
        let mut v: Vec<Scored> = (0..1000)
            .map(|i| s(Label::Ham, i as f32 / 1000.0))
            .collect();
        v.extend((0..10).map(|_| s(Label::Spam, 0.9995)));
        v.push(s(Label::Spam, 0.5));
        let r = evaluate(&v, 0.5);
        let at1 = r
            .recall_at_fpr
            .iter()
            .find(|x| x.target_fpr == 0.001)
            .expect("0.1 %");
        assert!(at1.fpr <= 0.001);
        assert_eq!(at1.spam_recall, Some(10.0 / 11.0));
        assert_eq!(r.confusion[1][1], 10);
        assert_eq!(r.confusion[1][0], 1, "0.5 vs 0.5: ham wins ties");
        assert_eq!(r.classes[2].support, 0);
        assert!(r.auc_not_ham.expect("auc") > 0.9);
    }

    #[test]
    fn calibration_error() {
        // Always 90 % sure and right 90 % of the time: calibrated.
        let mut v: Vec<Scored> = (0..90).map(|_| s(Label::Spam, 0.9)).collect();
        v.extend((0..10).map(|_| s(Label::Ham, 0.9)));
        assert!(ece(&v, 15) < 1e-6);
        // Always 100 % sure and right half the time: ECE 0.5.
        let mut v: Vec<Scored> = (0..50).map(|_| s(Label::Spam, 1.0)).collect();
        v.extend((0..50).map(|_| s(Label::Ham, 1.0)));
        assert!((ece(&v, 15) - 0.5).abs() < 1e-6);
    }
}
