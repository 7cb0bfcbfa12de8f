//! The real Enterprise ATT&CK 18.1 bundle (from MAMORI_CORPORA/attack; skipped with a message when unset): import
//! with the expected content, re-import changes nothing, and ranking finds groups from their own techniques.

use std::path::PathBuf;
use std::time::Instant;

use mamori_intel::attack::{self, Knowledge};
use mamori_intel::rank::{self, Ranker};

fn bundle() -> Option<PathBuf> {
    let Some(root) = std::env::var_os("MAMORI_CORPORA") else {
        eprintln!("skipped: MAMORI_CORPORA is not set");
        return None;
    };
    let path = PathBuf::from(root).join("attack/enterprise-attack-18.1.stix21.json.gz");
    if !path.exists() {
        eprintln!("skipped: {} missing", path.display());
        return None;
    }
    Some(path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_attack_18_1() {
    let Some(path) = bundle() else {
        return;
    };
    let db = mamori_store::testing::sqlite().await;
    let start = Instant::now();
    let report = attack::import_file(&db.store, &path).await.unwrap();
    eprintln!("import: {:.2} s, {report:?}", start.elapsed().as_secs_f64());
    assert_eq!(report.objects, 24_771);
    assert_eq!(report.rejected_count, 0, "{:?}", report.rejected);
    assert_eq!(report.added, 24_771);
    let again = attack::import_file(&db.store, &path).await.unwrap();
    assert_eq!((again.added, again.unchanged), (0, 24_771));

    let knowledge = Knowledge::load(&db.store).await.unwrap();
    let tick = knowledge.find_group("Tick").unwrap();
    assert_eq!(tick.attack_id, "G0060");
    assert_eq!(tick.name, "BRONZE BUTLER");
    assert!(tick.aliases.iter().any(|a| a == "REDBALDKNIGHT"));
    assert!(tick.techniques.len() >= 20, "{}", tick.techniques.len());
    let phishing = &knowledge.techniques["T1566.001"];
    assert_eq!(phishing.parent.as_deref(), Some("T1566"));
    assert_eq!(phishing.tactics, vec!["initial-access"]);
    assert!(knowledge.find_software("Mimikatz").is_some());

    let ranker = Ranker::new(&knowledge);
    let techniques: Vec<String> = tick.techniques.iter().take(12).cloned().collect();
    let start = Instant::now();
    let ranked = ranker.rank(&techniques, &[], 5);
    eprintln!(
        "rank latency: {:.2} ms",
        start.elapsed().as_secs_f64() * 1000.0
    );
    assert_eq!(ranked[0].group, "G0060", "{ranked:?}");
    for rate in [0.3, 0.5] {
        let e = rank::evaluate(&knowledge, &ranker, rate, 0.2, 10, 5, 1);
        eprintln!("evaluation: {e:?}");
        assert!(e.groups > 100);
    }
}
