//! nftables block-set export: turn a list of addresses into `nft -f` commands or `nft -j` JSON that add them to
//! an IPv4 and an IPv6 set (by default `inet mamori mamori_block` / `mamori_block_v6`).
//!
//! Everything that reaches the output is validated here: table and set names must be plain identifiers,
//! addresses are typed [`IpAddr`]s (so nothing can be injected through them), addresses that must never be
//! blocked wholesale (unspecified, loopback, multicast, broadcast) are refused, and per-element comments are
//! reduced to a safe character set and length. The module only renders text; it never runs `nft`.
//!
//! The output creates the table and sets if they are missing (`add table` / `add set` are idempotent in nft) but
//! adds no rule: the drop rule that uses the sets is a one-time site decision, documented in `docs/flows.md`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use nftables::expr::{Elem, Expression, NamedExpression};
use nftables::schema::{
    Element, MetainfoObject, NfCmd, NfListObject, NfObject, Nftables, Set, SetFlag, SetType,
    SetTypeValue, Table,
};
use nftables::types::NfFamily;

/// Longest table or set name accepted (nft itself allows more; short names keep rulesets readable).
pub const MAX_NAME_LEN: usize = 64;
/// Longest element comment kept, in bytes (the kernel limit for user data is 256).
pub const MAX_COMMENT_LEN: usize = 128;

/// Errors from building an nftables export.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FirewallError {
    /// A table or set name is not a plain nft identifier.
    #[error(
        "invalid nftables {what} name {name:?}: use 1-{MAX_NAME_LEN} characters [A-Za-z0-9_], starting with a letter"
    )]
    InvalidName {
        /// Which name was wrong (`table`, `IPv4 set`, `IPv6 set`).
        what: &'static str,
        /// The rejected name.
        name: String,
    },
    /// The IPv4 and IPv6 sets have the same name (one nft set holds one address family).
    #[error("the IPv4 and IPv6 sets must have different names (both are {0:?})")]
    SameSetNames(String),
    /// The element timeout is zero or too large for nft.
    #[error("invalid element timeout {0} s: use 1..={max} seconds", max = u32::MAX)]
    InvalidTimeout(u64),
    /// Serialising the JSON document failed (should not happen for validated input).
    #[error("could not serialise nftables JSON: {0}")]
    Json(String),
}

/// Why an address was refused for blocking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    /// `0.0.0.0` / `::`.
    Unspecified,
    /// `127.0.0.0/8` / `::1`.
    Loopback,
    /// Multicast groups (`224.0.0.0/4`, `ff00::/8`).
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Unspecified => "unspecified address",
            Self::Loopback => "loopback address",
            Self::Multicast => "multicast address",
            Self::Broadcast => "broadcast address",
        })
    }
}

/// nftables address family of the table holding the block sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TableFamily {
    /// `inet`: one table for IPv4 and IPv6 (the default).
    #[default]
    Inet,
    /// `ip`: IPv4 only (IPv6 addresses are then refused at render time).
    Ip,
    /// `ip6`: IPv6 only.
    Ip6,
}

impl TableFamily {
    fn keyword(self) -> &'static str {
        match self {
            Self::Inet => "inet",
            Self::Ip => "ip",
            Self::Ip6 => "ip6",
        }
    }

    fn nf(self) -> NfFamily {
        match self {
            Self::Inet => NfFamily::INet,
            Self::Ip => NfFamily::IP,
            Self::Ip6 => NfFamily::IP6,
        }
    }

    fn holds_v4(self) -> bool {
        !matches!(self, Self::Ip6)
    }

    fn holds_v6(self) -> bool {
        !matches!(self, Self::Ip)
    }
}

/// Where the addresses go: table, set names and optional element timeout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NftTarget {
    /// Table family.
    pub family: TableFamily,
    /// Table name.
    pub table: String,
    /// Set for IPv4 addresses.
    pub set_v4: String,
    /// Set for IPv6 addresses.
    pub set_v6: String,
    /// Element timeout in seconds (the sets are then created with `flags timeout`); `None` = permanent.
    pub timeout_secs: Option<u64>,
    /// Emit `add table` / `add set` so the output works on a host where they do not exist yet.
    pub create_sets: bool,
}

