//! Feature hashing: a feature (family tag + text parts) becomes an index in a fixed space of `2^bits` slots.
//!
//! Each text part is hashed on its own ([`text_hash`], FNV-1a over the bytes) and the part hashes are then
//! combined with the family tag ([`combine`], SplitMix64 finaliser per step). Hashing parts separately lets the
//! tokeniser hash each word once and reuse that hash for the word and for every pair it is in, instead of
//! re-reading its bytes for each feature. The functions are written out here instead of taken from a hashing
//! crate on purpose: a trained model is only valid with the exact function it was trained with, so the function
//! must never change with a dependency update. Changing it means bumping [`crate::FEATURE_VERSION`].

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
/// Start of [`combine`]: distinct from any FNV state so that tag 0 does not start from zero.
const COMBINE_SEED: u64 = 0x9e37_79b9_7f4a_7c15;

/// FNV-1a hash of one text part.
#[inline]
pub fn text_hash(text: &str) -> u64 {
    bytes_hash(text.as_bytes())
}

/// FNV-1a hash of bytes.
#[inline]
pub fn bytes_hash(bytes: &[u8]) -> u64 {
    let mut state = FNV_OFFSET;
    for &b in bytes {
        state ^= u64::from(b);
        state = state.wrapping_mul(FNV_PRIME);
    }
    state
}

/// The 64-bit hash of a feature from its family tag and the [`text_hash`]es of its parts, in order (so that
/// `("ab","c")`, `("a","bc")` and `("c","ab")` all differ).
#[inline]
pub fn combine(tag: u8, parts: &[u64]) -> u64 {
    combine_iter(tag, parts.iter().copied())
}

/// [`combine`] over an iterator of part hashes.
#[inline]
pub fn combine_iter(tag: u8, parts: impl IntoIterator<Item = u64>) -> u64 {
    let mut h = TAG_STARTS[usize::from(tag)];
    for p in parts {
        h = mix64(h ^ p);
    }
    h
}

/// The start state of [`combine`] for each tag, `mix64(COMBINE_SEED ^ tag)`, computed at compile time: saves one
/// mix per feature on the scanning path.
const TAG_STARTS: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut tag = 0;
    while tag < 256 {
        table[tag] = mix64(COMBINE_SEED ^ tag as u64);
        tag += 1;
    }
    table
};

/// SplitMix64 finaliser: every input bit affects every output bit.
#[inline]
pub const fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The top `bits` bits of a hash as a slot index (`bits` is at most 32).
#[inline]
pub fn slot(hash: u64, bits: u8) -> u32 {
    let bits = u32::from(bits.clamp(1, 32));
    // The shift keeps the best-mixed high bits; the result fits in 32 bits by construction.
    u32::try_from(hash >> (64 - bits)).unwrap_or(u32::MAX)
}

/// Hashes a whole feature at once (family tag and text parts).
pub fn hash_feature(tag: u8, parts: &[&str]) -> u64 {
    combine_iter(tag, parts.iter().map(|p| text_hash(p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PINNED: u64 = 14_510_205_208_198_541_103;

    #[test]
    fn stable_and_separated() {
        // Pinned value: a change here invalidates every trained model (bump FEATURE_VERSION).
        assert_eq!(hash_feature(1, &["viagra"]), hash_feature(1, &["viagra"]));
        assert_ne!(hash_feature(1, &["ab", "c"]), hash_feature(1, &["a", "bc"]));
        assert_ne!(hash_feature(1, &["a", "b"]), hash_feature(1, &["b", "a"]));
        assert_ne!(hash_feature(1, &["x"]), hash_feature(2, &["x"]));
        assert_eq!(hash_feature(7, &["パスワード"]), PINNED);
        // Part hashes combine to the same value as hashing the strings.
        assert_eq!(
            combine(6, &[text_hash("verify"), text_hash("your")]),
            hash_feature(6, &["verify", "your"])
        );
        let i = slot(hash_feature(1, &["viagra"]), 20);
        assert!(i < (1 << 20));
        assert_eq!(slot(u64::MAX, 20), (1 << 20) - 1);
        assert_eq!(slot(0, 32), 0);
    }

    #[test]
    fn tag_starts_are_the_mixed_seed() {
        for tag in [0u8, 1, 28, 255] {
            assert_eq!(
                TAG_STARTS[usize::from(tag)],
                mix64(COMBINE_SEED ^ u64::from(tag))
            );
        }
    }

    #[test]
    fn spreads_over_the_space() {
        // 10,000 distinct words in 2^12 slots: no slot should hold a big share.
        let mut counts = vec![0u32; 1 << 12];
        for i in 0..10_000 {
            let w = format!("word{i}");
            counts[slot(hash_feature(3, &[&w]), 12) as usize] += 1;
        }
        let max = counts.iter().copied().max().unwrap_or(0);
        assert!(max < 15, "worst slot holds {max}");
        let empty = counts.iter().filter(|&&c| c == 0).count();
        // Expected empty share for 10k balls in 4096 bins is e^-2.44 ≈ 8.7 %.
        assert!(empty < 600, "{empty} empty slots");
    }
}
