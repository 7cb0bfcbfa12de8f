//! MITRE ATT&CK: importing the Enterprise STIX 2.1 bundle into the store (newest version of each object only, so a
//! re-import of a newer release updates in place), and the in-memory [`Knowledge`] built from it — techniques and
//! sub-techniques with their tactics, intrusion sets with aliases, software, and the `uses` relationships between
//! them. Revoked and deprecated objects are kept in the store but left out of the knowledge used for ranking.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use mamori_store::Store;
use mamori_store::intel::{IntelCollection, NewIntelObject, VersionPolicy};
use rustc_hash::FxHashMap;
use serde_json::Value;

use crate::IntelError;
use crate::stix;

/// Collection the ATT&CK objects are kept in (MITRE's own id of the Enterprise ATT&CK TAXII collection).
pub const ATTACK_COLLECTION: &str = "95ecc380-afe9-11e4-9b6c-751b66dd541e";

/// Largest bundle accepted by default (the 18.1 bundle is 35 MB).
pub const DEFAULT_MAX_BUNDLE_BYTES: u64 = 512 * 1024 * 1024;

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Objects in the bundle.
    pub objects: u64,
    /// New object versions written.
    pub added: u64,
    /// Objects already present in the same version.
    pub unchanged: u64,
    /// Older versions replaced by newer ones.
    pub replaced: u64,
    /// Objects older than what the store has (not written).
    pub stale: u64,
    /// Objects that failed validation: (id or index, reason). Up to 100 are listed.
    pub rejected: Vec<(String, String)>,
    /// Number of rejected objects.
    pub rejected_count: u64,
    /// Techniques and sub-techniques in the knowledge base afterwards (not revoked or deprecated).
    pub techniques: usize,
    /// Intrusion sets afterwards.
    pub groups: usize,
    /// Software (malware and tools) afterwards.
    pub software: usize,
    /// `x_mitre_version` of the collection object, when present.
    pub attack_version: Option<String>,
    /// Wall time: reading and parsing.
    pub parse_time: Duration,
    /// Wall time: validating and writing.
    pub store_time: Duration,
}

