//! Built-in knowledge detectors share: well-known brands and their real domains, free-mail providers.

pub mod brands;