impl Default for NftTarget {
    fn default() -> Self {
        Self {
            family: TableFamily::Inet,
            table: "mamori".into(),
            set_v4: "mamori_block".into(),
            set_v6: "mamori_block_v6".into(),
            timeout_secs: None,
            create_sets: true,
        }
    }
}

impl NftTarget {
    /// Check names and timeout.
    pub fn validate(&self) -> Result<(), FirewallError> {
        check_name("table", &self.table)?;
        check_name("IPv4 set", &self.set_v4)?;
        check_name("IPv6 set", &self.set_v6)?;
        if self.set_v4 == self.set_v6 {
            return Err(FirewallError::SameSetNames(self.set_v4.clone()));
        }
        if let Some(t) = self.timeout_secs
            && (t == 0 || t > u64::from(u32::MAX))
        {
            return Err(FirewallError::InvalidTimeout(t));
        }
        Ok(())
    }
}

fn check_name(what: &'static str, name: &str) -> Result<(), FirewallError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(FirewallError::InvalidName {
            what,
            name: name.to_string(),
        })
    }
}

/// A de-duplicated, validated list of addresses to block, each with an optional comment.
///
/// Addresses are kept sorted so the output is stable; adding an address twice keeps the first comment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockList {
    v4: BTreeMap<Ipv4Addr, Option<String>>,
    v6: BTreeMap<Ipv6Addr, Option<String>>,
}

