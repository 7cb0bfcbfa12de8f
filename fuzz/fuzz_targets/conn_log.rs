//! Fuzz the conn.log line parser and everything behind it: arbitrary bytes (optionally after a valid Zeek TSV
//! header, so the fuzzer reaches the record parser at once) go through ingest in skip and strict mode, the parsed
//! records through aggregation and all detectors. Any panic, overflow or hang is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_flows::aggregate::{AggregateOptions, FlowAggregator};
use mamori_flows::analytics::{AnalysisConfig, analyse};
use mamori_flows::ingest::{ErrorMode, IngestOptions, IngestStats, RecordSink, ingest_reader};
use mamori_flows::network::NetworkPolicy;

const HEADER: &[u8] = b"#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n\
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n";

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let input: Vec<u8> = if mode & 1 == 0 {
        [HEADER, rest].concat()
    } else {
        rest.to_vec()
    };
    let opts = IngestOptions {
        mode: if mode & 2 == 0 {
            ErrorMode::Skip
        } else {
            ErrorMode::Strict
        },
        // Small, so the over-long-line path is exercised too.
        max_line_len: 256 + usize::from(mode >> 2) * 16,
    };
    let small = AggregateOptions {
        max_samples_per_pair: 16,
        ..AggregateOptions::default()
    };
    let mut agg = FlowAggregator::new(NetworkPolicy::default(), small);
    let mut stats = IngestStats::default();
    let _ = ingest_reader(
        "fuzz",
        input.as_slice(),
        &opts,
        &mut agg as &mut dyn RecordSink,
        &mut stats,
    );
    let cfg = AnalysisConfig {
        min_beacon_events: 3,
        min_alert_score: 0.0,
        bulk_min_bytes: 1,
        ..AnalysisConfig::default()
    };
    for alert in analyse(&agg, None, &cfg) {
        assert!(
            alert.score.is_finite() && (0.0..=1.0).contains(&alert.score),
            "{alert:?}"
        );
    }
});
