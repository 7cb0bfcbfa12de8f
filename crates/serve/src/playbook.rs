//! Playbooks: ordered TOML rules — `when` a verdict matches (class, score and probability ranges, finding ids
//! with globs, ATT&CK techniques, sender and recipient patterns) `then` a list of actions. The first matching
//! rule decides unless it says `continue = true`. Parsing reports errors with line numbers; evaluation is pure.

use std::time::Duration;

use globset::{Glob, GlobMatcher};
use mamori_detect::{Class, Verdict};
use mamori_mail::Envelope;
use mamori_store::blocklist::BlockKind;
use serde::{Deserialize, Serialize};

/// The built-in playbook's text.
pub const DEFAULT_PLAYBOOK: &str = include_str!("default-playbook.toml");

/// Highest playbook format version this build understands.
pub const PLAYBOOK_VERSION: u32 = 1;

/// A playbook that failed to load: each message starts with `line N:` when the place is known.
#[derive(Debug, thiserror::Error)]
#[error("{}", .errors.join("\n"))]
pub struct PlaybookError {
    /// One message per problem.
    pub errors: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlaybookFile {
    version: Option<u32>,
    #[serde(default)]
    rule: Vec<toml::Spanned<RuleSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    name: String,
    #[serde(default)]
    when: WhenSpec,
    then: Vec<toml::Spanned<ActionSpec>>,
    #[serde(default, rename = "continue")]
    continue_: bool,
}

#[derive(Debug, Default, Deserialize, Serialize, Clone)]
#[serde(deny_unknown_fields)]
struct WhenSpec {
    #[serde(default)]
    class: Vec<Class>,
    score_min: Option<f32>,
    score_max: Option<f32>,
    phish_probability_min: Option<f32>,
    spam_probability_min: Option<f32>,
    #[serde(default)]
    findings: Vec<String>,
    #[serde(default)]
    findings_all: Vec<String>,
    #[serde(default)]
    attack: Vec<String>,
    #[serde(default)]
    sender: Vec<String>,
    #[serde(default)]
    recipient: Vec<String>,
}

/// Indicator groups a `block` or `purge` action works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IndicatorGroup {
    /// Sender addresses (envelope and header).
    Sender,
    /// Domains of the sender addresses.
    SenderDomain,
    /// URLs.
    Url,
    /// Host names of the URLs.
    UrlDomain,
    /// Attachment SHA-256 hashes.
    File,
    /// The SMTP client address and IP-literal link hosts.
    Ip,
}

impl IndicatorGroup {
    /// The block-list kind entries of this group go to.
    pub fn block_kind(self) -> BlockKind {
        match self {
            IndicatorGroup::Sender => BlockKind::Sender,
            IndicatorGroup::SenderDomain | IndicatorGroup::UrlDomain => BlockKind::Domain,
            IndicatorGroup::Url => BlockKind::Url,
            IndicatorGroup::File => BlockKind::File,
            IndicatorGroup::Ip => BlockKind::Ip,
        }
    }
}

/// One action of a rule, as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "lowercase", deny_unknown_fields)]
pub enum ActionSpec {
    /// Deliver with a subject prefix (X-Mamori headers are added to all delivered mail).
    Tag {
        /// Prefix for the Subject, e.g. `[SPAM]`.
        subject: Option<String>,
    },
    /// `550 5.7.1 <message> (ref M-…)`.
    Reject {
        /// Reply text.
        message: Option<String>,
    },
    /// `451 4.7.1 <message>`.
    Tempfail {
        /// Reply text.
        message: Option<String>,
    },
    /// Accept and drop silently.
    Discard,
    /// Hold the message (byte-exact) in the store; the sender sees it accepted.
    Quarantine,
    /// Add the message's indicators to the block lists.
    Block {
        /// Which indicators (default: sender, url, file).
        #[serde(default = "default_block_kinds")]
        kinds: Vec<IndicatorGroup>,
        /// Time to live (`7d`, `12h`); absent: permanent.
        ttl: Option<String>,
    },
    /// Retro-hunt: move already delivered messages with the same indicators out of the configured Maildirs into
    /// quarantine.
    Purge {
        /// Which indicators to hunt for (default: url, file).
        #[serde(default = "default_purge_kinds")]
        kinds: Vec<IndicatorGroup>,
    },
    /// POST the verdict JSON to a URL.
    Webhook {
        /// Target URL (`http://` or `https://`).
        url: String,
        /// Per-attempt timeout, milliseconds.
        #[serde(default = "default_webhook_timeout")]
        timeout_ms: u64,
        /// Further attempts after a failure (with back-off).
        #[serde(default = "default_webhook_retries")]
        retries: u32,
    },
    /// Record an incident for the intelligence hub.
    Incident {
        /// Title (default: class, subject and sender).
        title: Option<String>,
    },
    /// Add the SMTP client address (and IP link hosts) to the nftables block set (dry-run by default).
    Firewall,
}

