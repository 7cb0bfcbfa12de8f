//! STIX 2.1 objects as the hub keeps them: the JSON as received (so custom and unknown properties survive every
//! hop), checked on input against the spec's common rules and the required properties of the types we use, with
//! the facts the store indexes ([`ObjectMeta`]). TLP 2.0 markings, STIX timestamps and deterministic SCO ids are
//! here too. The pattern grammar and the JCS canonicalisation behind SCO ids come from `rstix`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

/// The only STIX version we accept and write.
pub const SPEC_VERSION: &str = "2.1";

/// Why an object was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Invalid {
    /// Id of the object when it had a usable one.
    pub id: Option<String>,
    /// What is wrong, naming the property.
    pub message: String,
}

fn invalid(id: Option<&str>, message: impl Into<String>) -> Invalid {
    Invalid {
        id: id.map(str::to_string),
        message: message.into(),
    }
}

/// TLP 2.0 levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tlp {
    /// TLP:CLEAR (TLP 1.0 WHITE).
    Clear,
    /// TLP:GREEN.
    Green,
    /// TLP:AMBER.
    Amber,
    /// TLP:AMBER+STRICT.
    AmberStrict,
    /// TLP:RED.
    Red,
}

/// The TLP 2.0 extension definition the marking-definition objects use.
pub const TLP2_EXTENSION_ID: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

impl Tlp {
    /// Every level, least restrictive first.
    pub const ALL: [Tlp; 5] = [
        Tlp::Clear,
        Tlp::Green,
        Tlp::Amber,
        Tlp::AmberStrict,
        Tlp::Red,
    ];

    /// Lower-case name as in the TLP 2.0 extension (`clear`, …, `amber+strict`, `red`).
    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "clear",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber+strict",
            Tlp::Red => "red",
        }
    }

    /// Parses `clear`/`white`, `green`, `amber`, `amber+strict`, `red` (any case, optional `TLP:` prefix).
    pub fn parse(text: &str) -> Option<Tlp> {
        let lower = text.trim().to_ascii_lowercase();
        match lower.strip_prefix("tlp:").unwrap_or(&lower) {
            "clear" | "white" => Some(Tlp::Clear),
            "green" => Some(Tlp::Green),
            "amber" => Some(Tlp::Amber),
            "amber+strict" => Some(Tlp::AmberStrict),
            "red" => Some(Tlp::Red),
            _ => None,
        }
    }

    /// Id of the TLP 2.0 marking-definition (the ids published with the OASIS TLP 2.0 extension).
    pub fn marking_id(self) -> &'static str {
        match self {
            Tlp::Clear => "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
            Tlp::Green => "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
            Tlp::Amber => "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
            Tlp::AmberStrict => "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
            Tlp::Red => "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
        }
    }

    /// The level of a marking-definition id: TLP 2.0 ids, and the STIX 2.1 TLP 1.0 ids (WHITE → CLEAR).
    pub fn from_marking_id(id: &str) -> Option<Tlp> {
        if let Some(level) = Tlp::ALL.into_iter().find(|t| t.marking_id() == id) {
            return Some(level);
        }
        match id {
            "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9" => Some(Tlp::Clear),
            "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da" => Some(Tlp::Green),
            "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82" => Some(Tlp::Amber),
            "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed" => Some(Tlp::Red),
            _ => None,
        }
    }

    /// True for the levels shared only with named recipients (RED, AMBER+STRICT).
    pub fn is_restricted(self) -> bool {
        matches!(self, Tlp::Red | Tlp::AmberStrict)
    }

    /// The TLP 2.0 marking-definition object.
    pub fn marking_definition(self) -> Value {
        let name = format!("TLP:{}", self.as_str().to_ascii_uppercase());
        json!({
            "type": "marking-definition",
            "spec_version": SPEC_VERSION,
            "id": self.marking_id(),
            "created": "2022-10-01T00:00:00.000Z",
            "name": name,
            "extensions": {
                TLP2_EXTENSION_ID: {
                    "extension_type": "property-extension",
                    "tlp_2_0": self.as_str(),
                }
            }
        })
    }
}

/// Facts about a valid object that the store indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// `id`.
    pub id: String,
    /// `type`.
    pub object_type: String,
    /// `spec_version` (`2.1`).
    pub spec_version: String,
    /// `modified`, else `created`, as written; `None` for objects without either (SCOs).
    pub version: Option<String>,
    /// The version in Unix microseconds.
    pub version_us: Option<i64>,
    /// Most restrictive TLP level among `object_marking_refs` (a marking-definition's own level for TLP ones).
    pub tlp: Option<Tlp>,
    /// `revoked`.
    pub revoked: bool,
    /// `x_mitre_deprecated`.
    pub deprecated: bool,
}

