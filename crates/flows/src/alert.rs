//! [`FlowAlert`]: the versioned, serialisable result of flow analytics. One alert = one detector firing on one
//! internal source → external destination pair, with a 0–1 score, ATT&CK techniques, the indicators a response
//! or an intelligence hub needs (destination IP, known host names, ports, the source), and the evidence the score
//! was built from. The JSON form is documented in `docs/flows.md` (schema version [`FLOW_ALERT_SCHEMA_VERSION`]).

use std::net::IpAddr;
use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::attack::Technique;

/// Version of the alert JSON; bumped on any incompatible change.
pub const FLOW_ALERT_SCHEMA_VERSION: u32 = 1;

/// Which detector raised the alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Regular, repeated connections (command-and-control beaconing).
    Beacon,
    /// Very long connections.
    LongConnection,
    /// Large uploads with little coming back, to a rare destination (exfiltration).
    BulkOutbound,
    /// A destination contacted by very few internal hosts, with real traffic.
    RareDestination,
    /// A very high number of connections to one destination.
    Strobe,
}

impl AlertKind {
    /// Stable dotted finding id (`flow.beacon`, …), the same naming as mail findings, for playbook rules.
    pub fn finding_id(self) -> &'static str {
        match self {
            Self::Beacon => "flow.beacon",
            Self::LongConnection => "flow.long_connection",
            Self::BulkOutbound => "flow.bulk_outbound",
            Self::RareDestination => "flow.rare_destination",
            Self::Strobe => "flow.strobe",
        }
    }

    /// Short label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Beacon => "beacon",
            Self::LongConnection => "long-conn",
            Self::BulkOutbound => "bulk-out",
            Self::RareDestination => "rare-dest",
            Self::Strobe => "strobe",
        }
    }
}

/// Severity band of a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Score below 0.6.
    Low,
    /// 0.6 ≤ score < 0.8.
    Medium,
    /// 0.8 ≤ score < 0.95.
    High,
    /// Score ≥ 0.95.
    Critical,
}

impl Severity {
    /// Band of a 0–1 score.
    pub fn of(score: f64) -> Self {
        if score >= 0.95 {
            Self::Critical
        } else if score >= 0.8 {
            Self::High
        } else if score >= 0.6 {
            Self::Medium
        } else {
            Self::Low
        }
    }
}

/// Connections to one destination port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortUse {
    /// Port number.
    pub port: u16,
    /// `tcp`, `udp`, `icmp` or `other`.
    pub proto: String,
    /// Connections.
    pub connections: u64,
}

/// The external end of the pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Destination {
    /// Address.
    pub ip: IpAddr,
    /// Names known for the address (from DNS logs), if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hostnames: Vec<String>,
    /// Busiest destination ports first.
    pub ports: Vec<PortUse>,
    /// Zeek services seen (`http`, `ssl`, `dns`, `ssh`, `other`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
    /// Internal hosts that contacted this destination.
    pub internal_sources: u32,
}

/// A 0–1 score component with its weight in the total.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Component {
    /// Component value, 0–1.
    pub value: f64,
    /// Weight or role in the final score (see `docs/flows.md`).
    pub weight: f64,
}

/// Beacon evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BeaconEvidence {
    /// Estimated beacon period (s).
    pub period_s: f64,
    /// Median interval between connection events (s).
    pub median_interval_s: f64,
    /// Median absolute deviation of the intervals (s).
    pub interval_mad_s: f64,
    /// Bowley skewness of the intervals.
    pub interval_bowley_skew: f64,
    /// Jitter estimate: MAD of the period-normalised intervals relative to the period.
    pub jitter: f64,
    /// Connection events analysed (connections closer than 1 s merged, retries removed).
    pub events: u64,
    /// Beats missing at the estimated period (intervals spanning several periods).
    pub missed_beats: u64,
    /// Events between beats (intervals shorter than half a period).
    pub extra_events: u64,
    /// Retransmitted connection attempts not counted as beats.
    pub retries: u64,
    /// Median bytes sent per connection.
    pub median_bytes_out: f64,
    /// MAD of bytes sent per connection.
    pub bytes_out_mad: f64,
    /// 1 when every connection was sampled; 2^k after thinning (very busy pairs).
    pub sampling_stride: u32,
    /// Score components: `timing` (max of `interval_regularity`, `folded_regularity`, `periodicity`),
    /// `size_regularity`, `coverage`, `confidence`, `prevalence`.
    pub components: std::collections::BTreeMap<String, Component>,
    /// First few event times (RFC 3339).
    pub sample_times: Vec<String>,
}

