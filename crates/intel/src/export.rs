//! From detections to intelligence: an incident recorded by a playbook, a mail verdict or a flow alert becomes a
//! [`Detection`], and a detection becomes STIX 2.1 — the reporting organisation as an `identity`, the observables
//! as SCOs (deterministic ids) inside an `observed-data`, one `indicator` with a STIX pattern per observable, a
//! `sighting` of each indicator, `indicates` relationships to the ATT&CK `attack-pattern`s of the findings, and an
//! `incident` related to all of them. Every id is derived from the evidence (UUIDv5), so exporting the same
//! detection again yields the same objects.

use std::collections::BTreeSet;

use mamori_detect::Verdict;
use mamori_flows::alert::FlowAlert;
use mamori_store::Store;
use mamori_store::incidents::Incident;
use mamori_store::intel::{IntelQuery, PutSummary, VersionMatch, VersionPolicy, Visibility};
use serde_json::{Value, json};

use crate::IntelError;
use crate::attack::{Knowledge, to_row};
use crate::rank::Ranker;
use crate::stix::{self, Tlp};

/// Namespace of mamori's deterministic SDO/SRO ids (SCOs use the STIX namespace).
const MAMORI_NAMESPACE: uuid::Uuid = uuid::uuid!("b1a5e3c4-5d2f-4c8e-9a61-0d3f7e2a9c11");

/// An observable value worth an indicator.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Observable {
    /// A URL.
    Url(String),
    /// A domain or host name.
    Domain(String),
    /// An e-mail address.
    Email(String),
    /// An IPv4 address.
    Ipv4(String),
    /// An IPv6 address.
    Ipv6(String),
    /// A file by SHA-256 (lower-case hex).
    FileSha256(String),
}

fn quote(value: &str) -> String {
    value.replace('\\', "\\\\").replace('\'', "\\'")
}

impl Observable {
    /// An IP address observable of the right family, `None` when `text` is no address.
    pub fn ip(text: &str) -> Option<Observable> {
        match text.trim().parse::<std::net::IpAddr>().ok()? {
            std::net::IpAddr::V4(v4) => Some(Observable::Ipv4(v4.to_string())),
            std::net::IpAddr::V6(v6) => Some(Observable::Ipv6(v6.to_string())),
        }
    }

    /// STIX cyber-observable type.
    pub fn sco_type(&self) -> &'static str {
        match self {
            Observable::Url(_) => "url",
            Observable::Domain(_) => "domain-name",
            Observable::Email(_) => "email-addr",
            Observable::Ipv4(_) => "ipv4-addr",
            Observable::Ipv6(_) => "ipv6-addr",
            Observable::FileSha256(_) => "file",
        }
    }

    /// The value as written.
    pub fn value(&self) -> &str {
        match self {
            Observable::Url(v)
            | Observable::Domain(v)
            | Observable::Email(v)
            | Observable::Ipv4(v)
            | Observable::Ipv6(v)
            | Observable::FileSha256(v) => v,
        }
    }

    /// STIX pattern matching the observable.
    pub fn pattern(&self) -> String {
        match self {
            Observable::FileSha256(h) => format!("[file:hashes.'SHA-256' = '{}']", quote(h)),
            other => format!("[{}:value = '{}']", other.sco_type(), quote(other.value())),
        }
    }

    /// The SCO (with its deterministic id).
    pub fn sco(&self) -> Value {
        let mut properties = match self {
            Observable::FileSha256(h) => json!({"hashes": {"SHA-256": h}}),
            other => json!({"value": other.value()}),
        };
        let id = stix::sco_id(self.sco_type(), &properties)
            .unwrap_or_else(|| format!("{}--{}", self.sco_type(), uuid::Uuid::new_v4()));
        if let Some(map) = properties.as_object_mut() {
            map.insert("type".into(), json!(self.sco_type()));
            map.insert("spec_version".into(), json!(stix::SPEC_VERSION));
            map.insert("id".into(), json!(id));
        }
        properties
    }

    fn label(&self) -> &'static str {
        match self {
            Observable::Url(_) => "URL",
            Observable::Domain(_) => "domain",
            Observable::Email(_) => "e-mail address",
            Observable::Ipv4(_) | Observable::Ipv6(_) => "IP address",
            Observable::FileSha256(_) => "file",
        }
    }
}