impl BlockList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add an address; refuses addresses that must never be blocked wholesale. IPv4-mapped IPv6 addresses are
    /// stored as IPv4 (that is what the kernel matches on the wire).
    pub fn add(&mut self, addr: IpAddr, comment: Option<&str>) -> Result<(), RejectReason> {
        let addr = match addr {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(addr),
            v4 => v4,
        };
        if let Some(reason) = refuse(addr) {
            return Err(reason);
        }
        let comment = comment.map(sanitize_comment).filter(|c| !c.is_empty());
        match addr {
            IpAddr::V4(a) => {
                self.v4.entry(a).or_insert(comment);
            }
            IpAddr::V6(a) => {
                self.v6.entry(a).or_insert(comment);
            }
        }
        Ok(())
    }

    /// Number of addresses held.
    pub fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Render `nft -f` commands.
    pub fn render_nft(&self, target: &NftTarget) -> Result<String, FirewallError> {
        target.validate()?;
        let fam = target.family.keyword();
        let table = &target.table;
        let mut out = String::new();
        let _ = writeln!(out, "#!/usr/sbin/nft -f");
        let _ = writeln!(
            out,
            "# generated by mamori: {} address(es) to block",
            self.len()
        );
        let (v4, v6) = self.split_for(target);
        if target.create_sets {
            let _ = writeln!(out, "add table {fam} {table}");
            let flags = if target.timeout_secs.is_some() {
                " flags timeout;"
            } else {
                ""
            };
            if target.family.holds_v4() {
                let _ = writeln!(
                    out,
                    "add set {fam} {table} {} {{ type ipv4_addr;{flags} }}",
                    target.set_v4
                );
            }
            if target.family.holds_v6() {
                let _ = writeln!(
                    out,
                    "add set {fam} {table} {} {{ type ipv6_addr;{flags} }}",
                    target.set_v6
                );
            }
        }
        let timeout = target
            .timeout_secs
            .map(|t| format!(" timeout {t}s"))
            .unwrap_or_default();
        let mut write_set = |set: &str, elems: Vec<(String, Option<&String>)>| {
            if elems.is_empty() {
                return;
            }
            let _ = write!(out, "add element {fam} {table} {set} {{ ");
            for (i, (addr, comment)) in elems.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(addr);
                out.push_str(&timeout);
                if let Some(c) = comment {
                    // sanitize_comment guarantees no quote, backslash or control character.
                    let _ = write!(out, " comment \"{c}\"");
                }
            }
            out.push_str(" }\n");
        };
        write_set(
            &target.set_v4,
            v4.iter()
                .map(|(a, c)| (a.to_string(), c.as_ref()))
                .collect(),
        );
        write_set(
            &target.set_v6,
            v6.iter()
                .map(|(a, c)| (a.to_string(), c.as_ref()))
                .collect(),
        );
        Ok(out)
    }

    /// Render the `nft -j -f` JSON document (libnftables-json(5) schema).
    pub fn render_nft_json(&self, target: &NftTarget) -> Result<String, FirewallError> {
        target.validate()?;
        let family = target.family.nf();
        let mut objects: Vec<NfObject<'_>> = vec![NfObject::ListObject(
            NfListObject::MetainfoObject(MetainfoObject {
                json_schema_version: Some(1),
                ..MetainfoObject::default()
            }),
        )];
        let (v4, v6) = self.split_for(target);
        if target.create_sets {
            objects.push(NfObject::CmdObject(NfCmd::Add(NfListObject::Table(
                Table {
                    family,
                    name: target.table.as_str().into(),
                    handle: None,
                },
            ))));
            let flags = target
                .timeout_secs
                .map(|_| std::iter::once(SetFlag::Timeout).collect());
            let mut add_set = |name: &str, ty: SetType| {
                objects.push(NfObject::CmdObject(NfCmd::Add(NfListObject::Set(
                    Box::new(Set {
                        family,
                        table: target.table.as_str().into(),
                        name: name.to_string().into(),
                        handle: None,
                        set_type: SetTypeValue::Single(ty),
                        policy: None,
                        flags: flags.clone(),
                        elem: None,
                        timeout: None,
                        gc_interval: None,
                        size: None,
                        comment: None,
                    }),
                ))));
            };
            if target.family.holds_v4() {
                add_set(&target.set_v4, SetType::Ipv4Addr);
            }
            if target.family.holds_v6() {
                add_set(&target.set_v6, SetType::Ipv6Addr);
            }
        }
        let timeout = target.timeout_secs.and_then(|t| u32::try_from(t).ok());
        let elem = |addr: String, comment: Option<&String>| -> Expression<'static> {
            if timeout.is_none() && comment.is_none() {
                return Expression::String(addr.into());
            }
            Expression::Named(NamedExpression::Elem(Elem {
                val: Box::new(Expression::String(addr.into())),
                timeout,
                expires: None,
                comment: comment.map(|c| c.clone().into()),
                counter: None,
            }))
        };
        let mut add_elems = |set: &str, elems: Vec<Expression<'static>>| {
            if elems.is_empty() {
                return;
            }
            objects.push(NfObject::CmdObject(NfCmd::Add(NfListObject::Element(
                Element {
                    family,
                    table: target.table.clone().into(),
                    name: set.to_string().into(),
                    elem: elems.into(),
                },
            ))));
        };
        add_elems(
            &target.set_v4,
            v4.iter()
                .map(|(a, c)| elem(a.to_string(), c.as_ref()))
                .collect(),
        );
        add_elems(
            &target.set_v6,
            v6.iter()
                .map(|(a, c)| elem(a.to_string(), c.as_ref()))
                .collect(),
        );
        let doc = Nftables {
            objects: objects.into(),
        };
        serde_json::to_string(&doc).map_err(|e| FirewallError::Json(e.to_string()))
    }

    /// The addresses the target family can hold (an `ip` table cannot hold IPv6 addresses and vice versa).
    #[allow(clippy::type_complexity)]
    fn split_for(
        &self,
        target: &NftTarget,
    ) -> (
        Vec<(&Ipv4Addr, &Option<String>)>,
        Vec<(&Ipv6Addr, &Option<String>)>,
    ) {
        let v4 = if target.family.holds_v4() {
            self.v4.iter().collect()
        } else {
            Vec::new()
        };
        let v6 = if target.family.holds_v6() {
            self.v6.iter().collect()
        } else {
            Vec::new()
        };
        (v4, v6)
    }

    /// Addresses the target's family cannot hold (and that the rendered output therefore leaves out).
    pub fn unsupported_by(&self, target: &NftTarget) -> Vec<IpAddr> {
        let mut out = Vec::new();
        if !target.family.holds_v4() {
            out.extend(self.v4.keys().map(|a| IpAddr::V4(*a)));
        }
        if !target.family.holds_v6() {
            out.extend(self.v6.keys().map(|a| IpAddr::V6(*a)));
        }
        out
    }
}

