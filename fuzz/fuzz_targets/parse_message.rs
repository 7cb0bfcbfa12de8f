//! Parser entry point: any bytes must parse into a bounded Message without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = mamori_mail::Limits {
        max_message_bytes: 1 << 20,
        ..mamori_mail::Limits::default()
    };
    let message = mamori_mail::parse(data, &limits);
    assert!(message.links.len() <= limits.max_links);
    assert!(message.parts.len() <= limits.max_parts);
});
