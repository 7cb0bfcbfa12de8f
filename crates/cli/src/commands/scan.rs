//! `mamori scan`: read mail from files, directories, mbox, Maildir or stdin and print verdicts.

use clap::Args;

#[derive(Args)]
pub struct ScanArgs {
    /// Inputs: files, directories, mbox files, Maildirs, or `-` for standard input.
    #[arg(required = true)]
    pub inputs: Vec<String>,
}

pub fn run(_args: ScanArgs) -> anyhow::Result<u8> {
    anyhow::bail!("scan is not implemented yet")
}
