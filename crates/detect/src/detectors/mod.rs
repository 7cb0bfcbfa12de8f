//! The built-in detectors, one module per concern. Each is a pure function of the message and its context.

mod anomalies;
mod attachment_names;
mod content;
pub mod domains;
mod headers;
mod identity;
mod links;
mod received;

pub use anomalies::ParseAnomalies;
pub use attachment_names::AttachmentNames;
pub use content::TestStrings;
pub use headers::HeaderStructure;
pub use identity::SenderIdentity;
pub use links::LinkDeception;
pub use received::ReceivedChain;

use crate::detector::Detector;

/// The detectors that need nothing but the message: run by every engine.
pub fn default_set() -> Vec<Box<dyn Detector>> {
    vec![
        Box::new(ParseAnomalies),
        Box::new(HeaderStructure),
        Box::new(SenderIdentity),
        Box::new(ReceivedChain),
        Box::new(AttachmentNames),
        Box::new(LinkDeception),
        Box::new(TestStrings),
    ]
}
