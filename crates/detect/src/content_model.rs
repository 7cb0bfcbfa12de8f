//! The content model in the verdict: fills the model's [`FeatureInput`] from a parsed message, and turns the
//! model's probabilities into `content.model.spam` / `content.model.phish` findings whose evidence names the
//! features that pushed the message most (see `docs/scoring.md`, "The content model").

use std::borrow::Cow;

use mamori_mail::{AnomalyKind, Message};
use mamori_ml::{
    AttachmentFacts, CLASSES, Contribution, FeatureInput, Label, Model, Prediction, Structure,
    UrlFacts,
};
use serde::{Deserialize, Serialize};

use crate::finding::Finding;
use crate::verdict::Probabilities;

/// `[model]`: how the content model's probabilities become findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelConfig {
    /// Run the content model (when one is installed in the engine).
    pub enabled: bool,
    /// P(spam) from which `content.model.spam` is reported.
    pub spam_threshold: f32,
    /// P(phish) from which `content.model.phish` is reported.
    pub phish_threshold: f32,
    /// P(spam) + P(phish) from which the larger of the two is reported even when neither reaches its own
    /// threshold (a message the model is sure is bad but unsure how).
    pub not_ham_threshold: f32,
    /// Contributing features listed in a finding's evidence.
    pub explain_features: usize,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            enabled: true,
            spam_threshold: 0.5,
            phish_threshold: 0.5,
            not_ham_threshold: 0.7,
            explain_features: 5,
        }
    }
}

/// Strips tags that upstream filters write into subjects (`[SPAM]`, `***SPAM***`): they are another filter's
/// verdict, not content, and learning them would teach the model to copy that filter.
fn clean_subject(subject: &str) -> Cow<'_, str> {
    let lower_has = |s: &str| subject.contains(s);
    if !(lower_has("[spam]")
        || lower_has("***spam***")
        || lower_has("[SPAM]")
        || lower_has("***SPAM***"))
    {
        return Cow::Borrowed(subject);
    }
    let mut s = subject.to_string();
    for tag in ["[spam]", "***spam***", "[SPAM]", "***SPAM***"] {
        s = s.replace(tag, " ");
    }
    Cow::Owned(s.trim().to_string())
}

