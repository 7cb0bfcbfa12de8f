//! Incidents round-trip on every backend.

use mamori_store::incidents::{IncidentSource, NewIncident};
use mamori_store::testing::backends;

#[tokio::test]
async fn record_and_read_back() {
    for t in backends().await {
        let new = NewIncident {
            source: IncidentSource::Mail,
            title: "phishing from invoice-smbc.example".into(),
            class: "phishing".into(),
            score: 12.5,
            attack: vec!["T1566.002".into()],
            indicators: serde_json::json!({"domains": ["invoice-smbc.example"]}),
            evidence: serde_json::json!({"schema": "mamori.verdict/1"}),
            source_ref: Some("Q-1".into()),
            organisation: None,
        };
        let id = t.store.record_incident(&new).await.unwrap();
        let got = t.store.incident(&id).await.unwrap();
        assert_eq!(got.incident, new, "{}", t.name);
        assert_eq!(got.status, "open");
        let recent = t.store.incidents_since(0, 10).await.unwrap();
        assert_eq!(recent.len(), 1, "{}", t.name);
        assert!(t.store.incident("nope").await.is_err());
        t.store.ping().await.unwrap();
    }
}
