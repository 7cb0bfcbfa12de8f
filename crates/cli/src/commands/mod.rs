//! One module per subcommand: flag definitions (`clap::Args`) and a `run` returning the exit status.

pub mod bench;
pub mod block;
pub mod eval;
pub mod findings;
pub mod flows;
pub mod inspect;
pub mod intel;
pub mod learn;
pub mod playbook;
pub mod purge;
pub mod quarantine;
pub mod scan;
pub mod serve;
pub mod train;
