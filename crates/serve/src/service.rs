//! The judging service shared by the milter and the HTTP API: bounded concurrency, a time budget per message,
//! sender-history prefetch, analysis on the blocking pool, playbook evaluation, the actions, the message log and
//! the metrics. Anything that prevents a proper judgement ends in the configured `on_error` answer.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use mamori_detect::history::{Familiarity, PrefetchedHistory};
use mamori_detect::{Engine, Extras, Verdict};
use mamori_mail::Envelope;
use mamori_store::Store;
use mamori_store::blocklist::BlockKind;
use mamori_store::incidents::{IncidentSource, NewIncident};
use mamori_store::message_log::NewLoggedMessage;
use mamori_store::quarantine::NewQuarantined;
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::blocks::{BlockCell, BlockSnapshot};
use crate::config::{OnError, OversizeAction, ServeConfig};
use crate::metrics::Metrics;
use crate::playbook::{ActionSpec, IndicatorGroup, Plan, Playbook};

/// Errors that stop a proper judgement (answered with `on_error`).
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The store failed (unreachable, constraint, …).
    #[error(transparent)]
    Store(#[from] mamori_store::StoreError),
    /// Analysis did not finish (panicked or was cancelled).
    #[error("analysis failed: {0}")]
    Analysis(String),
    /// A file operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Re-delivery failed.
    #[error("release failed: {0}")]
    Release(String),
    /// A playbook could not be loaded.
    #[error(transparent)]
    Playbook(#[from] crate::playbook::PlaybookError),
}

/// A message handed over for judgement.
#[derive(Debug, Clone, Default)]
pub struct Incoming {
    /// SMTP envelope.
    pub envelope: Envelope,
    /// The message as received (header block and body).
    pub raw: Vec<u8>,
    /// MTA queue id.
    pub queue_id: Option<String>,
    /// `milter` or `api`.
    pub origin: &'static str,
    /// The message was larger than `max_message_bytes` (then `raw` holds only its start).
    pub oversize: bool,
    /// Header lines prepended for analysis only (the MTA's own `Received:` field, which it hides from
    /// milters); never stored, the held and logged bytes are `raw`.
    pub trace: Option<Vec<u8>>,
}

/// What to tell the MTA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "text", rename_all = "lowercase")]
pub enum Disposition {
    /// Deliver (with headers and an optional subject tag).
    Accept,
    /// `550 5.7.1` (or `552 5.3.4` for oversize) with this text.
    Reject(String),
    /// `451 4.7.1` with this text.
    Tempfail(String),
    /// Accept and drop.
    Discard,
}

/// The answer for one message.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    /// What to tell the MTA.
    pub disposition: Disposition,
    /// The disposition's name for logs and metrics (`accept`, `tag`, `reject`, `tempfail`, `discard`,
    /// `quarantine`).
    pub action: String,
    /// Headers to add (replacing any of the same name from outside).
    pub headers: Vec<(String, String)>,
    /// Prefix for the Subject.
    pub subject_prefix: Option<String>,
    /// Message-log reference (`M-…`), when logged.
    pub reference: Option<String>,
    /// Quarantine reference (`Q-…`).
    pub quarantine: Option<String>,
    /// The playbook's plan.
    pub plan: Plan,
    /// The verdict, when analysis ran.
    pub verdict: Option<Verdict>,
}

impl Decision {
    fn bare(disposition: Disposition, action: &str) -> Decision {
        Decision {
            disposition,
            action: action.into(),
            headers: Vec::new(),
            subject_prefix: None,
            reference: None,
            quarantine: None,
            plan: Plan::default(),
            verdict: None,
        }
    }
}

