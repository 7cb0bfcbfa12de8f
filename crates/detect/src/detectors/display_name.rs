//! Display-name impersonation: the From display name is a protected person's (configured VIPs) or a well-known
//! brand's name, but the address belongs to someone else.
//!
//! Names are compared after folding away what attackers and mail clients vary: Unicode compatibility forms (NFKC:
//! full-width letters, half-width katakana), case, hiragana against katakana, spaces (including the ideographic
//! space), separators and dots, name order for Latin names, and confusable characters (Unicode TR39 skeletons, so
//! a Cyrillic `а` counts as `a`).

use mamori_mail::{Mailbox, Message};
use unicode_normalization::UnicodeNormalization;
use unicode_security::skeleton;

use super::domains::registered;
use crate::config::Vip;
use crate::detector::{Context, Detector};
use crate::finding::{Finding, Findings};
use crate::knowledge::brands::{BRANDS, Brand, is_freemail};

/// Checks the From display name against the organisation's VIPs and the built-in brands.
pub struct DisplayNameImpersonation;

impl Detector for DisplayNameImpersonation {
    fn name(&self) -> &'static str {
        "display_name_impersonation"
    }

    fn detect(&self, message: &Message, ctx: &Context<'_>, out: &mut Findings) {
        let Some(from) = message.from_mailbox() else {
            return;
        };
        let (Some(name), Some(domain)) = (from.name.as_deref(), from.domain.as_deref()) else {
            return;
        };
        let display = FoldedName::new(name);
        if display.compact.is_empty() {
            return;
        }
        let from_reg = registered(domain);
        let org = &ctx.config.organisation;
        let own = org.domains.iter().any(|d| registered(d) == from_reg);
        if !own {
            for vip in &org.vips {
                if is_vips_address(vip, from) {
                    continue;
                }
                if let Some(spelling) = vip_match(vip, &display) {
                    out.push(Finding::new(
                        "impersonation.vip.display_name",
                        format!(
                            "display name {name:?} matches protected person {spelling:?} but the address is {}{}",
                            from.address.as_deref().unwrap_or(domain),
                            if is_freemail(&from_reg) {
                                " (free-mail)"
                            } else {
                                ""
                            }
                        ),
                    ));
                    break;
                }
            }
        }
        if ctx.config.organisation.ignore_builtin_brands
            || own
            || org
                .partner_domains
                .iter()
                .any(|d| registered(d) == from_reg)
            || message.header("List-Id").is_some()
        {
            return;
        }
        if let Some((brand, spelling)) = brand_match(&display)
            && !brand.domains.iter().any(|d| *d == from_reg)
            && !ctx.protected.is_protected(&from_reg)
        {
            out.push(Finding::new(
                "impersonation.brand.display_name",
                format!(
                    "display name {name:?} names {} ({spelling:?}) but the address is {}",
                    brand.name,
                    from.address.as_deref().unwrap_or(domain)
                ),
            ));
        }
    }
}

/// A display name or protected name in comparable forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FoldedName {
    /// Folded, all separators removed: `山田太郎`, `taroyamada`.
    pub compact: String,
    /// Folded tokens, in order: `["taro", "yamada"]`.
    pub tokens: Vec<String>,
}

impl FoldedName {
    pub(crate) fn new(name: &str) -> FoldedName {
        let mut tokens = Vec::new();
        let mut current = String::new();
        for c in name.nfkc().flat_map(char::to_lowercase) {
            let c = hiragana_to_katakana(c);
            if is_separator(c) {
                if !current.is_empty() {
                    tokens.push(confusable_fold(&current));
                    current.clear();
                }
            } else if !is_ignorable(c) {
                current.push(c);
            }
        }
        if !current.is_empty() {
            tokens.push(confusable_fold(&current));
        }
        let compact = tokens.concat();
        FoldedName { compact, tokens }
    }
}

/// Skeleton of a token, lower-cased again (skeletons may reintroduce capitals through prototypes).
fn confusable_fold(token: &str) -> String {
    let skel: String = skeleton(token).collect();
    skel.nfkc().flat_map(char::to_lowercase).collect()
}

fn hiragana_to_katakana(c: char) -> char {
    match c {
        '\u{3041}'..='\u{3096}' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
        _ => c,
    }
}

/// Characters that separate name parts.
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '・' | '･'
                | '.'
                | ','
                | '-'
                | '_'
                | '/'
                | '|'
                | '('
                | ')'
                | '['
                | ']'
                | '<'
                | '>'
                | '"'
                | '\''
                | '`'
                | ':'
                | ';'
                | '!'
                | '?'
                | '@'
                | '+'
                | '&'
                | '*'
                | '='
                | '~'
                | '「'
                | '」'
                | '【'
                | '】'
                | '、'
                | '。'
                | '〈'
                | '〉'
                | '《'
                | '》'
                | '〔'
                | '〕'
        )
}

