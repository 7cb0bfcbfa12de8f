//! The engine: parse, run the detectors, score, and build the verdict — the same path for every entry point.

use std::sync::Arc;
use std::time::Instant;

use globset::{Glob, GlobSet, GlobSetBuilder};
use mamori_mail::source::MailItem;
use mamori_mail::{Envelope, Message};

use crate::attachments::{AnalysedAttachment, ScannerFactory};
use crate::auth::{AuthReport, Authenticator, EnvelopeSource};
use crate::config::DetectConfig;
use crate::detector::{Context, Detector};
use crate::detectors;
use crate::finding::{Finding, Findings};
use crate::history::SenderHistory;
use crate::indicators::Indicators;
use crate::lookalike::ProtectedDomains;
use crate::score;
use crate::verdict::{MessageSummary, SCHEMA, SourceRef, Verdict};

/// Errors building an engine from configuration.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A `findings.disabled` pattern is not a valid glob.
    #[error("invalid pattern {pattern:?} in findings.disabled: {source}")]
    BadPattern {
        /// The pattern.
        pattern: String,
        /// Why.
        #[source]
        source: globset::Error,
    },
    /// A `findings.weights` key names no known finding.
    #[error("unknown finding id {0:?} in findings.weights (see `mamori findings`)")]
    UnknownFinding(String),
    /// YARA rules do not compile.
    #[error("{0}")]
    Yara(String),
    /// YARA rules were given to a build without the `yara` feature.
    #[error("this mamori was built without the `yara` feature; YARA rules cannot be used")]
    YaraUnavailable,
}

/// Analyses messages. Cheap to share between threads (`&Engine` is all a worker needs).
pub struct Engine {
    config: DetectConfig,
    detectors: Vec<Box<dyn Detector>>,
    disabled: GlobSet,
    protected: ProtectedDomains,
    authenticator: Option<Arc<dyn Authenticator>>,
    history: Option<Arc<dyn SenderHistory>>,
    content_model: Option<Arc<mamori_ml::Model>>,
    scanners: Option<Arc<dyn ScannerFactory>>,
}

/// Per-message inputs beyond the envelope and the bytes, fetched by the caller before analysis
/// (see [`crate::history`] for how a store-backed history is prefetched).
#[derive(Default, Clone, Copy)]
pub struct Extras<'a> {
    /// Correspondence history for this message's recipients; overrides [`Engine::with_sender_history`].
    pub history: Option<&'a dyn SenderHistory>,
}

impl Engine {
    /// Builds an engine with the built-in detectors.
    pub fn new(config: DetectConfig) -> Result<Engine, EngineError> {
        let mut builder = GlobSetBuilder::new();
        for pattern in &config.findings.disabled {
            let glob = Glob::new(pattern).map_err(|source| EngineError::BadPattern {
                pattern: pattern.clone(),
                source,
            })?;
            builder.add(glob);
        }
        let disabled = builder.build().map_err(|source| EngineError::BadPattern {
            pattern: config.findings.disabled.join(", "),
            source,
        })?;
        if let Some(id) = config
            .findings
            .weights
            .keys()
            .find(|id| crate::catalog::spec(id).is_none())
        {
            return Err(EngineError::UnknownFinding(id.clone()));
        }
        let protected = ProtectedDomains::new(&config.organisation, true);
        let engine = Engine {
            protected,
            config,
            detectors: detectors::default_set(),
            disabled,
            authenticator: None,
            history: None,
            content_model: None,
            scanners: None,
        };
        // The built-in YARA rules are always on in builds that have YARA (user rules: `with_yara_rules`).
        if cfg!(feature = "yara") && engine.config.attachments.yara {
            engine.with_yara_rules(&[])
        } else {
            Ok(engine)
        }
    }

    /// Compiles the built-in YARA rules plus `sources` (origin name, rule text) once, for every scan of this
    /// engine. Fails when a rule does not compile, or when `sources` is not empty in a build without YARA.
    pub fn with_yara_rules(mut self, sources: &[(String, String)]) -> Result<Engine, EngineError> {
        #[cfg(feature = "yara")]
        {
            let rules = crate::yara::YaraRules::compile(sources)
                .map_err(|e| EngineError::Yara(e.to_string()))?;
            self.scanners = Some(Arc::new(rules));
            Ok(self)
        }
        #[cfg(not(feature = "yara"))]
        {
            if sources.is_empty() {
                self.scanners = None;
                Ok(self)
            } else {
                Err(EngineError::YaraUnavailable)
            }
        }
    }

