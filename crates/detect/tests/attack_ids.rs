//! Every ATT&CK technique id in the finding catalogue exists (not revoked, not deprecated) in the ATT&CK data
//! shipped with the shared corpora (Enterprise ATT&CK v18.1, STIX 2.1).

use std::collections::HashSet;

#[test]
fn catalogue_techniques_exist_in_attack() {
    let Some(corpora) = std::env::var_os("MAMORI_CORPORA") else {
        eprintln!("skipped: MAMORI_CORPORA not set");
        return;
    };
    let path = std::path::Path::new(&corpora).join("attack/enterprise-attack-18.1.stix21.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let bundle: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut known = HashSet::new();
    for o in bundle["objects"].as_array().unwrap() {
        if o["type"] != "attack-pattern" || o["revoked"] == true || o["x_mitre_deprecated"] == true
        {
            continue;
        }
        for r in o["external_references"].as_array().into_iter().flatten() {
            if r["source_name"] == "mitre-attack"
                && let Some(id) = r["external_id"].as_str()
            {
                known.insert(id.to_string());
            }
        }
    }
    assert!(known.len() > 500, "ATT&CK data looks truncated");
    for spec in mamori_detect::catalog::all() {
        for t in spec.attack {
            assert!(
                known.contains(*t),
                "{}: {t} is not an ATT&CK v18.1 technique",
                spec.id
            );
        }
    }
}
