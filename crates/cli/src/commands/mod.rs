//! One module per subcommand: flag definitions (`clap::Args`) and a `run` returning the exit status.

pub mod bench;
pub mod findings;
pub mod flows;
pub mod inspect;
pub mod intel;
pub mod scan;
