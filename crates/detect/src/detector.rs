//! The detector interface: one detector per concern, a pure function of the message and its context.

use mamori_mail::{Envelope, Message};

use crate::attachments::AnalysedAttachment;
use crate::auth::AuthReport;
use crate::config::DetectConfig;
use crate::finding::Findings;
use crate::history::SenderHistory;
use crate::lookalike::ProtectedDomains;

/// What a detector may consult besides the message. Filled by the engine from its configuration and from the
/// caller's per-message facts; detectors never fetch anything themselves.
pub struct Context<'a> {
    /// Configuration.
    pub config: &'a DetectConfig,
    /// SMTP envelope, when known.
    pub envelope: &'a Envelope,
    /// Reference time for date checks (Unix seconds): the envelope's receive time or the topmost Received
    /// time stamp. `None` when the message carries no time reference.
    pub received_at: Option<i64>,
    /// The organisation's, partners' and brands' domains, for lookalike checks.
    pub protected: &'a ProtectedDomains,
    /// Sender authentication results, when an [`crate::auth::Authenticator`] ran before the detectors.
    pub auth: Option<&'a AuthReport>,
    /// Correspondence history, when the caller has one (first-contact checks).
    pub history: Option<&'a dyn SenderHistory>,
    /// What the attachment analysis found inside each attachment (empty when disabled or none).
    pub attachments: &'a [AnalysedAttachment],
}

/// One concern (headers, links, attachment names, …). Implementations are small, stateless after construction,
/// and must not panic or do I/O.
pub trait Detector: Send + Sync {
    /// Short name for logs and timing.
    fn name(&self) -> &'static str;

    /// Adds what it finds in `message` to `out`.
    fn detect(&self, message: &Message, ctx: &Context<'_>, out: &mut Findings);
}
