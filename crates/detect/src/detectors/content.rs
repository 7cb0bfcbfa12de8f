//! Well-known test strings that must trigger handling end to end (GTUBE).

use mamori_mail::Message;

use crate::detector::{Context, Detector};
use crate::finding::{Finding, Findings};

/// The Generic Test for Unsolicited Bulk Email.
pub const GTUBE: &str = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

/// Finds test strings in the body text.
pub struct TestStrings;

impl Detector for TestStrings {
    fn name(&self) -> &'static str {
        "test_strings"
    }

    fn detect(&self, message: &Message, _ctx: &Context<'_>, out: &mut Findings) {
        let in_body = memchr::memmem::find(message.text.plain.as_bytes(), GTUBE.as_bytes())
            .is_some()
            || memchr::memmem::find(message.text.html_text.as_bytes(), GTUBE.as_bytes()).is_some();
        if in_body {
            out.push(Finding::new(
                "content.gtube",
                "the body contains the GTUBE string",
            ));
        }
    }
}
