//! # mamori-auth
//!
//! Sender authentication for mamori: SPF, DKIM, DMARC (alignment and policy) and ARC, verified with the
//! `mail-auth` crate, behind the [`mamori_detect::Authenticator`] interface the engine calls before its detectors.
//!
//! Three ways to get results ([`AuthMode`]):
//! - **dns**: verify against live DNS (hickory), with per-query timeouts, a shared result cache, and a
//!   per-message time and lookup budget — for the milter and for fresh mail;
//! - **records**: verify against a static record file (RFC 1035 master-file syntax, [`zone`]); unknown names
//!   answer NXDOMAIN and nothing leaves the host — for tests and investigations;
//! - **headers** (the default, no DNS): trust `Authentication-Results` only from the organisation's own
//!   authserv-ids, positioned above the hop where the message entered ([`results`]), and report the others
//!   (forged ones as such). Stored mail should be judged this way: re-checking SPF or DKIM against today's DNS
//!   gives wrong answers for old mail.
//!
//! In every mode the SMTP envelope is taken from the caller (milter, `scan --client-ip/--helo/--mail-from`) or
//! read back from the `Received` header added by the first trusted relay ([`envelope`]).
//!
//! mail-auth is asynchronous and the engine is not: the authenticator owns (or borrows) a tokio runtime and
//! blocks on it from the calling worker thread; called from inside an async context it moves the wait to a scoped
//! helper thread instead of panicking. Detectors never see DNS: they read the [`mamori_detect::AuthReport`].
//!
//! This crate must not judge (no findings, no weights): it reports what authenticated and what did not.

pub mod align;
pub mod cache;
pub mod config;
pub mod envelope;
pub mod relays;
pub mod results;
pub mod verify;
pub mod zone;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mail_auth::MessageAuthenticator;
use mail_auth::hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use mamori_detect::auth::{AuthMethod, AuthReport, Authenticator, DnsUsage};
use mamori_mail::{AnomalyKind, Envelope, Message};

pub use config::{AuthConfig, AuthMode};

use crate::cache::{Budget, Caches};
use crate::relays::TrustedRelays;
use crate::zone::StaticZone;

/// Problems setting up authentication.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// A `trusted_relays` entry is invalid.
    #[error(transparent)]
    Relay(#[from] relays::BadRelay),
    /// The record file is missing or invalid.
    #[error(transparent)]
    Zone(#[from] zone::ZoneError),
    /// `mode = "records"` without a file.
    #[error("[auth] mode = \"records\" needs records_file (or scan --dns-records FILE)")]
    NoRecordsFile,
    /// A name server entry is not an IP address (with an optional port).
    #[error("[auth] nameservers entry {0:?} is not an IP address or address:port")]
    BadNameserver(String),
    /// The system resolver configuration could not be read.
    #[error("reading the system resolver configuration: {0}")]
    SystemResolver(String),
    /// The DNS runtime could not start.
    #[error("starting the DNS runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// The resolver could not be built.
    #[error("building the DNS resolver: {0}")]
    Resolver(String),
}

/// Runs verification futures: a runtime of our own, or a handle to the caller's.
enum Rt {
    Owned(Option<tokio::runtime::Runtime>),
    Borrowed(tokio::runtime::Handle),
}

impl Rt {
    fn handle(&self) -> Option<tokio::runtime::Handle> {
        match self {
            Rt::Owned(rt) => rt.as_ref().map(|r| r.handle().clone()),
            Rt::Borrowed(h) => Some(h.clone()),
        }
    }
}

impl Drop for Rt {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which panics inside async code; shut it down in the background instead.
        if let Rt::Owned(rt) = self
            && let Some(rt) = rt.take()
        {
            rt.shutdown_background();
        }
    }
}

struct Verifier {
    method: AuthMethod,
    resolver: MessageAuthenticator,
    caches: Caches,
    rt: Rt,
}

/// The [`Authenticator`] of mamori: see the crate documentation.
pub struct MailAuthenticator {
    config: AuthConfig,
    relays: TrustedRelays,
    hostname: String,
    verifier: Option<Verifier>,
}

impl MailAuthenticator {
    /// Builds an authenticator for `config`, starting a small runtime of its own when DNS is used.
    pub fn new(config: &AuthConfig) -> Result<MailAuthenticator, AuthError> {
        MailAuthenticator::build(config, None)
    }

