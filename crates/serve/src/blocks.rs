//! Live block lists in analysis: a snapshot of the store's block entries, refreshed by the service, read by a
//! detector that adds `blocklist.*` findings — so the next message is judged with entries added a moment ago,
//! on every node sharing the store.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use mamori_detect::finding::Findings;
use mamori_detect::indicators::Indicators;
use mamori_detect::{Context, Detector, Finding};
use mamori_mail::Message;
use mamori_store::blocklist::{BlockEntry, BlockKind};

/// Block entries in force, by kind.
#[derive(Debug, Default)]
pub struct BlockSnapshot {
    sets: HashMap<BlockKind, HashSet<String>>,
}

impl BlockSnapshot {
    /// A snapshot of `entries`.
    pub fn new(entries: &[BlockEntry]) -> BlockSnapshot {
        let mut sets: HashMap<BlockKind, HashSet<String>> = HashMap::new();
        for e in entries {
            sets.entry(e.kind).or_default().insert(e.value.clone());
        }
        BlockSnapshot { sets }
    }

    /// True if `value` is blocked as `kind`.
    pub fn contains(&self, kind: BlockKind, value: &str) -> bool {
        self.sets.get(&kind).is_some_and(|s| s.contains(value))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.sets.values().map(HashSet::len).sum()
    }

    /// True when nothing is blocked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The shared, swappable snapshot.
#[derive(Debug, Default)]
pub struct BlockCell {
    inner: RwLock<Arc<BlockSnapshot>>,
}

impl BlockCell {
    /// The current snapshot.
    pub fn get(&self) -> Arc<BlockSnapshot> {
        match self.inner.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replaces the snapshot.
    pub fn set(&self, snapshot: BlockSnapshot) {
        let snapshot = Arc::new(snapshot);
        match self.inner.write() {
            Ok(mut g) => *g = snapshot,
            Err(poisoned) => *poisoned.into_inner() = snapshot,
        }
    }
}

/// Adds `blocklist.*` findings for indicators on the block lists.
pub struct BlockListDetector {
    cell: Arc<BlockCell>,
}

impl BlockListDetector {
    /// A detector reading `cell`.
    pub fn new(cell: Arc<BlockCell>) -> BlockListDetector {
        BlockListDetector { cell }
    }
}

impl Detector for BlockListDetector {
    fn name(&self) -> &'static str {
        "blocklist"
    }

    fn detect(&self, message: &Message, ctx: &Context<'_>, out: &mut Findings) {
        let snapshot = self.cell.get();
        if snapshot.is_empty() {
            return;
        }
        let ind = Indicators::collect(message, ctx.envelope);
        let checks: [(BlockKind, &'static str, Vec<&str>); 5] = [
            (
                BlockKind::Sender,
                "blocklist.sender",
                ind.senders.iter().map(String::as_str).collect(),
            ),
            (
                BlockKind::Domain,
                "blocklist.domain",
                ind.domains.iter().map(String::as_str).collect(),
            ),
            (
                BlockKind::Url,
                "blocklist.url",
                ind.urls.iter().map(String::as_str).collect(),
            ),
            (
                BlockKind::File,
                "blocklist.file",
                ind.files.iter().map(|f| f.sha256.as_str()).collect(),
            ),
            (
                BlockKind::Ip,
                "blocklist.ip",
                ind.ips.iter().map(String::as_str).collect(),
            ),
        ];
        for (kind, id, values) in checks {
            for value in values {
                if snapshot.contains(kind, value) {
                    out.push(Finding::new(
                        id,
                        format!("{} {value:?} is on the block list", kind.as_str()),
                    ));
                }
            }
        }
    }
}
