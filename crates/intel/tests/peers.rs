//! Interoperability with the OASIS reference tools (pinned in scripts/test-requirements.txt): exported bundles
//! pass `stix2-validator` without errors; `taxii2-client` talks to our TAXII server (collections, add, paging,
//! 401/403/404); our client pushes to and pulls from `medallion` (memory backend) and gets the same objects back.
//! Without the tools the tests skip with a message, or fail under MAMORI_REQUIRE_PEERS=1.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{SECRET, python_with, run_python, start_hub};
use mamori_intel::attack::Knowledge;
use mamori_intel::client::{Credentials, RemoteCollection};
use mamori_intel::export::{Detection, Observable, to_stix};
use mamori_intel::stix::{self, Tlp};
use mamori_intel::taxii::TaxiiConfig;
use serde_json::{Value, json};

fn knowledge() -> Knowledge {
    let technique = |uuid: &str, id: &str, name: &str| {
        json!({"type": "attack-pattern", "spec_version": "2.1", "id": format!("attack-pattern--{uuid}"),
            "created": "2020-01-01T00:00:00.000Z", "modified": "2020-01-01T00:00:00.000Z", "name": name,
            "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "initial-access"}],
            "external_references": [{"source_name": "mitre-attack", "external_id": id}]})
    };
    Knowledge::from_objects(&[
        technique(
            "a62a8db3-f23a-4d8f-afd6-9dbc77e7813b",
            "T1566.001",
            "Spearphishing Attachment",
        ),
        technique(
            "232b7f21-adf9-4b42-b936-b9d6f7df856e",
            "T1204.002",
            "Malicious File",
        ),
        technique(
            "355be19c-ffc9-46d5-8d50-d6a036c675b6",
            "T1071",
            "Application Layer Protocol",
        ),
        // Two groups, so incidents carry an attribution ranking (x_mamori_attribution and a note).
        json!({"type": "intrusion-set", "spec_version": "2.1",
            "id": "intrusion-set--93f52415-0fe4-4d3d-896c-fc9b8e88ab90",
            "created": "2020-01-01T00:00:00.000Z", "modified": "2020-01-01T00:00:00.000Z",
            "name": "BRONZE BUTLER", "aliases": ["BRONZE BUTLER", "Tick"],
            "external_references": [{"source_name": "mitre-attack", "external_id": "G0060"}]}),
        json!({"type": "intrusion-set", "spec_version": "2.1",
            "id": "intrusion-set--4a2ce82e-1a74-468a-a6fb-bbead541383c",
            "created": "2020-01-01T00:00:00.000Z", "modified": "2020-01-01T00:00:00.000Z",
            "name": "Other Group",
            "external_references": [{"source_name": "mitre-attack", "external_id": "G0001"}]}),
        uses(
            "0b5a4b41-7b8c-4a0d-9c44-3b1f1f2b0a01",
            "intrusion-set--93f52415-0fe4-4d3d-896c-fc9b8e88ab90",
            "attack-pattern--a62a8db3-f23a-4d8f-afd6-9dbc77e7813b",
        ),
        uses(
            "0b5a4b41-7b8c-4a0d-9c44-3b1f1f2b0a02",
            "intrusion-set--93f52415-0fe4-4d3d-896c-fc9b8e88ab90",
            "attack-pattern--232b7f21-adf9-4b42-b936-b9d6f7df856e",
        ),
        uses(
            "0b5a4b41-7b8c-4a0d-9c44-3b1f1f2b0a03",
            "intrusion-set--4a2ce82e-1a74-468a-a6fb-bbead541383c",
            "attack-pattern--355be19c-ffc9-46d5-8d50-d6a036c675b6",
        ),
    ])
}

fn uses(uuid: &str, source: &str, target: &str) -> Value {
    json!({"type": "relationship", "spec_version": "2.1", "id": format!("relationship--{uuid}"),
        "created": "2020-01-01T00:00:00.000Z", "modified": "2020-01-01T00:00:00.000Z",
        "relationship_type": "uses", "source_ref": source, "target_ref": target})
}

fn detections() -> Vec<Detection> {
    let mail = Detection {
        key: "incident:0f8fad5b-d9cb-469f-a165-70867728950e".into(),
        name: "phishing mail: 請求書のご確認".into(),
        description: Some("Attachment with a double extension".into()),
        first_seen_us: 1_763_000_000_000_000,
        last_seen_us: 1_763_000_000_000_000,
        count: 1,
        techniques: vec!["T1566.001".into(), "T1204.002".into()],
        observables: [
            Observable::Email("billing@evil.example".into()),
            Observable::Domain("evil.example".into()),
            Observable::Url("http://evil.example/invoice?id=1&x='y'".into()),
            Observable::Ipv4("198.51.100.7".into()),
            Observable::FileSha256(
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".into(),
            ),
        ]
        .into_iter()
        .collect(),
        organisation: "Ministry CSIRT".into(),
        tlp: Tlp::Amber,
    };
    let flow = Detection {
        key: "flow:flow.beacon:10.0.0.5->2001:db8::9@2025-11-01T00:00:00Z".into(),
        name: "beacon 10.0.0.5 -> 2001:db8::9".into(),
        description: None,
        first_seen_us: 1_761_955_200_000_000,
        last_seen_us: 1_761_958_800_000_000,
        count: 120,
        techniques: vec!["T1071".into()],
        observables: [
            Observable::Ipv6("2001:db8::9".into()),
            Observable::Domain("c2.example.net".into()),
        ]
        .into_iter()
        .collect(),
        organisation: "Contractor A".into(),
        tlp: Tlp::Green,
    };
    vec![mail, flow]
}

