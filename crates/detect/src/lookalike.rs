//! Lookalike domains: is this host imitating one of ours, a partner's, or a well-known brand's?
//!
//! One place for every check that needs it (sender domains, Reply-To, link hosts). Techniques recognised, on the
//! registered domain of the host unless noted:
//! - **homograph**: same Unicode TR39 confusable skeleton (`аррӏе.com`, `arnazon.com`, `paypa1.com`);
//! - **typo**: Damerau–Levenshtein distance 1 (2 for labels of 10+ characters) from a protected label;
//! - **tld swap**: the protected label under another suffix (`smbc.co.jp` → `smbc.jp`, `smbc.com`);
//! - **hyphenation**: dots turned into or joined by hyphens (`smbc-co.jp`, `s-mbc.co.jp`);
//! - **combosquat**: the protected label plus words (`amazon-security.com`, `paypal-login.xyz`);
//! - **embedding** (host, not registered domain): the protected domain as a sub-domain of another
//!   (`www.amazon.co.jp.evil-domain.com`).
//!
//! Protected entries come from the configuration (own and partner domains) and the built-in brand list. A host whose
//! registered domain is itself protected is never a lookalike.

use unicode_security::skeleton;

use crate::config::OrganisationConfig;
use crate::knowledge::brands::BRANDS;

/// Whose identity a protected domain is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Owner {
    /// The organisation's own domain.
    Own,
    /// A partner or supplier.
    Partner,
    /// A well-known brand.
    Brand,
}

/// How a lookalike imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Technique {
    /// Same confusable skeleton.
    Homograph,
    /// One or two edits away.
    Typo,
    /// Same label, another public suffix.
    TldSwap,
    /// Dots and hyphens moved.
    Hyphenation,
    /// The protected label plus other words.
    Combosquat,
    /// The protected domain used as a sub-domain of another domain.
    Embedding,
}

impl Technique {
    /// Lower-case name for evidence.
    pub fn as_str(self) -> &'static str {
        match self {
            Technique::Homograph => "homograph",
            Technique::Typo => "typo",
            Technique::TldSwap => "TLD swap",
            Technique::Hyphenation => "hyphenation",
            Technique::Combosquat => "combosquat",
            Technique::Embedding => "embedding",
        }
    }
}

/// A match: which protected domain is imitated and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookalike {
    /// The protected registered domain.
    pub protected: String,
    /// Brand or organisation name.
    pub owner_name: String,
    /// Whose it is.
    pub owner: Owner,
    /// How.
    pub technique: Technique,
}

#[derive(Debug, Clone)]
struct Entry {
    domain: String,
    /// Registered label without the public suffix (`smbc` for `smbc.co.jp`).
    label: String,
    suffix: String,
    skeleton: String,
    owner: Owner,
    owner_name: String,
    /// Other legitimate domains of the same owner (a brand's other TLDs).
    siblings: Vec<String>,
    /// Country codes of the owner's domains (`jp` for `smbc.co.jp`).
    countries: Vec<String>,
    /// Forms of `domain` the matcher compares against, prepared once (`check` runs for every host of every
    /// message, so it must not allocate per entry).
    dot_domain: String,
    domain_dot: String,
    dotted: String,
    hyphen_prefix: String,
    flat: String,
}

/// The protected domains of a deployment, prepared for fast matching.
#[derive(Debug, Clone, Default)]
pub struct ProtectedDomains {
    entries: Vec<Entry>,
}

/// Labels shorter than this only match by homograph or exact label (`au`, `jcb`, `ntt` are too short for edit
/// distance or combosquats without drowning in false positives).
const MIN_FUZZY_LABEL: usize = 4;

