//! The Received trace: present, parseable, consistent in time and in what clients said about themselves.

use std::net::IpAddr;

use mamori_mail::Message;

use crate::detector::{Context, Detector};
use crate::finding::{Finding, Findings};

/// More hops than this is a loop or a padded, forged trace.
const MAX_HOPS: usize = 25;

/// Checks the Received chain.
pub struct ReceivedChain;

impl Detector for ReceivedChain {
    fn name(&self) -> &'static str {
        "received_chain"
    }

    fn detect(&self, message: &Message, _ctx: &Context<'_>, out: &mut Findings) {
        if message.headers.is_empty() {
            return;
        }
        let hops = &message.received;
        if hops.is_empty() {
            out.push(Finding::new("received.missing", "no Received fields"));
            return;
        }
        if hops.len() > MAX_HOPS {
            out.push(Finding::new(
                "received.too_many",
                format!("{} Received fields", hops.len()),
            ));
        }
        // qmail-style comment-only hops ("(qmail 123 invoked by uid 0); date") are legitimate.
        for hop in hops.iter().filter(|h| h.malformed && !h.raw.contains(';')) {
            out.push(Finding::new(
                "received.malformed",
                format!("Received: {}", shorten(&hop.raw)),
            ));
        }
        // Topmost first: each hop should be no earlier than the one below it (allowing clock skew).
        for pair in hops.windows(2) {
            if let (Some(later), Some(earlier)) = (pair[0].timestamp, pair[1].timestamp)
                && later + 3600 < earlier
            {
                out.push(Finding::new(
                    "received.time_travel",
                    format!(
                        "hop by {} is {} min earlier than the hop below it",
                        pair[0].by.as_deref().unwrap_or("?"),
                        (earlier - later) / 60
                    ),
                ));
            }
        }
        for hop in hops {
            let (Some(helo), Some(ip)) = (
                hop.helo.as_deref().or(hop.from_host.as_deref()),
                hop.from_ip,
            ) else {
                continue;
            };
            if let Ok(helo_ip) = helo
                .trim_matches(['[', ']'])
                .trim_start_matches("IPv6:")
                .parse::<IpAddr>()
                && helo_ip != ip
            {
                out.push(Finding::new(
                    "received.helo_ip_mismatch",
                    format!("client {ip} greeted as {helo}"),
                ));
            }
        }
    }
}

fn shorten(s: &str) -> String {
    let mut s = s.to_string();
    mamori_mail::normalize::truncate_at_char(&mut s, 200);
    s
}
