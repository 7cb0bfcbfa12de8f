//! The model file format, version 1 (documented in `docs/ml.md`). All integers little-endian.
//!
//! ```text
//! offset  size  field
//! 0       8     magic "MAMORIML"
//! 8       2     format version (1)
//! 10      2     feature version (crate::FEATURE_VERSION): the tokeniser and hashing the weights belong to
//! 12      1     hash bits (feature space 2^bits)
//! 13      1     classes (3: ham, spam, phish)
//! 14      2     reserved, 0
//! 16      4     temperature (f32)
//! 20      4     weight scale (f32): weight = quantised i16 × scale
//! 24      12    biases (3 × f32)
//! 36      4     metadata length M (u32)
//! 40      M     metadata: UTF-8 JSON (ModelInfo: what it was trained on)
//! 40+M    4     entries N (u32)
//! …             N entries: index delta from the previous entry (LEB128 varint, first from 0), 3 × i16 weights
//! end-4   4     CRC-32 (IEEE) of every byte before it
//! ```
//!
//! Only features with a non-zero weight are stored (FTRL's L1 makes most of them zero), and weights are quantised
//! to 16 bits with one scale, which changes a probability by far less than the calibration error.

use std::path::Path;

use crate::model::{CLASSES, Model, ModelInfo};

/// File magic.
pub const MAGIC: &[u8; 8] = b"MAMORIML";
/// Format version written and read.
pub const FORMAT_VERSION: u16 = 1;
/// Largest metadata block accepted.
const MAX_METADATA: usize = 1 << 20;

/// Why a model file could not be read or written. Messages name the file when there is one.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Not a mamori model file.
    #[error("{path}: not a mamori model file (bad magic)")]
    BadMagic {
        /// The file.
        path: String,
    },
    /// Written by a newer or older, incompatible mamori.
    #[error(
        "{path}: model format version {found} is not supported (this mamori reads version {supported})"
    )]
    Version {
        /// The file.
        path: String,
        /// Version in the file.
        found: u16,
        /// Version understood.
        supported: u16,
    },
    /// Trained with different features (another tokeniser or hash).
    #[error(
        "{path}: model was trained with feature version {found}, this mamori extracts version {supported}: retrain it (mamori train)"
    )]
    FeatureVersion {
        /// The file.
        path: String,
        /// Version in the file.
        found: u16,
        /// Version understood.
        supported: u16,
    },
    /// The file ends early.
    #[error("{path}: model file is truncated ({len} bytes)")]
    Truncated {
        /// The file.
        path: String,
        /// Its length.
        len: usize,
    },
    /// The checksum does not match: the file was damaged.
    #[error("{path}: model file is corrupt (checksum mismatch)")]
    Checksum {
        /// The file.
        path: String,
    },
    /// Inconsistent content.
    #[error("{path}: model file is corrupt: {reason}")]
    Corrupt {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

fn write_varint(out: &mut Vec<u8>, mut v: u32) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    path: &'a str,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ModelError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| ModelError::Truncated {
                path: self.path.to_string(),
                len: self.bytes.len(),
            })?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], ModelError> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }
    fn u16(&mut self) -> Result<u16, ModelError> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, ModelError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn f32(&mut self) -> Result<f32, ModelError> {
        Ok(f32::from_le_bytes(self.array()?))
    }
    fn varint(&mut self) -> Result<u32, ModelError> {
        let mut v: u64 = 0;
        for shift in (0..35).step_by(7) {
            let b = self.array::<1>()?[0];
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return u32::try_from(v).map_err(|_| self.corrupt("index delta out of range"));
            }
        }
        Err(self.corrupt("over-long varint"))
    }
    fn corrupt(&self, reason: &str) -> ModelError {
        ModelError::Corrupt {
            path: self.path.to_string(),
            reason: reason.to_string(),
        }
    }
}