fn default_block_kinds() -> Vec<IndicatorGroup> {
    vec![
        IndicatorGroup::Sender,
        IndicatorGroup::Url,
        IndicatorGroup::File,
    ]
}
fn default_purge_kinds() -> Vec<IndicatorGroup> {
    vec![IndicatorGroup::Url, IndicatorGroup::File]
}
fn default_webhook_timeout() -> u64 {
    5_000
}
fn default_webhook_retries() -> u32 {
    3
}

impl ActionSpec {
    /// The action's name as written.
    pub fn name(&self) -> &'static str {
        match self {
            ActionSpec::Tag { .. } => "tag",
            ActionSpec::Reject { .. } => "reject",
            ActionSpec::Tempfail { .. } => "tempfail",
            ActionSpec::Discard => "discard",
            ActionSpec::Quarantine => "quarantine",
            ActionSpec::Block { .. } => "block",
            ActionSpec::Purge { .. } => "purge",
            ActionSpec::Webhook { .. } => "webhook",
            ActionSpec::Incident { .. } => "incident",
            ActionSpec::Firewall => "firewall",
        }
    }
}

/// A compiled condition.
#[derive(Debug, Clone)]
struct When {
    spec: WhenSpec,
    findings: Vec<GlobMatcher>,
    findings_all: Vec<GlobMatcher>,
    attack: Vec<GlobMatcher>,
    sender: Vec<GlobMatcher>,
    recipient: Vec<GlobMatcher>,
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Name (appears in logs, headers and reject texts).
    pub name: String,
    /// Line of the rule in its file.
    pub line: usize,
    when: When,
    /// Actions, in order.
    pub then: Vec<ActionSpec>,
    /// Keep evaluating later rules after this one matched.
    pub continue_: bool,
}

/// A compiled playbook.
#[derive(Debug, Clone)]
pub struct Playbook {
    /// Rules in order.
    pub rules: Vec<Rule>,
    /// The source text (for `GET /v1/playbook`).
    pub source: String,
    /// Where it came from (file path or `built-in`).
    pub origin: String,
}

/// The result of evaluating a playbook on one verdict.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Plan {
    /// Names of the rules that matched.
    pub rules: Vec<String>,
    /// Their actions, in order.
    pub actions: Vec<ActionSpec>,
}

impl Playbook {
    /// The built-in playbook.
    pub fn builtin() -> Playbook {
        match Playbook::parse(DEFAULT_PLAYBOOK, "built-in") {
            Ok(p) => p,
            // The built-in text is checked by a unit test; an empty playbook (accept all) is the safe fallback.
            Err(_) => Playbook {
                rules: Vec::new(),
                source: String::new(),
                origin: "built-in (invalid)".into(),
            },
        }
    }

    /// Reads and compiles a playbook file.
    pub fn load(path: &std::path::Path) -> Result<Playbook, PlaybookError> {
        let text = std::fs::read_to_string(path).map_err(|e| PlaybookError {
            errors: vec![format!("cannot read {}: {e}", path.display())],
        })?;
        Playbook::parse(&text, &path.display().to_string())
    }

