//! `docs/findings.md` is generated from the catalogue; this keeps the two in sync.

#[test]
fn findings_doc_matches_catalogue() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/findings.md");
    let doc = std::fs::read_to_string(path).expect("docs/findings.md exists");
    assert_eq!(
        doc,
        mamori_detect::catalog::markdown(),
        "docs/findings.md is stale: regenerate with `mamori findings --markdown > docs/findings.md`"
    );
}