/// A detection in the terms the hub shares.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// Stable reference of the evidence (`incident:<id>`, `flow:<alert id>@<first seen>`, `mail:<sha256>`).
    pub key: String,
    /// One-line name.
    pub name: String,
    /// Longer description.
    pub description: Option<String>,
    /// First observation, Unix microseconds.
    pub first_seen_us: i64,
    /// Last observation, Unix microseconds.
    pub last_seen_us: i64,
    /// Times observed.
    pub count: u64,
    /// ATT&CK technique ids.
    pub techniques: Vec<String>,
    /// Observables.
    pub observables: BTreeSet<Observable>,
    /// Reporting organisation (name of its identity).
    pub organisation: String,
    /// Sharing level.
    pub tlp: Tlp,
}

fn observables_from_json(indicators: &Value, out: &mut BTreeSet<Observable>) {
    // Mail `Indicators`: {senders, domains, urls, ips, files: [{sha256}]}.
    if let Some(map) = indicators.as_object() {
        let list = |key: &str| {
            map.get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        out.extend(list("senders").into_iter().map(Observable::Email));
        out.extend(list("domains").into_iter().map(Observable::Domain));
        out.extend(list("urls").into_iter().map(Observable::Url));
        out.extend(list("ips").iter().filter_map(|ip| Observable::ip(ip)));
        out.extend(
            map.get("files")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|f| f.get("sha256").and_then(Value::as_str))
                .map(|h| Observable::FileSha256(h.to_ascii_lowercase())),
        );
    }
    // Flow indicators: [{observable_type, value, stix_pattern}].
    for item in indicators.as_array().into_iter().flatten() {
        let (Some(kind), Some(value)) = (
            item.get("observable_type").and_then(Value::as_str),
            item.get("value").and_then(Value::as_str),
        ) else {
            continue;
        };
        match kind {
            "ipv4-addr" | "ipv6-addr" => out.extend(Observable::ip(value)),
            "domain-name" => {
                out.insert(Observable::Domain(value.to_string()));
            }
            "url" => {
                out.insert(Observable::Url(value.to_string()));
            }
            "email-addr" => {
                out.insert(Observable::Email(value.to_string()));
            }
            _ => {}
        }
    }
}

impl Detection {
    /// From an incident recorded in the store.
    pub fn from_incident(incident: &Incident, default_org: &str, tlp: Tlp) -> Detection {
        let mut observables = BTreeSet::new();
        observables_from_json(&incident.incident.indicators, &mut observables);
        let at = incident.created_at.saturating_mul(1000);
        Detection {
            key: format!("incident:{}", incident.id),
            name: incident.incident.title.clone(),
            description: Some(format!(
                "{} incident, class {}, score {}",
                match incident.incident.source {
                    mamori_store::incidents::IncidentSource::Mail => "mail",
                    mamori_store::incidents::IncidentSource::Flow => "flow",
                    mamori_store::incidents::IncidentSource::Manual => "manual",
                },
                incident.incident.class,
                incident.incident.score
            )),
            first_seen_us: at,
            last_seen_us: at,
            count: 1,
            techniques: incident.incident.attack.clone(),
            observables,
            organisation: incident
                .incident
                .organisation
                .clone()
                .unwrap_or_else(|| default_org.to_string()),
            tlp,
        }
    }