/// What kind of STIX object a type is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Domain object.
    Sdo,
    /// Relationship object (relationship, sighting).
    Sro,
    /// Cyber-observable.
    Sco,
    /// Marking definition, language content, extension definition.
    Meta,
    /// Custom type (`x-…`, or defined by an extension).
    Custom,
}

/// Required properties (beyond the common ones) of the SDOs and SROs we use and the rest of the 2.1 list.
fn required_properties(object_type: &str) -> Option<(Kind, &'static [&'static str])> {
    Some(match object_type {
        "attack-pattern" | "campaign" | "course-of-action" | "identity" | "incident"
        | "infrastructure" | "intrusion-set" | "threat-actor" | "tool" | "vulnerability" => {
            (Kind::Sdo, &["name"])
        }
        "malware" => (Kind::Sdo, &["is_family"]),
        "malware-analysis" => (Kind::Sdo, &["product"]),
        "indicator" => (Kind::Sdo, &["pattern", "pattern_type", "valid_from"]),
        "observed-data" => (
            Kind::Sdo,
            &["first_observed", "last_observed", "number_observed"],
        ),
        "report" => (Kind::Sdo, &["name", "published", "object_refs"]),
        "note" => (Kind::Sdo, &["content", "object_refs"]),
        "opinion" => (Kind::Sdo, &["opinion", "object_refs"]),
        "grouping" => (Kind::Sdo, &["context", "object_refs"]),
        "location" => (Kind::Sdo, &[]),
        "relationship" => (
            Kind::Sro,
            &["relationship_type", "source_ref", "target_ref"],
        ),
        "sighting" => (Kind::Sro, &["sighting_of_ref"]),
        "marking-definition" => (Kind::Meta, &[]),
        "language-content" => (Kind::Meta, &["object_ref", "contents"]),
        "extension-definition" => (
            Kind::Meta,
            &["name", "schema", "version", "extension_types"],
        ),
        "ipv4-addr"
        | "ipv6-addr"
        | "domain-name"
        | "url"
        | "email-addr"
        | "mac-addr"
        | "autonomous-system"
        | "mutex"
        | "windows-registry-key"
        | "x509-certificate"
        | "user-account"
        | "software"
        | "process"
        | "network-traffic"
        | "email-message"
        | "directory"
        | "artifact"
        | "file" => (Kind::Sco, &[]),
        _ => return None,
    })
}

/// Most restrictive TLP level referenced by `object_marking_refs`.
fn tlp_of(object: &Map<String, Value>, id: &str) -> Option<Tlp> {
    if object.get("type").and_then(Value::as_str) == Some("marking-definition") {
        return Tlp::from_marking_id(id);
    }
    object
        .get("object_marking_refs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(Tlp::from_marking_id)
        .max()
}

/// True for a valid STIX type name: 3–250 characters of lower-case ASCII letters, digits and hyphens, not starting
/// or ending with a hyphen, no double hyphen.
pub fn is_valid_type_name(name: &str) -> bool {
    (3..=250).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}

/// Checks an identifier: `type--UUID` (RFC 4122 UUID, lower-case hex as written by the spec's examples), with
/// `expected_type` when given.
pub fn check_identifier(id: &str, expected_type: Option<&str>) -> Result<(), String> {
    let Some((object_type, uuid_text)) = id.split_once("--") else {
        return Err(format!("identifier {id:?} is not of the form type--UUID"));
    };
    if !is_valid_type_name(object_type) {
        return Err(format!("identifier {id:?} has an invalid type part"));
    }
    if let Some(expected) = expected_type
        && expected != object_type
    {
        return Err(format!(
            "identifier {id:?} does not start with the object's type {expected:?}"
        ));
    }
    let uuid = uuid::Uuid::try_parse(uuid_text)
        .map_err(|_| format!("identifier {id:?} does not end in a UUID"))?;
    if uuid_text.len() != 36 || uuid.hyphenated().to_string() != uuid_text.to_ascii_lowercase() {
        return Err(format!(
            "identifier {id:?} does not end in a hyphenated UUID"
        ));
    }
    Ok(())
}

/// Parses a STIX timestamp (`YYYY-MM-DDTHH:MM:SS[.fraction]Z`, UTC) into Unix microseconds.
pub fn parse_timestamp(text: &str) -> Result<i64, String> {
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() >= 20
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes[10] == b'T'
        && bytes[13] == b':'
        && bytes[16] == b':'
        && bytes.last() == Some(&b'Z')
        && (bytes.len() == 20 || (bytes[19] == b'.' && bytes.len() > 21))
        && bytes[..bytes.len() - 1]
            .iter()
            .enumerate()
            .all(|(i, b)| matches!(i, 4 | 7 | 10 | 13 | 16 | 19) || b.is_ascii_digit());
    if !shape_ok {
        return Err(format!(
            "timestamp {text:?} is not YYYY-MM-DDTHH:MM:SS[.s+]Z"
        ));
    }
    let time = humantime::parse_rfc3339(text)
        .map_err(|e| format!("timestamp {text:?} is not a valid time: {e}"))?;
    let since = time
        .duration_since(UNIX_EPOCH)
        .map_err(|_| format!("timestamp {text:?} is before 1970"))?;
    i64::try_from(since.as_micros()).map_err(|_| format!("timestamp {text:?} is out of range"))
}

/// Formats Unix microseconds as a STIX timestamp with millisecond precision.
pub fn format_timestamp_ms(us: i64) -> String {
    let time = UNIX_EPOCH + Duration::from_micros(u64::try_from(us).unwrap_or(0));
    humantime::format_rfc3339_millis(time).to_string()
}

/// Formats Unix microseconds as a STIX timestamp with microsecond precision (TAXII `date_added`).
pub fn format_timestamp_us(us: i64) -> String {
    let time = UNIX_EPOCH + Duration::from_micros(u64::try_from(us).unwrap_or(0));
    humantime::format_rfc3339_micros(time).to_string()
}

/// Now in Unix microseconds.
pub fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// Checks a STIX pattern against the STIX 2.1 patterning grammar (with type checking of the object paths).
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    rstix::Pattern::parse(pattern)
        .map(|_| ())
        .map_err(|e| format!("pattern {pattern:?} is not valid STIX patterning: {e}"))
}

