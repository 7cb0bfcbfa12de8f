//! Tolerant Content-Transfer-Encoding decoders. Real mail has broken base64 (stray characters, missing padding)
//! and broken quoted-printable (`=` not followed by hex); these decode what can be decoded and report whether
//! the input was clean, instead of giving up.

/// Decodes base64, skipping characters outside the alphabet. Returns the bytes and whether the input was clean
/// (only alphabet, whitespace and final padding).
pub fn decode_base64(input: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 3);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    let mut clean = true;
    let mut padding = false;
    for &b in input {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => {
                padding = true;
                continue;
            }
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            _ => {
                clean = false;
                continue;
            }
        };
        if padding {
            // Data after padding: concatenated base64 chunks; keep decoding but note it.
            clean = false;
            padding = false;
        }
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    (out, clean)
}

/// Decodes quoted-printable. Returns the bytes and whether every `=` escape was valid.
pub fn decode_quoted_printable(input: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(input.len());
    let mut clean = true;
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if b != b'=' {
            out.push(b);
            i += 1;
            continue;
        }
        match (input.get(i + 1), input.get(i + 2)) {
            (Some(b'\r'), Some(b'\n')) => i += 3,
            (Some(b'\n'), _) => i += 2,
            (Some(&h), Some(&l)) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => {
                out.push((hex_val(h) << 4) | hex_val(l));
                i += 3;
            }
            (None, _) => i += 1,
            _ => {
                // Soft line break with trailing spaces, or a bare '='.
                let mut j = i + 1;
                while j < input.len() && matches!(input[j], b' ' | b'\t') {
                    j += 1;
                }
                if input.get(j) == Some(&b'\n') {
                    i = j + 1;
                } else if input.get(j) == Some(&b'\r') && input.get(j + 1) == Some(&b'\n') {
                    i = j + 2;
                } else {
                    clean = false;
                    out.push(b'=');
                    i += 1;
                }
            }
        }
    }
    (out, clean)
}

fn hex_val(h: u8) -> u8 {
    match h {
        b'0'..=b'9' => h - b'0',
        b'a'..=b'f' => h - b'a' + 10,
        _ => h - b'A' + 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_tolerates_noise() {
        assert_eq!(
            decode_base64(b"aGVs\r\nbG8=\r\n"),
            (b"hello".to_vec(), true)
        );
        let (bytes, clean) = decode_base64(b"aGVs*bG8");
        assert_eq!(bytes, b"hello");
        assert!(!clean);
        assert_eq!(decode_base64(b"").0, b"");
    }

    #[test]
    fn quoted_printable_soft_breaks_and_errors() {
        assert_eq!(decode_quoted_printable(b"a=3Db=\r\nc= \nd").0, b"a=bcd");
        let (bytes, clean) = decode_quoted_printable(b"50% =ZZ off=");
        assert_eq!(bytes, b"50% =ZZ off");
        assert!(!clean);
    }
}