impl ProtectedDomains {
    /// Builds the list from the organisation's configuration and, if `with_brands`, the built-in brands.
    pub fn new(org: &OrganisationConfig, with_brands: bool) -> ProtectedDomains {
        let mut entries = Vec::new();
        let own: Vec<String> = org.domains.iter().map(|d| normalise(d)).collect();
        for d in &own {
            push_entry(&mut entries, d, Owner::Own, "our organisation", &own);
        }
        let partners: Vec<String> = org.partner_domains.iter().map(|d| normalise(d)).collect();
        for d in &partners {
            push_entry(&mut entries, d, Owner::Partner, d, &[]);
        }
        if with_brands && !org.ignore_builtin_brands {
            for brand in BRANDS {
                let siblings: Vec<String> = brand.domains.iter().map(|d| d.to_string()).collect();
                for d in brand.domains {
                    push_entry(&mut entries, d, Owner::Brand, brand.name, &siblings);
                }
            }
        }
        ProtectedDomains { entries }
    }

    /// True when `domain`'s registered domain is protected (ours, a partner's or a brand's real domain).
    pub fn is_protected(&self, host: &str) -> bool {
        let reg = registered(&normalise(host));
        self.entries
            .iter()
            .any(|e| e.domain == reg || e.siblings.contains(&reg))
    }

    /// The owner of a protected registered domain, if `host` belongs to one.
    pub fn owner_of(&self, host: &str) -> Option<Owner> {
        let reg = registered(&normalise(host));
        self.entries
            .iter()
            .find(|e| e.domain == reg)
            .map(|e| e.owner)
    }

    /// True when `a` and `b` belong to the same owner: the same registered domain, two of the organisation's own
    /// domains, or two domains of the same brand.
    pub fn same_owner(&self, a: &str, b: &str) -> bool {
        let (a, b) = (registered(&normalise(a)), registered(&normalise(b)));
        if a == b {
            return true;
        }
        self.entries.iter().any(|e| {
            e.domain == a
                && (e.siblings.contains(&b)
                    || (e.owner == Owner::Own
                        && self
                            .entries
                            .iter()
                            .any(|o| o.owner == Owner::Own && o.domain == b)))
        })
    }

    /// Checks whether `host` (a host name or registered domain, ASCII or Unicode) imitates a protected domain.
    pub fn check(&self, host: &str) -> Option<Lookalike> {
        let host = normalise(host);
        if host.is_empty() || host.parse::<std::net::IpAddr>().is_ok() {
            return None;
        }
        let reg = registered(&host);
        if self
            .entries
            .iter()
            .any(|e| e.domain == reg || e.siblings.contains(&reg))
        {
            return None;
        }
        let (label, suffix) = split_label(&reg);
        let unicode_label = idna::domain_to_unicode(&label).0;
        let label_skeleton: String = skeleton(&unicode_label.to_lowercase()).collect();
        let flat: String = reg.replace(['.', '-'], "");
        let mut best: Option<(u8, Lookalike)> = None;
        for e in &self.entries {
            let brand = e.owner == Owner::Brand;
            // Global brands run national sites under other countries' suffixes (yahoo.co.uk, amazon.de); a swap
            // to a country the brand is not known in is presumed to be one of those, a swap to a generic TLD or to
            // the brand's own country is not. Short brand labels (`au`, `jcb`) swap into unrelated domains.
            let plausible_swap = !brand
                || (e.label.len() >= MIN_FUZZY_LABEL
                    && country(&suffix).is_none_or(|c| e.countries.iter().any(|own| own == c)));
            // Brand names of four letters are one typo away from many real domains (`line` → `lne.com`).
            let min_typo = if brand {
                MIN_FUZZY_LABEL + 1
            } else {
                MIN_FUZZY_LABEL
            };
            let technique = if host.ends_with(&e.dot_domain) {
                None
            } else if subdomain_part(&host, &reg).is_some_and(|sub| {
                sub == e.domain
                    || sub.ends_with(&e.dot_domain)
                    || sub.starts_with(&e.domain_dot)
                    || sub.contains(&e.dotted)
            }) || host.starts_with(&e.hyphen_prefix)
            {
                Some(Technique::Embedding)
            } else if label == e.label && suffix != e.suffix {
                plausible_swap.then_some(Technique::TldSwap)
            } else if label_skeleton == e.skeleton && label != e.label {
                Some(Technique::Homograph)
            } else if e.label.len() >= MIN_FUZZY_LABEL && flat == e.flat {
                Some(Technique::Hyphenation)
            } else if e.label.len() >= min_typo && is_typo(&label, &e.label) {
                Some(Technique::Typo)
            } else if e.label.len() >= MIN_FUZZY_LABEL && is_combosquat(&label, &e.label) {
                Some(Technique::Combosquat)
            } else {
                None
            };
            let Some(technique) = technique else { continue };
            let rank = match technique {
                Technique::Homograph => 0,
                Technique::Embedding => 1,
                Technique::Hyphenation => 2,
                Technique::Typo => 3,
                Technique::TldSwap => 4,
                Technique::Combosquat => 5,
            };
            let owner_rank = match e.owner {
                Owner::Own => 0,
                Owner::Partner => 1,
                Owner::Brand => 2,
            };
            let key = rank * 3 + owner_rank;
            if best.as_ref().is_none_or(|(k, _)| key < *k) {
                best = Some((
                    key,
                    Lookalike {
                        protected: e.domain.clone(),
                        owner_name: e.owner_name.clone(),
                        owner: e.owner,
                        technique,
                    },
                ));
            }
        }
        best.map(|(_, l)| l)
    }

