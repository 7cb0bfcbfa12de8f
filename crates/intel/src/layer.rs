//! ATT&CK Navigator layers (layer format 4.5): the techniques observed in incidents — those recorded locally by the
//! playbooks and flow analytics, and the STIX `incident`s shared into the hub's collections — with the number of
//! incidents as the score and the incident names as the comment, so analysts see a heat-map of what hit them.

use std::collections::BTreeMap;

use mamori_store::Store;
use mamori_store::intel::{IntelQuery, VersionMatch, Visibility};
use serde_json::{Value, json};

use crate::IntelError;
use crate::stix;

/// Version of the layer format written.
pub const LAYER_FORMAT_VERSION: &str = "4.5";

/// Most incident names listed in one technique's comment.
const MAX_COMMENT_NAMES: usize = 5;

/// Observed techniques: id → incident names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// Technique → names of the incidents it was seen in.
    pub techniques: BTreeMap<String, Vec<String>>,
    /// Incidents counted.
    pub incidents: usize,
}

impl Observed {
    fn add(&mut self, name: &str, techniques: impl IntoIterator<Item = String>) {
        self.incidents += 1;
        for t in techniques {
            self.techniques
                .entry(t.to_ascii_uppercase())
                .or_default()
                .push(name.to_string());
        }
    }
}

/// Collects techniques of incidents since `since_us` (Unix microseconds), from organisation `org` when given
/// (local incidents: their `organisation`; shared ones: the posting account).
pub async fn observed(
    store: &Store,
    since_us: i64,
    org: Option<&str>,
) -> Result<Observed, IntelError> {
    let mut out = Observed::default();
    for incident in store.incidents_since(since_us / 1000, 1_000_000).await? {
        if org.is_some_and(|o| incident.incident.organisation.as_deref() != Some(o)) {
            continue;
        }
        out.add(
            &incident.incident.title,
            incident.incident.attack.iter().cloned(),
        );
    }
    for collection in store.intel_collections().await? {
        let mut query = IntelQuery {
            collection: collection.id.clone(),
            types: vec!["incident".into()],
            version: VersionMatch::Last,
            added_after_us: Some(since_us.saturating_sub(1)),
            limit: 1000,
            visibility: Visibility {
                org: None,
                restricted: true,
            },
            ..IntelQuery::default()
        };
        loop {
            let (objects, more) = store.intel_query(&query).await?;
            for object in &objects {
                if org.is_some_and(|o| object.object.org.as_deref() != Some(o)) {
                    continue;
                }
                let Ok(value) = serde_json::from_str::<Value>(&object.object.json) else {
                    continue;
                };
                let techniques: Vec<String> = value
                    .get("external_references")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter(|r| {
                        r.get("source_name").and_then(Value::as_str) == Some("mitre-attack")
                    })
                    .filter_map(|r| r.get("external_id").and_then(Value::as_str))
                    .filter(|id| id.starts_with('T'))
                    .map(str::to_string)
                    .collect();
                let name = value
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("incident");
                out.add(name, techniques);
            }
            match (more, objects.last()) {
                (true, Some(last)) => {
                    query.after = Some(mamori_store::intel::Cursor {
                        date_added_us: last.date_added_us,
                        id: last.object.id.clone(),
                        version_us: last.object.version_us,
                    });
                }
                _ => break,
            }
        }
    }
    Ok(out)
}

/// The Navigator layer for observed techniques.
pub fn layer(observed: &Observed, name: &str, description: &str, attack_version: &str) -> Value {
    let max = observed
        .techniques
        .values()
        .map(Vec::len)
        .max()
        .unwrap_or(0);
    let techniques: Vec<Value> = observed
        .techniques
        .iter()
        .map(|(id, names)| {
            let mut shown: Vec<&str> = names
                .iter()
                .map(String::as_str)
                .take(MAX_COMMENT_NAMES)
                .collect();
            shown.dedup();
            let more = names.len().saturating_sub(MAX_COMMENT_NAMES);
            let mut comment = format!(
                "{} incident{}: {}",
                names.len(),
                if names.len() == 1 { "" } else { "s" },
                shown.join("; ")
            );
            if more > 0 {
                comment.push_str(&format!("; … and {more} more"));
            }
            json!({
                "techniqueID": id,
                "score": names.len(),
                "comment": comment,
                "enabled": true,
                "showSubtechniques": true,
            })
        })
        .collect();
    json!({
        "name": name,
        "versions": {"attack": attack_version, "navigator": "5.1.0", "layer": LAYER_FORMAT_VERSION},
        "domain": "enterprise-attack",
        "description": description,
        "sorting": 3,
        "hideDisabled": false,
        "techniques": techniques,
        "gradient": {"colors": ["#fff7b3ff", "#ff6666ff"], "minValue": 0, "maxValue": max.max(1)},
        "legendItems": [],
        "metadata": [
            {"name": "generated_by", "value": "mamori intel layer"},
            {"name": "generated_at", "value": stix::format_timestamp_ms(stix::now_us())},
            {"name": "incidents", "value": observed.incidents.to_string()},
        ],
        "showTacticRowBackground": false,
        "selectTechniquesAcrossTactics": true,
        "selectSubtechniquesWithParent": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_store::incidents::{IncidentSource, NewIncident};

    #[tokio::test]
    async fn counts_local_and_shared_incidents() {
        for t in mamori_store::testing::backends().await {
            let s = &t.store;
            for (title, org) in [("one", Some("org1")), ("two", None)] {
                s.record_incident(&NewIncident {
                    source: IncidentSource::Mail,
                    title: title.into(),
                    class: "phishing".into(),
                    score: 9.0,
                    attack: vec!["T1566.001".into()],
                    indicators: json!({}),
                    evidence: json!({}),
                    source_ref: None,
                    organisation: org.map(str::to_string),
                })
                .await
                .unwrap();
            }
            let detection = crate::export::Detection {
                key: "k".into(),
                name: "shared".into(),
                description: None,
                first_seen_us: stix::now_us(),
                last_seen_us: stix::now_us(),
                count: 1,
                techniques: vec!["T1071".into()],
                observables: Default::default(),
                organisation: "Org Two".into(),
                tlp: stix::Tlp::Green,
            };
            let objects = crate::export::to_stix(&detection, &crate::attack::Knowledge::default());
            s.intel_put_collection(&mamori_store::intel::IntelCollection {
                id: "shared".into(),
                title: "Shared".into(),
                description: None,
            })
            .await
            .unwrap();
            crate::export::record(s, "shared", &objects, Some("org2"))
                .await
                .unwrap();
            let all = observed(s, 0, None).await.unwrap();
            assert_eq!(all.incidents, 3, "{}", t.name);
            assert_eq!(all.techniques["T1566.001"].len(), 2);
            assert_eq!(all.techniques["T1071"], vec!["shared"]);
            let only = observed(s, 0, Some("org1")).await.unwrap();
            assert_eq!(only.incidents, 1);
            let l = layer(&all, "test", "d", "18");
            assert_eq!(l["versions"]["layer"], "4.5");
            assert_eq!(l["techniques"][1]["score"], 2);
            assert!(
                l["techniques"][1]["comment"]
                    .as_str()
                    .unwrap()
                    .starts_with("2 incidents")
            );
        }
    }
}
