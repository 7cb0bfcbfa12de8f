//! # mamori-ml
//!
//! The content model: text and structure of a message become hashed features ([`features`]), a multi-class
//! (ham / spam / phish) linear model turns them into calibrated probabilities ([`Model`]), trained online with
//! FTRL-Proximal ([`train`]), stored in a compact versioned file ([`format`]) and measured with [`metrics`].
//! Japanese and Chinese text is handled with character bigrams after NFKC normalisation ([`text`]).
//!
//! This crate knows nothing of mail: callers fill a [`FeatureInput`] (plain strings and counts) from their own
//! message type (`mamori-detect` does it from `mamori_mail::Message`). It must not read mail, judge messages or do
//! I/O beyond loading and saving model files; turning probabilities into findings is `mamori-detect`'s job.

pub mod features;
pub mod format;
pub mod hash;
pub mod input;
pub mod metrics;
pub mod model;
pub mod rng;
pub mod score;
pub mod text;
pub mod train;

pub use format::ModelError;
pub use input::{AttachmentFacts, FeatureInput, Structure, UrlFacts};
pub use model::{CLASSES, Contribution, Label, Model, ModelInfo, Prediction};
pub use score::Scored;
pub use train::{Example, TrainError, TrainOptions, TrainReport};

/// Version of the feature extraction (tokeniser, families, hashing). Models record it and are refused by a
/// build that extracts differently. Bump it with any change to [`features`], [`text`] or [`hash`] output.
pub const FEATURE_VERSION: u16 = 2;

/// Default size of the hashed feature space (`2^20` slots).
pub const DEFAULT_BITS: u8 = 20;
/// Smallest feature space accepted.
pub const MIN_BITS: u8 = 8;
/// Largest feature space accepted.
pub const MAX_BITS: u8 = 24;