    /// Builds an authenticator whose DNS work runs on the caller's runtime (the server's). Analysis must then be
    /// called from outside that runtime's async tasks (e.g. `spawn_blocking`).
    pub fn with_handle(
        config: &AuthConfig,
        handle: tokio::runtime::Handle,
    ) -> Result<MailAuthenticator, AuthError> {
        MailAuthenticator::build(config, Some(handle))
    }

    fn build(
        config: &AuthConfig,
        handle: Option<tokio::runtime::Handle>,
    ) -> Result<MailAuthenticator, AuthError> {
        let relays = TrustedRelays::new(&config.trusted_relays, &config.authserv_ids)?;
        let hostname = config
            .hostname
            .clone()
            .or_else(|| config.authserv_ids.first().cloned())
            .unwrap_or_else(|| "mamori.invalid".to_string());
        let verifier = match config.mode {
            AuthMode::Off | AuthMode::Headers => None,
            AuthMode::Dns | AuthMode::Records => Some(Verifier::new(config, handle)?),
        };
        Ok(MailAuthenticator {
            config: config.clone(),
            relays,
            hostname,
            verifier,
        })
    }

    /// The mode in force.
    pub fn mode(&self) -> AuthMode {
        self.config.mode
    }

    fn verify(
        &self,
        verifier: &Verifier,
        raw: Option<&[u8]>,
        envelope: Option<&mamori_detect::auth::EnvelopeFacts>,
        notes: &mut Vec<String>,
    ) -> (verify::Outcome, DnsUsage) {
        let start = Instant::now();
        let budget = Budget::new(self.config.max_lookups);
        let job = verify::Job {
            resolver: &verifier.resolver,
            caches: &verifier.caches,
            budget: &budget,
            deadline: start + Duration::from_millis(self.config.message_budget_ms),
            envelope,
            raw,
            hostname: &self.hostname,
            min_rsa_bits: self.config.min_rsa_bits,
            max_signatures: self.config.max_signatures,
            trusted_sealers: &self.config.trusted_arc_sealers,
        };
        let outcome = match verifier.rt.handle() {
            Some(handle) => block_on(&handle, job.run()),
            None => None,
        };
        let outcome = outcome.unwrap_or_else(|| {
            notes.push("verification did not complete (DNS runtime unavailable)".into());
            verify::Outcome::default()
        });
        let usage = DnsUsage {
            lookups: budget.used(),
            elapsed_ms: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
            budget_exhausted: budget.exhausted(),
        };
        (outcome, usage)
    }
}

impl Verifier {
    fn new(
        config: &AuthConfig,
        handle: Option<tokio::runtime::Handle>,
    ) -> Result<Verifier, AuthError> {
        let rt = match handle {
            Some(h) => Rt::Borrowed(h),
            None => Rt::Owned(Some(
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name("mamori-dns")
                    .enable_all()
                    .build()
                    .map_err(AuthError::Runtime)?,
            )),
        };
        let handle = rt
            .handle()
            .ok_or_else(|| AuthError::Resolver("no runtime".into()))?;
        let mut opts = ResolverOpts::default();
        opts.timeout = Duration::from_millis(config.dns_timeout_ms.max(1));
        opts.attempts = config.dns_attempts.max(1);
        opts.use_hosts_file = ResolveHosts::Never;
        opts.edns0 = true;
        let (method, resolver_config) = match config.mode {
            AuthMode::Records => {
                let path = config
                    .records_file
                    .as_deref()
                    .ok_or(AuthError::NoRecordsFile)?;
                let zone = Arc::new(StaticZone::load(path)?);
                let endpoint = zone::serve(zone, &handle)?;
                let mut udp = ConnectionConfig::udp();
                udp.port = endpoint.addr.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = endpoint.addr.port();
                let server =
                    NameServerConfig::new(IpAddr::V4(Ipv4Addr::LOCALHOST), true, vec![udp, tcp]);
                // Local answers come at once; a short timeout keeps a wedged endpoint from stalling scans.
                opts.timeout = opts.timeout.min(Duration::from_millis(1_000));
                (
                    AuthMethod::Records,
                    ResolverConfig::from_parts(None, Vec::new(), vec![server]),
                )
            }
            _ => {
                let servers: Result<Vec<NameServerConfig>, AuthError> = config
                    .nameservers
                    .iter()
                    .map(|s| nameserver(s).ok_or_else(|| AuthError::BadNameserver(s.clone())))
                    .collect();
                let servers = servers?;
                let resolver_config = if servers.is_empty() {
                    let (system, _) = mail_auth::hickory_resolver::system_conf::read_system_conf()
                        .map_err(|e| AuthError::SystemResolver(e.to_string()))?;
                    system
                } else {
                    ResolverConfig::from_parts(None, Vec::new(), servers)
                };
                (AuthMethod::Dns, resolver_config)
            }
        };
        let resolver = {
            let _guard = handle.enter();
            MessageAuthenticator::new(resolver_config, opts)
                .map_err(|e| AuthError::Resolver(e.to_string()))?
        };
        Ok(Verifier {
            method,
            resolver,
            caches: Caches::new(config.cache_entries),
            rt,
        })
    }
}