fn exported_objects() -> Vec<Value> {
    let k = knowledge();
    let mut seen = BTreeSet::new();
    detections()
        .iter()
        .flat_map(|d| to_stix(d, &k))
        .filter(|o| seen.insert(o["id"].as_str().unwrap_or_default().to_string()))
        .collect()
}

const VALIDATE: &str = r#"
import sys, json
from stix2validator import validate_file, ValidationOptions
result = validate_file(sys.argv[1], ValidationOptions(version="2.1"))
errors, warnings = [], []
for r in result.object_results:
    if hasattr(r, "errors"):
        errors += ["%s: %s" % (r.object_id, e) for e in r.errors]
        warnings += ["%s: %s" % (r.object_id, w) for w in r.warnings]
    else:
        errors.append(str(getattr(r, "error", r)))
if result.fatal:
    errors.append(str(getattr(result.fatal, "error", result.fatal)))
print(json.dumps({"valid": result.is_valid, "objects": len(result.object_results), "errors": errors, "warnings": warnings}))
"#;

#[test]
fn exported_bundles_pass_stix2_validator() {
    let Some(python) = python_with("stix2validator") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bundle.json");
    let objects = exported_objects();
    // Incidents carry their attribution ranking; the validator must accept it too.
    let mail = objects
        .iter()
        .find(|o| {
            o["type"] == "incident" && o["name"].as_str().unwrap_or("").starts_with("phishing")
        })
        .expect("mail incident");
    assert_eq!(
        mail["x_mamori_attribution"]["candidates"][0]["attack_id"], "G0060",
        "{mail}"
    );
    assert_eq!(objects.iter().filter(|o| o["type"] == "note").count(), 2);
    std::fs::write(&path, stix::bundle(objects.clone()).to_string()).unwrap();
    let out: Value =
        serde_json::from_str(&run_python(&python, VALIDATE, &[path.to_str().unwrap()])).unwrap();
    assert_eq!(out["errors"], json!([]), "stix2-validator errors: {out}");
    assert_eq!(out["valid"], true, "{out}");
    eprintln!("stix2-validator warnings: {}", out["warnings"]);

    // The validator must be able to fail: a broken indicator is reported.
    let mut broken = objects;
    for o in &mut broken {
        if o["type"] == "indicator" {
            o["pattern"] = json!("[ipv4-addr:value = ");
            break;
        }
    }
    std::fs::write(&path, stix::bundle(broken).to_string()).unwrap();
    let out: Value =
        serde_json::from_str(&run_python(&python, VALIDATE, &[path.to_str().unwrap()])).unwrap();
    assert_eq!(out["valid"], false, "{out}");
}

const TAXII2_CLIENT: &str = r#"
import sys, json
import requests
from taxii2client.v21 import Server, Collection, as_pages
base, secret, bundle_path = sys.argv[1], sys.argv[2], sys.argv[3]
out = {}
server = Server(base + "taxii2/", user="alpha", password=secret)
out["title"] = server.title
root = server.api_roots[0]
out["collections"] = sorted(c.id for c in root.collections)
shared = Collection(base + "api/collections/shared/", user="alpha", password=secret)
status = shared.add_objects(open(bundle_path).read())
out["status"] = status.status
out["success_count"] = status.success_count
out["failure_count"] = status.failure_count
ids, pages = [], 0
for envelope in as_pages(shared.get_objects, per_request=7):
    pages += 1
    ids += [o["id"] for o in envelope.get("objects", [])]
out["paged_ids"] = ids
out["pages"] = pages
manifest = shared.get_manifest()
out["manifest"] = len(manifest.get("objects", []))
def status_of(call):
    try:
        call()
        return 200
    except requests.exceptions.HTTPError as e:
        return e.response.status_code
out["wrong_password"] = status_of(lambda: Server(base + "taxii2/", user="alpha", password="wrong").title)
# Claim write access so the client sends the POST and the server has to refuse it.
beta = Collection(base + "api/collections/shared/", user="beta", password=secret,
                  collection_info={"id": "shared", "title": "Shared TTPs", "can_read": True, "can_write": True,
                                   "media_types": ["application/stix+json;version=2.1"]})