    /// From a mail verdict (`at_us`: when the message was seen).
    pub fn from_verdict(verdict: &Verdict, at_us: i64, organisation: &str, tlp: Tlp) -> Detection {
        let mut observables = BTreeSet::new();
        if let Ok(indicators) = serde_json::to_value(&verdict.indicators) {
            observables_from_json(&indicators, &mut observables);
        }
        let subject = verdict.message.subject.as_deref().unwrap_or("(no subject)");
        Detection {
            key: format!("mail:{}", verdict.message.sha256),
            name: format!("{} mail: {subject}", verdict.class.as_str()),
            description: Some(
                verdict
                    .findings
                    .iter()
                    .filter(|f| f.weight > 0.0)
                    .map(|f| f.title.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            first_seen_us: at_us,
            last_seen_us: at_us,
            count: 1,
            techniques: verdict.attack.clone(),
            observables,
            organisation: organisation.to_string(),
            tlp,
        }
    }

    /// From a flow alert.
    pub fn from_flow_alert(alert: &FlowAlert, organisation: &str, tlp: Tlp) -> Detection {
        let mut observables = BTreeSet::new();
        for indicator in alert.indicators() {
            match indicator.observable_type.as_str() {
                "domain-name" => {
                    observables.insert(Observable::Domain(indicator.value));
                }
                _ => observables.extend(Observable::ip(&indicator.value)),
            }
        }
        let to_us = |s: f64| {
            if s.is_finite() && s > 0.0 {
                (s * 1e6) as i64
            } else {
                0
            }
        };
        Detection {
            key: format!("flow:{}@{}", alert.id, alert.first_seen),
            name: format!(
                "{} {} -> {}",
                alert.kind.label(),
                alert.source,
                alert.destination.ip
            ),
            description: Some(alert.summary.clone()),
            first_seen_us: to_us(alert.first_seen_ts),
            last_seen_us: to_us(alert.last_seen_ts).max(to_us(alert.first_seen_ts)),
            count: alert.connections.max(1),
            techniques: alert
                .technique_ids()
                .into_iter()
                .map(str::to_string)
                .collect(),
            observables,
            organisation: organisation.to_string(),
            tlp,
        }
    }
}

fn derived_id(object_type: &str, parts: &[&str]) -> String {
    let name = parts.join("\u{1f}");
    format!(
        "{object_type}--{}",
        uuid::Uuid::new_v5(
            &MAMORI_NAMESPACE,
            format!("{object_type}\u{1f}{name}").as_bytes()
        )
    )
}

/// The identity object of an organisation.
pub fn identity(organisation: &str) -> Value {
    json!({
        "type": "identity",
        "spec_version": stix::SPEC_VERSION,
        "id": derived_id("identity", &[organisation]),
        "created": "2020-01-01T00:00:00.000Z",
        "modified": "2020-01-01T00:00:00.000Z",
        "name": organisation,
        "identity_class": "organization",
    })
}

/// Candidate groups attached to an incident (`x_mamori_attribution` and the attribution `note`).
pub const ATTRIBUTION_TOP: usize = 5;

/// STIX objects for a detection. Techniques missing from `knowledge` get no relationship (the incident still names
/// them in its `external_references`). The incident carries the attribution ranking of its techniques; build the
/// [`Ranker`] once and use [`to_stix_with`] when exporting many detections.
pub fn to_stix(detection: &Detection, knowledge: &Knowledge) -> Vec<Value> {
    let ranker = Ranker::new(knowledge);
    to_stix_with(detection, knowledge, Some(&ranker))
}

/// The ranking of a detection's techniques as the `x_mamori_attribution` custom property (STIX 2.1 §11.1: custom
/// properties are `x_`-prefixed and ignored by consumers that do not know them) and a human-readable `note` on the
/// incident; `None` when nothing resembles it. Scores are similarities, never a claim: the method says so.
fn attribution(
    detection: &Detection,
    knowledge: &Knowledge,
    ranker: &Ranker,
    incident_id: &str,
    org_id: &str,
    created: &str,
    marking: &Value,
) -> Option<(Value, Value)> {
    let techniques: Vec<String> = detection
        .techniques
        .iter()
        .map(|t| t.trim().to_ascii_uppercase())
        .collect();
    let candidates = ranker.rank(&techniques, &[], ATTRIBUTION_TOP);
    if candidates.is_empty() {
        return None;
    }
    let listed: Vec<Value> = candidates
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut entry = json!({
                "rank": i + 1,
                "attack_id": c.group,
                "name": c.name,
                "aliases": c.aliases,
                "similarity": c.similarity,
                "shared_techniques": c.shared_techniques,
                "group_technique_count": c.group_techniques,
            });
            if let Some(group) = knowledge.groups.get(&c.group) {
                entry["intrusion_set_ref"] = json!(group.stix_id);
            }
            entry
        })
        .collect();
    let property = json!({
        "method": "cosine similarity of TF-IDF weighted ATT&CK technique profiles (mamori intel rank); a resemblance, not an attribution",
        "observed_techniques": techniques,
        "candidates": listed,
    });
    let lines: Vec<String> = candidates
        .iter()
        .enumerate()
        .map(|(i, c)| {
            format!(
                "{}. {} {}{} — similarity {:.3}; shared techniques: {} (of {} known for the group)",
                i + 1,
                c.group,
                c.name,
                if c.aliases.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", c.aliases.join(", "))
                },
                c.similarity,
                c.shared_techniques.join(", "),
                c.group_techniques
            )
        })
        .collect();
    let mut refs = vec![json!(incident_id)];
    refs.extend(
        candidates
            .iter()
            .filter_map(|c| knowledge.groups.get(&c.group))
            .map(|g| json!(g.stix_id)),
    );
    let note = json!({
        "type": "note",
        "spec_version": stix::SPEC_VERSION,
        "id": derived_id("note", &[incident_id, "attribution"]),
        "created": created, "modified": created,
        "created_by_ref": org_id,
        "abstract": format!(
            "Attribution assist: techniques resemble {} {} (similarity {:.3})",
            candidates[0].group, candidates[0].name, candidates[0].similarity
        ),
        "content": format!(
            "Known ATT&CK groups whose technique profiles resemble this incident's ({}), best first. Public \
             profiles are incomplete and groups share tooling: this is evidence for an analyst, not an attribution.\n{}",
            techniques.join(", "),
            lines.join("\n")
        ),
        "authors": ["mamori"],
        "object_refs": refs,
        "object_marking_refs": marking,
    });
    Some((property, note))
}

