//! Printing verdicts: the one-line table, JSON lines, and the full explanation; and the progress bar.

use std::io::{self, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mamori_detect::Verdict;

/// How verdicts are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputMode {
    /// One line per message: class, score, source, top findings.
    Table,
    /// One JSON object per line.
    Json,
    /// Every finding with evidence.
    Explain,
}

/// A progress spinner on stderr, hidden unless stderr is a terminal.
pub fn progress_bar(visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(4));
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos} messages ({per_sec}) {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}

/// Column headings of the table.
pub fn write_table_header(out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "{:<10} {:>7}  SOURCE  TOP FINDINGS", "CLASS", "SCORE")
}

fn source_of(verdict: &Verdict) -> String {
    match &verdict.source {
        Some(s) => match s.index {
            Some(i) => format!("{}#{}", s.path, i),
            None => s.path.clone(),
        },
        None => "-".to_string(),
    }
}

/// Prints one verdict in `mode`.
pub fn write_verdict(out: &mut impl Write, mode: OutputMode, verdict: &Verdict) -> io::Result<()> {
    match mode {
        OutputMode::Json => {
            serde_json::to_writer(&mut *out, verdict).map_err(io::Error::other)?;
            out.write_all(b"\n")
        }
        OutputMode::Table => {
            let top: Vec<&str> = verdict
                .findings
                .iter()
                .filter(|f| f.weight > 0.0)
                .take(3)
                .map(|f| f.id.as_ref())
                .collect();
            writeln!(
                out,
                "{:<10} {:>7.1}  {}  {}",
                verdict.class.as_str(),
                verdict.score,
                source_of(verdict),
                top.join(", ")
            )
        }
        OutputMode::Explain => write_explanation(out, verdict),
    }
}

fn write_explanation(out: &mut impl Write, v: &Verdict) -> io::Result<()> {
    writeln!(out, "{}", source_of(v))?;
    writeln!(out, "  verdict:  {} (score {:.1})", v.class, v.score)?;
    if let Some(p) = &v.probability {
        writeln!(
            out,
            "  model:    ham {:.3}  spam {:.3}  phish {:.3}",
            p.ham, p.spam, p.phish
        )?;
    }
    let m = &v.message;
    writeln!(
        out,
        "  subject:  {}",
        m.subject.as_deref().unwrap_or("(none)")
    )?;
    let from = match (&m.from_name, &m.from) {
        (Some(n), Some(a)) => format!("{n} <{a}>"),
        (None, Some(a)) => a.clone(),
        (Some(n), None) => n.clone(),
        (None, None) => "(none)".into(),
    };
    writeln!(out, "  from:     {from}")?;
    if let Some(id) = &m.message_id {
        writeln!(out, "  msg-id:   {id}")?;
    }
    if let Some(auth) = &v.auth {
        writeln!(out, "  auth:     {}", auth.summary())?;
        for note in &auth.notes {
            writeln!(out, "            ({note})")?;
        }
    }
    if v.findings.is_empty() {
        writeln!(out, "  findings: none")?;
    }
    for f in &v.findings {
        let attack = if f.attack.is_empty() {
            String::new()
        } else {
            format!("  [ATT&CK {}]", f.attack.join(", "))
        };
        writeln!(out, "  {:>+7.1}  {}  {}{}", f.weight, f.id, f.title, attack)?;
        for e in &f.evidence {
            writeln!(out, "           - {e}")?;
        }
    }
    if !v.attack.is_empty() {
        writeln!(out, "  ATT&CK:   {}", v.attack.join(", "))?;
    }
    let i = &v.indicators;
    if !i.files.is_empty() {
        for f in &i.files {
            writeln!(
                out,
                "  file:     {} {} ({} bytes)",
                f.sha256,
                f.name.as_deref().unwrap_or("(unnamed)"),
                f.size
            )?;
        }
    }
    writeln!(out)
}
