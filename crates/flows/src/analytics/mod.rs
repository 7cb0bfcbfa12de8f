//! Turn aggregated pairs into ranked [`FlowAlert`]s: beaconing ([`beacon`]), long connections, bulk outbound
//! transfers and strobes ([`volume`]), rare destinations, with a prevalence modifier shared by all of them.
//! Pure functions of the aggregated state and the configuration: no I/O.

pub mod beacon;
pub mod volume;

use std::net::IpAddr;

use crate::aggregate::{FlowAggregator, PairState};
use crate::alert::{
    AlertKind, Destination, Evidence, FLOW_ALERT_SCHEMA_VERSION, FlowAlert, PortUse,
    RareDestinationEvidence, Severity, rfc3339,
};
use crate::attack::{self, Technique};
use crate::names::HostNames;
use crate::record::Services;

/// Thresholds and weights of the detectors. Defaults are documented in `docs/flows.md`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnalysisConfig {
    /// Beacon analysis needs at least this many connection events.
    pub min_beacon_events: usize,
    /// Connections closer than this (s) are one event.
    pub event_merge_secs: f64,
    /// A connection this long (s) or longer is a long connection.
    pub long_connection_secs: f64,
    /// Bulk outbound: at least this many bytes sent to the destination.
    pub bulk_min_bytes: u64,
    /// Bulk outbound: sent / received at least this.
    pub bulk_min_ratio: f64,
    /// A destination contacted by at most this many internal hosts is rare …
    pub rare_max_sources: u32,
    /// … provided at least this many internal hosts are seen (otherwise rarity is unknown and not used).
    pub rare_min_population: u32,
    /// Strobe: this many connections per 24 h of observation window (scaled, at least an hour's worth).
    pub strobe_connections_per_day: u64,
    /// Beacon score at which a bulk transfer on the same pair counts as exfiltration over the C2 channel.
    pub c2_link_score: f64,
    /// Alerts scoring below this are not produced at all (a busy day would otherwise yield hundreds of thousands
    /// of meaningless near-zero beacon alerts).
    pub min_alert_score: f64,
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        Self {
            min_beacon_events: 6,
            event_merge_secs: 1.0,
            long_connection_secs: 3600.0,
            bulk_min_bytes: 50_000_000,
            bulk_min_ratio: 4.0,
            rare_max_sources: 1,
            rare_min_population: 10,
            strobe_connections_per_day: 86_400,
            c2_link_score: 0.5,
            min_alert_score: 0.2,
        }
    }
}

/// What the analytics know about how common a destination is among internal hosts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prevalence {
    /// Internal hosts that contacted the destination.
    pub sources: u32,
    /// Internal hosts with outbound traffic.
    pub population: u32,
    /// Whether the population is large enough for rarity to mean anything.
    pub known: bool,
    /// Known and contacted by at most `rare_max_sources` hosts.
    pub rare: bool,
}

impl Prevalence {
    /// Multiplier for scores: 1 for rare or unknown prevalence, down to 0.7 for destinations a quarter or more of
    /// the internal hosts talk to (shared services are less likely to be one host's C2 or drop site).
    pub fn modifier(&self) -> f64 {
        if !self.known || self.rare {
            return 1.0;
        }
        let share = f64::from(self.sources) / f64::from(self.population.max(1));
        1.0 - 0.3 * (share / 0.25).min(1.0)
    }
}

