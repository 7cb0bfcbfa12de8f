//! Allocation-free parsers for the value types in Zeek logs (`time`, `interval`, `count`, `port`, `addr`,
//! `bool`). They accept exactly what Zeek writes and return `None` for anything else.

use std::net::{IpAddr, Ipv4Addr};

/// Parse an unsigned decimal with an optional fraction (`1517336042.090842`, `3.0`, `12`). No sign, no
/// exponent, at most 20 integer digits; `None` otherwise.
pub fn parse_decimal(b: &[u8]) -> Option<f64> {
    let (int, frac) = match memchr::memchr(b'.', b) {
        Some(dot) => (&b[..dot], &b[dot + 1..]),
        None => (b, &b[..0]),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if int.len() > 20 {
        return None;
    }
    let mut whole: u64 = 0;
    for &c in int {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        whole = whole.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    // Zeek writes 6 fraction digits; more are accepted, but only the first 9 matter.
    let mut frac_val: u64 = 0;
    let mut scale: u64 = 1;
    for (i, &c) in frac.iter().enumerate() {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        if i < 9 {
            frac_val = frac_val * 10 + u64::from(d);
            scale *= 10;
        }
    }
    Some(whole as f64 + frac_val as f64 / scale as f64)
}

/// Parse a decimal `count`.
pub fn parse_count(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    Some(v)
}

/// Parse a `port` (0–65535).
pub fn parse_port(b: &[u8]) -> Option<u16> {
    if b.len() > 5 {
        return None;
    }
    parse_count(b).and_then(|v| u16::try_from(v).ok())
}

/// Parse a `bool` (`T` / `F`).
pub fn parse_bool(b: &[u8]) -> Option<bool> {
    match b {
        b"T" => Some(true),
        b"F" => Some(false),
        _ => None,
    }
}

/// Parse an `addr`: dotted-quad IPv4 on a fast path, IPv6 through the standard parser. Zone ids (`fe80::1%eth0`)
/// are not accepted (Zeek does not write them).
pub fn parse_addr(b: &[u8]) -> Option<IpAddr> {
    if let Some(v4) = parse_ipv4(b) {
        return Some(IpAddr::V4(v4));
    }
    if b.len() > 45 || !b.contains(&b':') {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

fn parse_ipv4(b: &[u8]) -> Option<Ipv4Addr> {
    if b.len() < 7 || b.len() > 15 {
        return None;
    }
    let mut octets = [0u8; 4];
    let mut idx = 0;
    let mut val: u16 = 0;
    let mut digits = 0;
    for &c in b {
        if c == b'.' {
            if digits == 0 || idx == 3 {
                return None;
            }
            octets[idx] = u8::try_from(val).ok()?;
            idx += 1;
            val = 0;
            digits = 0;
        } else {
            let d = c.wrapping_sub(b'0');
            // No leading zeros (as the standard parser), at most 3 digits.
            if d > 9 || digits == 3 || (digits == 1 && val == 0) {
                return None;
            }
            val = val * 10 + u16::from(d);
            digits += 1;
        }
    }
    if idx != 3 || digits == 0 {
        return None;
    }
    octets[3] = u8::try_from(val).ok()?;
    Some(Ipv4Addr::from(octets))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decimals() {
        assert_eq!(
            parse_decimal(b"1517336042.090842"),
            Some(1_517_336_042.090_842)
        );
        assert_eq!(parse_decimal(b"3"), Some(3.0));
        assert_eq!(parse_decimal(b"0.5"), Some(0.5));
        assert_eq!(parse_decimal(b".5"), Some(0.5));
        assert_eq!(parse_decimal(b"7."), Some(7.0));
        for bad in [
            &b""[..],
            b".",
            b"-1",
            b"1e5",
            b"1.2.3",
            b"abc",
            b"1 ",
            b"123456789012345678901234",
        ] {
            assert_eq!(
                parse_decimal(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn counts_ports_bools() {
        assert_eq!(parse_count(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_count(b"18446744073709551616"), None);
        assert_eq!(parse_count(b"-"), None);
        assert_eq!(parse_port(b"65535"), Some(65535));
        assert_eq!(parse_port(b"65536"), None);
        assert_eq!(parse_bool(b"T"), Some(true));
        assert_eq!(parse_bool(b"true"), None);
    }

    #[test]
    fn addresses() {
        assert_eq!(
            parse_addr(b"192.168.1.115"),
            Some("192.168.1.115".parse().unwrap())
        );
        assert_eq!(
            parse_addr(b"fd2d:ab8c:225::1"),
            Some("fd2d:ab8c:225::1".parse().unwrap())
        );
        for bad in [
            &b"256.1.1.1"[..],
            b"1.2.3",
            b"1.2.3.4.5",
            b"01.2.3.4",
            b"1..2.3",
            b"x",
            b"",
            b"::g",
        ] {
            assert_eq!(parse_addr(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    proptest! {
        #[test]
        fn ipv4_fast_path_agrees_with_std(a: u8, b: u8, c: u8, d: u8) {
            let s = format!("{a}.{b}.{c}.{d}");
            prop_assert_eq!(parse_addr(s.as_bytes()), Some(IpAddr::V4(Ipv4Addr::new(a, b, c, d))));
        }

        #[test]
        fn ipv4_never_accepts_what_std_rejects(s in "[0-9.]{0,16}") {
            let ours = parse_ipv4(s.as_bytes());
            let std = s.parse::<Ipv4Addr>().ok();
            prop_assert_eq!(ours, std);
        }

        #[test]
        fn decimal_matches_std_for_plain_numbers(int in 0u64..10_000_000_000, frac in 0u32..1_000_000) {
            let s = format!("{int}.{frac:06}");
            let ours = parse_decimal(s.as_bytes()).unwrap();
            let std: f64 = s.parse().unwrap();
            prop_assert!((ours - std).abs() <= 1e-6 * std.max(1.0));
        }
    }
}