    /// Number of protected domains.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is protected.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn push_entry(
    entries: &mut Vec<Entry>,
    domain: &str,
    owner: Owner,
    owner_name: &str,
    siblings: &[String],
) {
    let domain = registered(&normalise(domain));
    if domain.is_empty()
        || entries
            .iter()
            .any(|e| e.domain == domain && e.owner == owner)
    {
        return;
    }
    let (label, suffix) = split_label(&domain);
    let skeleton: String = skeleton(&label).collect();
    let mut countries: Vec<String> = std::iter::once(domain.as_str())
        .chain(siblings.iter().map(String::as_str))
        .filter_map(|d| country(d).map(str::to_string))
        .collect();
    countries.sort();
    countries.dedup();
    entries.push(Entry {
        dot_domain: format!(".{domain}"),
        domain_dot: format!("{domain}."),
        dotted: format!(".{domain}."),
        hyphen_prefix: format!("{}-", domain.replace('.', "-")),
        flat: domain.replace(['.', '-'], ""),
        domain: domain.clone(),
        label,
        suffix,
        skeleton,
        owner,
        owner_name: owner_name.to_string(),
        siblings: siblings.to_vec(),
        countries,
    });
}

/// Lower-case ASCII (punycode) form of a host, trailing dot removed.
fn normalise(host: &str) -> String {
    let host = host.trim().trim_end_matches('.').to_lowercase();
    if host.is_ascii() {
        host
    } else {
        idna::domain_to_ascii(&host).unwrap_or(host)
    }
}

fn registered(host: &str) -> String {
    psl::domain_str(host).map_or_else(|| host.to_string(), str::to_string)
}

/// The country code of a domain or suffix (its last label, when two letters).
fn country(domain: &str) -> Option<&str> {
    let tld = domain.rsplit('.').next()?;
    (tld.len() == 2 && tld.bytes().all(|b| b.is_ascii_alphabetic())).then_some(tld)
}

/// The labels of `host` in front of its registered domain `reg` (`www.amazon.co.jp` for
/// `www.amazon.co.jp.evil.com`), if any.
fn subdomain_part<'a>(host: &'a str, reg: &str) -> Option<&'a str> {
    host.strip_suffix(reg)?
        .strip_suffix('.')
        .filter(|s| !s.is_empty())
}

/// Splits a registered domain into its label and public suffix (`smbc.co.jp` → (`smbc`, `co.jp`)).
fn split_label(reg: &str) -> (String, String) {
    match reg.split_once('.') {
        Some((label, suffix)) => (label.to_string(), suffix.to_string()),
        None => (reg.to_string(), String::new()),
    }
}

/// The protected label as whole hyphen-separated words of the candidate (`amazon-security`, and for hyphenated
/// labels `partner-heavy-invoices`).
fn is_combosquat(candidate: &str, protected: &str) -> bool {
    if candidate.split('-').any(|t| t == protected) {
        return true;
    }
    protected.contains('-')
        && candidate != protected
        && (candidate.starts_with(&format!("{protected}-"))
            || candidate.ends_with(&format!("-{protected}"))
            || candidate.contains(&format!("-{protected}-")))
}

