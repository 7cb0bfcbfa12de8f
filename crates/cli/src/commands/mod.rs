//! One module per subcommand: flag definitions (`clap::Args`) and a `run` returning the exit status.

pub mod bench;
pub mod eval;
pub mod findings;
pub mod flows;
pub mod inspect;
pub mod learn;
pub mod scan;
pub mod train;
