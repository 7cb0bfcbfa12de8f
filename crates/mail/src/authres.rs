//! `Authentication-Results` (RFC 8601) parsing: authserv-id and method results with their properties.
//! Tolerant of the many dialects MTAs write; comments in parentheses are dropped.

use crate::message::{AuthResult, AuthenticationResults};

/// Parses one `Authentication-Results` header value. Returns `None` when not even an authserv-id is present.
pub fn parse(value: &str) -> Option<AuthenticationResults> {
    let cleaned = strip_comments(value);
    let mut statements = split_unquoted(&cleaned, ';').into_iter();
    let head = statements.next()?;
    // The authserv-id may be followed by a version number.
    let authserv_id = head
        .split_whitespace()
        .next()?
        .trim_matches('"')
        .to_ascii_lowercase();
    if authserv_id.is_empty() {
        return None;
    }
    let mut results = Vec::new();
    for statement in statements {
        let mut tokens = split_unquoted(statement.trim(), ' ')
            .into_iter()
            .filter(|t| !t.is_empty());
        let Some(first) = tokens.next() else { continue };
        let Some((method, result)) = first.split_once('=') else {
            // `none` means no authentication was done.
            continue;
        };
        let method = method
            .trim()
            .split('/')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let result = result.trim().trim_matches('"').to_ascii_lowercase();
        let mut properties = Vec::new();
        for token in tokens {
            if let Some((k, v)) = token.split_once('=') {
                let key = k.trim().to_ascii_lowercase();
                if key == "reason" || key.contains('.') || key == "action" || key == "policy" {
                    properties.push((key, v.trim().trim_matches('"').to_string()));
                }
            }
        }
        results.push(AuthResult {
            method,
            result,
            properties,
        });
    }
    Some(AuthenticationResults {
        authserv_id,
        results,
    })
}

fn strip_comments(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut depth = 0usize;
    let mut in_quote = false;
    let mut escaped = false;
    for c in value.chars() {
        if escaped {
            escaped = false;
            if depth == 0 {
                out.push(c);
            }
            continue;
        }
        match c {
            '\\' => escaped = true,
            '"' if depth == 0 => {
                in_quote = !in_quote;
                out.push(c);
            }
            '(' if !in_quote => depth += 1,
            ')' if !in_quote && depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    out.push(' ');
                }
            }
            _ if depth == 0 => out.push(if c.is_whitespace() { ' ' } else { c }),
            _ => {}
        }
    }
    out
}

fn split_unquoted(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut in_quote = false;
    for (i, c) in s.char_indices() {
        if c == '"' {
            in_quote = !in_quote;
        } else if c == sep && !in_quote {
            parts.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&s[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_dialects() {
        let ar = parse(
            "mx.example.com; spf=pass (sender SPF authorized) smtp.mailfrom=example.org;\r\n dkim=pass (2048-bit key) header.d=example.org header.s=sel;\r\n dmarc=fail (p=REJECT) header.from=example.org; arc=none",
        )
        .unwrap();
        assert_eq!(ar.authserv_id, "mx.example.com");
        assert_eq!(ar.results.len(), 4);
        assert_eq!(ar.results[0].method, "spf");
        assert_eq!(ar.results[0].result, "pass");
        assert_eq!(
            ar.results[0].properties,
            vec![("smtp.mailfrom".into(), "example.org".into())]
        );
        assert_eq!(ar.results[2].result, "fail");
        let ar =
            parse("spf.protection.outlook.com 1; spf=softfail (sender IP is 1.2.3.4)").unwrap();
        assert_eq!(ar.authserv_id, "spf.protection.outlook.com");
        assert_eq!(ar.results[0].result, "softfail");
        assert!(parse("").is_none());
        assert_eq!(parse("mx; none").unwrap().results.len(), 0);
    }
}
