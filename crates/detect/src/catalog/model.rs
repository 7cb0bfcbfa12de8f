//! Finding ids of the content model (`crate::content_model` turns its probabilities into these). The weight is
//! scaled by the model's P(spam) + P(phish), so the points grow with its confidence (`docs/scoring.md`).

use super::FindingSpec;
use crate::finding::Category::{Phishing, Spam};
use crate::finding::Severity::Medium;

/// Ids of the content-model section.
pub static SPECS: &[FindingSpec] = &[
    super::finding_spec!(
        "content.model.spam",
        Spam,
        Medium,
        6.0,
        [],
        "Content model: spam",
        "The trained content model (`docs/ml.md`) gives the message a spam probability of at least \
         `[model] spam_threshold`. Points are the weight times P(spam) + P(phish); the evidence lists the \
         probabilities and the words, links and structure that pushed it most."
    ),
    super::finding_spec!(
        "content.model.phish",
        Phishing,
        Medium,
        6.0,
        ["T1566"],
        "Content model: phishing",
        "The trained content model (`docs/ml.md`) gives the message a phishing probability of at least \
         `[model] phish_threshold`. Points are the weight times P(spam) + P(phish); the evidence lists the \
         probabilities and the features that pushed it most (lure words, link hosts, forms)."
    ),
];
