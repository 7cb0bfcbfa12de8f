//! Feature hashing: a feature (family tag + text parts) becomes an index in a fixed space of `2^bits` slots.
//!
//! The hash is written out here (FNV-1a over the bytes, then the SplitMix64 finaliser to spread the bits) instead
//! of taken from a hashing crate on purpose: a trained model is only valid with the exact function it was trained
//! with, so the function must never change with a dependency update. Changing it means bumping
//! [`crate::FEATURE_VERSION`].

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Incremental hasher for one feature.
#[derive(Debug, Clone, Copy)]
pub struct FeatureHasher {
    state: u64,
}

impl FeatureHasher {
    /// Starts a feature of the family with this tag.
    pub fn new(tag: u8) -> FeatureHasher {
        let mut h = FeatureHasher { state: FNV_OFFSET };
        h.byte(tag);
        h
    }

    #[inline]
    fn byte(&mut self, b: u8) {
        self.state ^= u64::from(b);
        self.state = self.state.wrapping_mul(FNV_PRIME);
    }

    /// Adds one text part; parts are separated so that `("ab","c")` and `("a","bc")` differ.
    #[inline]
    pub fn part(&mut self, text: &str) {
        for &b in text.as_bytes() {
            self.byte(b);
        }
        self.byte(0xff);
    }

    /// The finished 64-bit hash.
    #[inline]
    pub fn finish(&self) -> u64 {
        mix64(self.state)
    }

    /// The slot in a space of `2^bits` slots.
    #[inline]
    pub fn index(&self, bits: u8) -> u32 {
        slot(self.finish(), bits)
    }
}

/// SplitMix64 finaliser: every input bit affects every output bit.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
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

/// Hashes a whole feature at once (family tag and parts).
pub fn hash_feature(tag: u8, parts: &[&str]) -> u64 {
    let mut h = FeatureHasher::new(tag);
    for p in parts {
        h.part(p);
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PINNED: u64 = 11_067_356_549_050_647_153;

    #[test]
    fn stable_and_separated() {
        // Pinned values: a change here invalidates every trained model (bump FEATURE_VERSION).
        assert_eq!(hash_feature(1, &["viagra"]), hash_feature(1, &["viagra"]));
        assert_ne!(hash_feature(1, &["ab", "c"]), hash_feature(1, &["a", "bc"]));
        assert_ne!(hash_feature(1, &["x"]), hash_feature(2, &["x"]));
        assert_eq!(hash_feature(7, &["パスワード"]), PINNED);
        let i = slot(hash_feature(1, &["viagra"]), 20);
        assert!(i < (1 << 20));
        assert_eq!(slot(u64::MAX, 20), (1 << 20) - 1);
        assert_eq!(slot(0, 32), 0);
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
