//! The SMTP envelope of a stored message, read back from the `Received` header the organisation's first trusted
//! relay added when it accepted the message from the outside client.
//!
//! Walking down from the top, `Received` headers added by trusted relays that got the message from another trusted
//! relay are internal hops; the first trusted hop whose client is not trusted is where the message entered, and
//! its `from` part (client address, HELO) is the envelope. `MAIL FROM` is the `Return-Path` the final delivery
//! wrote. Headers below that hop were written by the outside world and prove nothing.

use mamori_detect::auth::{EnvelopeFacts, EnvelopeSource};
use mamori_mail::{Envelope, Message};

use crate::relays::TrustedRelays;

/// Where the message entered the organisation, as found in the `Received` chain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    /// Index in `Message::received` (topmost first) of the hop that accepted the message from outside, or of the
    /// last hop when every hop was internal.
    pub hop: usize,
    /// Index in `Message::headers` of that hop's `Received` field.
    pub header_index: usize,
    /// The envelope facts read from it.
    pub facts: EnvelopeFacts,
}

/// Finds the entry hop; `None` when the topmost `Received` was not added by a trusted relay (or there is none).
pub fn entry_hop(message: &Message, relays: &TrustedRelays) -> Option<Entry> {
    if relays.is_empty() {
        return None;
    }
    let received_positions: Vec<usize> = message
        .headers
        .iter()
        .enumerate()
        .filter(|(_, h)| h.name.eq_ignore_ascii_case("Received"))
        .map(|(i, _)| i)
        .collect();
    let mut last_trusted = None;
    for (i, hop) in message.received.iter().enumerate() {
        let Some(by) = hop.by.as_deref() else { break };
        if !relays.is_trusted_host(by) {
            break;
        }
        let header_index = received_positions.get(i).copied().unwrap_or(usize::MAX);
        let client_trusted = hop.from_ip.is_some_and(|ip| relays.is_trusted_ip(ip))
            || hop
                .from_rdns
                .as_deref()
                .or(hop.from_host.as_deref())
                .is_some_and(|h| relays.is_trusted_host(h));
        let facts = EnvelopeFacts {
            source: EnvelopeSource::Received,
            client_ip: hop.from_ip,
            helo: hop.helo.clone().or_else(|| hop.from_host.clone()),
            mail_from: message.return_path.clone(),
            recorded_by: Some(by.to_string()),
            external: Some(!client_trusted),
        };
        if !client_trusted {
            return Some(Entry {
                hop: i,
                header_index,
                facts,
            });
        }
        last_trusted = Some(Entry {
            hop: i,
            header_index,
            facts,
        });
    }
    last_trusted
}

/// The envelope used for the checks: the caller's when it names a client, else the entry hop's.
pub fn envelope_facts(
    given: &Envelope,
    message: &Message,
    relays: &TrustedRelays,
) -> Option<EnvelopeFacts> {
    if given.client_ip.is_some() || given.helo.is_some() || given.mail_from.is_some() {
        let external = match given.client_ip {
            Some(ip) if relays.has_networks() => Some(!relays.is_trusted_ip(ip)),
            _ => None,
        };
        return Some(EnvelopeFacts {
            source: EnvelopeSource::Given,
            client_ip: given.client_ip,
            helo: given.helo.clone(),
            mail_from: given.mail_from.clone(),
            recorded_by: None,
            external,
        });
    }
    entry_hop(message, relays).map(|e| e.facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Message {
        mamori_mail::parse(raw.as_bytes(), &mamori_mail::Limits::default())
    }

    const CHAIN: &str = "Return-Path: <bounce@sender.example>\r\n\
Received: from relay2.internal.example.co.jp (relay2.internal.example.co.jp [192.0.2.20])\r\n\tby mbox.internal.example.co.jp (Postfix) with ESMTP id 1; Mon, 3 Nov 2025 10:00:02 +0900\r\n\
Received: from mail.sender.example (mail.sender.example [198.51.100.7])\r\n\tby mx1.example.co.jp (Postfix) with ESMTPS id 2 for <a@example.co.jp>; Mon, 3 Nov 2025 10:00:01 +0900\r\n\
Received: from [10.0.0.5] (unknown [10.0.0.5])\r\n\tby mail.sender.example with ESMTPSA id 3; Mon, 3 Nov 2025 10:00:00 +0900\r\n\
From: a@sender.example\r\nTo: a@example.co.jp\r\nSubject: x\r\n\r\nbody\r\n";

    fn relays() -> TrustedRelays {
        TrustedRelays::new(
            &[
                "mx1.example.co.jp".into(),
                ".internal.example.co.jp".into(),
                "192.0.2.0/24".into(),
            ],
            &[],
        )
        .unwrap()
    }

    #[test]
    fn finds_the_hop_where_mail_entered() {
        let m = parse(CHAIN);
        let e = entry_hop(&m, &relays()).unwrap();
        assert_eq!(e.hop, 1);
        assert_eq!(e.header_index, 2);
        assert_eq!(e.facts.client_ip, Some("198.51.100.7".parse().unwrap()));
        assert_eq!(e.facts.helo.as_deref(), Some("mail.sender.example"));
        assert_eq!(e.facts.mail_from.as_deref(), Some("bounce@sender.example"));
        assert_eq!(e.facts.recorded_by.as_deref(), Some("mx1.example.co.jp"));
        assert_eq!(e.facts.external, Some(true));
    }

    #[test]
    fn untrusted_top_or_no_configuration_gives_nothing() {
        let m = parse(CHAIN);
        assert_eq!(entry_hop(&m, &TrustedRelays::default()), None);
        let other = TrustedRelays::new(&["mx.elsewhere.example".into()], &[]).unwrap();
        assert_eq!(entry_hop(&m, &other), None);
    }

    #[test]
    fn given_envelope_wins() {
        let m = parse(CHAIN);
        let given = Envelope {
            client_ip: Some("192.0.2.99".parse().unwrap()),
            ..Envelope::default()
        };
        let f = envelope_facts(&given, &m, &relays()).unwrap();
        assert_eq!(f.source, EnvelopeSource::Given);
        assert_eq!(f.external, Some(false));
    }
}
