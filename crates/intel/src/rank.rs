//! Attribution assistance: rank ATT&CK intrusion sets by how much their technique (and software) profile resembles
//! what was observed. Each group is a TF-IDF vector over techniques and software: a term used by few groups weighs
//! more (`idf = ln(N / df)`, N groups, df groups using it). A sub-technique also credits its parent technique at
//! half weight, so an observed `T1566.001` partly matches a group known for `T1566` or another sub-technique of
//! it, and an observed parent matches groups using any of its sub-techniques. The score is the cosine similarity of
//! the observation and group vectors (0–1) and comes with the shared terms as evidence: it says "resembles", never
//! "is".

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::attack::Knowledge;

/// Weight of a parent technique credited through one of its sub-techniques.
const PARENT_WEIGHT: f64 = 0.5;

/// One ranked group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// ATT&CK id (`G0060`).
    pub group: String,
    /// Name.
    pub name: String,
    /// Aliases.
    pub aliases: Vec<String>,
    /// Cosine similarity of the profiles, 0–1.
    pub similarity: f64,
    /// Observed techniques the group is known to use (directly or through the parent/sub-technique link).
    pub shared_techniques: Vec<String>,
    /// Observed software the group is known to use.
    pub shared_software: Vec<String>,
    /// Techniques known for the group.
    pub group_techniques: usize,
}

/// The ranking index built from the knowledge base.
#[derive(Debug, Clone)]
pub struct Ranker {
    groups: Vec<GroupVector>,
    idf: FxHashMap<String, f64>,
    parents: FxHashMap<String, String>,
}

#[derive(Debug, Clone)]
struct GroupVector {
    id: String,
    name: String,
    aliases: Vec<String>,
    techniques: BTreeSet<String>,
    software: BTreeSet<String>,
    weights: FxHashMap<String, f64>,
    norm: f64,
}

/// Terms of a profile with their raw (pre-idf) weights: each technique 1, its parent `PARENT_WEIGHT` unless itself
/// present, each software 1.
fn terms<'a>(
    techniques: impl IntoIterator<Item = &'a String>,
    software: impl IntoIterator<Item = &'a String>,
) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for t in techniques {
        out.insert(t.clone(), 1.0);
    }
    let parents: Vec<String> = out
        .keys()
        .filter_map(|t| t.split_once('.').map(|(p, _)| p.to_string()))
        .collect();
    for p in parents {
        out.entry(p).or_insert(PARENT_WEIGHT);
    }
    for s in software {
        out.insert(s.clone(), 1.0);
    }
    out
}

impl Ranker {
    /// Builds the index over every group with at least one technique or software.
    pub fn new(knowledge: &Knowledge) -> Ranker {
        let profiles: Vec<_> = knowledge
            .groups
            .values()
            .filter(|g| !g.techniques.is_empty() || !g.software.is_empty())
            .map(|g| (g, terms(&g.techniques, &g.software)))
            .collect();
        let n = profiles.len().max(1) as f64;
        let mut df: FxHashMap<String, f64> = FxHashMap::default();
        for (_, t) in &profiles {
            for term in t.keys() {
                *df.entry(term.clone()).or_default() += 1.0;
            }
        }
        let idf: FxHashMap<String, f64> = df
            .into_iter()
            .map(|(term, df)| (term, (n / df).ln() + 1.0))
            .collect();
        let groups = profiles
            .into_iter()
            .map(|(g, t)| {
                let weights: FxHashMap<String, f64> = t
                    .into_iter()
                    .map(|(term, w)| {
                        let idf = idf.get(&term).copied().unwrap_or(1.0);
                        (term, w * idf)
                    })
                    .collect();
                let norm = weights.values().map(|w| w * w).sum::<f64>().sqrt();
                GroupVector {
                    id: g.attack_id.clone(),
                    name: g.name.clone(),
                    aliases: g.aliases.clone(),
                    techniques: g.techniques.clone(),
                    software: g.software.clone(),
                    weights,
                    norm,
                }
            })
            .collect();
        let parents = knowledge
            .techniques
            .values()
            .filter_map(|t| t.parent.clone().map(|p| (t.attack_id.clone(), p)))
            .collect();
        Ranker {
            groups,
            idf,
            parents,
        }
    }

    /// Number of groups in the index.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// True when no group has a profile (ATT&CK not imported).
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Ranks groups against observed techniques and software (ATT&CK ids), best first, at most `top`.
    pub fn rank(&self, techniques: &[String], software: &[String], top: usize) -> Vec<Candidate> {
        let observed: BTreeSet<String> = techniques
            .iter()
            .map(|t| t.trim().to_ascii_uppercase())
            .collect();
        let observed_software: BTreeSet<String> = software
            .iter()
            .map(|s| s.trim().to_ascii_uppercase())
            .collect();
        let query: FxHashMap<String, f64> = terms(&observed, &observed_software)
            .into_iter()
            .filter_map(|(term, w)| self.idf.get(&term).map(|idf| (term, w * idf)))
            .collect();
        let query_norm = query.values().map(|w| w * w).sum::<f64>().sqrt();
        if query_norm == 0.0 {
            return Vec::new();
        }
        let mut scored: Vec<(f64, &GroupVector)> = self
            .groups
            .iter()
            .map(|g| {
                let dot: f64 = query
                    .iter()
                    .filter_map(|(term, w)| g.weights.get(term).map(|gw| w * gw))
                    .sum();
                (dot / (query_norm * g.norm), g)
            })
            .filter(|(s, _)| *s > 0.0)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.id.cmp(&b.1.id)));
        scored
            .into_iter()
            .take(top)
            .map(|(similarity, g)| Candidate {
                group: g.id.clone(),
                name: g.name.clone(),
                aliases: g.aliases.clone(),
                similarity: (similarity * 1000.0).round() / 1000.0,
                shared_techniques: observed
                    .iter()
                    .filter(|t| {
                        g.techniques.contains(*t)
                            || self
                                .parents
                                .get(*t)
                                .is_some_and(|p| g.techniques.contains(p))
                            || g.techniques
                                .iter()
                                .any(|gt| self.parents.get(gt) == Some(*t))
                    })
                    .cloned()
                    .collect(),
                shared_software: observed_software
                    .iter()
                    .filter(|s| g.software.contains(*s))
                    .cloned()
                    .collect(),
                group_techniques: g.techniques.len(),
            })
            .collect()
    }
}