/// [`to_stix`] with a prepared ranker (`None`: no attribution).
pub fn to_stix_with(
    detection: &Detection,
    knowledge: &Knowledge,
    ranker: Option<&Ranker>,
) -> Vec<Value> {
    let org = identity(&detection.organisation);
    let org_id = org["id"].as_str().unwrap_or_default().to_string();
    let created = stix::format_timestamp_ms(detection.first_seen_us);
    let first_seen = created.clone();
    let last_seen = stix::format_timestamp_ms(detection.last_seen_us.max(detection.first_seen_us));
    let marking = json!([detection.tlp.marking_id()]);
    let mut objects = vec![org, detection.tlp.marking_definition()];
    let incident_id = derived_id("incident", &[&detection.key]);
    let mut related = Vec::new();

    let techniques: Vec<&crate::attack::Technique> = detection
        .techniques
        .iter()
        .filter_map(|t| knowledge.techniques.get(&t.to_ascii_uppercase()))
        .collect();

    let scos: Vec<Value> = detection.observables.iter().map(Observable::sco).collect();
    let observed_id = derived_id("observed-data", &[&detection.key]);
    if !scos.is_empty() {
        objects.push(json!({
            "type": "observed-data",
            "spec_version": stix::SPEC_VERSION,
            "id": observed_id,
            "created": created, "modified": created,
            "created_by_ref": org_id,
            "first_observed": first_seen, "last_observed": last_seen,
            "number_observed": detection.count.max(1),
            "object_refs": scos.iter().map(|s| s["id"].clone()).collect::<Vec<_>>(),
            "object_marking_refs": marking,
        }));
        related.push(observed_id.clone());
    }
    for (observable, sco) in detection.observables.iter().zip(&scos) {
        let pattern = observable.pattern();
        let indicator_id = derived_id("indicator", &[&detection.organisation, &pattern]);
        objects.push(json!({
            "type": "indicator",
            "spec_version": stix::SPEC_VERSION,
            "id": indicator_id,
            "created": created, "modified": created,
            "created_by_ref": org_id,
            "name": format!("{} seen in: {}", observable.label(), detection.name),
            "indicator_types": ["malicious-activity"],
            "pattern": pattern,
            "pattern_type": "stix",
            "valid_from": created,
            "object_marking_refs": marking,
        }));
        objects.push(json!({
            "type": "sighting",
            "spec_version": stix::SPEC_VERSION,
            "id": derived_id("sighting", &[&detection.key, &indicator_id]),
            "created": created, "modified": created,
            "created_by_ref": org_id,
            "sighting_of_ref": indicator_id,
            "first_seen": first_seen, "last_seen": last_seen,
            "count": detection.count.clamp(1, 999_999_999),
            "observed_data_refs": [observed_id],
            "where_sighted_refs": [org_id],
            "object_marking_refs": marking,
        }));
        for technique in &techniques {
            objects.push(json!({
                "type": "relationship",
                "spec_version": stix::SPEC_VERSION,
                "id": derived_id("relationship", &[&indicator_id, "indicates", &technique.stix_id]),
                "created": created, "modified": created,
                "created_by_ref": org_id,
                "relationship_type": "indicates",
                "source_ref": indicator_id,
                "target_ref": technique.stix_id,
                "object_marking_refs": marking,
            }));
        }
        related.push(indicator_id);
        objects.push(sco.clone());
    }
    for technique in &techniques {
        related.push(technique.stix_id.clone());
    }
    for target in related {
        objects.push(json!({
            "type": "relationship",
            "spec_version": stix::SPEC_VERSION,
            "id": derived_id("relationship", &[&incident_id, "related-to", &target]),
            "created": created, "modified": created,
            "created_by_ref": org_id,
            "relationship_type": "related-to",
            "source_ref": incident_id,
            "target_ref": target,
            "object_marking_refs": marking,
        }));
    }
    let kill_chain: Vec<Value> = techniques
        .iter()
        .flat_map(|t| t.tactics.iter())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|tactic| json!({"kill_chain_name": "mitre-attack", "phase_name": tactic}))
        .collect();
    let mut external = vec![json!({"source_name": "mamori", "external_id": detection.key})];
    for t in &detection.techniques {
        external.push(json!({"source_name": "mitre-attack", "external_id": t}));
    }
    let mut incident = json!({
        "type": "incident",
        "spec_version": stix::SPEC_VERSION,
        "id": incident_id,
        "created": created, "modified": created,
        "created_by_ref": org_id,
        "name": detection.name,
        "external_references": external,
        "object_marking_refs": marking,
    });
    if let Some(description) = detection.description.as_deref().filter(|d| !d.is_empty()) {
        incident["description"] = json!(description);
    }
    if !kill_chain.is_empty() {
        incident["kill_chain_phases"] = json!(kill_chain);
    }
    let ranked = ranker.and_then(|r| {
        attribution(
            detection,
            knowledge,
            r,
            &incident_id,
            &org_id,
            &created,
            &marking,
        )
    });
    if let Some((property, note)) = ranked {
        incident["x_mamori_attribution"] = property;
        objects.push(incident);
        objects.push(note);
    } else {
        objects.push(incident);
    }
    objects
}