out["beta_write"] = status_of(lambda: beta.add_objects(open(bundle_path).read()))
out["beta_read"] = len(beta.get_objects().get("objects", []))
out["unknown_collection"] = status_of(lambda: Collection(base + "api/collections/nope/", user="alpha", password=secret).get_objects())
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taxii2_client_talks_to_our_server() {
    let Some(python) = python_with("taxii2client") else {
        return;
    };
    for db in mamori_store::testing::backends().await {
        let name = db.name;
        let hub = start_hub(db, TaxiiConfig::default()).await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bundle.json");
        let objects = exported_objects();
        std::fs::write(&path, stix::bundle(objects.clone()).to_string()).unwrap();
        let base = format!("http://{}/", hub.addr);
        let python = python.clone();
        let out = tokio::task::spawn_blocking(move || {
            run_python(
                &python,
                TAXII2_CLIENT,
                &[&base, SECRET, path.to_str().unwrap()],
            )
        })
        .await
        .unwrap();
        let out: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(out["collections"], json!(["shared"]), "{name}: {out}");
        assert_eq!(out["status"], "complete");
        assert_eq!(
            out["success_count"].as_u64().unwrap() as usize,
            objects.len(),
            "{out}"
        );
        assert_eq!(out["failure_count"], 0);
        let paged: BTreeSet<&str> = out["paged_ids"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let expected: BTreeSet<&str> = objects.iter().filter_map(|o| o["id"].as_str()).collect();
        assert_eq!(
            paged, expected,
            "{name}: every object read back through the pages"
        );
        assert_eq!(
            out["paged_ids"].as_array().unwrap().len(),
            objects.len(),
            "no duplicates across pages"
        );
        assert!(out["pages"].as_u64().unwrap() >= (objects.len() as u64).div_ceil(7));
        assert_eq!(out["wrong_password"], 401);
        assert_eq!(out["beta_write"], 403);
        assert_eq!(out["unknown_collection"], 404);
        assert_eq!(
            out["beta_read"].as_u64().unwrap() as usize,
            objects.len().min(100)
        );
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

const MEDALLION_COLLECTION: &str = "365fed99-08fa-fdcd-a1b3-fb247eb41d01";

/// Kills the child on drop.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn push_to_medallion_and_pull_back() {
    let Some(python) = python_with("medallion") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let data = json!({
        "/discovery": {"title": "medallion test", "default": format!("http://127.0.0.1:{port}/api1/"),
                       "api_roots": [format!("http://127.0.0.1:{port}/api1/")]},
        "api1": {
            "information": {"title": "api1", "versions": ["application/taxii+json;version=2.1"], "max_content_length": 100_000_000},
            "status": [],
            "collections": [{
                "id": MEDALLION_COLLECTION, "title": "test", "can_read": true, "can_write": true,
                "media_types": ["application/stix+json;version=2.1"], "objects": [], "manifest": []
            }]
        }
    });
    let data_path = dir.path().join("data.json");
    std::fs::write(&data_path, data.to_string()).unwrap();
    let config = json!({
        "backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend", "filename": data_path.to_str().unwrap()},
        "users": {"mamori": "peer-secret"},
        "taxii": {"max_page_size": 100}
    });
    let config_path = dir.path().join("config.json");
    std::fs::write(&config_path, config.to_string()).unwrap();
    let _server = Child(
        std::process::Command::new(&python)
            .args([
                "-c",
                "import sys; from medallion.scripts.run import main; sys.exit(main())",
            ])
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .arg(&config_path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start medallion"),
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "medallion did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let remote = RemoteCollection::new(
        &format!("http://127.0.0.1:{port}/api1/"),
        MEDALLION_COLLECTION,
        Credentials::Basic("mamori".into(), "peer-secret".into()),
        Duration::from_secs(30),
    );
    let objects = exported_objects();
    let pushed = remote.push(&objects, 10).unwrap();
    assert_eq!(pushed.failure_count, 0, "{:?}", pushed.failures);
    assert_eq!(pushed.successes as usize, objects.len());
    let pulled = remote.pull(9, true).unwrap();
    let by_id = |list: &[Value]| -> std::collections::BTreeMap<String, Value> {
        list.iter()
            .map(|o| (o["id"].as_str().unwrap().to_string(), o.clone()))
            .collect()
    };
    assert_eq!(
        by_id(&pulled),
        by_id(&objects),
        "the same objects come back from medallion"
    );

    let wrong = RemoteCollection::new(
        &format!("http://127.0.0.1:{port}/api1/"),
        MEDALLION_COLLECTION,
        Credentials::Basic("mamori".into(), "wrong".into()),
        Duration::from_secs(30),
    );
    let err = wrong.pull(10, false).unwrap_err().to_string();
    assert!(err.contains("401"), "{err}");
}