    /// Installs another content scanner for attachment files (replaces YARA).
    pub fn with_content_scanner(mut self, scanners: Arc<dyn ScannerFactory>) -> Engine {
        self.scanners = Some(scanners);
        self
    }

    /// Installs the sender authenticator, run once per message before the detectors; its report reaches them as
    /// [`Context::auth`] and appears in the verdict's `auth` field.
    pub fn with_authenticator(mut self, authenticator: Arc<dyn Authenticator>) -> Engine {
        self.authenticator = Some(authenticator);
        self
    }

    /// Installs a correspondence history consulted for every message (first-contact checks). Per-message
    /// prefetched answers can be given instead with [`Engine::analyse_with`].
    pub fn with_sender_history(mut self, history: Arc<dyn SenderHistory>) -> Engine {
        self.history = Some(history);
        self
    }

    /// Installs the content model (ham / spam / phish probabilities, `content.model.*` findings), run after the
    /// detectors when `[model] enabled` is true.
    pub fn with_content_model(mut self, model: Arc<mamori_ml::Model>) -> Engine {
        self.content_model = Some(model);
        self
    }

    /// The installed content model, if any.
    pub fn content_model(&self) -> Option<&mamori_ml::Model> {
        self.content_model.as_deref()
    }

    /// Adds a detector (model, authentication, attachment analysis, …) after the built-in ones.
    pub fn with_detector(mut self, detector: Box<dyn Detector>) -> Engine {
        self.detectors.push(detector);
        self
    }

    /// The configuration in force.
    pub fn config(&self) -> &DetectConfig {
        &self.config
    }

    /// The protected domains (own, partners, brands) built from the configuration.
    pub fn protected_domains(&self) -> &ProtectedDomains {
        &self.protected
    }