/// Analyse every pair and return alerts ranked by score (highest first, rank 1..).
pub fn analyse(
    agg: &FlowAggregator,
    names: Option<&HostNames>,
    cfg: &AnalysisConfig,
) -> Vec<FlowAlert> {
    let Some(window) = agg.window() else {
        return Vec::new();
    };
    // Prevalence: distinct internal sources per destination (pairs are unique per source/destination).
    let mut sources_per_dst = vec![0u32; agg.addresses()];
    let mut is_source = vec![false; agg.addresses()];
    for p in agg.pairs() {
        if let Some(n) = sources_per_dst.get_mut(p.dst as usize) {
            *n = n.saturating_add(1);
        }
        if let Some(s) = is_source.get_mut(p.src as usize) {
            *s = true;
        }
    }
    let population = u32::try_from(is_source.iter().filter(|&&s| s).count()).unwrap_or(u32::MAX);
    let known = population >= cfg.rare_min_population;
    let beacon_params = beacon::BeaconParams {
        min_events: cfg.min_beacon_events,
        event_merge_secs: cfg.event_merge_secs,
        min_score: cfg.min_alert_score,
    };
    let strobe_threshold = volume::strobe_threshold(cfg, window);

    let mut alerts = Vec::new();
    for p in agg.pairs() {
        let dst_ip = agg.ip(p.dst);
        let hostnames = names.map(|n| n.names(dst_ip)).unwrap_or_default();
        if hostnames.iter().any(|h| agg.policy().allowed_name(h)) {
            continue;
        }
        let sources = sources_per_dst.get(p.dst as usize).copied().unwrap_or(1);
        let prev = Prevalence {
            sources,
            population,
            known,
            rare: known && sources <= cfg.rare_max_sources,
        };
        let ctx = PairContext {
            pair: p,
            hostnames: &hostnames,
            prev,
            src: agg.ip(p.src),
            dst: dst_ip,
        };
        let mut pair_alerts: Vec<FlowAlert> = Vec::new();

        let strobe = volume::strobe(p, strobe_threshold);
        let beacon = if strobe.is_none() {
            beacon::score(p, window, &beacon_params)
        } else {
            None
        };
        let beacon_score = beacon.as_ref().map_or(0.0, |b| b.score * prev.modifier());
        // Exfiltration over the C2 channel needs a C2 heartbeat: regular *small* connections. Regular large uploads
        // alone are a scheduled transfer (T1029), not a command channel.
        let c2_heartbeat = beacon
            .as_ref()
            .is_some_and(|b| b.evidence.median_bytes_out < volume::LARGE_CONNECTION_BYTES as f64)
            && beacon_score >= cfg.c2_link_score;
        if let Some(b) = beacon.filter(|_| beacon_score >= cfg.min_alert_score) {
            let techniques = attack::c2_channel(Services(p.services), &port_numbers(p));
            let e = &b.evidence;
            let summary = format!(
                "{} connection events every ~{} (jitter {:.0} %, {} missed beats), {:.0} % of the window covered",
                e.events,
                human_secs(e.period_s),
                e.jitter * 100.0,
                e.missed_beats,
                e.components
                    .get("coverage")
                    .map_or(0.0, |c| c.value * 100.0)
            );
            let mut ev = b.evidence;
            ev.components.insert(
                "prevalence".into(),
                crate::alert::Component {
                    value: prev.modifier(),
                    weight: 1.0,
                },
            );
            pair_alerts.push(ctx.alert(
                AlertKind::Beacon,
                beacon_score,
                &techniques,
                summary,
                Evidence::Beacon(ev),
            ));
        }
        if let Some((score, ev)) = strobe {
            let techniques = attack::c2_channel(Services(p.services), &port_numbers(p));
            let summary = format!(
                "{} connections ({:.0} per hour)",
                p.connections, ev.connections_per_hour
            );
            pair_alerts.push(ctx.alert(
                AlertKind::Strobe,
                score * prev.modifier(),
                &techniques,
                summary,
                Evidence::Strobe(ev),
            ));
        }
        if let Some((score, ev)) = volume::long_connection(p, cfg) {
            let techniques = attack::c2_channel(Services(p.services), &port_numbers(p));
            let summary = format!("longest connection {}", human_secs(ev.max_duration_s));
            pair_alerts.push(ctx.alert(
                AlertKind::LongConnection,
                score * prev.modifier(),
                &techniques,
                summary,
                Evidence::LongConnection(ev),
            ));
        }
        if let Some((score, ev)) = volume::bulk_outbound(p, cfg, &prev, c2_heartbeat) {
            let mut techniques = vec![if ev.over_c2_channel { "T1041" } else { "T1048" }];
            if ev.scheduled {
                techniques.push("T1029");
            }
            if ev.fixed_size_chunks {
                techniques.push("T1030");
            }
            let summary = format!(
                "{} sent, {:.0}× more than received, to a destination {}",
                human_bytes(p.bytes_out),
                ev.out_in_ratio,
                if prev.known {
                    "few internal hosts use"
                } else {
                    "of unknown prevalence"
                }
            );
            pair_alerts.push(ctx.alert(
                AlertKind::BulkOutbound,
                score,
                &techniques,
                summary,
                Evidence::BulkOutbound(ev),
            ));
        }
        if prev.rare && pair_alerts.is_empty() && (p.connections >= 20 || p.bytes_out >= 1_000_000)
        {
            // Volume lifts a rare destination from 0.4 to at most 0.55: context, not a verdict on its own.
            let volume = ((p.connections as f64).log10() / 4.0)
                .min(1.0)
                .max(((p.bytes_out as f64).log10() - 6.0) / 3.0);
            let score = 0.4 + 0.15 * volume.clamp(0.0, 1.0);
            let summary = format!(
                "contacted by {sources} of {population} internal hosts, {} connections",
                p.connections
            );
            pair_alerts.push(ctx.alert(
                AlertKind::RareDestination,
                score,
                &[],
                summary,
                Evidence::RareDestination(RareDestinationEvidence {
                    internal_sources: sources,
                    internal_population: population,
                }),
            ));
        }
        pair_alerts.retain(|a| a.score >= cfg.min_alert_score);
        let kinds: Vec<AlertKind> = pair_alerts.iter().map(|a| a.kind).collect();
        for mut a in pair_alerts {
            a.related = kinds.iter().copied().filter(|k| *k != a.kind).collect();
            alerts.push(a);
        }
    }
    rank(&mut alerts);
    alerts
}

