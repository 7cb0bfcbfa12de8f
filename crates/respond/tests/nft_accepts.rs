//! Feed the rendered output to the real `nft` inside a throwaway network namespace (`unshare -n`), so the host
//! firewall is never touched. Skipped with a message when `nft` or namespaces are not available (CI images without
//! nftables, unprivileged runs).

use std::net::IpAddr;
use std::process::Command;

use mamori_respond::firewall::{BlockList, NftTarget};

fn nft_in_netns_available() -> bool {
    Command::new("unshare")
        .args(["-n", "nft", "list", "ruleset"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn sample_list() -> BlockList {
    let mut list = BlockList::new();
    for (addr, comment) in [
        ("41.108.179.197", Some("beacon 0.97 to 41.108.179.197:1177")),
        ("203.0.113.5", Some("quote\" and ; semicolon")),
        ("2001:db8::1", None),
    ] {
        list.add(addr.parse::<IpAddr>().unwrap(), comment).unwrap();
    }
    list
}

/// Apply `args` + the file in a fresh namespace and return `nft list ruleset` from that namespace.
fn apply(file_flag: &[&str], content: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules");
    std::fs::write(&path, content).unwrap();
    let script = format!(
        "nft {} {} && nft list ruleset",
        file_flag.join(" "),
        path.display()
    );
    let out = Command::new("unshare")
        .args(["-n", "sh", "-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "nft refused:\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        content
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn real_nft_accepts_text_and_json() {
    if !nft_in_netns_available() {
        eprintln!("skipped: nft or network namespaces not available");
        return;
    }
    let list = sample_list();
    for target in [
        NftTarget::default(),
        NftTarget {
            timeout_secs: Some(3600),
            ..NftTarget::default()
        },
    ] {
        let text = list.render_nft(&target).unwrap();
        let ruleset = apply(&["-f"], &text);
        assert!(ruleset.contains("41.108.179.197"), "{ruleset}");
        assert!(ruleset.contains("2001:db8::1"), "{ruleset}");
        let json = list.render_nft_json(&target).unwrap();
        let ruleset = apply(&["-j", "-f"], &json);
        assert!(ruleset.contains("203.0.113.5"), "{ruleset}");
        assert!(ruleset.contains("set mamori_block_v6"), "{ruleset}");
    }
    // Applying twice is harmless: `add` of existing table/set/elements succeeds.
    let text = list.render_nft(&NftTarget::default()).unwrap();
    apply(&["-f"], &format!("{text}{text}"));
}
