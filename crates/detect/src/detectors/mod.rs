//! The built-in detectors, one module per concern. Each is a pure function of the message and its context.

mod anomalies;
mod attachment_content;
mod attachment_names;
mod authentication;
mod content;
mod display_name;
pub mod domains;
mod first_contact;
mod headers;
mod identity;
mod internal_sender;
pub mod links;
mod lookalike_sender;
mod origin_consistency;
mod received;

pub use anomalies::ParseAnomalies;
pub use attachment_content::AttachmentContent;
pub use attachment_names::AttachmentNames;
pub use authentication::Authentication;
pub use content::TestStrings;
pub use display_name::DisplayNameImpersonation;
pub use first_contact::FirstContact;
pub use headers::HeaderStructure;
pub use identity::SenderIdentity;
pub use internal_sender::InternalSenderFromOutside;
pub use links::LinkDeception;
pub use lookalike_sender::LookalikeSender;
pub use origin_consistency::OriginConsistency;
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
        Box::new(Authentication),
        Box::new(DisplayNameImpersonation),
        Box::new(LookalikeSender),
        Box::new(InternalSenderFromOutside),
        Box::new(OriginConsistency),
        Box::new(AttachmentContent),
        // Last: combines first contact with what the detectors above found.
        Box::new(FirstContact),
    ]
}
