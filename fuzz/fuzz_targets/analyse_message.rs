//! The whole analysis (parse + detectors + scoring) on arbitrary bytes.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mamori_detect::{DetectConfig, Engine};

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(DetectConfig::default()).expect("default config is valid"))
}

fuzz_target!(|data: &[u8]| {
    let verdict = engine().analyse(&mamori_mail::Envelope::default(), data);
    assert!(verdict.score.is_finite());
});