/// Sort by score (then kind, source, destination for a stable order) and number the ranks.
pub fn rank(alerts: &mut [FlowAlert]) {
    alerts.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.kind.cmp(&b.kind))
            .then(a.source.cmp(&b.source))
            .then(a.destination.ip.cmp(&b.destination.ip))
    });
    for (i, a) in alerts.iter_mut().enumerate() {
        a.rank = u32::try_from(i + 1).unwrap_or(u32::MAX);
    }
}

struct PairContext<'a> {
    pair: &'a PairState,
    hostnames: &'a [String],
    prev: Prevalence,
    src: IpAddr,
    dst: IpAddr,
}

impl PairContext<'_> {
    fn alert(
        &self,
        kind: AlertKind,
        score: f64,
        techniques: &[&str],
        summary: String,
        evidence: Evidence,
    ) -> FlowAlert {
        let p = self.pair;
        let score = (score.clamp(0.0, 1.0) * 10_000.0).round() / 10_000.0;
        FlowAlert {
            schema_version: FLOW_ALERT_SCHEMA_VERSION,
            id: format!("{}:{}->{}", kind.finding_id(), self.src, self.dst),
            kind,
            finding_id: kind.finding_id().to_string(),
            rank: 0,
            score,
            severity: Severity::of(score),
            source: self.src,
            destination: Destination {
                ip: self.dst,
                hostnames: self.hostnames.to_vec(),
                ports: p
                    .ports
                    .ports()
                    .into_iter()
                    .map(|(port, proto, connections)| PortUse {
                        port,
                        proto: proto.as_str().into(),
                        connections,
                    })
                    .collect(),
                services: Services(p.services)
                    .names()
                    .into_iter()
                    .map(String::from)
                    .collect(),
                internal_sources: self.prev.sources,
            },
            attack: techniques
                .iter()
                .filter_map(|id| attack::technique(id))
                .collect::<Vec<Technique>>(),
            first_seen: rfc3339(p.first_ts),
            last_seen: rfc3339(p.last_ts),
            first_seen_ts: p.first_ts,
            last_seen_ts: p.last_ts,
            connections: p.connections,
            bytes_out: p.bytes_out,
            bytes_in: p.bytes_in,
            related: Vec::new(),
            summary,
            evidence,
        }
    }
}

fn port_numbers(p: &PairState) -> Vec<u16> {
    p.ports
        .ports()
        .into_iter()
        .map(|(port, _, _)| port)
        .collect()
}

/// `90 s`, `23.1 s`, `5.0 min`, `2.5 h`, `1.2 d`.
pub fn human_secs(s: f64) -> String {
    if s < 90.0 {
        format!("{s:.1} s")
    } else if s < 5400.0 {
        format!("{:.1} min", s / 60.0)
    } else if s < 172_800.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.1} d", s / 86_400.0)
    }
}

/// `512 B`, `1.5 MB`, `2.0 GB` (decimal units).
pub fn human_bytes(b: u64) -> String {
    let b = b as f64;
    if b < 1e3 {
        format!("{b:.0} B")
    } else if b < 1e6 {
        format!("{:.1} kB", b / 1e3)
    } else if b < 1e9 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.2} GB", b / 1e9)
    }
}
