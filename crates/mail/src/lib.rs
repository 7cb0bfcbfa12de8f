//! # mamori-mail
//!
//! Turns raw e-mail bytes into a bounded, normalised [`Message`]: header fields, sender identities, the
//! `Received` chain, `Authentication-Results`, body text (every legacy charset decoded, HTML turned into text,
//! an NFKC-normalised copy for analysis), links with their anchor text, and attachments with names, declared and
//! sniffed types, sizes and hashes. Parsing is best-effort and infallible: anything odd about the input becomes an
//! [`Anomaly`] (`malformed.*` or `limit.*`) instead of an error, and every resource is capped by [`Limits`].
//!
//! The [`source`] module reads mail from where administrators keep it: `.eml` files, directories, mbox files,
//! Maildirs and standard input, streaming so that memory stays bounded whatever the input size.
//!
//! This crate must not score or judge: no weights, no verdicts, no network. Detection lives in `mamori-detect`.

pub mod authres;
pub mod charset;
pub mod envelope;
pub mod html;
pub mod limits;
pub mod links;
pub mod message;
pub mod normalize;
mod parse;
pub mod sniff;
pub mod source;
pub mod transfer;

pub use envelope::Envelope;
pub use limits::Limits;
pub use message::{
    Anomaly, AnomalyKind, Attachment, AuthResult, AuthenticationResults, BodyKind, DateValue,
    HeaderField, HtmlStats, Link, LinkSource, Mailbox, Message, PartInfo, ReceivedHop, TextBody,
};
pub use parse::{parse, parse_item};