impl Model {
    /// The model in file format.
    pub fn to_bytes(&self) -> Vec<u8> {
        let max = self.weights.iter().fold(0f32, |m, w| m.max(w.abs()));
        let scale = if max > 0.0 {
            max / f32::from(i16::MAX)
        } else {
            1.0
        };
        let meta = serde_json::to_vec(&self.info).unwrap_or_default();
        let mut out = Vec::with_capacity(64 + meta.len() + self.non_zero() * 9);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&crate::FEATURE_VERSION.to_le_bytes());
        out.push(self.bits);
        out.push(CLASSES as u8);
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&self.temperature.to_le_bytes());
        out.extend_from_slice(&scale.to_le_bytes());
        for b in self.bias {
            out.extend_from_slice(&b.to_le_bytes());
        }
        out.extend_from_slice(&(meta.len() as u32).to_le_bytes());
        out.extend_from_slice(&meta);
        let count_at = out.len();
        out.extend_from_slice(&0u32.to_le_bytes());
        let mut count = 0u32;
        let mut prev = 0u32;
        for (i, w) in self.weights.chunks_exact(CLASSES).enumerate() {
            let q: Vec<i16> = w
                .iter()
                .map(|&x| (x / scale).round().clamp(-32767.0, 32767.0) as i16)
                .collect();
            if q.iter().all(|&x| x == 0) {
                continue;
            }
            let i = i as u32;
            write_varint(&mut out, i - prev);
            prev = i;
            for x in q {
                out.extend_from_slice(&x.to_le_bytes());
            }
            count += 1;
        }
        out[count_at..count_at + 4].copy_from_slice(&count.to_le_bytes());
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Reads a model from file-format bytes; `name` is used in error messages.
    pub fn from_bytes(bytes: &[u8], name: &str) -> Result<Model, ModelError> {
        let truncated = || ModelError::Truncated {
            path: name.to_string(),
            len: bytes.len(),
        };
        if bytes.len() < 8 || &bytes[..8] != MAGIC {
            return Err(if bytes.len() < 8 && MAGIC.starts_with(bytes) {
                truncated()
            } else {
                ModelError::BadMagic {
                    path: name.to_string(),
                }
            });
        }
        let mut c = Cursor {
            bytes,
            pos: 8,
            path: name,
        };
        let version = c.u16()?;
        if version != FORMAT_VERSION {
            return Err(ModelError::Version {
                path: name.to_string(),
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let feature_version = c.u16()?;
        if feature_version != crate::FEATURE_VERSION {
            return Err(ModelError::FeatureVersion {
                path: name.to_string(),
                found: feature_version,
                supported: crate::FEATURE_VERSION,
            });
        }
        // Check the whole file before trusting any count in it.
        if bytes.len() < 44 {
            return Err(truncated());
        }
        let (body, tail) = bytes.split_at(bytes.len() - 4);
        let stored = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
        if crc32fast::hash(body) != stored {
            return Err(ModelError::Checksum {
                path: name.to_string(),
            });
        }
        let mut c = Cursor {
            bytes: body,
            pos: 12,
            path: name,
        };
        let bits = c.array::<1>()?[0];
        if !(crate::MIN_BITS..=crate::MAX_BITS).contains(&bits) {
            return Err(c.corrupt(&format!("hash bits {bits} out of range")));
        }
        let classes = c.array::<1>()?[0];
        if usize::from(classes) != CLASSES {
            return Err(c.corrupt(&format!("{classes} classes, expected {CLASSES}")));
        }
        let _reserved = c.u16()?;
        let temperature = c.f32()?;
        let scale = c.f32()?;
        if !(temperature.is_finite() && temperature > 0.0 && scale.is_finite() && scale > 0.0) {
            return Err(c.corrupt("temperature or scale is not a positive number"));
        }
        let mut bias = [0f32; CLASSES];
        for b in &mut bias {
            *b = c.f32()?;
        }
        let meta_len = c.u32()? as usize;
        if meta_len > MAX_METADATA {
            return Err(c.corrupt("metadata too large"));
        }
        let info: ModelInfo = serde_json::from_slice(c.take(meta_len)?)
            .map_err(|e| c.corrupt(&format!("metadata: {e}")))?;
        let count = c.u32()? as usize;
        let slots = 1usize << bits;
        if count > slots {
            return Err(c.corrupt("more entries than feature slots"));
        }
        let mut weights = vec![0f32; slots * CLASSES];
        let mut index: u64 = 0;
        for n in 0..count {
            let delta = u64::from(c.varint()?);
            if n > 0 && delta == 0 {
                return Err(c.corrupt("repeated feature index"));
            }
            index += delta;
            let i = usize::try_from(index)
                .ok()
                .filter(|&i| i < slots)
                .ok_or_else(|| c.corrupt("feature index out of range"))?;
            for k in 0..CLASSES {
                let q = i16::from_le_bytes(c.array()?);
                weights[i * CLASSES + k] = f32::from(q) * scale;
            }
        }
        if c.pos != body.len() {
            return Err(c.corrupt("trailing bytes after the weights"));
        }
        Ok(Model::from_parts(bits, weights, bias, temperature, info))
    }

    /// Reads a model file.
    pub fn load(path: &Path) -> Result<Model, ModelError> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
            path: name.clone(),
            source,
        })?;
        Model::from_bytes(&bytes, &name)
    }

    /// Writes the model to `path` safely: to a temporary file in the same directory, synced, then renamed over
    /// `path`, so a crash or a full disk never leaves a half-written model where a good one was.
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        use std::io::Write;
        let name = path.display().to_string();
        let io = |source| ModelError::Io {
            path: name.clone(),
            source,
        };
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let file_name = path
            .file_name()
            .map_or_else(|| "model".into(), |n| n.to_string_lossy().into_owned());
        let tmp = dir.join(format!(".{file_name}.tmp{}", std::process::id()));
        let result = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&self.to_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Label;
    use crate::train::{TrainOptions, train};

    fn trained() -> Model {
        let data = crate::train::tests::synthetic(300, 9);
        let opts = TrainOptions {
            bits: 12,
            ..TrainOptions::default()
        };
        train(&data, &opts, "round trip", |_| {}).expect("trains").0
    }

    #[test]
    fn round_trip_keeps_predictions() {
        let m = trained();
        let bytes = m.to_bytes();
        let back = Model::from_bytes(&bytes, "mem").expect("reads");
        assert_eq!(back.bits(), m.bits());
        assert_eq!(back.temperature(), m.temperature());
        assert_eq!(back.info().description, "round trip");
        // Weights too small for 16 bits become zero; they changed no prediction.
        assert!(back.non_zero() <= m.non_zero() && back.non_zero() + 10 >= m.non_zero());
        for idx in [vec![1, 2, 3], vec![11, 12, 500], vec![21, 27], vec![]] {
            let a = m.predict_indices(&idx).probabilities;
            let b = back.predict_indices(&idx).probabilities;
            for k in 0..CLASSES {
                assert!((a[k] - b[k]).abs() < 1e-3, "{a:?} vs {b:?}");
            }
        }
        // Writing the read model again gives the same bytes.
        assert_eq!(back.to_bytes(), bytes);
        assert_eq!(back.predict_indices(&[10, 11]).best(), Label::Spam);
    }

    #[test]
    fn save_and_load_a_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("m.mmdl");
        let m = trained();
        m.save(&path).expect("saves");
        let back = Model::load(&path).expect("loads");
        assert_eq!(back.to_bytes(), m.to_bytes());
        // No temporary file left behind.
        assert_eq!(std::fs::read_dir(dir.path()).expect("lists").count(), 1);
        let err = Model::load(&dir.path().join("missing")).expect_err("missing file");
        assert!(err.to_string().contains("missing"), "{err}");
    }

    #[test]
    fn corrupt_files_are_refused() {
        let bytes = trained().to_bytes();
        let err = |b: &[u8]| Model::from_bytes(b, "m.mmdl").expect_err("must fail");
        assert!(matches!(err(b""), ModelError::Truncated { .. }));
        assert!(matches!(err(b"MAMO"), ModelError::Truncated { .. }));
        assert!(matches!(err(b"GIF89a......"), ModelError::BadMagic { .. }));
        // Truncated anywhere.
        for cut in [10, 20, 43, bytes.len() / 2, bytes.len() - 1] {
            let e = err(&bytes[..cut]);
            assert!(
                matches!(
                    e,
                    ModelError::Truncated { .. } | ModelError::Checksum { .. }
                ),
                "cut at {cut}: {e}"
            );
        }
        // A flipped bit in the weights.
        let mut flipped = bytes.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0x10;
        assert!(matches!(err(&flipped), ModelError::Checksum { .. }));
        // Another format version, another feature version.
        let mut v = bytes.clone();
        v[8] = 9;
        let e = err(&v);
        assert!(matches!(e, ModelError::Version { found: 9, .. }), "{e}");
        assert!(e.to_string().contains("m.mmdl"));
        let mut fv = bytes.clone();
        fv[10] = fv[10].wrapping_add(1);
        assert!(matches!(err(&fv), ModelError::FeatureVersion { .. }));
        // A consistent checksum over nonsense content is still refused.
        let mut bad_bits = bytes[..bytes.len() - 4].to_vec();
        bad_bits[12] = 60;
        let crc = crc32fast::hash(&bad_bits);
        bad_bits.extend_from_slice(&crc.to_le_bytes());
        assert!(matches!(err(&bad_bits), ModelError::Corrupt { .. }));
    }
}