/// Calls `f` with the model's view of `message`. Training, evaluation and scanning all use this, so the model
/// always sees the same features for the same message.
pub fn with_feature_input<R>(message: &Message, f: impl FnOnce(&FeatureInput<'_>) -> R) -> R {
    let subject = clean_subject(&message.text.subject_normalized);
    let from = message.from_mailbox();
    let extension = |name: &str| -> Option<String> {
        let (_, ext) = name.rsplit_once('.')?;
        (!ext.is_empty() && ext.len() <= 10).then(|| ext.to_ascii_lowercase())
    };
    let extensions: Vec<Option<String>> = message
        .attachments
        .iter()
        .map(|a| a.name.as_deref().and_then(extension))
        .collect();
    let plain = message.text.plain.len();
    let html = message.text.html_text.len();
    let text_html_mismatch =
        plain > 0 && html > 0 && (plain > html * 3 + 200 || html > plain * 3 + 200);
    let input = FeatureInput {
        subject: &subject,
        body: &message.text.normalized,
        html_extra: if text_html_mismatch && html > plain {
            &message.text.html_text
        } else {
            ""
        },
        from_name: from.and_then(|m| m.name.as_deref()).unwrap_or(""),
        from_domain: from.and_then(|m| m.domain.as_deref()),
        reply_to_domain: message.reply_to.first().and_then(|m| m.domain.as_deref()),
        return_path_domain: message
            .return_path
            .as_deref()
            .and_then(|rp| rp.rsplit_once('@'))
            .map(|(_, d)| d),
        mailer: message
            .header("X-Mailer")
            .or_else(|| message.header("User-Agent")),
        recipients: u32::try_from(message.to.len() + message.cc.len()).unwrap_or(u32::MAX),
        urls: message
            .links
            .iter()
            .map(|l| UrlFacts {
                scheme: &l.scheme,
                host: l.host.as_deref(),
                registered_domain: l.registered_domain.as_deref(),
                url: l.url.as_deref().unwrap_or(&l.raw),
                ip_host: l.ip.is_some(),
                userinfo: l.has_userinfo,
            })
            .collect(),
        content_types: message
            .parts
            .iter()
            .map(|p| p.content_type.as_str())
            .collect(),
        charsets: message
            .parts
            .iter()
            .filter_map(|p| p.charset.as_deref())
            .collect(),
        received: message.received.iter().map(|h| h.with.as_deref()).collect(),
        attachments: message
            .attachments
            .iter()
            .zip(&extensions)
            .map(|(a, ext)| AttachmentFacts {
                extension: ext.as_deref(),
                declared_type: &a.declared_type,
                sniffed: a.sniffed.as_ref().map(|t| t.extension.as_str()),
            })
            .collect(),
        structure: Structure {
            has_plain: plain > 0,
            has_html: message.html.bodies > 0,
            images: message.html.images,
            forms: message.html.forms,
            password_inputs: message.html.password_inputs,
            scripts: message.html.scripts,
            hidden_elements: message.html.hidden_elements,
            text_html_mismatch,
            charset_mismatch: message.has_anomaly(AnomalyKind::CharsetMismatch),
            anomalies: u32::try_from(message.anomalies.len()).unwrap_or(u32::MAX),
        },
        header_names: message.headers.iter().map(|h| h.name.as_str()).collect(),
        raw_subject: message.subject.as_deref().unwrap_or(""),
        message_id_domain: message
            .message_id
            .as_deref()
            .and_then(|id| id.rsplit_once('@'))
            .map(|(_, d)| d.trim_end_matches('>')),
    };
    f(&input)
}

/// Feature indices of `message` for `model`.
pub fn message_features(model: &Model, message: &Message) -> Vec<u32> {
    with_feature_input(message, |input| model.features(input))
}

/// Runs the model on `message`: the probabilities for the verdict and the findings they give under `config`.
pub fn judge(
    model: &Model,
    message: &Message,
    config: &ModelConfig,
) -> (Probabilities, Vec<Finding>) {
    with_feature_input(message, |input| {
        let scored = model.score(input);
        let prediction = scored.prediction;
        let probabilities = Probabilities {
            ham: prediction.probability(Label::Ham),
            spam: prediction.probability(Label::Spam),
            phish: prediction.probability(Label::Phish),
        };
        let labels = flagged_labels(&prediction, config);
        // Explaining costs a walk of its own: only for messages that get a finding.
        let findings = if labels.is_empty() {
            Vec::new()
        } else {
            let n = config.explain_features;
            let mut wanted = [0; CLASSES];
            for label in &labels {
                wanted[label.index()] = n;
            }
            let mut strongest = model.strongest(input, &scored, wanted);
            findings_for(&prediction, &labels, &mut strongest)
        };
        (probabilities, findings)
    })
}

/// The classes the model reports a finding for under `config` (none when the message looks like ham).
fn flagged_labels(prediction: &Prediction, config: &ModelConfig) -> Vec<Label> {
    let spam = prediction.probability(Label::Spam);
    let phish = prediction.probability(Label::Phish);
    let mut labels = Vec::new();
    if spam >= config.spam_threshold {
        labels.push(Label::Spam);
    }
    if phish >= config.phish_threshold {
        labels.push(Label::Phish);
    }
    if labels.is_empty() && spam + phish >= config.not_ham_threshold {
        labels.push(if phish > spam {
            Label::Phish
        } else {
            Label::Spam
        });
    }
    labels
}

/// The findings for the flagged classes, with the strongest features towards each as evidence.
fn findings_for(
    prediction: &Prediction,
    labels: &[Label],
    strongest: &mut [Vec<Contribution>; CLASSES],
) -> Vec<Finding> {
    let spam = prediction.probability(Label::Spam);
    let phish = prediction.probability(Label::Phish);
    let summary = format!(
        "model probabilities: ham {:.3}, spam {:.3}, phish {:.3}",
        prediction.probability(Label::Ham),
        spam,
        phish
    );
    labels
        .iter()
        .map(|&label| {
            let id = match label {
                Label::Phish => "content.model.phish",
                _ => "content.model.spam",
            };
            // The weight grows with the model's confidence in "not ham"; a sure call (≥ 0.84 with the default
            // weight 6) is enough to flag a message on its own.
            let mut finding = Finding::new(id, summary.clone()).scaled(spam + phish);
            let top = std::mem::take(&mut strongest[label.index()]);
            if !top.is_empty() {
                let list: Vec<String> = top.iter().map(ToString::to_string).collect();
                finding =
                    finding.with(format!("strongest {} features: {}", label, list.join(", ")));
            }
            finding
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_tags_of_other_filters_are_dropped() {
        assert_eq!(clean_subject("[spam] cheap pills"), "cheap pills");
        assert_eq!(clean_subject("***SPAM*** hello"), "hello");
        assert!(matches!(clean_subject("hello"), Cow::Borrowed("hello")));
    }

    #[test]
    fn confident_model_gives_an_explained_finding_that_flags() {
        let raw = b"From: Support <support@bank.example>\r\nTo: a@b.example\r\nSubject: verify your password\r\n\r\nPlease verify your password now: https://login.bank-verify.example/signin\r\n";
        let message = mamori_mail::parse(raw, &mamori_mail::Limits::default());
        let mut model = Model::zeroed(16);
        let indices = message_features(&model, &message);
        let p = model.learn(&indices, Label::Phish, 0.97, 200);
        assert!(p >= 0.97, "{p}");
        let (probabilities, findings) = judge(&model, &message, &ModelConfig::default());
        assert!(probabilities.phish >= 0.97);
        assert_eq!(findings.len(), 1, "{findings:?}");
        let f = &findings[0];
        assert_eq!(f.id, "content.model.phish");
        assert!(f.weight > 5.0, "{}", f.weight);
        assert!(
            f.evidence[0].starts_with("model probabilities: ham "),
            "{:?}",
            f.evidence
        );
        assert!(
            f.evidence[1].contains("token '") || f.evidence[1].contains("words '"),
            "{:?}",
            f.evidence
        );
        // The engine puts probabilities into the verdict and the finding into the class.
        let engine = crate::Engine::new(crate::DetectConfig::default())
            .expect("engine")
            .with_content_model(std::sync::Arc::new(model.clone()));
        let verdict = engine.judge(&mamori_mail::Envelope::default(), &message);
        assert!(verdict.has("content.model.phish"));
        assert!(verdict.probability.is_some());
        assert_eq!(verdict.class, crate::Class::Phishing);
        // Thresholds are honoured; switched off, the model leaves no trace.
        let strict = ModelConfig {
            phish_threshold: 0.999,
            spam_threshold: 0.999,
            not_ham_threshold: 0.9999,
            ..ModelConfig::default()
        };
        assert!(judge(&model, &message, &strict).1.is_empty());
        let off = crate::DetectConfig {
            model: ModelConfig {
                enabled: false,
                ..ModelConfig::default()
            },
            ..crate::DetectConfig::default()
        };
        let engine = crate::Engine::new(off)
            .expect("engine")
            .with_content_model(std::sync::Arc::new(model));
        let verdict = engine.judge(&mamori_mail::Envelope::default(), &message);
        assert!(verdict.probability.is_none() && !verdict.has("content.model.phish"));
    }

    #[test]
    fn a_model_without_opinion_adds_nothing() {
        let raw = b"From: a@b.example\r\nSubject: lunch\r\n\r\nSee you at noon.\r\n";
        let message = mamori_mail::parse(raw, &mamori_mail::Limits::default());
        let (p, findings) = judge(&Model::zeroed(12), &message, &ModelConfig::default());
        assert!((p.ham - 1.0 / 3.0).abs() < 1e-5);
        assert!(findings.is_empty());
    }

    #[test]
    fn message_becomes_feature_input() {
        let raw = b"From: =?UTF-8?B?44Ki44Oe44K+44Oz?= <no-reply@amaz0n.example>\r\nReply-To: x@other.example\r\nTo: a@b.example\r\nSubject: [SPAM] =?UTF-8?B?44OR44K544Ov44O844OJ?=\r\nX-Mailer: Foo Mailer 1.2\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><form action=\"http://198.51.100.7/login\"><input type=password></form><a href=\"https://login.amazon-verify.example/verify\">verify</a></body></html>\r\n";
        let message = mamori_mail::parse(raw, &mamori_mail::Limits::default());
        with_feature_input(&message, |input| {
            assert_eq!(input.subject, "パスワード");
            assert_eq!(input.from_domain, Some("amaz0n.example"));
            assert_eq!(input.reply_to_domain, Some("other.example"));
            assert_eq!(input.mailer, Some("Foo Mailer 1.2"));
            assert!(input.structure.has_html && !input.structure.has_plain);
            assert_eq!(input.structure.password_inputs, 1);
            assert!(input.urls.iter().any(|u| u.ip_host));
            assert!(
                input
                    .urls
                    .iter()
                    .any(|u| u.host == Some("login.amazon-verify.example"))
            );
        });
    }
}