/// Deterministic id of a cyber-observable (UUIDv5 in the STIX namespace over the JCS of its id-contributing
/// properties, STIX 2.1 §2.9). `None` for types that are not SCOs.
pub fn sco_id(object_type: &str, properties: &Value) -> Option<String> {
    let kind = rstix::core::ScoKind::from_type_str(object_type)?;
    rstix::id::generate_sco_id(kind, properties)
        .ok()
        .map(|id| id.as_str().to_string())
}

fn require_timestamp(
    object: &Map<String, Value>,
    id: &str,
    property: &str,
) -> Result<Option<i64>, Invalid> {
    match object.get(property) {
        None => Ok(None),
        Some(Value::String(text)) => parse_timestamp(text)
            .map(Some)
            .map_err(|e| invalid(Some(id), format!("{property}: {e}"))),
        Some(_) => Err(invalid(Some(id), format!("{property} is not a string"))),
    }
}

/// Validates one object against the common rules and its type's required properties, and returns what the store
/// indexes. Custom types (`x-…`, or objects carrying a `new-sdo`/`new-sco`/`new-sro` extension) are accepted with
/// the common checks only; other unknown types are rejected.
pub fn validate(value: &Value) -> Result<ObjectMeta, Invalid> {
    let Some(object) = value.as_object() else {
        return Err(invalid(None, "object is not a JSON object"));
    };
    let id_text = object.get("id").and_then(Value::as_str);
    let object_type = match object.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(_) => return Err(invalid(id_text, "type is not a string")),
        None => return Err(invalid(id_text, "missing required property type")),
    };
    if !is_valid_type_name(object_type) {
        return Err(invalid(
            id_text,
            format!("invalid type name {object_type:?}"),
        ));
    }
    let Some(id) = id_text else {
        return Err(invalid(None, "missing required property id"));
    };
    check_identifier(id, Some(object_type)).map_err(|e| invalid(Some(id), e))?;
    let kind = match required_properties(object_type) {
        Some((kind, required)) => {
            for property in required {
                if !object.contains_key(*property) {
                    return Err(invalid(
                        Some(id),
                        format!("missing required property {property} for type {object_type}"),
                    ));
                }
            }
            kind
        }
        None if object_type.starts_with("x-") || defines_new_type(object) => Kind::Custom,
        None => {
            return Err(invalid(
                Some(id),
                format!(
                    "unknown object type {object_type:?} (custom types start with x- or use a new-sdo/new-sco/new-sro extension)"
                ),
            ));
        }
    };
    let spec_version = match object.get("spec_version") {
        Some(Value::String(v)) if v == SPEC_VERSION => v.clone(),
        Some(other) => {
            return Err(invalid(
                Some(id),
                format!("spec_version {other} is not \"2.1\""),
            ));
        }
        None if kind == Kind::Sco => SPEC_VERSION.to_string(),
        None => return Err(invalid(Some(id), "missing required property spec_version")),
    };
    let created = require_timestamp(object, id, "created")?;
    let modified = require_timestamp(object, id, "modified")?;
    if matches!(kind, Kind::Sdo | Kind::Sro) {
        if created.is_none() {
            return Err(invalid(Some(id), "missing required property created"));
        }
        if modified.is_none() {
            return Err(invalid(Some(id), "missing required property modified"));
        }
    }
    if object_type == "marking-definition" && created.is_none() {
        return Err(invalid(Some(id), "missing required property created"));
    }
    if let (Some(c), Some(m)) = (created, modified)
        && m < c
    {
        return Err(invalid(Some(id), "modified is earlier than created"));
    }
    for property in [
        "created_by_ref",
        "source_ref",
        "target_ref",
        "sighting_of_ref",
    ] {
        if let Some(reference) = object.get(property) {
            let text = reference
                .as_str()
                .ok_or_else(|| invalid(Some(id), format!("{property} is not a string")))?;
            check_identifier(text, None)
                .map_err(|e| invalid(Some(id), format!("{property}: {e}")))?;
        }
    }
    for property in [
        "object_marking_refs",
        "object_refs",
        "where_sighted_refs",
        "observed_data_refs",
    ] {
        if let Some(list) = object.get(property) {
            let items = list
                .as_array()
                .ok_or_else(|| invalid(Some(id), format!("{property} is not a list")))?;
            for item in items {
                let text = item
                    .as_str()
                    .ok_or_else(|| invalid(Some(id), format!("{property} holds a non-string")))?;
                check_identifier(text, None)
                    .map_err(|e| invalid(Some(id), format!("{property}: {e}")))?;
            }
        }
    }
    match object_type {
        "indicator" => {
            require_timestamp(object, id, "valid_from")?;
            if let Some(until) = require_timestamp(object, id, "valid_until")?
                && let Some(from) = require_timestamp(object, id, "valid_from")?
                && until <= from
            {
                return Err(invalid(
                    Some(id),
                    "valid_until is not later than valid_from",
                ));
            }
            let pattern = object
                .get("pattern")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid(Some(id), "pattern is not a string"))?;
            if object.get("pattern_type").and_then(Value::as_str) == Some("stix") {
                check_pattern(pattern).map_err(|e| invalid(Some(id), e))?;
            }
        }
        "sighting" => {
            let first = require_timestamp(object, id, "first_seen")?;
            let last = require_timestamp(object, id, "last_seen")?;
            if let (Some(f), Some(l)) = (first, last)
                && l < f
            {
                return Err(invalid(Some(id), "last_seen is earlier than first_seen"));
            }
        }
        "observed-data" => {
            let first = require_timestamp(object, id, "first_observed")?;
            let last = require_timestamp(object, id, "last_observed")?;
            if let (Some(f), Some(l)) = (first, last)
                && l < f
            {
                return Err(invalid(
                    Some(id),
                    "last_observed is earlier than first_observed",
                ));
            }
        }
        "report" => {
            require_timestamp(object, id, "published")?;
        }
        "malware"
            if object.get("is_family").and_then(Value::as_bool) == Some(true)
                && !object.contains_key("name") =>
        {
            return Err(invalid(Some(id), "a malware family needs a name"));
        }
        "ipv4-addr" | "ipv6-addr" | "domain-name" | "url" | "email-addr" | "mac-addr" | "mutex"
            if !object.get("value").is_some_and(Value::is_string) =>
        {
            return Err(invalid(Some(id), "missing required property value"));
        }
        _ => {}
    }
    let version_us = modified.or(created);
    let version = object
        .get("modified")
        .or_else(|| object.get("created"))
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(ObjectMeta {
        id: id.to_string(),
        object_type: object_type.to_string(),
        spec_version,
        version,
        version_us,
        tlp: tlp_of(object, id),
        revoked: object.get("revoked").and_then(Value::as_bool) == Some(true),
        deprecated: object.get("x_mitre_deprecated").and_then(Value::as_bool) == Some(true),
    })
}

