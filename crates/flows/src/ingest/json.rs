//! Zeek's JSON-lines log format (`LogAscii::use_json=T`): one object per line with the same field names as the
//! TSV form. `ts` may be a number (the default) or an ISO 8601 string (`JSON::TS_ISO8601`).

use std::borrow::Cow;
use std::time::UNIX_EPOCH;

use serde::Deserialize;

use super::Malformed;
use super::values::parse_addr;
use crate::record::{ConnRecord, Proto, Services};

#[derive(Deserialize)]
#[serde(untagged)]
enum JsonTime<'a> {
    Number(f64),
    #[serde(borrow)]
    Text(Cow<'a, str>),
}

#[derive(Deserialize)]
struct JsonConn<'a> {
    #[serde(borrow)]
    ts: JsonTime<'a>,
    #[serde(rename = "id.orig_h", borrow)]
    orig_h: Cow<'a, str>,
    #[serde(rename = "id.orig_p", default)]
    orig_p: u16,
    #[serde(rename = "id.resp_h", borrow)]
    resp_h: Cow<'a, str>,
    #[serde(rename = "id.resp_p", default)]
    resp_p: u16,
    #[serde(default, borrow)]
    proto: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    service: Option<Cow<'a, str>>,
    #[serde(default)]
    duration: Option<f64>,
    #[serde(default)]
    orig_bytes: Option<u64>,
    #[serde(default)]
    resp_bytes: Option<u64>,
    #[serde(default)]
    orig_ip_bytes: Option<u64>,
    #[serde(default)]
    resp_ip_bytes: Option<u64>,
    #[serde(default)]
    local_orig: Option<bool>,
    #[serde(default)]
    local_resp: Option<bool>,
    #[serde(rename = "_path", default, borrow)]
    path: Option<Cow<'a, str>>,
}

/// Parse one JSON-lines record.
pub fn parse(line: &[u8]) -> Result<ConnRecord, Malformed> {
    let j: JsonConn<'_> =
        serde_json::from_slice(line).map_err(|e| Malformed::Json(e.to_string()))?;
    if let Some(path) = j.path.as_deref()
        && path != "conn"
    {
        return Err(Malformed::NotConn(path.chars().take(64).collect()));
    }
    let ts = match j.ts {
        JsonTime::Number(n) => n,
        JsonTime::Text(t) => humantime::parse_rfc3339_weak(t.trim_end_matches('Z'))
            .ok()
            .and_then(|st| st.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_secs_f64())
            .ok_or_else(|| Malformed::bad_value("ts", "time", t.as_bytes()))?,
    };
    let addr = |name: &'static str, v: &str| {
        parse_addr(v.as_bytes()).ok_or_else(|| Malformed::bad_value(name, "address", v.as_bytes()))
    };
    let duration = j.duration.unwrap_or(0.0);
    if !duration.is_finite() || duration < 0.0 {
        return Err(Malformed::bad_value(
            "duration",
            "interval",
            duration.to_string().as_bytes(),
        ));
    }
    Ok(ConnRecord {
        ts,
        orig_h: addr("id.orig_h", &j.orig_h)?,
        orig_p: j.orig_p,
        resp_h: addr("id.resp_h", &j.resp_h)?,
        resp_p: j.resp_p,
        proto: j
            .proto
            .as_deref()
            .map_or(Proto::Other, |p| Proto::from_bytes(p.as_bytes())),
        service: j
            .service
            .as_deref()
            .map_or(Services::default(), |s| Services::from_bytes(s.as_bytes())),
        duration,
        orig_bytes: j.orig_bytes.unwrap_or(0),
        resp_bytes: j.resp_bytes.unwrap_or(0),
        orig_ip_bytes: j.orig_ip_bytes.unwrap_or(0),
        resp_ip_bytes: j.resp_ip_bytes.unwrap_or(0),
        local_orig: j.local_orig,
        local_resp: j.local_resp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_zeek_json() {
        let line = br#"{"ts": 1517422326.539915, "uid": "CxHo3m4N8uGxrMlcl2", "id.orig_h": "10.55.100.100", "id.orig_p": 61843, "id.resp_h": "205.204.101.182", "id.resp_p": 80, "proto": "tcp", "service": "http", "duration": 108.985496, "orig_bytes": 719, "resp_bytes": 336, "conn_state": "SF", "local_orig": true, "local_resp": false, "missed_bytes": 20, "history": "ShADadfF", "orig_pkts": 10, "orig_ip_bytes": 1131, "resp_pkts": 4, "resp_ip_bytes": 508, "_path": "conn"}"#;
        let r = parse(line).unwrap();
        assert_eq!(r.resp_h.to_string(), "205.204.101.182");
        assert_eq!(
            (r.orig_bytes, r.orig_ip_bytes, r.local_orig),
            (719, 1131, Some(true))
        );
        assert!(r.service.has(Services::HTTP));
    }

    #[test]
    fn iso_timestamps_and_missing_optionals() {
        let r = parse(
            br#"{"ts":"2024-01-08T18:35:46.055436Z","id.orig_h":"10.0.0.1","id.resp_h":"::1"}"#,
        )
        .unwrap();
        assert!((r.ts - 1_704_738_946.055_436).abs() < 1e-5, "{}", r.ts);
        assert_eq!((r.orig_p, r.orig_bytes, r.proto), (0, 0, Proto::Other));
    }

    #[test]
    fn errors() {
        assert!(matches!(parse(b"{\"ts\": 1"), Err(Malformed::Json(_))));
        assert!(matches!(
            parse(br#"{"ts":1,"id.orig_h":"x","id.resp_h":"1.1.1.1"}"#),
            Err(Malformed::BadValue { .. })
        ));
        assert!(matches!(
            parse(br#"{"ts":1,"id.orig_h":"1.1.1.1","id.resp_h":"1.1.1.1","_path":"dns"}"#),
            Err(Malformed::NotConn(_))
        ));
        assert!(matches!(
            parse(br#"{"ts":"soon","id.orig_h":"1.1.1.1","id.resp_h":"1.1.1.1"}"#),
            Err(Malformed::BadValue { .. })
        ));
        assert!(matches!(
            parse(br#"{"ts":1,"id.orig_h":"1.1.1.1","id.resp_h":"1.1.1.1","orig_bytes":-5}"#),
            Err(Malformed::Json(_))
        ));
    }
}