fn is_typo(candidate: &str, protected: &str) -> bool {
    if candidate == protected {
        return false;
    }
    let allowed = if protected.len() >= 10 { 2 } else { 1 };
    let len_diff = candidate.len().abs_diff(protected.len());
    len_diff <= allowed && strsim::osa_distance(candidate, protected) <= allowed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn protected() -> ProtectedDomains {
        let org = OrganisationConfig {
            domains: vec!["defence-contractor.co.jp".into()],
            partner_domains: vec!["partner-heavy.com".into()],
            ..OrganisationConfig::default()
        };
        ProtectedDomains::new(&org, true)
    }

    fn technique(host: &str) -> Option<Technique> {
        protected().check(host).map(|l| l.technique)
    }

    #[test]
    fn recognises_each_technique() {
        assert_eq!(technique("xn--80ak6aa92e.com"), Some(Technique::Homograph)); // аррӏе.com
        assert_eq!(technique("arnazon.co.jp"), Some(Technique::Homograph));
        assert_eq!(technique("paypa1.com"), Some(Technique::Homograph));
        assert_eq!(
            technique("www.amazon.co.jp.evil-domain.com"),
            Some(Technique::Embedding)
        );
        assert_eq!(technique("defence-contracter.co.jp"), Some(Technique::Typo));
        assert_eq!(technique("defence-contractor.jp"), Some(Technique::TldSwap));
        assert_eq!(
            technique("defence-contractor.com"),
            Some(Technique::TldSwap)
        );
        assert_eq!(technique("mizuhobank-co.jp"), Some(Technique::Hyphenation));
        assert_eq!(technique("smbc.jp"), Some(Technique::TldSwap));
        assert_eq!(technique("amazon.xyz"), Some(Technique::TldSwap));
        assert_eq!(
            technique("amazon.co.jp.evil.example"),
            Some(Technique::Embedding)
        );
        assert_eq!(
            technique("amazon-security.com"),
            Some(Technique::Combosquat)
        );
        assert_eq!(technique("partner-heavvy.com"), Some(Technique::Typo));
        assert_eq!(
            technique("partner-heavy-invoices.com"),
            Some(Technique::Combosquat)
        );
        assert_eq!(
            technique("secure-defence-contractor.net"),
            Some(Technique::Combosquat)
        );
    }

    #[test]
    fn real_domains_and_unrelated_ones_are_not_lookalikes() {
        for host in [
            "www.amazon.co.jp",
            "amazon.com",
            "mail.defence-contractor.co.jp",
            "smbc-card.com",
            "example.com",
            "github.com",
            "sourceforge.net",
            "lists.debian.org",
            "nttdata.com",
            "notamazon.com.au",
            // Brands' national sites and real domains near short brand names (SpamAssassin ham).
            "yahoo.co.uk",
            "yahoo.com.au",
            "daimi.au.dk",
            "lne.com",
        ] {
            assert_eq!(protected().check(host), None, "{host}");
        }
    }

    #[test]
    fn owners_are_reported() {
        let p = protected();
        let l = p.check("defence-contractor.jp").unwrap();
        assert_eq!(l.owner, Owner::Own);
        assert_eq!(l.protected, "defence-contractor.co.jp");
        assert_eq!(
            p.check("rakuten-card-login.com").unwrap().owner,
            Owner::Brand
        );
        assert!(p.is_protected("mail.smbc.co.jp"));
    }

    #[test]
    fn same_owner() {
        let org = OrganisationConfig {
            domains: vec!["ours.co.jp".into(), "ours-group.com".into()],
            ..OrganisationConfig::default()
        };
        let p = ProtectedDomains::new(&org, true);
        assert!(p.same_owner("mail.ours.co.jp", "ours.co.jp"));
        assert!(p.same_owner("ours.co.jp", "mx.ours-group.com"));
        assert!(p.same_owner("amazon.co.jp", "amazon.com"));
        assert!(!p.same_owner("amazon.co.jp", "ours.co.jp"));
        assert!(!p.same_owner("ours.co.jp", "gmail.com"));
    }
}
