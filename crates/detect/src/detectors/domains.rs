//! Domain helpers shared by detectors: registered domains and domain-looking tokens in free text.

/// Registered domain (public suffix + 1) of a lower-case host, or the host itself when the PSL has no answer.
pub fn registered(host: &str) -> String {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.parse::<std::net::IpAddr>().is_ok() {
        return host;
    }
    psl::domain_str(&host).map_or(host.clone(), str::to_string)
}

/// Domain names that appear in free text such as a display name or anchor text (`PayPal.com`, `support@bank.jp`,
/// `https://www.amazon.co.jp/`): tokens with at least one dot whose last label is a known public suffix.
/// Returned lower-case, without duplicates, at most 10.
pub fn domains_in_text(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for token in text.split(|c: char| !(c.is_alphanumeric() || c == '.' || c == '-' || c == '@')) {
        let token = token.trim_matches(|c: char| c == '.' || c == '-');
        let host = token.rsplit('@').next().unwrap_or(token);
        if !host.contains('.') || host.len() > 253 || host.starts_with('.') {
            continue;
        }
        let host = host.to_lowercase();
        let ascii = if host.is_ascii() {
            host
        } else {
            match idna::domain_to_ascii(&host) {
                Ok(a) => a,
                Err(_) => continue,
            }
        };
        if ascii.split('.').any(str::is_empty) || ascii.parse::<std::net::IpAddr>().is_ok() {
            continue;
        }
        // A real suffix (listed in the PSL), not the PSL's wildcard default for unknown TLDs.
        let known = psl::suffix(ascii.as_bytes()).is_some_and(|s| s.is_known());
        let tld = ascii.rsplit('.').next().unwrap_or_default();
        // Brand and niche TLDs (`.hughes`, `.smith`) turn ordinary names into "domains"; only count the TLDs
        // people actually write in mail, unless the token is an address.
        let plausible = token.contains('@')
            || tld.len() == 2
            || COMMON_GENERIC_TLDS.contains(&tld)
            || tld.starts_with("xn--");
        if known
            && plausible
            && psl::domain_str(&ascii).is_some()
            && !looks_like_file_name(&ascii)
            && !out.contains(&ascii)
        {
            out.push(ascii);
            if out.len() == 10 {
                break;
            }
        }
    }
    out
}

/// Generic TLDs common enough in mail that a token ending in one is taken for a domain.
const COMMON_GENERIC_TLDS: &[&str] = &[
    "com",
    "net",
    "org",
    "info",
    "biz",
    "edu",
    "gov",
    "mil",
    "int",
    "xyz",
    "top",
    "online",
    "site",
    "club",
    "shop",
    "store",
    "live",
    "life",
    "pro",
    "work",
    "click",
    "link",
    "email",
    "support",
    "services",
    "app",
    "dev",
    "cloud",
    "icu",
    "buzz",
    "vip",
    "fun",
    "space",
    "website",
    "tech",
    "today",
    "world",
    "one",
    "ltd",
    "group",
    "company",
    "business",
    "news",
    "bank",
    "money",
    "finance",
    "account",
    "login",
    "secure",
    "help",
    "center",
    "digital",
    "network",
    "solutions",
    "systems",
    "global",
    "asia",
    "tokyo",
    "mobi",
    "name",
    "cc",
    "tv",
    "me",
    "io",
    "rest",
    "bar",
    "cyou",
    "sbs",
    "cfd",
    "monster",
    "quest",
    "beauty",
    "hair",
    "skin",
    "makeup",
    "lol",
    "pics",
    "mom",
];

/// `report.zip`, `run.sh`, `main.py`: two labels whose "TLD" is also a common file extension.
fn looks_like_file_name(host: &str) -> bool {
    const EXTENSION_TLDS: &[&str] = &[
        "zip", "mov", "py", "sh", "rs", "pl", "md", "ps", "cs", "so", "ml", "ts", "mp", "ai", "gz",
    ];
    let mut labels = host.rsplit('.');
    let tld = labels.next().unwrap_or_default();
    let rest = labels.count();
    rest == 1 && EXTENSION_TLDS.contains(&tld)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_domains_in_text() {
        assert_eq!(domains_in_text("PayPal.com Support"), vec!["paypal.com"]);
        assert_eq!(
            domains_in_text("\"support@Amazon.co.jp\""),
            vec!["amazon.co.jp"]
        );
        assert_eq!(
            domains_in_text("https://www.smbc.co.jp/login"),
            vec!["www.smbc.co.jp"]
        );
        assert!(domains_in_text("John Smith").is_empty());
        assert!(domains_in_text("J.R.R. Tolkien").is_empty());
        assert!(domains_in_text("Craig R.Hughes").is_empty());
        assert_eq!(
            domains_in_text("r.hughes@deersoft.com"),
            vec!["deersoft.com"]
        );
        assert!(domains_in_text("version 1.2.3").is_empty());
        assert!(domains_in_text("file.txt and notes.doc report.zip").is_empty());
    }

    #[test]
    fn registered_domains() {
        assert_eq!(registered("mail.example.co.jp"), "example.co.jp");
        assert_eq!(registered("192.0.2.1"), "192.0.2.1");
    }
}
