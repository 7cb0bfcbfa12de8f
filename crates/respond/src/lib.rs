//! Automated response: playbooks, actions, quarantine, block lists, purge, firewall export.
//!
//! For now this crate holds only [`firewall`]: rendering validated nftables commands (text for `nft -f`, or the
//! `nft -j` JSON schema) that add flagged addresses to a block set. It is shared by every detector that wants an
//! address blocked (flow analytics today, mail response later).
//!
//! This crate renders actions; it must not decide *what* to block (that is the detectors' and playbooks' job) and
//! it never touches the host firewall itself: applying the output is an explicit operator step.

pub mod firewall;