/// Result of [`evaluate`] for one sampling rate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// Share of each group's techniques sampled.
    pub sample_rate: f64,
    /// Noise techniques added, as a share of the sampled count.
    pub noise_rate: f64,
    /// Groups evaluated (those with at least `min_techniques`).
    pub groups: usize,
    /// Trials (groups × repetitions).
    pub trials: usize,
    /// Share of trials where the true group ranked first.
    pub top1: f64,
    /// Share of trials where it ranked in the first five.
    pub top5: f64,
    /// Mean reciprocal rank.
    pub mrr: f64,
}

/// Small deterministic generator (SplitMix64) so evaluations are reproducible from a seed on every platform.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// Seeded generator.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform index below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// Leave-some-out evaluation: for every group with at least `min_techniques` techniques, `repeats` times, sample
/// `sample_rate` of its techniques (at least one), add `noise_rate` × that many random techniques it does not use,
/// rank, and count how often the group comes first / in the first five. Techniques only (no software).
pub fn evaluate(
    knowledge: &Knowledge,
    ranker: &Ranker,
    sample_rate: f64,
    noise_rate: f64,
    min_techniques: usize,
    repeats: usize,
    seed: u64,
) -> Evaluation {
    let mut rng = SplitMix64::new(seed);
    let all_techniques: Vec<&String> = knowledge.techniques.keys().collect();
    let (mut trials, mut top1, mut top5, mut rr, mut groups) =
        (0usize, 0usize, 0usize, 0.0, 0usize);
    for group in knowledge.groups.values() {
        if group.techniques.len() < min_techniques {
            continue;
        }
        groups += 1;
        let own: Vec<&String> = group.techniques.iter().collect();
        for _ in 0..repeats.max(1) {
            let mut pool = own.clone();
            rng.shuffle(&mut pool);
            let take = ((own.len() as f64 * sample_rate).round() as usize).clamp(1, own.len());
            let mut query: Vec<String> = pool[..take].iter().map(|t| (*t).clone()).collect();
            let noise = (take as f64 * noise_rate).round() as usize;
            let mut added = 0;
            let mut guard = 0;
            while added < noise && guard < 10_000 {
                guard += 1;
                let t = all_techniques[rng.below(all_techniques.len())];
                if !group.techniques.contains(t) && !query.contains(t) {
                    query.push(t.clone());
                    added += 1;
                }
            }
            let ranked = ranker.rank(&query, &[], usize::MAX);
            trials += 1;
            if let Some(pos) = ranked.iter().position(|c| c.group == group.attack_id) {
                if pos == 0 {
                    top1 += 1;
                }
                if pos < 5 {
                    top5 += 1;
                }
                rr += 1.0 / (pos + 1) as f64;
            }
        }
    }
    let share = |n: usize| {
        if trials == 0 {
            0.0
        } else {
            n as f64 / trials as f64
        }
    };
    Evaluation {
        sample_rate,
        noise_rate,
        groups,
        trials,
        top1: share(top1),
        top5: share(top5),
        mrr: if trials == 0 { 0.0 } else { rr / trials as f64 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attack::tests::tiny_bundle;

    fn knowledge() -> Knowledge {
        let bundle = tiny_bundle("2021-01-01T00:00:00.000Z");
        Knowledge::from_objects(bundle["objects"].as_array().unwrap())
    }

    #[test]
    fn ranks_by_shared_techniques_with_parent_credit() {
        let k = knowledge();
        let r = Ranker::new(&k);
        assert_eq!(r.len(), 2);
        let ranked = r.rank(&["T1566.001".into()], &[], 5);
        assert_eq!(ranked[0].group, "G0060");
        assert_eq!(ranked[0].shared_techniques, vec!["T1566.001"]);
        // A parent technique matches a group that uses one of its sub-techniques.
        let ranked = r.rank(&["T1566".into()], &[], 5);
        assert_eq!(ranked[0].group, "G0060");
        assert_eq!(ranked[0].shared_techniques, vec!["T1566"]);
        let ranked = r.rank(&["t1204".into()], &[], 5);
        assert_eq!(ranked[0].group, "G0001");
        let ranked = r.rank(&[], &["S0002".into()], 5);
        assert_eq!(ranked[0].group, "G0060");
        assert_eq!(ranked[0].shared_software, vec!["S0002"]);
        assert!(r.rank(&["T0000".into()], &[], 5).is_empty());
        assert!(ranked[0].similarity > 0.0 && ranked[0].similarity <= 1.0);
    }

    #[test]
    fn evaluation_is_seeded() {
        let k = knowledge();
        let r = Ranker::new(&k);
        let a = evaluate(&k, &r, 0.5, 0.2, 1, 3, 7);
        let b = evaluate(&k, &r, 0.5, 0.2, 1, 3, 7);
        assert_eq!(a, b);
        assert_eq!(a.groups, 2);
        assert!(a.top5 > 0.99);
    }
}