/// Reads a STIX bundle file, gzip-compressed or not (detected from the content), refusing files larger than
/// `max_bytes` (compressed or uncompressed).
pub fn read_bundle(path: &Path, max_bytes: u64) -> Result<Value, IntelError> {
    let io = |source| IntelError::Io {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut head = Vec::new();
    file.take(2).read_to_end(&mut head).map_err(io)?;
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    if head == [0x1f, 0x8b] {
        flate2::read::MultiGzDecoder::new(file)
            .take(max_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
    } else {
        file.take(max_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
    }
    if bytes.len() as u64 > max_bytes {
        return Err(IntelError::Limit(format!(
            "{} is larger than {max_bytes} bytes",
            path.display()
        )));
    }
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| IntelError::Malformed(format!("{} is not JSON: {e}", path.display())))?;
    if value.get("type").and_then(Value::as_str) != Some("bundle") {
        return Err(IntelError::Malformed(format!(
            "{} is not a STIX bundle (type is not \"bundle\")",
            path.display()
        )));
    }
    Ok(value)
}

/// Turns a validated object into a store row; objects without `modified`/`created` get `fallback_us` as version.
pub fn to_row(
    value: &Value,
    meta: &stix::ObjectMeta,
    org: Option<&str>,
    fallback_us: i64,
) -> Result<NewIntelObject, IntelError> {
    let version_us = meta.version_us.unwrap_or(fallback_us);
    Ok(NewIntelObject {
        id: meta.id.clone(),
        object_type: meta.object_type.clone(),
        spec_version: meta.spec_version.clone(),
        version: meta
            .version
            .clone()
            .unwrap_or_else(|| stix::format_timestamp_us(version_us)),
        version_us,
        org: org.map(str::to_string),
        tlp: meta.tlp.map(|t| t.as_str().to_string()),
        revoked: meta.revoked,
        deprecated: meta.deprecated,
        json: serde_json::to_string(value).map_err(|e| IntelError::Malformed(e.to_string()))?,
    })
}

/// Imports an ATT&CK bundle file into [`ATTACK_COLLECTION`].
pub async fn import_file(store: &Store, path: &Path) -> Result<ImportReport, IntelError> {
    let start = Instant::now();
    let bundle = read_bundle(path, DEFAULT_MAX_BUNDLE_BYTES)?;
    let parse_time = start.elapsed();
    let mut report = import_bundle(store, &bundle).await?;
    report.parse_time = parse_time;
    Ok(report)
}

/// Imports a parsed ATT&CK bundle into [`ATTACK_COLLECTION`].
pub async fn import_bundle(store: &Store, bundle: &Value) -> Result<ImportReport, IntelError> {
    let start = Instant::now();
    let objects = bundle
        .get("objects")
        .and_then(Value::as_array)
        .ok_or_else(|| IntelError::Malformed("bundle has no objects list".into()))?;
    let mut report = ImportReport {
        objects: objects.len() as u64,
        ..ImportReport::default()
    };
    let now = stix::now_us();
    let mut rows = Vec::with_capacity(objects.len());
    let mut accepted: Vec<&Value> = Vec::with_capacity(objects.len());
    for (index, object) in objects.iter().enumerate() {
        // ATT&CK's malware objects omit `is_family` (required by STIX 2.1); MITRE's data is trusted reference
        // data, so they are checked as families and stored as published.
        let checked = if object.get("type").and_then(Value::as_str) == Some("malware")
            && object.get("is_family").is_none()
        {
            let mut copy = object.clone();
            copy["is_family"] = Value::Bool(true);
            stix::validate(&copy)
        } else {
            stix::validate(object)
        };
        match checked {
            Ok(meta) => {
                if meta.object_type == "x-mitre-collection" {
                    report.attack_version = object
                        .get("x_mitre_version")
                        .and_then(Value::as_str)
                        .map(str::to_string);
                }
                rows.push(to_row(object, &meta, None, now)?);
                accepted.push(object);
            }
            Err(e) => {
                report.rejected_count += 1;
                if report.rejected.len() < 100 {
                    report
                        .rejected
                        .push((e.id.unwrap_or_else(|| format!("#{index}")), e.message));
                }
            }
        }
    }
    store
        .intel_put_collection(&IntelCollection {
            id: ATTACK_COLLECTION.into(),
            title: "Enterprise ATT&CK".into(),
            description: Some(
                "MITRE ATT&CK Enterprise, imported with mamori intel import-attack".into(),
            ),
        })
        .await?;
    let put = store
        .intel_put_objects(ATTACK_COLLECTION, &rows, VersionPolicy::NewestOnly, now)
        .await?;
    report.added = put.added;
    report.unchanged = put.unchanged;
    report.replaced = put.replaced;
    report.stale = put.stale;
    report.store_time = start.elapsed();
    // When the collection now holds exactly this bundle's versions (nothing newer kept, nothing left over from an
    // older release), the knowledge comes from the objects in memory instead of re-reading and re-parsing them.
    let exact = put.stale == 0
        && store.intel_count(Some(ATTACK_COLLECTION)).await? as u64 == put.added + put.unchanged;
    let knowledge = if exact {
        Knowledge::from_refs(&accepted)
    } else {
        Knowledge::load(store).await?
    };
    report.techniques = knowledge.techniques.len();
    report.groups = knowledge.groups.len();
    report.software = knowledge.software.len();
    Ok(report)
}

/// A technique or sub-technique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Technique {
    /// STIX id of the attack-pattern.
    pub stix_id: String,
    /// ATT&CK id (`T1566.001`).
    pub attack_id: String,
    /// Name.
    pub name: String,
    /// Tactics (kill-chain phase names, e.g. `initial-access`).
    pub tactics: Vec<String>,
    /// Parent technique id for sub-techniques.
    pub parent: Option<String>,
}

/// An intrusion set (ATT&CK group) or a piece of software.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// STIX id.
    pub stix_id: String,
    /// ATT&CK id (`G0060`, `S0002`).
    pub attack_id: String,
    /// Name.
    pub name: String,
    /// Other names (aliases, x_mitre_aliases), without the name itself.
    pub aliases: Vec<String>,
    /// Techniques used (ATT&CK ids).
    pub techniques: BTreeSet<String>,
    /// Software used (ATT&CK ids; groups only).
    pub software: BTreeSet<String>,
}