/// The shared judging service.
pub struct Service {
    config: ServeConfig,
    engine: Arc<Engine>,
    playbook: RwLock<Arc<Playbook>>,
    store: Store,
    blocks: Arc<BlockCell>,
    blocks_loaded: Mutex<Option<Instant>>,
    metrics: Metrics,
    permits: Arc<Semaphore>,
    http: reqwest::Client,
    /// Milter transactions between MAIL FROM and the end of the message.
    transactions: AtomicUsize,
    /// Shutting down: no new transactions.
    draining: AtomicBool,
}

impl Service {
    /// A service judging with `engine` (which should carry a [`crate::blocks::BlockListDetector`] reading
    /// `blocks`) and acting on `store`.
    pub fn new(
        config: ServeConfig,
        engine: Arc<Engine>,
        playbook: Playbook,
        store: Store,
        blocks: Arc<BlockCell>,
    ) -> Service {
        let permits = Arc::new(Semaphore::new(config.max_concurrent.max(1)));
        Service {
            config,
            engine,
            playbook: RwLock::new(Arc::new(playbook)),
            store,
            blocks,
            blocks_loaded: Mutex::new(None),
            metrics: Metrics::new(),
            permits,
            http: reqwest::Client::new(),
            transactions: AtomicUsize::new(0),
            draining: AtomicBool::new(false),
        }
    }

    /// Opens a milter transaction (at MAIL FROM); false when shutting down (the MTA is told to retry).
    pub fn transaction_begin(&self) -> bool {
        if self.draining.load(Ordering::SeqCst) {
            return false;
        }
        self.transactions.fetch_add(1, Ordering::SeqCst);
        self.metrics.transactions.inc();
        true
    }

