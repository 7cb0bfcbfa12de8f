//! `mamori findings`: the table of finding ids, weights and ATT&CK techniques.

use clap::Args;

use crate::exit;

#[derive(Args)]
pub struct FindingsArgs {
    /// Print the Markdown document (`docs/findings.md`).
    #[arg(long)]
    pub markdown: bool,
}

pub fn run(args: FindingsArgs) -> anyhow::Result<u8> {
    if args.markdown {
        print!("{}", mamori_detect::catalog::markdown());
        return Ok(exit::CLEAN);
    }
    println!(
        "{:<40} {:<9} {:<8} {:>7}  ATT&CK",
        "ID", "CATEGORY", "SEVERITY", "WEIGHT"
    );
    for s in mamori_detect::catalog::all() {
        println!(
            "{:<40} {:<9} {:<8} {:>7}  {}",
            s.id,
            format!("{:?}", s.category).to_lowercase(),
            format!("{:?}", s.severity).to_lowercase(),
            s.weight,
            s.attack.join(",")
        );
    }
    Ok(exit::CLEAN)
}
