//! Parse anomalies (`malformed.*`, `limit.*`) recorded by the parser become findings one to one.

use mamori_mail::Message;

use crate::detector::{Context, Detector};
use crate::finding::{Finding, Findings};

/// Reports the parser's anomalies.
pub struct ParseAnomalies;

impl Detector for ParseAnomalies {
    fn name(&self) -> &'static str {
        "parse_anomalies"
    }

    fn detect(&self, message: &Message, _ctx: &Context<'_>, out: &mut Findings) {
        for anomaly in &message.anomalies {
            out.push(Finding::new(anomaly.kind.id(), anomaly.detail.clone()));
        }
    }
}
