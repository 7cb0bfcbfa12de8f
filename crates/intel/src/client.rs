//! A small TAXII 2.1 client for exchanging with another hub (mamori, medallion, or any TAXII 2.1 server): push a
//! collection's objects as envelopes, pull a remote collection page by page. Blocking (ureq): the CLI runs one
//! exchange at a time, so no runtime is needed on this side.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::IntelError;
use crate::taxii::TAXII_MEDIA_TYPE;

/// Largest response body read (a page of objects).
pub const MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

/// Credentials for the remote server.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// None.
    None,
    /// HTTP Basic user and password.
    Basic(String, String),
    /// Bearer token.
    Bearer(String),
}

/// A TAXII collection endpoint: `{api root url}collections/{id}/`.
#[derive(Debug, Clone)]
pub struct RemoteCollection {
    agent: ureq::Agent,
    url: String,
    authorization: Option<String>,
}

/// What a push did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushReport {
    /// Envelopes posted.
    pub envelopes: usize,
    /// Objects the server accepted.
    pub successes: u64,
    /// Objects it rejected, with the reason (up to 100).
    pub failures: Vec<String>,
    /// Number rejected.
    pub failure_count: u64,
}

impl RemoteCollection {
    /// A collection at `api_root` (URL of the API root, e.g. `http://hub:6100/api/`) with `collection` id.
    pub fn new(
        api_root: &str,
        collection: &str,
        credentials: Credentials,
        timeout: Duration,
    ) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .build()
            .into();
        let authorization = match credentials {
            Credentials::None => None,
            Credentials::Basic(user, password) => Some(format!(
                "Basic {}",
                STANDARD.encode(format!("{user}:{password}"))
            )),
            Credentials::Bearer(token) => Some(format!("Bearer {token}")),
        };
        RemoteCollection {
            agent,
            url: format!(
                "{}/collections/{}/",
                api_root.trim_end_matches('/'),
                collection
            ),
            authorization,
        }
    }

    fn check(
        &self,
        mut response: ureq::http::Response<ureq::Body>,
        what: &str,
    ) -> Result<Value, IntelError> {
        let status = response.status();
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_string()
            .map_err(|e| IntelError::Taxii(format!("{what}: reading the response: {e}")))?;
        if !status.is_success() {
            let detail: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let description = detail
                .get("description")
                .or_else(|| detail.get("title"))
                .and_then(Value::as_str)
                .unwrap_or(text.as_str());
            return Err(IntelError::Taxii(format!(
                "{what}: HTTP {status}: {description}"
            )));
        }
        serde_json::from_str(&text)
            .map_err(|e| IntelError::Taxii(format!("{what}: response is not JSON: {e}")))
    }

    /// Fetches every object of the collection (all versions when `all_versions`), following `next`.
    pub fn pull(&self, page_size: usize, all_versions: bool) -> Result<Vec<Value>, IntelError> {
        let mut objects = Vec::new();
        let mut next: Option<String> = None;
        for _ in 0..100_000 {
            let mut request = self
                .agent
                .get(format!("{}objects/", self.url))
                .header("Accept", TAXII_MEDIA_TYPE)
                .query("limit", page_size.to_string());
            if all_versions {
                request = request.query("match[version]", "all");
            }
            if let Some(n) = &next {
                request = request.query("next", n);
            }
            if let Some(a) = &self.authorization {
                request = request.header("Authorization", a);
            }
            let response = request
                .call()
                .map_err(|e| IntelError::Taxii(format!("GET {}objects/: {e}", self.url)))?;
            let page = self.check(response, "GET objects")?;
            if let Some(list) = page.get("objects").and_then(Value::as_array) {
                objects.extend(list.iter().cloned());
            }
            let more = page.get("more").and_then(Value::as_bool).unwrap_or(false);
            next = page.get("next").and_then(Value::as_str).map(str::to_string);
            if !more || next.is_none() {
                return Ok(objects);
            }
        }
        Err(IntelError::Limit("more than 100,000 pages".into()))
    }

    /// Posts objects in envelopes of at most `batch` objects and collects the status resources.
    pub fn push(&self, objects: &[Value], batch: usize) -> Result<PushReport, IntelError> {
        let mut report = PushReport::default();
        for chunk in objects.chunks(batch.max(1)) {
            let body = json!({"objects": chunk}).to_string();
            let mut request = self
                .agent
                .post(format!("{}objects/", self.url))
                .header("Accept", TAXII_MEDIA_TYPE)
                .header("Content-Type", TAXII_MEDIA_TYPE);
            if let Some(a) = &self.authorization {
                request = request.header("Authorization", a);
            }
            let response = request
                .send(body.as_str())
                .map_err(|e| IntelError::Taxii(format!("POST {}objects/: {e}", self.url)))?;
            let status = self.check(response, "POST objects")?;
            report.envelopes += 1;
            report.successes += status
                .get("success_count")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            let failed = status
                .get("failure_count")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            report.failure_count += failed;
            for failure in status
                .get("failures")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if report.failures.len() < 100 {
                    report.failures.push(format!(
                        "{}: {}",
                        failure.get("id").and_then(Value::as_str).unwrap_or("?"),
                        failure
                            .get("message")
                            .and_then(Value::as_str)
                            .unwrap_or("rejected")
                    ));
                }
            }
        }
        Ok(report)
    }
}