/// Writes objects into a collection as `org`, validating each; objects whose id is already in the collection are
/// left as they are (the first export of an indicator or identity wins), so re-exporting changes nothing.
pub async fn record(
    store: &Store,
    collection: &str,
    objects: &[Value],
    org: Option<&str>,
) -> Result<PutSummary, IntelError> {
    let ids: Vec<String> = objects
        .iter()
        .filter_map(|o| o.get("id").and_then(Value::as_str).map(str::to_string))
        .collect();
    let mut existing = BTreeSet::new();
    for chunk in ids.chunks(200) {
        let (found, _) = store
            .intel_query(&IntelQuery {
                collection: collection.to_string(),
                ids: chunk.to_vec(),
                version: VersionMatch::All,
                limit: 100_000,
                visibility: Visibility {
                    org: None,
                    restricted: true,
                },
                ..IntelQuery::default()
            })
            .await?;
        existing.extend(found.into_iter().map(|o| o.object.id));
    }
    let now = stix::now_us();
    let mut rows = Vec::new();
    let mut summary = PutSummary::default();
    for object in objects {
        let meta = stix::validate(object)?;
        if existing.contains(&meta.id) {
            summary.unchanged += 1;
            continue;
        }
        existing.insert(meta.id.clone());
        rows.push(to_row(object, &meta, org, now)?);
    }
    let put = store
        .intel_put_objects(collection, &rows, VersionPolicy::KeepAll, now)
        .await?;
    summary.added = put.added;
    summary.unchanged += put.unchanged;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attack::tests::tiny_bundle;

    fn detection() -> Detection {
        Detection {
            key: "incident:1".into(),
            name: "phishing mail: invoice".into(),
            description: Some("test".into()),
            first_seen_us: 1_700_000_000_000_000,
            last_seen_us: 1_700_000_100_000_000,
            count: 2,
            techniques: vec!["T1566.001".into(), "T0000".into()],
            observables: [
                Observable::Url("http://evil.example/a'b".into()),
                Observable::Domain("evil.example".into()),
                Observable::Email("x@evil.example".into()),
                Observable::Ipv4("192.0.2.1".into()),
                Observable::Ipv6("2001:db8::1".into()),
                Observable::FileSha256("a".repeat(64)),
            ]
            .into_iter()
            .collect(),
            organisation: "Org One".into(),
            tlp: Tlp::Amber,
        }
    }

    fn knowledge() -> Knowledge {
        Knowledge::from_objects(
            tiny_bundle("2021-01-01T00:00:00.000Z")["objects"]
                .as_array()
                .unwrap(),
        )
    }

    #[test]
    fn every_object_is_valid_and_ids_are_stable() {
        let objects = to_stix(&detection(), &knowledge());
        for object in &objects {
            stix::validate(object).unwrap_or_else(|e| panic!("{object}: {e}"));
        }
        let count = |t: &str| objects.iter().filter(|o| o["type"] == t).count();
        assert_eq!(count("indicator"), 6);
        assert_eq!(count("sighting"), 6);
        assert_eq!(count("incident"), 1);
        assert_eq!(count("identity"), 1);
        assert_eq!(count("observed-data"), 1);
        // 6 indicates + incident related-to (observed-data + 6 indicators + 1 technique)
        assert_eq!(count("relationship"), 6 + 8);
        // The incident carries the ranking of its techniques, with the shared techniques as evidence.
        let incident = objects.iter().find(|o| o["type"] == "incident").unwrap();
        let ranking = &incident["x_mamori_attribution"];
        assert_eq!(
            ranking["observed_techniques"],
            json!(["T1566.001", "T0000"])
        );
        let first = &ranking["candidates"][0];
        assert_eq!(first["attack_id"], "G0060", "{ranking}");
        assert_eq!(first["shared_techniques"], json!(["T1566.001"]));
        assert_eq!(
            first["intrusion_set_ref"],
            "intrusion-set--00000000-0000-4000-8000-000000000010"
        );
        assert!(first["similarity"].as_f64().unwrap() > 0.0);
        assert_eq!(count("note"), 1);
        let note = objects.iter().find(|o| o["type"] == "note").unwrap();
        assert_eq!(note["object_refs"][0], incident["id"]);
        assert!(note["content"].as_str().unwrap().contains("BRONZE BUTLER"));
        // Without a ranker (or without groups) there is no attribution.
        let plain = to_stix_with(&detection(), &knowledge(), None);
        assert!(
            plain
                .iter()
                .all(|o| o.get("x_mamori_attribution").is_none())
        );
        assert!(plain.iter().all(|o| o["type"] != "note"));
        let again = to_stix(&detection(), &knowledge());
        assert_eq!(objects, again);
        let ip = objects.iter().find(|o| o["type"] == "ipv4-addr").unwrap();
        assert_eq!(
            ip["id"],
            stix::sco_id("ipv4-addr", &json!({"value": "192.0.2.1"})).unwrap()
        );
        let url = objects
            .iter()
            .find(|o| {
                o["type"] == "indicator" && o["pattern"].as_str().unwrap().starts_with("[url")
            })
            .unwrap();
        assert_eq!(url["pattern"], "[url:value = 'http://evil.example/a\\'b']");
    }

    #[test]
    fn observables_from_mail_and_flow_indicator_json() {
        let mut out = BTreeSet::new();
        observables_from_json(
            &json!({"senders": ["a@b.example"], "domains": ["b.example"], "urls": ["http://b.example/"],
                    "ips": ["192.0.2.9", "not-an-ip"], "files": [{"sha256": "AB", "size": 1}]}),
            &mut out,
        );
        observables_from_json(
            &json!([{"observable_type": "ipv6-addr", "value": "2001:db8::2", "stix_pattern": "x"}]),
            &mut out,
        );
        assert_eq!(out.len(), 6);
        assert!(out.contains(&Observable::FileSha256("ab".into())));
        assert!(out.contains(&Observable::Ipv6("2001:db8::2".into())));
    }

    #[tokio::test]
    async fn recording_twice_adds_nothing() {
        for t in mamori_store::testing::backends().await {
            let objects = to_stix(&detection(), &knowledge());
            let first = record(&t.store, "c1", &objects, Some("org1"))
                .await
                .unwrap();
            assert_eq!(first.added as usize, objects.len(), "{}", t.name);
            let second = record(&t.store, "c1", &objects, Some("org1"))
                .await
                .unwrap();
            assert_eq!(second.added, 0);
        }
    }
}