    /// Names of the detectors, in run order.
    pub fn detector_names(&self) -> Vec<&'static str> {
        self.detectors.iter().map(|d| d.name()).collect()
    }

    /// Parses and judges raw message bytes.
    pub fn analyse(&self, envelope: &Envelope, raw: &[u8]) -> Verdict {
        self.analyse_with(envelope, raw, &Extras::default())
    }

    /// Parses and judges raw message bytes with per-message extras (prefetched sender history).
    pub fn analyse_with(&self, envelope: &Envelope, raw: &[u8], extras: &Extras<'_>) -> Verdict {
        let start = Instant::now();
        let message = mamori_mail::parse(raw, &self.config.limits);
        self.finish(envelope, &message, Some(raw), extras, start)
    }

    /// Parses and judges a message read from an input; the verdict names its source.
    pub fn analyse_item(&self, envelope: &Envelope, item: &MailItem) -> Verdict {
        let start = Instant::now();
        let message = mamori_mail::parse_item(item, &self.config.limits);
        let merged;
        let envelope = match &item.envelope {
            Some(carried) => {
                merged = merge_envelopes(envelope, carried);
                &merged
            }
            None => envelope,
        };
        let mut verdict = self.finish(
            envelope,
            &message,
            Some(&item.bytes),
            &Extras::default(),
            start,
        );
        verdict.source = Some(SourceRef {
            path: item.origin.path.clone(),
            index: item.origin.index,
        });
        verdict
    }

    /// Judges an already parsed message. Without the raw bytes, signatures (DKIM, ARC) cannot be verified: the
    /// authenticator, if any, says so in the report and checks what it can (SPF, trusted
    /// `Authentication-Results`). Use [`Engine::analyse`] when the bytes are at hand.
    pub fn judge(&self, envelope: &Envelope, message: &Message) -> Verdict {
        self.finish(envelope, message, None, &Extras::default(), Instant::now())
    }

    fn finish(
        &self,
        envelope: &Envelope,
        message: &Message,
        raw: Option<&[u8]>,
        extras: &Extras<'_>,
        start: Instant,
    ) -> Verdict {
        let auth: Option<AuthReport> = self
            .authenticator
            .as_ref()
            .map(|a| a.authenticate(raw, message, envelope));
        // An envelope reconstructed from a trusted relay's Received header fills what the caller did not know.
        let effective = auth
            .as_ref()
            .map(|report| effective_envelope(envelope, report));
        let envelope = effective.as_ref().unwrap_or(envelope);
        let attachments: Vec<AnalysedAttachment> = crate::attachments::analyse_message(
            message,
            &self.config.attachments,
            self.scanners.as_deref(),
        );
        let ctx = Context {
            config: &self.config,
            envelope,
            received_at: envelope
                .received_at
                .or_else(|| message.received.first().and_then(|h| h.timestamp)),
            protected: &self.protected,
            auth: auth.as_ref(),
            history: extras.history.or(self.history.as_deref()),
            attachments: &attachments,
        };
        let mut found = Findings::default();
        for detector in &self.detectors {
            detector.detect(message, &ctx, &mut found);
        }
        let mut probability = None;
        if let Some(model) = &self.content_model
            && self.config.model.enabled
        {
            let (p, model_findings) =
                crate::content_model::judge(model, message, &self.config.model);
            probability = Some(p);
            for f in model_findings {
                found.push(f);
            }
        }
        let mut findings: Vec<Finding> = found
            .into_vec()
            .into_iter()
            .filter(|f| !self.disabled.is_match(f.id.as_ref()))
            .map(|mut f| {
                if let Some(w) = self.config.findings.weights.get(f.id.as_ref()) {
                    f.weight = *w;
                }
                f
            })
            .collect();
        findings.sort_by(|a, b| b.weight.total_cmp(&a.weight).then_with(|| a.id.cmp(&b.id)));
        let class = score::classify(&findings, &self.config.scoring);
        let mut attack: Vec<String> = findings
            .iter()
            .flat_map(|f| f.attack.iter().map(|t| t.to_string()))
            .collect();
        attack.sort();
        attack.dedup();
        let score = (score::total(&findings) * 100.0).round() / 100.0;
        Verdict {
            schema: SCHEMA.to_string(),
            source: None,
            message: summary(message),
            class,
            score,
            probability,
            indicators: Indicators::collect(message, envelope).with_attachments(&attachments),
            findings,
            attack,
            auth,
            elapsed_us: u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX),
        }
    }
}

/// The caller's envelope facts, completed by those an input carried (BSMTP); the caller's win.
fn merge_envelopes(given: &Envelope, carried: &Envelope) -> Envelope {
    Envelope {
        client_ip: given.client_ip.or(carried.client_ip),
        client_name: given
            .client_name
            .clone()
            .or_else(|| carried.client_name.clone()),
        helo: given.helo.clone().or_else(|| carried.helo.clone()),
        mail_from: given
            .mail_from
            .clone()
            .or_else(|| carried.mail_from.clone()),
        rcpt_to: if given.rcpt_to.is_empty() {
            carried.rcpt_to.clone()
        } else {
            given.rcpt_to.clone()
        },
        received_at: given.received_at.or(carried.received_at),
    }
}

/// The caller's envelope, completed with what the authenticator read from a trusted relay's `Received` header.
fn effective_envelope(given: &Envelope, report: &AuthReport) -> Envelope {
    let mut envelope = given.clone();
    if let Some(facts) = &report.envelope
        && facts.source == EnvelopeSource::Received
    {
        if envelope.client_ip.is_none() {
            envelope.client_ip = facts.client_ip;
        }
        if envelope.helo.is_none() {
            envelope.helo.clone_from(&facts.helo);
        }
        if envelope.mail_from.is_none() {
            envelope.mail_from.clone_from(&facts.mail_from);
        }
    }
    envelope
}

fn summary(message: &Message) -> MessageSummary {
    let from = message.from_mailbox();
    MessageSummary {
        message_id: message.message_id.clone(),
        subject: message.subject.clone(),
        from: from.and_then(|m| m.address.clone()),
        from_name: from.and_then(|m| m.name.clone()),
        to: message
            .to
            .iter()
            .chain(&message.cc)
            .filter_map(|m| m.address.clone())
            .take(50)
            .collect(),
        date: message.date.as_ref().map(|d| d.raw.clone()),
        size: message.size,
        sha256: message.sha256.clone(),
    }
}