/// Long-connection evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LongConnectionEvidence {
    /// Longest single connection (s).
    pub max_duration_s: f64,
    /// Sum of all connection durations (s).
    pub total_duration_s: f64,
    /// Threshold in force (s).
    pub threshold_s: f64,
}

/// Bulk-outbound evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkOutboundEvidence {
    /// Bytes sent / bytes received (received counted as at least 1).
    pub out_in_ratio: f64,
    /// Largest single upload (bytes).
    pub max_connection_bytes_out: u64,
    /// Connections that each sent at least 1 MiB.
    pub large_connections: u64,
    /// Large uploads have near-identical sizes (data transfer size limits, T1030).
    pub fixed_size_chunks: bool,
    /// Large uploads happen at regular intervals (scheduled transfer, T1029).
    pub scheduled: bool,
    /// The same pair also has a beacon alert (exfiltration over the C2 channel, T1041).
    pub over_c2_channel: bool,
    /// Threshold in force (bytes).
    pub threshold_bytes: u64,
}

/// Rare-destination evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RareDestinationEvidence {
    /// Internal hosts that contacted the destination.
    pub internal_sources: u32,
    /// Internal hosts with outbound traffic in the data.
    pub internal_population: u32,
}

/// Strobe evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrobeEvidence {
    /// Connections per hour over the pair's active span.
    pub connections_per_hour: f64,
    /// Threshold in force (connections over the observation window).
    pub threshold_connections: u64,
}

/// Detector-specific evidence, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Evidence {
    /// See [`BeaconEvidence`].
    Beacon(BeaconEvidence),
    /// See [`LongConnectionEvidence`].
    LongConnection(LongConnectionEvidence),
    /// See [`BulkOutboundEvidence`].
    BulkOutbound(BulkOutboundEvidence),
    /// See [`RareDestinationEvidence`].
    RareDestination(RareDestinationEvidence),
    /// See [`StrobeEvidence`].
    Strobe(StrobeEvidence),
}

/// One ranked flow alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowAlert {
    /// Always [`FLOW_ALERT_SCHEMA_VERSION`] when produced by this version.
    pub schema_version: u32,
    /// Stable id: `<finding id>:<source>-><destination>`.
    pub id: String,
    /// Detector.
    pub kind: AlertKind,
    /// Dotted finding id (`flow.beacon`, …).
    pub finding_id: String,
    /// 1-based rank in the report (by score, highest first).
    pub rank: u32,
    /// 0–1.
    pub score: f64,
    /// Band of the score.
    pub severity: Severity,
    /// Internal source address.
    pub source: IpAddr,
    /// External destination.
    pub destination: Destination,
    /// ATT&CK techniques that apply.
    pub attack: Vec<Technique>,
    /// First connection start (RFC 3339, UTC).
    pub first_seen: String,
    /// Last connection start (RFC 3339, UTC).
    pub last_seen: String,
    /// First connection start, seconds since the epoch.
    pub first_seen_ts: f64,
    /// Last connection start, seconds since the epoch.
    pub last_seen_ts: f64,
    /// Connections source → destination.
    pub connections: u64,
    /// Payload bytes sent.
    pub bytes_out: u64,
    /// Payload bytes received.
    pub bytes_in: u64,
    /// Other detectors that fired on the same pair.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<AlertKind>,
    /// One-line explanation.
    pub summary: String,
    /// How the score was reached.
    pub evidence: Evidence,
}

/// An observable an alert points at, ready to become a STIX indicator / sighting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Indicator {
    /// STIX cyber-observable type: `ipv4-addr`, `ipv6-addr` or `domain-name`.
    pub observable_type: String,
    /// The value.
    pub value: String,
    /// STIX 2.1 pattern matching it (`[ipv4-addr:value = '203.0.113.9']`).
    pub stix_pattern: String,
}

