//! The TAXII 2.1 server over HTTP on both store backends: endpoints, filters, pagination, media types, accounts,
//! rights, TLP enforcement and every error the issue lists (400, 401, 403, 404, 406, 413, 415).

mod common;

use base64::Engine;
use common::{SECRET, start_hub};
use mamori_intel::stix::Tlp;
use mamori_intel::taxii::{TAXII_MEDIA_TYPE, TaxiiConfig};
use serde_json::{Value, json};

struct Http {
    agent: ureq::Agent,
    base: String,
}

struct Reply {
    status: u16,
    content_type: String,
    first: Option<String>,
    last: Option<String>,
    body: Value,
}

impl Http {
    fn new(addr: std::net::SocketAddr) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        Http {
            agent,
            base: format!("http://{addr}"),
        }
    }

    fn auth(user: &str, password: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        )
    }

    fn reply(mut r: ureq::http::Response<ureq::Body>) -> Reply {
        let header = |n: &str| {
            r.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header("content-type").unwrap_or_default();
        let first = header("x-taxii-date-added-first");
        let last = header("x-taxii-date-added-last");
        let text = r.body_mut().read_to_string().unwrap_or_default();
        Reply {
            status: r.status().as_u16(),
            content_type,
            first,
            last,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    fn get_as(&self, path: &str, authorization: Option<&str>, accept: &str) -> Reply {
        let mut req = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("Accept", accept);
        if let Some(a) = authorization {
            req = req.header("Authorization", a);
        }
        Self::reply(req.call().unwrap())
    }

    fn get(&self, path: &str, user: &str) -> Reply {
        self.get_as(path, Some(&Self::auth(user, SECRET)), TAXII_MEDIA_TYPE)
    }

    fn post_as(&self, path: &str, user: &str, content_type: &str, body: &str) -> Reply {
        let req = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Accept", TAXII_MEDIA_TYPE)
            .header("Content-Type", content_type)
            .header("Authorization", Self::auth(user, SECRET));
        Self::reply(req.send(body).unwrap())
    }

    fn post(&self, path: &str, user: &str, objects: &[Value]) -> Reply {
        self.post_as(
            path,
            user,
            TAXII_MEDIA_TYPE,
            &json!({"objects": objects}).to_string(),
        )
    }
}

fn indicator(n: u32, modified: &str, tlp: Tlp) -> Value {
    json!({
        "type": "indicator", "spec_version": "2.1",
        "id": format!("indicator--00000000-0000-4000-8000-{n:012}"),
        "created": "2024-01-01T00:00:00.000Z", "modified": modified,
        "pattern": format!("[ipv4-addr:value = '192.0.2.{}']", n % 250), "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
        "object_marking_refs": [tlp.marking_id()]
    })
}

/// Sends a raw HTTP/1.1 request and returns the response status.
fn raw_status(addr: std::net::SocketAddr, head: &str, body: &[u8]) -> u16 {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let _ = stream.write_all(body);
    let mut buf = [0u8; 64];
    let n = stream.read(&mut buf).unwrap();
    let line = String::from_utf8_lossy(&buf[..n]).to_string();
    line.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taxii_endpoints_rights_and_errors() {
    for db in mamori_store::testing::backends().await {
        let name = db.name;
        let config = TaxiiConfig {
            max_content_length: 64 * 1024,
            ..TaxiiConfig::default()
        };
        let hub = start_hub(db, config).await;
        let addr = hub.addr;
        blocking(move || exercise(addr, name)).await;
    }
}

fn exercise(addr: std::net::SocketAddr, backend: &str) {
    let http = Http::new(addr);
    let objects = "/api/collections/shared/objects/";

    // Discovery, API root, collections.
    let d = http.get("/taxii2/", "alpha");
    assert_eq!(d.status, 200, "{backend}");
    assert_eq!(d.content_type, TAXII_MEDIA_TYPE);
    assert_eq!(d.body["api_roots"][0], format!("http://{addr}/api/"));
    let root = http.get("/api/", "alpha");
    assert_eq!(root.body["versions"][0], TAXII_MEDIA_TYPE);
    let cols = http.get("/api/collections/", "alpha");
    assert_eq!(cols.body["collections"].as_array().unwrap().len(), 1);
    assert_eq!(cols.body["collections"][0]["can_write"], true);
    let cols = http.get("/api/collections/", "gamma");
    assert_eq!(cols.body["collections"][0]["id"], "private");

    // 401: no credentials, wrong secret, unknown account; bearer works.
    assert_eq!(http.get_as("/taxii2/", None, TAXII_MEDIA_TYPE).status, 401);
    assert_eq!(
        http.get_as(
            "/taxii2/",
            Some(&Http::auth("alpha", "wrong")),
            TAXII_MEDIA_TYPE
        )
        .status,
        401
    );
    assert_eq!(
        http.get_as(
            "/taxii2/",
            Some(&Http::auth("nobody", SECRET)),
            TAXII_MEDIA_TYPE
        )
        .status,
        401
    );
    assert_eq!(
        http.get_as(
            "/taxii2/",
            Some(&format!("Bearer alpha:{SECRET}")),
            TAXII_MEDIA_TYPE
        )
        .status,
        200
    );
    // 406 on a media type we do not serve.
    assert_eq!(
        http.get_as("/taxii2/", Some(&Http::auth("alpha", SECRET)), "text/html")
            .status,
        406
    );

    // POST: mixed valid and invalid objects → 202 with a status naming the failures.
    let mut batch: Vec<Value> = (0..25)
        .map(|n| indicator(n, "2024-01-01T00:00:00.000Z", Tlp::Green))
        .collect();
    batch.push(indicator(100, "2024-01-01T00:00:00.000Z", Tlp::Red));
    batch.push(json!({"type": "indicator", "spec_version": "2.1", "id": "indicator--bad"}));
    batch.push(json!({"type": "widget", "spec_version": "2.1", "id": "widget--00000000-0000-4000-8000-000000000001"}));
    let mut no_pattern = indicator(101, "2024-01-01T00:00:00.000Z", Tlp::Green);
    no_pattern.as_object_mut().unwrap().remove("pattern");
    batch.push(no_pattern);
    let status = http.post(objects, "alpha", &batch);
    assert_eq!(status.status, 202, "{backend}: {}", status.body);
    assert_eq!(status.body["success_count"], 26);
    assert_eq!(status.body["failure_count"], 3);
    let failures = status.body["failures"].to_string();
    assert!(
        failures.contains("missing required property pattern"),
        "{failures}"
    );
    assert!(failures.contains("unknown object type"), "{failures}");
    let status_id = status.body["id"].as_str().unwrap().to_string();
    let again = http.get(&format!("/api/status/{status_id}/"), "alpha");
    assert_eq!(again.body["success_count"], 26);
    assert_eq!(
        http.get(&format!("/api/status/{status_id}/"), "beta")
            .status,
        404,
        "status of another account"
    );
    // A newer version of one indicator.
    assert_eq!(
        http.post(
            objects,
            "alpha",
            &[indicator(0, "2024-02-01T00:00:00.000Z", Tlp::Green)]
        )
        .status,
        202
    );

    // 403: beta may read but not write; gamma may not read shared at all (404, it does not see it).
    assert_eq!(http.post(objects, "beta", &batch[..1]).status, 403);
    assert_eq!(http.get(objects, "gamma").status, 404);
    // 404: unknown collection, unknown object.
    assert_eq!(
        http.get("/api/collections/nope/objects/", "alpha").status,
        404
    );
    assert_eq!(
        http.get(
            &format!("{objects}indicator--00000000-0000-4000-8000-999999999999/"),
            "alpha"
        )
        .status,
        404
    );
    // 415 and 413.
    assert_eq!(
        http.post_as(objects, "alpha", "application/json", "{}")
            .status,
        415
    );
    // 413: announced too large, and streamed (chunked) past the limit.
    let auth = Http::auth("alpha", SECRET);
    let head = format!(
        "POST {objects} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nAccept: {TAXII_MEDIA_TYPE}\r\nContent-Type: {TAXII_MEDIA_TYPE}\r\n"
    );
    assert_eq!(
        raw_status(addr, &format!("{head}Content-Length: 1000000\r\n\r\n"), b""),
        413
    );
    let chunk = vec![b' '; 70 * 1024];
    let mut body = format!("{:x}\r\n", chunk.len()).into_bytes();
    body.extend_from_slice(&chunk);
    body.extend_from_slice(b"\r\n0\r\n\r\n");
    assert_eq!(
        raw_status(
            addr,
            &format!("{head}Transfer-Encoding: chunked\r\n\r\n"),
            &body
        ),
        413
    );
    // 400 on malformed filters.
    for bad in [
        "match[version]=yesterday",
        "added_after=2024-01-01",
        "limit=0",
        "limit=x",
        "next=zzz",
        "match[type]=Bad_Type",
        "match[colour]=red",
        "match[id]=x",
    ] {
        assert_eq!(
            http.get(&format!("{objects}?{bad}"), "alpha").status,
            400,
            "{bad}"
        );
    }
    assert_eq!(
        http.post_as(objects, "alpha", TAXII_MEDIA_TYPE, "not json")
            .status,
        400
    );

    // GET with filters; TLP:RED visible to its owner (alpha) and hidden from beta without an error.
    let all = http.get(objects, "alpha");
    assert_eq!(
        all.body["objects"].as_array().unwrap().len(),
        26,
        "{backend}"
    );
    assert!(
        all.first.is_some() && all.last.is_some(),
        "date-added headers"
    );
    let for_beta = http.get(objects, "beta");
    assert_eq!(for_beta.status, 200);
    assert_eq!(
        for_beta.body["objects"].as_array().unwrap().len(),
        25,
        "TLP:RED hidden from beta"
    );
    assert!(!for_beta.body.to_string().contains("000000000100"));
    let red = "indicator--00000000-0000-4000-8000-000000000100";
    assert_eq!(http.get(&format!("{objects}{red}/"), "beta").status, 404);
    assert_eq!(http.get(&format!("{objects}{red}/"), "alpha").status, 200);

    let one = "indicator--00000000-0000-4000-8000-000000000000";
    let v = http.get(&format!("{objects}{one}/versions/"), "alpha");
    assert_eq!(
        v.body["versions"],
        json!(["2024-01-01T00:00:00.000Z", "2024-02-01T00:00:00.000Z"])
    );
    let first = http.get(&format!("{objects}{one}/?match[version]=first"), "alpha");
    assert_eq!(
        first.body["objects"][0]["modified"],
        "2024-01-01T00:00:00.000Z"
    );
    let last = http.get(&format!("{objects}{one}/"), "alpha");
    assert_eq!(
        last.body["objects"][0]["modified"],
        "2024-02-01T00:00:00.000Z"
    );
    let exact = http.get(
        &format!("{objects}?match[version]=2024-01-01T00:00:00.000Z&match[id]={one}"),
        "alpha",
    );
    assert_eq!(exact.body["objects"].as_array().unwrap().len(), 1);
    let allv = http.get(&format!("{objects}?match[version]=all"), "alpha");
    assert_eq!(allv.body["objects"].as_array().unwrap().len(), 27);
    let typed = http.get(&format!("{objects}?match[type]=malware"), "alpha");
    assert_eq!(typed.body["more"], false);
    assert!(typed.body.get("objects").is_none());
    let spec = http.get(&format!("{objects}?match[spec_version]=2.0"), "alpha");
    assert!(spec.body.get("objects").is_none());

    // Pagination: limit + next walks every object exactly once.
    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let path = match &next {
            Some(n) => format!("{objects}?limit=7&next={n}"),
            None => format!("{objects}?limit=7"),
        };
        let page = http.get(&path, "beta");
        for o in page.body["objects"].as_array().unwrap() {
            seen.push(o["id"].as_str().unwrap().to_string());
        }
        if page.body["more"] == true {
            next = Some(page.body["next"].as_str().unwrap().to_string());
        } else {
            break;
        }
    }
    assert_eq!(seen.len(), 25);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 25);
    // added_after: nothing after the last date added.
    let later = http.get(
        &format!("{objects}?added_after={}", all.last.as_deref().unwrap()),
        "alpha",
    );
    assert!(later.body.get("objects").is_none());

    let manifest = http.get("/api/collections/shared/manifest/?limit=5", "beta");
    assert_eq!(manifest.body["objects"].as_array().unwrap().len(), 5);
    assert_eq!(manifest.body["more"], true);
    assert_eq!(
        manifest.body["objects"][0]["media_type"],
        "application/stix+json;version=2.1"
    );
    assert_eq!(http.get("/api/nowhere/", "alpha").status, 404);
}