/// The ATT&CK knowledge the hub works with, from the newest imported objects that are neither revoked nor
/// deprecated.
#[derive(Debug, Clone, Default)]
pub struct Knowledge {
    /// Techniques by ATT&CK id.
    pub techniques: BTreeMap<String, Technique>,
    /// Groups by ATT&CK id.
    pub groups: BTreeMap<String, Actor>,
    /// Software by ATT&CK id.
    pub software: BTreeMap<String, Actor>,
}

fn attack_id(object: &Value) -> Option<String> {
    object
        .get("external_references")?
        .as_array()?
        .iter()
        .find(|r| r.get("source_name").and_then(Value::as_str) == Some("mitre-attack"))?
        .get("external_id")?
        .as_str()
        .map(str::to_string)
}

fn active(object: &Value) -> bool {
    object.get("revoked").and_then(Value::as_bool) != Some(true)
        && object.get("x_mitre_deprecated").and_then(Value::as_bool) != Some(true)
}

fn strings(object: &Value, property: &str) -> Vec<String> {
    object
        .get(property)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

impl Knowledge {
    /// Loads the knowledge from the store (empty when ATT&CK was never imported).
    pub async fn load(store: &Store) -> Result<Knowledge, IntelError> {
        let texts = store
            .intel_latest_of_types(
                ATTACK_COLLECTION,
                &[
                    "attack-pattern",
                    "intrusion-set",
                    "malware",
                    "tool",
                    "relationship",
                ],
            )
            .await?;
        let mut objects = Vec::with_capacity(texts.len());
        for text in texts {
            objects.push(
                serde_json::from_str::<Value>(&text)
                    .map_err(|e| IntelError::Malformed(format!("stored object: {e}")))?,
            );
        }
        Ok(Knowledge::from_objects(&objects))
    }

    /// Builds the knowledge from ATT&CK objects.
    pub fn from_objects(objects: &[Value]) -> Knowledge {
        Knowledge::from_refs(&objects.iter().collect::<Vec<_>>())
    }

    /// Builds the knowledge from borrowed ATT&CK objects.
    pub fn from_refs(objects: &[&Value]) -> Knowledge {
        let mut knowledge = Knowledge::default();
        // STIX id → (kind, ATT&CK id) of every active object, to resolve relationships.
        let mut by_stix: FxHashMap<&str, (u8, String)> = FxHashMap::default();
        for &object in objects {
            if !active(object) {
                continue;
            }
            let (Some(object_type), Some(stix_id), Some(id)) = (
                object.get("type").and_then(Value::as_str),
                object.get("id").and_then(Value::as_str),
                attack_id(object),
            ) else {
                continue;
            };
            let name = object
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            match object_type {
                "attack-pattern" => {
                    let tactics = object
                        .get("kill_chain_phases")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter(|p| {
                            p.get("kill_chain_name").and_then(Value::as_str) == Some("mitre-attack")
                        })
                        .filter_map(|p| p.get("phase_name").and_then(Value::as_str))
                        .map(str::to_string)
                        .collect();
                    let parent = id.split_once('.').map(|(p, _)| p.to_string());
                    by_stix.insert(stix_id, (0, id.clone()));
                    knowledge.techniques.insert(
                        id.clone(),
                        Technique {
                            stix_id: stix_id.to_string(),
                            attack_id: id,
                            name,
                            tactics,
                            parent,
                        },
                    );
                }
                "intrusion-set" | "malware" | "tool" => {
                    let mut aliases = strings(object, "aliases");
                    aliases.extend(strings(object, "x_mitre_aliases"));
                    aliases.retain(|a| a != &name);
                    aliases.dedup();
                    let actor = Actor {
                        stix_id: stix_id.to_string(),
                        attack_id: id.clone(),
                        name,
                        aliases,
                        techniques: BTreeSet::new(),
                        software: BTreeSet::new(),
                    };
                    if object_type == "intrusion-set" {
                        by_stix.insert(stix_id, (1, id.clone()));
                        knowledge.groups.insert(id, actor);
                    } else {
                        by_stix.insert(stix_id, (2, id.clone()));
                        knowledge.software.insert(id, actor);
                    }
                }
                _ => {}
            }
        }
        for &object in objects {
            if object.get("type").and_then(Value::as_str) != Some("relationship")
                || object.get("relationship_type").and_then(Value::as_str) != Some("uses")
                || !active(object)
            {
                continue;
            }
            let (Some(source), Some(target)) = (
                object.get("source_ref").and_then(Value::as_str),
                object.get("target_ref").and_then(Value::as_str),
            ) else {
                continue;
            };
            let (Some((source_kind, source_id)), Some((target_kind, target_id))) =
                (by_stix.get(source), by_stix.get(target))
            else {
                continue;
            };
            let actor = match source_kind {
                1 => knowledge.groups.get_mut(source_id),
                2 => knowledge.software.get_mut(source_id),
                _ => None,
            };
            if let Some(actor) = actor {
                match target_kind {
                    0 => {
                        actor.techniques.insert(target_id.clone());
                    }
                    2 => {
                        actor.software.insert(target_id.clone());
                    }
                    _ => {}
                }
            }
        }
        knowledge
    }

    /// A group by ATT&CK id, name or alias (case-insensitive).
    pub fn find_group(&self, query: &str) -> Option<&Actor> {
        find_actor(&self.groups, query)
    }

    /// A piece of software by ATT&CK id, name or alias (case-insensitive).
    pub fn find_software(&self, query: &str) -> Option<&Actor> {
        find_actor(&self.software, query)
    }
}

fn find_actor<'a>(actors: &'a BTreeMap<String, Actor>, query: &str) -> Option<&'a Actor> {
    let wanted = query.trim();
    actors.get(&wanted.to_ascii_uppercase()).or_else(|| {
        actors.values().find(|a| {
            a.name.eq_ignore_ascii_case(wanted)
                || a.aliases.iter().any(|x| x.eq_ignore_ascii_case(wanted))
        })
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// A tiny ATT&CK-shaped bundle: 4 techniques (one sub-technique, one revoked), 2 groups, 1 tool.
    pub fn tiny_bundle(modified: &str) -> Value {
        let ap = |uuid: &str, id: &str, name: &str, revoked: bool| {
            json!({"type": "attack-pattern", "spec_version": "2.1", "id": format!("attack-pattern--{uuid}"),
                "created": "2020-01-01T00:00:00.000Z", "modified": modified, "name": name, "revoked": revoked,
                "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "initial-access"}],
                "external_references": [{"source_name": "mitre-attack", "external_id": id}]})
        };
        let rel = |uuid: &str, source: &str, target: &str| {
            json!({"type": "relationship", "spec_version": "2.1", "id": format!("relationship--{uuid}"),
                "created": "2020-01-01T00:00:00.000Z", "modified": modified, "relationship_type": "uses",
                "source_ref": source, "target_ref": target})
        };
        json!({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000000", "objects": [
            ap("00000000-0000-4000-8000-000000000001", "T1566", "Phishing", false),
            ap("00000000-0000-4000-8000-000000000002", "T1566.001", "Spearphishing Attachment", false),
            ap("00000000-0000-4000-8000-000000000003", "T1204", "User Execution", false),
            ap("00000000-0000-4000-8000-000000000004", "T9999", "Old", true),
            {"type": "intrusion-set", "spec_version": "2.1", "id": "intrusion-set--00000000-0000-4000-8000-000000000010",
             "created": "2020-01-01T00:00:00.000Z", "modified": modified, "name": "BRONZE BUTLER",
             "aliases": ["BRONZE BUTLER", "REDBALDKNIGHT", "Tick"],
             "external_references": [{"source_name": "mitre-attack", "external_id": "G0060"}]},
            {"type": "intrusion-set", "spec_version": "2.1", "id": "intrusion-set--00000000-0000-4000-8000-000000000011",
             "created": "2020-01-01T00:00:00.000Z", "modified": modified, "name": "Other",
             "external_references": [{"source_name": "mitre-attack", "external_id": "G0001"}]},
            {"type": "tool", "spec_version": "2.1", "id": "tool--00000000-0000-4000-8000-000000000020",
             "created": "2020-01-01T00:00:00.000Z", "modified": modified, "name": "Mimikatz",
             "external_references": [{"source_name": "mitre-attack", "external_id": "S0002"}]},
            rel("00000000-0000-4000-8000-000000000030", "intrusion-set--00000000-0000-4000-8000-000000000010", "attack-pattern--00000000-0000-4000-8000-000000000002"),
            rel("00000000-0000-4000-8000-000000000031", "intrusion-set--00000000-0000-4000-8000-000000000010", "tool--00000000-0000-4000-8000-000000000020"),
            rel("00000000-0000-4000-8000-000000000032", "intrusion-set--00000000-0000-4000-8000-000000000011", "attack-pattern--00000000-0000-4000-8000-000000000003"),
            rel("00000000-0000-4000-8000-000000000033", "intrusion-set--00000000-0000-4000-8000-000000000011", "attack-pattern--00000000-0000-4000-8000-000000000004"),
            {"type": "attack-pattern", "id": "bad"}
        ]})
    }

    #[tokio::test]
    async fn import_builds_knowledge_and_updates_in_place() {
        for t in mamori_store::testing::backends().await {
            let report = import_bundle(&t.store, &tiny_bundle("2021-01-01T00:00:00.000Z"))
                .await
                .unwrap();
            assert_eq!(report.objects, 12);
            assert_eq!(report.added, 11, "{}", t.name);
            assert_eq!(report.rejected_count, 1);
            assert_eq!(report.techniques, 3, "revoked technique left out");
            assert_eq!(report.groups, 2);
            let again = import_bundle(&t.store, &tiny_bundle("2021-01-01T00:00:00.000Z"))
                .await
                .unwrap();
            assert_eq!((again.added, again.unchanged), (0, 11));
            let newer = import_bundle(&t.store, &tiny_bundle("2022-01-01T00:00:00.000Z"))
                .await
                .unwrap();
            assert_eq!((newer.added, newer.replaced), (11, 11));
            assert_eq!(
                t.store.intel_count(Some(ATTACK_COLLECTION)).await.unwrap(),
                11
            );
            let k = Knowledge::load(&t.store).await.unwrap();
            let tick = k.find_group("tick").unwrap();
            assert_eq!(tick.attack_id, "G0060");
            assert!(tick.techniques.contains("T1566.001"));
            assert!(tick.software.contains("S0002"));
            assert_eq!(k.find_software("mimikatz").unwrap().attack_id, "S0002");
            assert_eq!(k.techniques["T1566.001"].parent.as_deref(), Some("T1566"));
            assert_eq!(
                k.groups["G0001"].techniques.len(),
                1,
                "uses of a revoked technique dropped"
            );
        }
    }
}