impl FlowAlert {
    /// Indicators for the destination: its address and every known host name. (The source is the victim, not an
    /// indicator; it is the sighting's `where`.)
    pub fn indicators(&self) -> Vec<Indicator> {
        let ip_type = if self.destination.ip.is_ipv4() {
            "ipv4-addr"
        } else {
            "ipv6-addr"
        };
        let mut out = vec![Indicator {
            observable_type: ip_type.to_string(),
            value: self.destination.ip.to_string(),
            stix_pattern: format!("[{ip_type}:value = '{}']", self.destination.ip),
        }];
        for host in &self.destination.hostnames {
            // STIX patterns quote with single quotes; escape backslashes and quotes.
            let escaped = host.replace('\\', "\\\\").replace('\'', "\\'");
            out.push(Indicator {
                observable_type: "domain-name".into(),
                value: host.clone(),
                stix_pattern: format!("[domain-name:value = '{escaped}']"),
            });
        }
        out
    }

    /// ATT&CK ids only.
    pub fn technique_ids(&self) -> Vec<&str> {
        self.attack.iter().map(|t| t.id.as_str()).collect()
    }
}

/// RFC 3339 UTC text for a timestamp in seconds (microsecond precision). Timestamps before the epoch or not
/// finite print as the epoch.
pub fn rfc3339(ts: f64) -> String {
    let ts = if ts.is_finite() && ts >= 0.0 {
        ts.min(253_402_300_799.0)
    } else {
        0.0
    };
    let t = UNIX_EPOCH + Duration::from_micros((ts * 1e6).round() as u64);
    humantime::format_rfc3339_micros(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_format() {
        assert_eq!(
            rfc3339(1_517_336_042.090_842),
            "2018-01-30T18:14:02.090842Z"
        );
        assert_eq!(rfc3339(-5.0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(rfc3339(f64::NAN), "1970-01-01T00:00:00.000000Z");
    }

    fn sample_alert() -> FlowAlert {
        FlowAlert {
            schema_version: FLOW_ALERT_SCHEMA_VERSION,
            id: "flow.beacon:10.0.0.5->203.0.113.9".into(),
            kind: AlertKind::Beacon,
            finding_id: "flow.beacon".into(),
            rank: 1,
            score: 0.97,
            severity: Severity::Critical,
            source: "10.0.0.5".parse().unwrap(),
            destination: Destination {
                ip: "203.0.113.9".parse().unwrap(),
                hostnames: vec!["c2.example.net".into(), "o'brien.example".into()],
                ports: vec![PortUse {
                    port: 443,
                    proto: "tcp".into(),
                    connections: 288,
                }],
                services: vec!["ssl".into()],
                internal_sources: 1,
            },
            attack: vec![crate::attack::technique("T1573").unwrap()],
            first_seen: rfc3339(1_700_000_000.0),
            last_seen: rfc3339(1_700_086_000.0),
            first_seen_ts: 1_700_000_000.0,
            last_seen_ts: 1_700_086_000.0,
            connections: 288,
            bytes_out: 120_000,
            bytes_in: 900_000,
            related: vec![AlertKind::LongConnection],
            summary: "test".into(),
            evidence: Evidence::LongConnection(LongConnectionEvidence {
                max_duration_s: 4000.0,
                total_duration_s: 5000.0,
                threshold_s: 3600.0,
            }),
        }
    }

    #[test]
    fn json_round_trip_and_shape() {
        let a = sample_alert();
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json["schema_version"], 1);
        assert_eq!(json["kind"], "beacon");
        assert_eq!(json["severity"], "critical");
        assert_eq!(json["evidence"]["type"], "long_connection");
        assert_eq!(json["related"][0], "long_connection");
        assert_eq!(json["attack"][0]["tactic"], "command-and-control");
        let back: FlowAlert = serde_json::from_value(json).unwrap();
        assert_eq!(back, a);
    }

    #[test]
    fn indicators_are_stix_patterns() {
        let ind = sample_alert().indicators();
        assert_eq!(ind[0].stix_pattern, "[ipv4-addr:value = '203.0.113.9']");
        assert_eq!(
            ind[1].stix_pattern,
            "[domain-name:value = 'c2.example.net']"
        );
        assert_eq!(
            ind[2].stix_pattern,
            "[domain-name:value = 'o\\'brien.example']"
        );
        let mut v6 = sample_alert();
        v6.destination.ip = "2001:db8::9".parse().unwrap();
        assert_eq!(v6.indicators()[0].observable_type, "ipv6-addr");
    }

    #[test]
    fn severity_bands() {
        assert_eq!(Severity::of(0.1), Severity::Low);
        assert_eq!(Severity::of(0.6), Severity::Medium);
        assert_eq!(Severity::of(0.85), Severity::High);
        assert_eq!(Severity::of(0.99), Severity::Critical);
    }
}