fn defines_new_type(object: &Map<String, Value>) -> bool {
    object
        .get("extensions")
        .and_then(Value::as_object)
        .is_some_and(|extensions| {
            extensions.values().any(|e| {
                matches!(
                    e.get("extension_type").and_then(Value::as_str),
                    Some("new-sdo" | "new-sco" | "new-sro")
                )
            })
        })
}

/// A bundle of objects.
pub fn bundle(objects: Vec<Value>) -> Value {
    json!({
        "type": "bundle",
        "id": format!("bundle--{}", uuid::Uuid::new_v4()),
        "objects": objects,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn indicator() -> Value {
        json!({
            "type": "indicator", "spec_version": "2.1",
            "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z",
            "pattern": "[domain-name:value = 'evil.example']", "pattern_type": "stix",
            "valid_from": "2016-01-01T00:00:00Z",
            "object_marking_refs": [Tlp::Amber.marking_id(), Tlp::Red.marking_id()]
        })
    }

    #[test]
    fn accepts_a_valid_indicator() {
        let meta = validate(&indicator()).unwrap();
        assert_eq!(meta.object_type, "indicator");
        assert_eq!(meta.tlp, Some(Tlp::Red));
        assert_eq!(meta.version.as_deref(), Some("2016-04-06T20:03:48.000Z"));
        assert_eq!(meta.version_us, Some(1_459_973_028_000_000));
    }

    #[test]
    fn rejects_what_the_spec_forbids() {
        let cases: Vec<(&str, Value, &str)> = vec![
            ("id", json!("x"), "type--UUID"),
            (
                "id",
                json!("malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"),
                "type",
            ),
            ("id", json!("indicator--not-a-uuid"), "UUID"),
            ("created", json!("2016-04-06 20:03:48"), "timestamp"),
            ("modified", json!("2015-01-01T00:00:00Z"), "earlier"),
            ("pattern", json!("[domain-name:value = 'x'"), "pattern"),
            ("spec_version", json!("2.0"), "spec_version"),
            ("type", json!("Indicator"), "type"),
        ];
        for (property, value, expect) in cases {
            let mut object = indicator();
            object[property] = value;
            let err = validate(&object).unwrap_err();
            assert!(err.message.contains(expect), "{property}: {}", err.message);
        }
        for property in [
            "pattern",
            "valid_from",
            "created",
            "modified",
            "id",
            "type",
            "spec_version",
        ] {
            let mut object = indicator();
            object.as_object_mut().unwrap().remove(property);
            let err = validate(&object).unwrap_err();
            assert!(
                err.message.contains(property),
                "{property}: {}",
                err.message
            );
        }
        let unknown = json!({"type": "widget", "spec_version": "2.1", "id": "widget--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"});
        assert!(
            validate(&unknown)
                .unwrap_err()
                .message
                .contains("unknown object type")
        );
        let custom = json!({"type": "x-mitre-tactic", "spec_version": "2.1", "id": "x-mitre-tactic--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z"});
        assert!(validate(&custom).is_ok());
        assert!(validate(&json!([1])).is_err());
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:01Z").unwrap(), 1_000_000);
        assert_eq!(
            parse_timestamp("1970-01-01T00:00:01.5Z").unwrap(),
            1_500_000
        );
        assert!(parse_timestamp("1970-01-01T00:00:01.Z").is_err());
        assert!(parse_timestamp("1970-01-01T00:00:01+00:00").is_err());
        assert!(parse_timestamp("2020-02-30T00:00:00Z").is_err());
        assert_eq!(format_timestamp_ms(1_500_000), "1970-01-01T00:00:01.500Z");
    }

    #[test]
    fn tlp_markings() {
        for level in Tlp::ALL {
            let definition = level.marking_definition();
            let meta = validate(&definition).unwrap();
            assert_eq!(meta.tlp, Some(level));
            assert_eq!(Tlp::parse(level.as_str()), Some(level));
        }
        assert_eq!(
            Tlp::from_marking_id("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"),
            Some(Tlp::Clear)
        );
        assert!(Tlp::Red.is_restricted() && !Tlp::Amber.is_restricted());
    }

    #[test]
    fn deterministic_sco_ids_match_the_spec_examples() {
        // The STIX 2.1 specification's example: an ipv4-addr with value 198.51.100.3.
        let id = sco_id("ipv4-addr", &json!({"value": "198.51.100.3"})).unwrap();
        // uuid5(STIX namespace, '{"value":"198.51.100.3"}') computed independently with Python's uuid module.
        assert_eq!(id, "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4");
        assert_eq!(
            id,
            sco_id("ipv4-addr", &json!({"value": "198.51.100.3"})).unwrap()
        );
        assert_ne!(
            id,
            sco_id("ipv4-addr", &json!({"value": "198.51.100.4"})).unwrap()
        );
        assert_eq!(
            sco_id("domain-name", &json!({"value": "example.com"})).unwrap(),
            // likewise, and the id python-stix2 gives DomainName(value="example.com")
            "domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7"
        );
        assert!(sco_id("indicator", &json!({})).is_none());
    }
}