    /// Compiles playbook text; every problem found is reported with its line.
    pub fn parse(text: &str, origin: &str) -> Result<Playbook, PlaybookError> {
        let file: PlaybookFile = toml::from_str(text).map_err(|e| PlaybookError {
            errors: vec![match e.span() {
                Some(span) => format!("line {}: {}", line_of(text, span.start), e.message().trim()),
                None => e.message().trim().to_string(),
            }],
        })?;
        let mut errors = Vec::new();
        if let Some(v) = file.version
            && v > PLAYBOOK_VERSION
        {
            errors.push(format!(
                "line 1: playbook version {v} is newer than this mamori understands ({PLAYBOOK_VERSION})"
            ));
        }
        let mut rules = Vec::new();
        let mut names = std::collections::HashSet::new();
        for spanned in file.rule {
            let line = line_of(text, spanned.span().start);
            let spec = spanned.into_inner();
            let mut err =
                |msg: String| errors.push(format!("line {line}: rule {:?}: {msg}", spec.name));
            if spec.name.trim().is_empty() {
                err("name is empty".into());
            }
            if !names.insert(spec.name.clone()) {
                err("duplicate rule name".into());
            }
            if spec.then.is_empty() {
                err("`then` lists no action".into());
            }
            let w = &spec.when;
            for (label, v) in [
                ("score_min", w.score_min),
                ("score_max", w.score_max),
                ("phish_probability_min", w.phish_probability_min),
                ("spam_probability_min", w.spam_probability_min),
            ] {
                if v.is_some_and(|v| !v.is_finite()) {
                    err(format!("{label} is not a number"));
                }
            }
            if let (Some(lo), Some(hi)) = (w.score_min, w.score_max)
                && lo > hi
            {
                err(format!("score_min {lo} is above score_max {hi}"));
            }
            for p in [w.phish_probability_min, w.spam_probability_min]
                .into_iter()
                .flatten()
            {
                if !(0.0..=1.0).contains(&p) {
                    err(format!("probability {p} is outside 0..1"));
                }
            }
            let mut globs = |label: &str, pats: &[String], check_ids: bool| -> Vec<GlobMatcher> {
                let mut out = Vec::new();
                for p in pats {
                    match Glob::new(&p.to_lowercase()) {
                        Ok(g) => {
                            if check_ids
                                && !p.contains(['*', '?', '['])
                                && mamori_detect::catalog::spec(p).is_none()
                            {
                                err(format!(
                                    "{label}: no finding has the id {p:?} (see `mamori findings`)"
                                ));
                            }
                            out.push(g.compile_matcher());
                        }
                        Err(e) => err(format!("{label}: bad pattern {p:?}: {e}")),
                    }
                }
                out
            };
            let when = When {
                findings: globs("findings", &w.findings, true),
                findings_all: globs("findings_all", &w.findings_all, true),
                attack: globs("attack", &w.attack, false),
                sender: globs("sender", &w.sender, false),
                recipient: globs("recipient", &w.recipient, false),
                spec: w.clone(),
            };
            let mut then = Vec::new();
            for action in spec.then {
                let aline = line_of(text, action.span().start);
                let action = action.into_inner();
                match &action {
                    ActionSpec::Block {
                        ttl: Some(ttl),
                        kinds,
                    } => {
                        if let Err(e) = humantime::parse_duration(ttl) {
                            errors.push(format!(
                                "line {aline}: rule {:?}: block ttl {ttl:?}: {e}",
                                spec.name
                            ));
                        }
                        if kinds.is_empty() {
                            errors.push(format!(
                                "line {aline}: rule {:?}: block lists no kinds",
                                spec.name
                            ));
                        }
                    }
                    ActionSpec::Webhook {
                        url, timeout_ms, ..
                    } => {
                        if !(url.starts_with("http://") || url.starts_with("https://")) {
                            errors.push(format!(
                                "line {aline}: rule {:?}: webhook url {url:?} must start with http:// or https://",
                                spec.name
                            ));
                        }
                        if *timeout_ms == 0 {
                            errors.push(format!(
                                "line {aline}: rule {:?}: webhook timeout_ms is 0",
                                spec.name
                            ));
                        }
                    }
                    ActionSpec::Tag { subject: Some(s) }
                    | ActionSpec::Reject { message: Some(s) }
                    | ActionSpec::Tempfail { message: Some(s) }
                        if s.contains(['\r', '\n']) =>
                    {
                        errors.push(format!(
                            "line {aline}: rule {:?}: text contains a line break",
                            spec.name
                        ));
                    }
                    _ => {}
                }
                then.push(action);
            }
            rules.push(Rule {
                name: spec.name,
                line,
                when,
                then,
                continue_: spec.continue_,
            });
        }
        if errors.is_empty() {
            Ok(Playbook {
                rules,
                source: text.to_string(),
                origin: origin.to_string(),
            })
        } else {
            Err(PlaybookError { errors })
        }
    }

