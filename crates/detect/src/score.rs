//! Combining findings into a score and a class (documented in `docs/scoring.md`).
//!
//! The score is the sum of finding weights (points). A message below `flag_threshold` is clean. A flagged
//! message takes the class of the category (malware, phishing, spam) with the most points, if that category has
//! at least `category_threshold` points; ties go to the more dangerous class. Otherwise it is `suspicious`.

use crate::config::ScoringConfig;
use crate::finding::{Category, Finding};
use crate::verdict::Class;

/// Total points of a set of findings.
pub fn total(findings: &[Finding]) -> f32 {
    findings.iter().map(|f| f.weight).sum()
}

/// Points per category.
pub fn category_points(findings: &[Finding], category: Category) -> f32 {
    findings
        .iter()
        .filter(|f| f.category == category)
        .map(|f| f.weight)
        .sum()
}

/// The class for these findings under `config`.
pub fn classify(findings: &[Finding], config: &ScoringConfig) -> Class {
    if total(findings) < config.flag_threshold {
        return Class::Clean;
    }
    // Weaponised content decides the class: a lure around an executable is a malware delivery first.
    if findings.iter().any(|f| {
        f.category == Category::Malware
            && f.severity == crate::finding::Severity::Critical
            && f.weight > 0.0
    }) {
        return Class::Malware;
    }
    let candidates = [
        (Class::Malware, category_points(findings, Category::Malware)),
        (
            Class::Phishing,
            category_points(findings, Category::Phishing),
        ),
        (Class::Spam, category_points(findings, Category::Spam)),
    ];
    let mut best: Option<(Class, f32)> = None;
    for (class, points) in candidates {
        if points < config.category_threshold {
            continue;
        }
        // Strictly greater keeps the earlier (more dangerous) class on ties.
        if best.is_none_or(|(_, p)| points > p) {
            best = Some((class, points));
        }
    }
    best.map_or(Class::Suspicious, |(class, _)| class)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(id: &'static str) -> Finding {
        Finding::new(id, "test")
    }

    #[test]
    fn thresholds_and_tie_breaks() {
        let cfg = ScoringConfig::default();
        assert_eq!(classify(&[], &cfg), Class::Clean);
        assert_eq!(classify(&[f("header.date.missing")], &cfg), Class::Clean);
        assert_eq!(
            classify(&[f("attachment.executable")], &cfg),
            Class::Malware
        );
        assert_eq!(classify(&[f("content.gtube")], &cfg), Class::Spam);
        // 3.5 phishing + 2.0 anomaly: flagged, phishing names the class.
        assert_eq!(
            classify(
                &[f("identity.display_name.address"), f("malformed.not_mail")],
                &cfg
            ),
            Class::Phishing
        );
        // Anomalies only: suspicious.
        assert_eq!(
            classify(
                &[
                    f("limit.mime_depth"),
                    f("malformed.not_mail"),
                    f("header.from.missing")
                ],
                &cfg
            ),
            Class::Suspicious
        );
        // Malware 8 beats phishing 3.5.
        assert_eq!(
            classify(
                &[
                    f("identity.display_name.address"),
                    f("attachment.executable")
                ],
                &cfg
            ),
            Class::Malware
        );
    }
}
