//! The whole pipeline over files ([`Analyzer`]) and its versioned result ([`FlowReport`]).

use std::path::PathBuf;

use serde::Serialize;

use crate::aggregate::{AggregateOptions, DirectionCounts, FlowAggregator};
use crate::alert::{FLOW_ALERT_SCHEMA_VERSION, FlowAlert, rfc3339};
use crate::analytics::{AnalysisConfig, analyse};
use crate::ingest::{IngestError, IngestOptions, IngestStats, RecordSink, ingest_file};
use crate::names::HostNames;
use crate::network::NetworkPolicy;

/// Observation window of a report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportWindow {
    /// First connection start (RFC 3339).
    pub start: String,
    /// Last connection start (RFC 3339).
    pub end: String,
    /// Length in seconds.
    pub seconds: f64,
}

/// Result of one analysis run.
#[derive(Debug, Clone, Serialize)]
pub struct FlowReport {
    /// Same as [`FLOW_ALERT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `mamori-flows <version>`.
    pub generator: String,
    /// Input files.
    pub inputs: Vec<String>,
    /// Observation window.
    pub window: Option<ReportWindow>,
    /// Ingest counters.
    pub ingest: IngestStats,
    /// Records by direction.
    pub traffic: DirectionCounts,
    /// Internal → external pairs analysed.
    pub pairs: u64,
    /// Distinct addresses seen.
    pub addresses: u64,
    /// Addresses with a known host name.
    pub named_addresses: u64,
    /// Alerts, highest score first.
    pub alerts: Vec<FlowAlert>,
}

/// Everything needed to analyse a set of files.
#[derive(Debug, Clone, Default)]
pub struct Analyzer {
    /// Internal networks and allow-list.
    pub policy: NetworkPolicy,
    /// Aggregation bounds.
    pub aggregate: AggregateOptions,
    /// Ingest mode and limits.
    pub ingest: IngestOptions,
    /// Detector thresholds.
    pub analysis: AnalysisConfig,
}

impl Analyzer {
    /// Ingest `conn_files` (and `name_files`: dns/ssl/http logs for host names), then analyse.
    pub fn run(
        &self,
        conn_files: &[PathBuf],
        name_files: &[PathBuf],
    ) -> Result<FlowReport, IngestError> {
        let mut agg = FlowAggregator::new(self.policy.clone(), self.aggregate);
        let mut stats = IngestStats::default();
        for f in conn_files {
            ingest_file(f, &self.ingest, &mut agg as &mut dyn RecordSink, &mut stats)?;
        }
        let mut names = HostNames::default();
        for f in name_files {
            names.ingest_file(f, &self.ingest)?;
        }
        Ok(self.report(
            &agg,
            &names,
            stats,
            conn_files.iter().map(|p| p.display().to_string()).collect(),
        ))
    }

    /// Analyse an already filled aggregator.
    pub fn report(
        &self,
        agg: &FlowAggregator,
        names: &HostNames,
        ingest: IngestStats,
        inputs: Vec<String>,
    ) -> FlowReport {
        let alerts = analyse(agg, (!names.is_empty()).then_some(names), &self.analysis);
        FlowReport {
            schema_version: FLOW_ALERT_SCHEMA_VERSION,
            generator: concat!("mamori-flows ", env!("CARGO_PKG_VERSION")).to_string(),
            inputs,
            window: agg.window().map(|(a, b)| ReportWindow {
                start: rfc3339(a),
                end: rfc3339(b),
                seconds: ((b - a) * 1000.0).round() / 1000.0,
            }),
            ingest,
            traffic: agg.counts().clone(),
            pairs: agg.pair_count() as u64,
            addresses: agg.addresses() as u64,
            named_addresses: names.len() as u64,
            alerts,
        }
    }
}