fn refuse(addr: IpAddr) -> Option<RejectReason> {
    match addr {
        IpAddr::V4(a) if a.is_unspecified() => Some(RejectReason::Unspecified),
        IpAddr::V4(a) if a.is_loopback() => Some(RejectReason::Loopback),
        IpAddr::V4(a) if a.is_multicast() => Some(RejectReason::Multicast),
        IpAddr::V4(a) if a.is_broadcast() => Some(RejectReason::Broadcast),
        IpAddr::V6(a) if a.is_unspecified() => Some(RejectReason::Unspecified),
        IpAddr::V6(a) if a.is_loopback() => Some(RejectReason::Loopback),
        IpAddr::V6(a) if a.is_multicast() => Some(RejectReason::Multicast),
        _ => None,
    }
}

/// Keep comments printable and inert inside an nft double-quoted string: letters, digits, space and a few
/// punctuation marks survive; anything else (quotes, backslashes, semicolons, braces, control and non-ASCII
/// characters) becomes `_`. Truncated to [`MAX_COMMENT_LEN`] bytes.
pub fn sanitize_comment(raw: &str) -> String {
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " .,:/=_-+()@%>".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(MAX_COMMENT_LEN)
        .collect::<String>()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn renders_text_for_both_families() {
        let mut list = BlockList::new();
        list.add(ip("41.108.179.197"), Some("beacon score 0.97"))
            .unwrap();
        list.add(ip("2001:db8::7"), None).unwrap();
        list.add(ip("41.108.179.197"), Some("duplicate")).unwrap();
        let text = list.render_nft(&NftTarget::default()).unwrap();
        assert_eq!(
            text,
            "#!/usr/sbin/nft -f\n# generated by mamori: 2 address(es) to block\nadd table inet mamori\n\
             add set inet mamori mamori_block { type ipv4_addr; }\n\
             add set inet mamori mamori_block_v6 { type ipv6_addr; }\n\
             add element inet mamori mamori_block { 41.108.179.197 comment \"beacon score 0.97\" }\n\
             add element inet mamori mamori_block_v6 { 2001:db8::7 }\n"
        );
    }

    #[test]
    fn timeout_sets_flag_and_element_option() {
        let mut list = BlockList::new();
        list.add(ip("198.51.100.1"), None).unwrap();
        let target = NftTarget {
            timeout_secs: Some(86_400),
            ..NftTarget::default()
        };
        let text = list.render_nft(&target).unwrap();
        assert!(
            text.contains("add set inet mamori mamori_block { type ipv4_addr; flags timeout; }"),
            "{text}"
        );
        assert!(text.contains("{ 198.51.100.1 timeout 86400s }"), "{text}");
    }

    #[test]
    fn comments_cannot_break_out_of_the_string() {
        let mut list = BlockList::new();
        list.add(ip("198.51.100.2"), Some("x\" } ; flush ruleset ; \\ \n é"))
            .unwrap();
        let text = list.render_nft(&NftTarget::default()).unwrap();
        let line = text.lines().find(|l| l.starts_with("add element")).unwrap();
        assert_eq!(
            line,
            "add element inet mamori mamori_block { 198.51.100.2 comment \"x_ _ _ flush ruleset _ _ _ _\" }"
        );
        let long = "a".repeat(1000);
        assert_eq!(sanitize_comment(&long).len(), MAX_COMMENT_LEN);
    }

    #[test]
    fn refuses_dangerous_addresses() {
        let mut list = BlockList::new();
        assert_eq!(
            list.add(ip("0.0.0.0"), None),
            Err(RejectReason::Unspecified)
        );
        assert_eq!(list.add(ip("127.0.0.1"), None), Err(RejectReason::Loopback));
        assert_eq!(
            list.add(ip("224.0.0.251"), None),
            Err(RejectReason::Multicast)
        );
        assert_eq!(
            list.add(ip("255.255.255.255"), None),
            Err(RejectReason::Broadcast)
        );
        assert_eq!(list.add(ip("::1"), None), Err(RejectReason::Loopback));
        assert_eq!(list.add(ip("ff02::1"), None), Err(RejectReason::Multicast));
        assert_eq!(
            list.add(ip("::ffff:127.0.0.1"), None),
            Err(RejectReason::Loopback)
        );
        assert!(list.is_empty());
        list.add(ip("::ffff:203.0.113.9"), None).unwrap();
        let text = list.render_nft(&NftTarget::default()).unwrap();
        assert!(text.contains("mamori_block { 203.0.113.9 }"), "{text}");
    }

    #[test]
    fn rejects_bad_names_and_timeouts() {
        let list = BlockList::new();
        for bad in ["", "1abc", "a b", "a;b", "a\"b", &"x".repeat(65)] {
            let target = NftTarget {
                table: bad.to_string(),
                ..NftTarget::default()
            };
            assert!(
                matches!(
                    list.render_nft(&target),
                    Err(FirewallError::InvalidName { .. })
                ),
                "{bad:?}"
            );
            assert!(
                matches!(
                    list.render_nft_json(&target),
                    Err(FirewallError::InvalidName { .. })
                ),
                "{bad:?}"
            );
        }
        let same = NftTarget {
            set_v6: "mamori_block".into(),
            ..NftTarget::default()
        };
        assert!(matches!(
            list.render_nft(&same),
            Err(FirewallError::SameSetNames(_))
        ));
        let zero = NftTarget {
            timeout_secs: Some(0),
            ..NftTarget::default()
        };
        assert_eq!(
            list.render_nft(&zero),
            Err(FirewallError::InvalidTimeout(0))
        );
    }

    #[test]
    fn json_follows_the_libnftables_schema() {
        let mut list = BlockList::new();
        list.add(ip("41.108.179.197"), None).unwrap();
        list.add(ip("203.0.113.5"), Some("exfil")).unwrap();
        list.add(ip("2001:db8::1"), None).unwrap();
        let json = list.render_nft_json(&NftTarget::default()).unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let objs = v["nftables"].as_array().unwrap();
        assert_eq!(objs[0]["metainfo"]["json_schema_version"], 1);
        assert_eq!(objs[1]["add"]["table"]["family"], "inet");
        assert_eq!(objs[1]["add"]["table"]["name"], "mamori");
        assert_eq!(objs[2]["add"]["set"]["name"], "mamori_block");
        assert_eq!(objs[2]["add"]["set"]["type"], "ipv4_addr");
        assert_eq!(objs[3]["add"]["set"]["type"], "ipv6_addr");
        let elems = objs[4]["add"]["element"]["elem"].as_array().unwrap();
        assert_eq!(objs[4]["add"]["element"]["name"], "mamori_block");
        assert_eq!(elems[0], "41.108.179.197");
        assert_eq!(elems[1]["elem"]["val"], "203.0.113.5");
        assert_eq!(elems[1]["elem"]["comment"], "exfil");
        assert_eq!(objs[5]["add"]["element"]["elem"][0], "2001:db8::1");
        assert_eq!(objs.len(), 6);
    }

    #[test]
    fn single_family_tables_leave_out_the_other_family() {
        let mut list = BlockList::new();
        list.add(ip("198.51.100.3"), None).unwrap();
        list.add(ip("2001:db8::3"), None).unwrap();
        let target = NftTarget {
            family: TableFamily::Ip,
            ..NftTarget::default()
        };
        let text = list.render_nft(&target).unwrap();
        assert!(
            !text.contains("2001:db8::3") && !text.contains("ipv6_addr"),
            "{text}"
        );
        assert_eq!(list.unsupported_by(&target), vec![ip("2001:db8::3")]);
    }

    #[test]
    fn empty_list_renders_only_the_setup() {
        let text = BlockList::new().render_nft(&NftTarget::default()).unwrap();
        assert!(!text.contains("add element"));
        let no_setup = NftTarget {
            create_sets: false,
            ..NftTarget::default()
        };
        let text = BlockList::new().render_nft(&no_setup).unwrap();
        assert_eq!(text.lines().filter(|l| !l.starts_with('#')).count(), 0);
    }
}
