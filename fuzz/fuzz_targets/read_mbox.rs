//! The streaming mbox reader on arbitrary bytes, with small limits to exercise truncation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_mail::source::{MboxReader, ReadOptions};

fuzz_target!(|data: &[u8]| {
    let options = ReadOptions {
        max_message_bytes: 4096,
        max_line_bytes: 1024,
        ..ReadOptions::default()
    };
    let mut reader = MboxReader::new(data, &options);
    while let Ok(Some(item)) = reader.next_message() {
        assert!(item.bytes.len() <= 4096);
    }
});
