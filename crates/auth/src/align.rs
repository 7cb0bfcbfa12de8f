//! DMARC identifier alignment helpers (relaxed mode: same organisational domain).

/// Registered (organisational) domain of a host, lower case, per the Public Suffix List.
pub fn registered(host: &str) -> String {
    mamori_detect::detectors::domains::registered(host)
}

/// Relaxed alignment: `a` and `b` share their organisational domain.
pub fn aligned(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim_end_matches('.'), b.trim_end_matches('.'));
    a.eq_ignore_ascii_case(b) || registered(a) == registered(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relaxed_alignment() {
        assert!(aligned("mail.example.co.jp", "example.co.jp"));
        assert!(aligned("Example.COM", "example.com"));
        assert!(!aligned("example.co.jp", "co.jp"));
        assert!(!aligned("evil.example", "example.co.jp"));
    }
}