    /// The actions for a verdict (and the envelope it came with).
    pub fn evaluate(&self, verdict: &Verdict, envelope: &Envelope) -> Plan {
        let mut plan = Plan::default();
        for rule in &self.rules {
            if rule.when.matches(verdict, envelope) {
                plan.rules.push(rule.name.clone());
                plan.actions.extend(rule.then.iter().cloned());
                if !rule.continue_ {
                    break;
                }
            }
        }
        plan
    }
}

impl When {
    fn matches(&self, verdict: &Verdict, envelope: &Envelope) -> bool {
        let s = &self.spec;
        if !s.class.is_empty() && !s.class.contains(&verdict.class) {
            return false;
        }
        if s.score_min.is_some_and(|m| verdict.score < m)
            || s.score_max.is_some_and(|m| verdict.score >= m)
        {
            return false;
        }
        if let Some(min) = s.phish_probability_min
            && verdict.probability.is_none_or(|p| p.phish < min)
        {
            return false;
        }
        if let Some(min) = s.spam_probability_min
            && verdict.probability.is_none_or(|p| p.spam < min)
        {
            return false;
        }
        if !self.findings.is_empty()
            && !verdict
                .finding_ids()
                .any(|id| self.findings.iter().any(|g| g.is_match(id)))
        {
            return false;
        }
        if !self
            .findings_all
            .iter()
            .all(|g| verdict.finding_ids().any(|id| g.is_match(id)))
        {
            return false;
        }
        if !self.attack.is_empty()
            && !verdict.attack.iter().any(|t| {
                // `T1566` also matches its sub-techniques (`T1566.002`).
                let t = t.to_lowercase();
                let parent = t.split('.').next().unwrap_or(&t).to_string();
                self.attack
                    .iter()
                    .any(|g| g.is_match(&t) || g.is_match(&parent))
            })
        {
            return false;
        }
        if !self.sender.is_empty() {
            let mut senders = verdict.indicators.senders.iter().map(|s| s.to_lowercase());
            let from_envelope = envelope.mail_from.as_deref().map(str::to_lowercase);
            if !senders.any(|a| self.sender.iter().any(|g| g.is_match(&a)))
                && !from_envelope.is_some_and(|a| self.sender.iter().any(|g| g.is_match(&a)))
            {
                return false;
            }
        }
        if !self.recipient.is_empty()
            && !envelope
                .rcpt_to
                .iter()
                .chain(&verdict.message.to)
                .any(|r| self.recipient.iter().any(|g| g.is_match(r.to_lowercase())))
        {
            return false;
        }
        true
    }
}

/// Parses a `ttl` as a duration (validated when the playbook was loaded).
pub fn parse_ttl(ttl: &str) -> Option<Duration> {
    humantime::parse_duration(ttl).ok()
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_playbook_compiles() {
        let p = Playbook::parse(DEFAULT_PLAYBOOK, "built-in").unwrap();
        assert!(p.rules.len() >= 6);
        assert_eq!(p.rules[0].name, "gtube-test");
    }

    #[test]
    fn errors_carry_line_numbers() {
        let text = "version = 1\n\n[[rule]]\nname = \"a\"\nwhen.findings = [\"nope.nothing\"]\nthen = [{ action = \"block\", ttl = \"soon\" }]\n";
        let err = Playbook::parse(text, "t").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("line 3: rule \"a\": findings"), "{msg}");
        assert!(msg.contains("line 6") && msg.contains("ttl"), "{msg}");

        let err = Playbook::parse(
            "[[rule]]\nname = \"x\"\nthen = [{ action = \"explode\" }]\n",
            "t",
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("line 3:"), "{err}");

        let err = Playbook::parse(
            "[[rule]]\nname = \"x\"\nwhen.colour = \"red\"\nthen = [{ action = \"discard\" }]\n",
            "t",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("line 3") && err.to_string().contains("colour"),
            "{err}"
        );
    }
}