    /// Closes a transaction opened with [`Service::transaction_begin`].
    pub fn transaction_end(&self) {
        if self
            .transactions
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            self.metrics.transactions.dec();
        }
    }

    /// Transactions in flight.
    pub fn transactions(&self) -> usize {
        self.transactions.load(Ordering::SeqCst)
    }

    /// Refuses new transactions from now on (graceful shutdown).
    pub fn drain(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// The configuration.
    pub fn config(&self) -> &ServeConfig {
        &self.config
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The playbook in force.
    pub fn playbook(&self) -> Arc<Playbook> {
        match self.playbook.read() {
            Ok(p) => p.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Re-reads the playbook file (the built-in one when none is configured) and the block lists. A broken
    /// playbook is rejected and the one in force stays.
    pub async fn reload(&self) -> Result<String, ServeError> {
        let playbook = match &self.config.playbook {
            Some(path) => Playbook::load(path)?,
            None => Playbook::builtin(),
        };
        let summary = format!("{} ({} rules)", playbook.origin, playbook.rules.len());
        match self.playbook.write() {
            Ok(mut p) => *p = Arc::new(playbook),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(playbook),
        }
        self.refresh_blocks().await?;
        Ok(summary)
    }

    /// Re-reads the block lists from the store now.
    pub async fn refresh_blocks(&self) -> Result<usize, ServeError> {
        let entries = self.store.block_active(mamori_store::now_ms()).await?;
        let n = entries.len();
        self.blocks.set(BlockSnapshot::new(&entries));
        if let Ok(mut at) = self.blocks_loaded.lock() {
            *at = Some(Instant::now());
        }
        Ok(n)
    }

    async fn refresh_blocks_if_stale(&self) -> Result<(), ServeError> {
        let stale = match self.blocks_loaded.lock() {
            Ok(at) => at
                .is_none_or(|t| t.elapsed() >= Duration::from_millis(self.config.block_refresh_ms)),
            Err(_) => true,
        };
        if stale {
            self.refresh_blocks().await?;
        }
        Ok(())
    }

    /// Judges one message and carries out the playbook's actions; never fails (errors become `on_error`).
    pub async fn judge(self: &Arc<Self>, incoming: Incoming) -> Decision {
        let start = Instant::now();
        self.metrics.in_flight.inc();
        let budget = Duration::from_millis(self.config.message_timeout_ms.max(1));
        let outcome = tokio::time::timeout(budget, self.judge_inner(incoming)).await;
        self.metrics.in_flight.dec();
        let decision = match outcome {
            Ok(Ok(decision)) => decision,
            Ok(Err(err)) => {
                let kind = match &err {
                    ServeError::Store(_) => "store",
                    ServeError::Analysis(_) => "analysis",
                    _ => "action",
                };
                tracing::error!(error = %err, "could not judge a message");
                self.metrics.error(kind);
                self.on_error(&format!("{kind} error"))
            }
            Err(_) => {
                tracing::warn!(
                    budget_ms = budget.as_millis() as u64,
                    "message time budget exceeded"
                );
                self.metrics.error("timeout");
                self.on_error("time budget exceeded")
            }
        };
        self.metrics.latency.observe(start.elapsed().as_secs_f64());
        let class = decision
            .verdict
            .as_ref()
            .map_or("unscanned", |v| v.class.as_str());
        self.metrics.message(class, &decision.action);
        decision
    }

    fn on_error(&self, why: &str) -> Decision {
        match self.config.on_error {
            OnError::Tempfail => Decision::bare(
                Disposition::Tempfail(format!(
                    "mamori: message not scanned ({why}), try again later"
                )),
                "tempfail",
            ),
            OnError::Accept => {
                let mut d = Decision::bare(Disposition::Accept, "accept");
                if self.config.add_headers {
                    d.headers
                        .push(("X-Mamori-Verdict".into(), "unscanned".into()));
                }
                d
            }
        }
    }

    async fn judge_inner(self: &Arc<Self>, incoming: Incoming) -> Result<Decision, ServeError> {
        if incoming.oversize {
            self.metrics.error("oversize");
            return Ok(match self.config.oversize {
                OversizeAction::Reject => Decision::bare(
                    Disposition::Reject(format!(
                        "message exceeds the size limit of {} bytes",
                        self.config.max_message_bytes
                    )),
                    "reject",
                ),
                OversizeAction::Tempfail => Decision::bare(
                    Disposition::Tempfail("message too large to scan now".into()),
                    "tempfail",
                ),
                OversizeAction::Accept => {
                    let mut d = Decision::bare(Disposition::Accept, "accept");
                    d.headers
                        .push(("X-Mamori-Verdict".into(), "unscanned".into()));
                    d
                }
            });
        }
        let _permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| ServeError::Analysis(e.to_string()))?;
        self.refresh_blocks_if_stale().await?;
        let history = self.prefetch_history(&incoming).await?;
        let engine = self.engine.clone();
        let envelope = incoming.envelope.clone();
        let raw = incoming.raw;
        let trace = incoming.trace;
        let (verdict, raw) = tokio::task::spawn_blocking(move || {
            let extras = Extras {
                history: Some(&history),
            };
            let mut verdict = match trace.filter(|t| !t.is_empty()) {
                Some(mut analysed) => {
                    analysed.extend_from_slice(&raw);
                    let mut verdict = engine.analyse_with(&envelope, &analysed, &extras);
                    // The verdict describes the held bytes, not the analysis copy.
                    verdict.message.size = raw.len();
                    verdict.message.sha256 = sha256_hex(&raw);
                    verdict
                }
                None => engine.analyse_with(&envelope, &raw, &extras),
            };
            verdict.message.size = raw.len();
            (verdict, raw)
        })
        .await
        .map_err(|e| ServeError::Analysis(e.to_string()))?;
        let playbook = self.playbook();
        let plan = playbook.evaluate(&verdict, &incoming.envelope);
        self.act(
            plan,
            verdict,
            raw,
            &incoming.envelope,
            incoming.queue_id,
            incoming.origin,
        )
        .await
    }

    async fn prefetch_history(&self, incoming: &Incoming) -> Result<PrefetchedHistory, ServeError> {
        let mut history = PrefetchedHistory::new();
        let Some(sender) = header_from_address(&incoming.raw) else {
            return Ok(history);
        };
        let Some(domain) = sender.rsplit_once('@').map(|(_, d)| registered_domain(d)) else {
            return Ok(history);
        };
        for rcpt in incoming.envelope.rcpt_to.iter().take(50) {
            let rcpt = rcpt.trim_matches(['<', '>']).to_lowercase();
            let facts = self.store.contact_facts(&rcpt, &sender, &domain).await?;
            if facts.recipient_known {
                history.insert(
                    &rcpt,
                    &sender,
                    Familiarity {
                        address_seen: facts.address_seen,
                        domain_seen: facts.domain_seen,
                    },
                );
            }
        }
        Ok(history)
    }

    /// Runs a plan: quarantine first (its failure means tempfail), then the log, then the side effects.
    async fn act(
        self: &Arc<Self>,
        plan: Plan,
        verdict: Verdict,
        raw: Vec<u8>,
        envelope: &Envelope,
        queue_id: Option<String>,
        origin: &'static str,
    ) -> Result<Decision, ServeError> {
        let rule = plan.rules.join(",");
        let has = |name: &str| plan.actions.iter().any(|a| a.name() == name);
        let text_of = |name: &str| {
            plan.actions.iter().find_map(|a| match a {
                ActionSpec::Reject { message } if name == "reject" => Some(message.clone()),
                ActionSpec::Tempfail { message } if name == "tempfail" => Some(message.clone()),
                _ => None,
            })
        };
        // Strongest disposition wins: reject > tempfail > quarantine > discard > tag > accept.
        let action = ["reject", "tempfail", "quarantine", "discard", "tag"]
            .into_iter()
            .find(|a| has(a))
            .unwrap_or("accept");
        let verdict_json = serde_json::to_value(&verdict).unwrap_or(serde_json::Value::Null);
        let envelope_json = serde_json::to_value(envelope).unwrap_or(serde_json::Value::Null);
        let mut quarantine = None;
        if action == "quarantine" {
            let q = NewQuarantined {
                origin: origin.into(),
                queue_id: queue_id.clone(),
                reason: format!("playbook rule {rule}"),
                class: verdict.class.as_str().into(),
                score: f64::from(verdict.score),
                raw: raw.clone(),
                envelope: envelope_json.clone(),
                verdict: verdict_json.clone(),
            };
            quarantine = Some(self.store.quarantine_put(&q, &sha256_hex(&raw)).await?);
        }
        let delivery = match (action, &quarantine) {
            (_, Some(q)) => format!("quarantine:{q}"),
            ("accept" | "tag", _) => "mta".into(),
            _ => "none".into(),
        };
        let logged = NewLoggedMessage {
            origin: origin.into(),
            queue_id: queue_id.clone(),
            message_id: verdict.message.message_id.clone(),
            mail_from: envelope.mail_from.clone(),
            recipients: envelope.rcpt_to.clone(),
            subject: verdict.message.subject.clone(),
            class: verdict.class.as_str().into(),
            score: f64::from(verdict.score),
            disposition: action.into(),
            sha256: verdict.message.sha256.clone(),
            size: i64::try_from(raw.len()).unwrap_or(i64::MAX),
            delivery,
            verdict: verdict_json.clone(),
            indicators: log_indicators(&verdict, envelope),
        };
        let reference = self.store.message_log(&logged).await?;
        let mut decision = Decision::bare(Disposition::Accept, action);
        decision.reference = Some(reference.clone());
        decision.quarantine = quarantine.clone();
        match action {
            "reject" => {
                let text = text_of("reject")
                    .flatten()
                    .unwrap_or_else(|| format!("message refused as {}", verdict.class.as_str()));
                decision.disposition = Disposition::Reject(format!("{text} (ref {reference})"));
            }
            "tempfail" => {
                let text = text_of("tempfail")
                    .flatten()
                    .unwrap_or_else(|| "try again later".into());
                decision.disposition = Disposition::Tempfail(format!("{text} (ref {reference})"));
            }
            "quarantine" | "discard" => decision.disposition = Disposition::Discard,
            _ => {}
        }
        if matches!(decision.disposition, Disposition::Accept) {
            if self.config.add_headers {
                decision.headers = verdict_headers(&verdict, &reference);
            }
            decision.subject_prefix = plan.actions.iter().find_map(|a| match a {
                ActionSpec::Tag { subject } => subject.clone(),
                _ => None,
            });
        }
        // The disposition itself is an executed action too.
        let detail = match &quarantine {
            Some(q) => format!("rule {rule}: held as {q}"),
            None => format!("rule {rule}"),
        };
        self.log_action(&reference, action, "ok", &detail).await;
        for spec in &plan.actions {
            self.side_effect(spec, &verdict, &verdict_json, &reference, &quarantine)
                .await;
        }
        if matches!(decision.disposition, Disposition::Accept) {
            self.record_contacts(&verdict, envelope).await;
        }
        decision.plan = plan;
        decision.verdict = Some(verdict);
        Ok(decision)
    }

    async fn log_action(&self, reference: &str, action: &str, outcome: &str, detail: &str) {
        if let Err(e) = self
            .store
            .action_record(reference, action, outcome, detail)
            .await
        {
            tracing::warn!(error = %e, action, reference, "could not log an executed action");
            self.metrics.error("store");
        }
    }

    async fn side_effect(
        self: &Arc<Self>,
        spec: &ActionSpec,
        verdict: &Verdict,
        verdict_json: &serde_json::Value,

        reference: &str,
        quarantine: &Option<String>,
    ) {
        match spec {
            ActionSpec::Block { kinds, ttl } => {
                let expires = ttl
                    .as_deref()
                    .and_then(crate::playbook::parse_ttl)
                    .map(|d| {
                        mamori_store::now_ms()
                            + i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
                    });
                let values = self.block_values(kinds, verdict);
                let mut added = 0;
                let mut failed = None;
                for (kind, value) in &values {
                    match self
                        .store
                        .block_add(
                            *kind,
                            value,
                            expires,
                            "playbook block action",
                            Some(reference),
                        )
                        .await
                    {
                        Ok(()) => added += 1,
                        Err(e) => failed = Some(e.to_string()),
                    }
                }
                if let Err(e) = self.refresh_blocks().await {
                    failed = Some(e.to_string());
                }
                let listed: Vec<String> = values
                    .iter()
                    .map(|(k, v)| format!("{}:{v}", k.as_str()))
                    .collect();
                match failed {
                    None => {
                        self.log_action(
                            reference,
                            "block",
                            "ok",
                            &format!("added {added}: {}", listed.join(" ")),
                        )
                        .await
                    }
                    Some(e) => self.log_action(reference, "block", "failed", &e).await,
                }
            }
            ActionSpec::Incident { title } => {
                let title = title.clone().unwrap_or_else(|| {
                    format!(
                        "{} mail {:?} from {}",
                        verdict.class.as_str(),
                        verdict.message.subject.as_deref().unwrap_or(""),
                        verdict.message.from.as_deref().unwrap_or("unknown sender")
                    )
                });
                let incident = NewIncident {
                    source: IncidentSource::Mail,
                    title,
                    class: verdict.class.as_str().into(),
                    score: f64::from(verdict.score),
                    attack: verdict.attack.clone(),
                    indicators: serde_json::to_value(&verdict.indicators).unwrap_or_default(),
                    evidence: verdict_json.clone(),
                    source_ref: Some(quarantine.clone().unwrap_or_else(|| reference.to_string())),
                    organisation: None,
                };
                match self.store.record_incident(&incident).await {
                    Ok(id) => self.log_action(reference, "incident", "ok", &id).await,
                    Err(e) => {
                        self.log_action(reference, "incident", "failed", &e.to_string())
                            .await
                    }
                }
            }
            ActionSpec::Firewall => {
                let (outcome, detail) = crate::actions::firewall(&self.config, verdict);
                self.log_action(reference, "firewall", outcome, &detail)
                    .await;
            }
            ActionSpec::Webhook {
                url,
                timeout_ms,
                retries,
            } => {
                // Webhooks retry with back-off; they run in the background so the MTA is not kept waiting.
                let service = self.clone();
                let body = serde_json::json!({
                    "schema": "mamori.event/1",
                    "reference": reference,
                    "quarantine": quarantine,
                    "verdict": verdict_json,
                });
                let (url, timeout_ms, retries, reference) =
                    (url.clone(), *timeout_ms, *retries, reference.to_string());
                tokio::spawn(async move {
                    let (outcome, detail) =
                        crate::actions::webhook(&service.http, &url, &body, timeout_ms, retries)
                            .await;
                    service
                        .log_action(&reference, "webhook", outcome, &detail)
                        .await;
                });
            }
            ActionSpec::Purge { kinds } => {
                let service = self.clone();
                let hunt = self.purge_values(kinds, verdict);
                let reference = reference.to_string();
                tokio::spawn(async move {
                    match crate::actions::purge(
                        &service.store,
                        &service.config.maildirs,
                        &hunt,
                        &reference,
                    )
                    .await
                    {
                        Ok(report) => service.log_action(&reference, "purge", "ok", &report).await,
                        Err(e) => {
                            service
                                .log_action(&reference, "purge", "failed", &e.to_string())
                                .await
                        }
                    }
                });
            }
            // Dispositions are logged once by `act`.
            ActionSpec::Tag { .. }
            | ActionSpec::Reject { .. }
            | ActionSpec::Tempfail { .. }
            | ActionSpec::Discard
            | ActionSpec::Quarantine => {}
        }
    }

    fn block_values(
        &self,
        kinds: &[IndicatorGroup],
        verdict: &Verdict,
    ) -> Vec<(BlockKind, String)> {
        let own = &self.engine.config().organisation.domains;
        let is_own = |d: &str| own.iter().any(|o| d == o || d.ends_with(&format!(".{o}")));
        let ind = &verdict.indicators;
        let mut out = Vec::new();
        let sender_addresses: Vec<String> = ind.senders.clone();
        for kind in kinds {
            match kind {
                IndicatorGroup::Sender => {
                    for s in &sender_addresses {
                        if !s.rsplit_once('@').is_some_and(|(_, d)| is_own(d)) {
                            out.push((BlockKind::Sender, s.clone()));
                        }
                    }
                }
                IndicatorGroup::SenderDomain => {
                    for s in &sender_addresses {
                        if let Some((_, d)) = s.rsplit_once('@')
                            && !is_own(d)
                        {
                            out.push((BlockKind::Domain, d.to_string()));
                        }
                    }
                }
                IndicatorGroup::Url => {
                    out.extend(ind.urls.iter().map(|u| (BlockKind::Url, u.clone())));
                }
                IndicatorGroup::UrlDomain => {
                    let sender_domains: Vec<&str> = sender_addresses
                        .iter()
                        .filter_map(|s| s.rsplit_once('@').map(|(_, d)| d))
                        .collect();
                    for d in &ind.domains {
                        if !sender_domains.contains(&d.as_str()) && !is_own(d) {
                            out.push((BlockKind::Domain, d.clone()));
                        }
                    }
                }
                IndicatorGroup::File => {
                    out.extend(
                        ind.files
                            .iter()
                            .map(|f| (BlockKind::File, f.sha256.clone())),
                    );
                }
                IndicatorGroup::Ip => {
                    // IP indicators: the SMTP client and IP-literal link hosts; private and loopback
                    // addresses (our own relays) are never blocked.
                    for ip in &ind.ips {
                        if is_blockable_ip(ip) {
                            out.push((BlockKind::Ip, ip.clone()));
                        }
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    fn purge_values(&self, kinds: &[IndicatorGroup], verdict: &Verdict) -> Vec<(String, String)> {
        let ind = &verdict.indicators;
        let mut out = Vec::new();
        for kind in kinds {
            match kind {
                IndicatorGroup::Sender => out.extend(
                    ind.senders
                        .iter()
                        .map(|s| ("sender".to_string(), s.clone())),
                ),
                IndicatorGroup::Url => {
                    out.extend(ind.urls.iter().map(|u| ("url".to_string(), u.clone())))
                }
                IndicatorGroup::File => out.extend(
                    ind.files
                        .iter()
                        .map(|f| ("file".to_string(), f.sha256.clone())),
                ),
                IndicatorGroup::Ip => {
                    out.extend(ind.ips.iter().map(|i| ("ip".to_string(), i.clone())))
                }
                IndicatorGroup::SenderDomain | IndicatorGroup::UrlDomain => out.extend(
                    ind.domains
                        .iter()
                        .map(|d| ("domain".to_string(), d.clone())),
                ),
            }
        }
        out.sort();
        out.dedup();
        out
    }

    async fn record_contacts(&self, verdict: &Verdict, envelope: &Envelope) {
        let Some(sender) = verdict.message.from.as_deref().map(str::to_lowercase) else {
            return;
        };
        let Some((_, domain)) = sender.rsplit_once('@') else {
            return;
        };
        let domain = registered_domain(domain);
        for rcpt in envelope.rcpt_to.iter().take(50) {
            let rcpt = rcpt.trim_matches(['<', '>']);
            if let Err(e) = self.store.contact_record(rcpt, &sender, &domain).await {
                tracing::warn!(error = %e, "could not record a sender contact");
                self.metrics.error("store");
                return;
            }
        }
    }

    /// Judges a message without acting (the HTTP `POST /v1/scan`): verdict and the plan the playbook would run.
    pub async fn scan_only(
        &self,
        envelope: Envelope,
        raw: Vec<u8>,
    ) -> Result<(Verdict, Plan), ServeError> {
        let _permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| ServeError::Analysis(e.to_string()))?;
        self.refresh_blocks_if_stale().await?;
        let engine = self.engine.clone();
        let env = envelope.clone();
        let verdict = tokio::task::spawn_blocking(move || engine.analyse(&env, &raw))
            .await
            .map_err(|e| ServeError::Analysis(e.to_string()))?;
        let plan = self.playbook().evaluate(&verdict, &envelope);
        Ok((verdict, plan))
    }

    /// Releases a held message to the configured relay or Maildir and marks it released.
    pub async fn release(&self, id: &str) -> Result<String, ServeError> {
        let entry = self.store.quarantine_entry(id).await?;
        if entry.status != mamori_store::quarantine::QuarantineStatus::Held {
            // Never deliver a second copy.
            return Err(ServeError::Store(mamori_store::StoreError::NotFound(
                format!(
                    "held quarantined message {id} (it is {})",
                    entry.status.as_str()
                ),
            )));
        }
        let (raw, _) = self.store.quarantine_content(id).await?;
        let envelope: Envelope = serde_json::from_value(entry.envelope.clone()).unwrap_or_default();
        let how = crate::actions::redeliver(&self.config.release, &envelope, &raw).await?;
        self.store.quarantine_mark_released(id).await?;
        self.log_action(id, "release", "ok", &how).await;
        Ok(how)
    }

    /// The Maildirs a purge may touch.
    pub fn maildirs(&self) -> &[PathBuf] {
        &self.config.maildirs
    }
}

/// Indicators kept in the message log for retro-hunts.
fn log_indicators(verdict: &Verdict, envelope: &Envelope) -> Vec<(String, String)> {
    let ind = &verdict.indicators;
    let mut out: Vec<(String, String)> = Vec::new();
    out.extend(ind.senders.iter().map(|s| ("sender".into(), s.clone())));
    out.extend(ind.domains.iter().map(|s| ("domain".into(), s.clone())));
    out.extend(ind.urls.iter().map(|s| ("url".into(), s.clone())));
    out.extend(ind.files.iter().map(|f| ("file".into(), f.sha256.clone())));
    out.extend(ind.ips.iter().map(|s| ("ip".into(), s.clone())));
    if let Some(id) = &verdict.message.message_id {
        out.push(("message-id".into(), id.clone()));
    }
    out.extend(envelope.rcpt_to.iter().map(|r| {
        (
            "recipient".into(),
            r.trim_matches(['<', '>']).to_lowercase(),
        )
    }));
    out
}

/// `X-Mamori-Verdict`, `X-Mamori-Score`, `X-Mamori-Findings` for a delivered message.
pub fn verdict_headers(verdict: &Verdict, reference: &str) -> Vec<(String, String)> {
    let mut findings: Vec<&str> = verdict.finding_ids().take(20).collect();
    findings.dedup();
    vec![
        (
            "X-Mamori-Verdict".into(),
            format!("{} (ref {reference})", verdict.class.as_str()),
        ),
        ("X-Mamori-Score".into(), format!("{:.2}", verdict.score)),
        (
            "X-Mamori-Findings".into(),
            if findings.is_empty() {
                "none".into()
            } else {
                findings.join(", ")
            },
        ),
    ]
}

fn is_blockable_ip(ip: &str) -> bool {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => {
            !(v4.is_loopback() || v4.is_private() || v4.is_unspecified() || v4.is_link_local())
        }
        Ok(IpAddr::V6(v6)) => !(v6.is_loopback() || v6.is_unspecified()),
        Err(_) => false,
    }
}

/// Registered domain of a host (lower case).
pub fn registered_domain(host: &str) -> String {
    let host = host.trim_end_matches('.').to_lowercase();
    psl::domain_str(&host).map_or(host.clone(), str::to_string)
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The address in the first `From:` header field, found without a full parse (bounded: header block only,
/// first 64 KiB).
pub fn header_from_address(raw: &[u8]) -> Option<String> {
    let head = &raw[..raw.len().min(64 * 1024)];
    let mut value: Option<String> = None;
    for line in head.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let continuation = line.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        match (&mut value, continuation) {
            (Some(v), true) => v.push_str(&String::from_utf8_lossy(line)),
            (Some(_), false) => break,
            (None, false) if line.len() >= 5 && line[..5].eq_ignore_ascii_case(b"from:") => {
                value = Some(String::from_utf8_lossy(&line[5..]).into_owned());
            }
            _ => {}
        }
    }
    let value = value?;
    let candidate = match (value.rfind('<'), value.rfind('>')) {
        (Some(a), Some(b)) if a < b => value[a + 1..b].to_string(),
        _ => value
            .split_whitespace()
            .find(|w| w.contains('@'))
            .unwrap_or("")
            .trim_matches(|c: char| c == '"' || c == ',' || c == ';')
            .to_string(),
    };
    let candidate = candidate.trim().to_lowercase();
    (candidate.contains('@') && candidate.len() < 320).then_some(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_address_without_full_parse() {
        assert_eq!(
            header_from_address(b"Subject: x\r\nFrom: \"A\" <A@Example.JP>\r\n\r\nbody").as_deref(),
            Some("a@example.jp")
        );
        assert_eq!(
            header_from_address(b"From:\r\n b@x.example\r\nTo: c\r\n\r\n").as_deref(),
            Some("b@x.example")
        );
        assert_eq!(header_from_address(b"To: c@d\r\n\r\nFrom: e@f\r\n"), None);
        assert_eq!(header_from_address(b""), None);
    }
}
