//! The MITRE ATT&CK (Enterprise) techniques flow alerts can carry, and how a pair's protocols map to the
//! command-and-control technique. Ids and names are from ATT&CK Enterprise v15–v17 (unchanged across them).

use serde::{Deserialize, Serialize};

use crate::record::Services;

/// One technique reference as carried by an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Technique {
    /// Technique id, e.g. `T1071.001`.
    pub id: String,
    /// Technique name.
    pub name: String,
    /// ATT&CK tactic short name (`command-and-control`, `exfiltration`).
    pub tactic: String,
}

/// Techniques used by the flow detectors: `(id, name, tactic)`.
pub const TECHNIQUES: &[(&str, &str, &str)] = &[
    (
        "T1071.001",
        "Application Layer Protocol: Web Protocols",
        "command-and-control",
    ),
    (
        "T1071.004",
        "Application Layer Protocol: DNS",
        "command-and-control",
    ),
    ("T1573", "Encrypted Channel", "command-and-control"),
    (
        "T1095",
        "Non-Application Layer Protocol",
        "command-and-control",
    ),
    ("T1041", "Exfiltration Over C2 Channel", "exfiltration"),
    (
        "T1048",
        "Exfiltration Over Alternative Protocol",
        "exfiltration",
    ),
    ("T1029", "Scheduled Transfer", "exfiltration"),
    ("T1030", "Data Transfer Size Limits", "exfiltration"),
];

/// Look up a technique by id (`None` for ids not in [`TECHNIQUES`]).
pub fn technique(id: &str) -> Option<Technique> {
    TECHNIQUES
        .iter()
        .find(|(i, _, _)| *i == id)
        .map(|(id, name, tactic)| Technique {
            id: (*id).to_string(),
            name: (*name).to_string(),
            tactic: (*tactic).to_string(),
        })
}

/// Techniques describing a command-and-control channel, from the services Zeek recognised and the ports used:
/// TLS or SSH → T1573 (and T1071.001 on web ports), HTTP → T1071.001, DNS → T1071.004, otherwise a raw TCP/UDP
/// protocol → T1095.
pub fn c2_channel(services: Services, ports: &[u16]) -> Vec<&'static str> {
    let web_port = ports
        .iter()
        .any(|p| matches!(p, 80 | 443 | 8080 | 8443 | 8000 | 8008 | 8888));
    let tls_port = ports
        .iter()
        .any(|p| matches!(p, 443 | 8443 | 993 | 995 | 465 | 853));
    let mut ids = Vec::new();
    if services.has(Services::HTTP)
        || (web_port && !services.has(Services::DNS) && !services.has(Services::SSH))
    {
        ids.push("T1071.001");
    }
    if services.has(Services::TLS) || services.has(Services::SSH) || (services.0 == 0 && tls_port) {
        ids.push("T1573");
    }
    if services.has(Services::DNS) || ports.contains(&53) {
        ids.push("T1071.004");
    }
    if ids.is_empty() {
        ids.push("T1095");
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_used_id_is_known() {
        for ids in [
            c2_channel(Services(Services::TLS), &[443]),
            c2_channel(Services(Services::HTTP), &[80]),
            c2_channel(Services(0), &[1177]),
            c2_channel(Services(Services::DNS), &[53]),
        ] {
            for id in ids {
                assert!(technique(id).is_some(), "{id}");
            }
        }
        for (id, _, _) in TECHNIQUES {
            assert!(
                id.starts_with('T') && id[1..5].bytes().all(|b| b.is_ascii_digit()),
                "{id}"
            );
        }
    }

    #[test]
    fn channel_mapping() {
        assert_eq!(
            c2_channel(Services(Services::TLS), &[443]),
            ["T1071.001", "T1573"]
        );
        assert_eq!(c2_channel(Services(0), &[443]), ["T1071.001", "T1573"]);
        assert_eq!(c2_channel(Services(Services::HTTP), &[8081]), ["T1071.001"]);
        assert_eq!(c2_channel(Services(0), &[1177]), ["T1095"]);
        assert_eq!(c2_channel(Services(Services::TLS), &[4444]), ["T1573"]);
        assert_eq!(c2_channel(Services(Services::DNS), &[53]), ["T1071.004"]);
        assert_eq!(c2_channel(Services(Services::SSH), &[22]), ["T1573"]);
    }
}