/// Invisible characters attackers insert to break naive matching.
fn is_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}'
    ) || c.is_control()
}

fn is_vips_address(vip: &Vip, from: &Mailbox) -> bool {
    let Some(address) = from.address.as_deref() else {
        return false;
    };
    vip.addresses
        .iter()
        .any(|a| a.trim().eq_ignore_ascii_case(address))
}

/// The VIP spelling the display name matches, if any.
fn vip_match<'a>(vip: &'a Vip, display: &FoldedName) -> Option<&'a str> {
    std::iter::once(&vip.name)
        .chain(&vip.aliases)
        .map(String::as_str)
        .find(|spelling| name_matches(&FoldedName::new(spelling), display))
}

/// True when `display` contains the protected name `protected`.
pub(crate) fn name_matches(protected: &FoldedName, display: &FoldedName) -> bool {
    if protected.compact.is_empty() {
        return false;
    }
    let latin = protected.compact.is_ascii();
    if latin {
        if protected.tokens.len() >= 2 {
            // Every part of the name present as a token, in any order ("Yamada Taro", "TARO YAMADA (CEO)").
            if protected
                .tokens
                .iter()
                .all(|t| display.tokens.iter().any(|d| d == t))
            {
                return true;
            }
            // Written without spaces: "TaroYamada", "yamada.taro" (dots are separators, so compare compact forms).
            let reversed: String = protected.tokens.iter().rev().cloned().collect();
            return display.compact == protected.compact || display.compact == reversed;
        }
        // A single Latin word is too common to match inside longer names.
        return display.compact == protected.compact;
    }
    // Japanese (and other non-Latin) names: order is fixed and spaces are optional, so compare compact forms.
    // One character would match everywhere.
    protected.compact.chars().count() >= 2 && display.compact.contains(&protected.compact)
}

/// The brand whose name the display name starts with (ASCII names) or contains (Japanese names).
/// Every brand spelling, folded once per process (folding is Unicode work; this runs for every message).
static FOLDED_BRANDS: std::sync::LazyLock<Vec<(&'static Brand, &'static str, FoldedName)>> =
    std::sync::LazyLock::new(|| {
        BRANDS
            .iter()
            .flat_map(|brand| {
                brand
                    .names
                    .iter()
                    .map(move |spelling| (brand, *spelling, FoldedName::new(spelling)))
            })
            .filter(|(_, _, folded)| !folded.compact.is_empty())
            .collect()
    });

fn brand_match(display: &FoldedName) -> Option<(&'static Brand, &'static str)> {
    FOLDED_BRANDS.iter().find_map(|(brand, spelling, folded)| {
        let hit = if folded.compact.is_ascii() {
            // Whole leading tokens: "Amazon.co.jp", "PayPal Service", not "Jim Chasey".
            display.tokens.len() >= folded.tokens.len()
                && display.tokens[..folded.tokens.len()] == folded.tokens[..]
        } else {
            display.compact.contains(&folded.compact)
        };
        hit.then_some((*brand, *spelling))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(protected: &str, display: &str) -> bool {
        name_matches(&FoldedName::new(protected), &FoldedName::new(display))
    }

    #[test]
    fn japanese_name_variants() {
        for display in [
            "山田太郎",
            "山田　太郎",
            "山田 太郎 (代表取締役)",
            "【至急】山田太郎",
            "山\u{200B}田太郎",
        ] {
            assert!(matches("山田 太郎", display), "{display}");
        }
        for display in [
            "ヤマダ タロウ",
            "やまだ たろう",
            "ﾔﾏﾀﾞ ﾀﾛｳ",
            "ヤマダ・タロウ",
        ] {
            assert!(matches("ヤマダ タロウ", display), "{display}");
        }
        assert!(!matches("山田 太郎", "山田花子"));
        assert!(!matches("山田 太郎", "田中太郎"));
    }

    #[test]
    fn latin_name_variants() {
        for display in [
            "Taro Yamada",
            "YAMADA Taro",
            "Ｔａｒｏ Ｙａｍａｄａ",
            "Taro.Yamada",
            "TaroYamada",
            "yamadataro",
            "T\u{0430}ro Yamada", // Cyrillic а
            "Taro Yamada | CEO",
        ] {
            assert!(matches("Taro Yamada", display), "{display}");
        }
        assert!(!matches("Taro Yamada", "Taro Tanaka"));
        assert!(!matches("Yamada", "Hanako Yamada"));
    }

    #[test]
    fn brand_names() {
        let hit = |d: &str| brand_match(&FoldedName::new(d)).map(|(b, _)| b.name);
        assert_eq!(hit("Amazon.co.jp"), Some("Amazon"));
        assert_eq!(hit("PayPal Service"), Some("PayPal"));
        assert_eq!(hit("三井住友カード株式会社"), Some("SMBC"));
        assert_eq!(hit("Jim Chasey"), None);
        assert_eq!(hit("Tom Apple-Smith"), None);
    }
}