/// `192.0.2.53`, `2001:db8::53`, `192.0.2.53:5353` or `[2001:db8::53]:5353`: UDP and TCP to that address.
fn nameserver(entry: &str) -> Option<NameServerConfig> {
    let entry = entry.trim();
    let (ip, port) = match entry.parse::<IpAddr>() {
        Ok(ip) => (ip, 53),
        Err(_) => {
            let addr = entry.parse::<std::net::SocketAddr>().ok()?;
            (addr.ip(), addr.port())
        }
    };
    let mut udp = ConnectionConfig::udp();
    udp.port = port;
    let mut tcp = ConnectionConfig::tcp();
    tcp.port = port;
    Some(NameServerConfig::new(ip, true, vec![udp, tcp]))
}

/// Waits for `fut` on `handle`. From inside an async context (where blocking the thread would panic) the wait
/// happens on a scoped helper thread. `None` if the future panicked.
fn block_on<F>(handle: &tokio::runtime::Handle, fut: F) -> Option<F::Output>
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|s| s.spawn(|| handle.block_on(fut)).join().ok())
    } else {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handle.block_on(fut))).ok()
    }
}

impl Authenticator for MailAuthenticator {
    fn name(&self) -> &'static str {
        "mail_auth"
    }

    fn authenticate(
        &self,
        raw: Option<&[u8]>,
        message: &Message,
        envelope: &Envelope,
    ) -> AuthReport {
        let mut report = AuthReport::default();
        if self.config.mode == AuthMode::Off {
            return report;
        }
        let entry = envelope::entry_hop(message, &self.relays);
        let facts = envelope::envelope_facts(envelope, message, &self.relays);
        let sorted = results::sort(message, &self.relays, entry.as_ref());
        report.foreign_results = sorted.foreign;
        report.envelope = facts.clone();
        match &self.verifier {
            None => {
                let from = message.from_mailbox().and_then(|f| f.domain.as_deref());
                let checks = results::checks(&sorted.trusted, from);
                if checks.authserv_id.is_some() {
                    report.method = AuthMethod::Headers;
                    report.authserv_id = checks.authserv_id;
                    report.spf = checks.spf;
                    report.dkim = checks.dkim;
                    report.dmarc = checks.dmarc;
                    report.arc = checks.arc;
                } else if self.relays.is_empty() {
                    report.notes.push(
                        "no [auth] authserv_ids configured: Authentication-Results headers cannot be trusted"
                            .into(),
                    );
                } else {
                    report
                        .notes
                        .push("no Authentication-Results header from a trusted authserv-id".into());
                }
            }
            Some(verifier) => {
                report.method = verifier.method;
                // A message cut at the size limit cannot have its body hash checked.
                let usable_raw = raw.filter(|r| {
                    !(message.has_anomaly(AnomalyKind::MessageSize) && r.len() < message.size)
                });
                if raw.is_some() && usable_raw.is_none() {
                    report.notes.push(
                        "signatures not checked: the message was truncated at the size limit"
                            .into(),
                    );
                }
                let mut notes = Vec::new();
                let (outcome, usage) =
                    self.verify(verifier, usable_raw, facts.as_ref(), &mut notes);
                report.spf = outcome.spf;
                report.dkim = outcome.dkim;
                report.dmarc = outcome.dmarc;
                report.arc = outcome.arc;
                report.notes.extend(outcome.notes);
                report.notes.extend(notes);
                report.dns = Some(usage);
            }
        }
        report
    }
}
