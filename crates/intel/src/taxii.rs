//! TAXII 2.1 server as an `axum::Router` ([`router`]), for `mamori intel serve` and for `mamori serve` to nest:
//! discovery, one API root, collections, objects (GET with `match[type|id|version|spec_version]`, `added_after`,
//! `limit` + `next`; POST of envelopes answered with a status resource), object by id, versions, manifest and
//! status. Every request is authenticated as an organisation account (HTTP Basic `org:secret`, or
//! `Authorization: Bearer org:secret`); rights are per collection (read, write, restricted); TLP:RED and
//! TLP:AMBER+STRICT objects are served only to the organisation that posted them and to readers with the
//! restricted right, and are otherwise simply absent (never an error that would reveal them).

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use mamori_store::Store;
use mamori_store::intel::{Cursor, Grant, IntelObject, IntelQuery, VersionMatch, Visibility};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::IntelError;
use crate::stix;

/// TAXII 2.1 media type.
pub const TAXII_MEDIA_TYPE: &str = "application/taxii+json;version=2.1";
/// STIX 2.1 media type.
pub const STIX_MEDIA_TYPE: &str = "application/stix+json;version=2.1";

/// Server settings.
#[derive(Debug, Clone)]
pub struct TaxiiConfig {
    /// Title in the discovery and API root resources.
    pub title: String,
    /// Path segment of the single API root (`api` → `/api/`).
    pub api_root: String,
    /// Path under which the router is mounted (`""` alone, `/intel` when nested), for the URLs we hand out.
    pub base_path: String,
    /// Largest accepted request body in bytes (413 above; also announced as `max_content_length`).
    pub max_content_length: usize,
    /// Objects per page when the client gives no `limit`.
    pub default_page_size: i64,
    /// Largest page served, whatever the client asks.
    pub max_page_size: i64,
}

impl Default for TaxiiConfig {
    fn default() -> Self {
        TaxiiConfig {
            title: "mamori intelligence hub".into(),
            api_root: "api".into(),
            base_path: String::new(),
            max_content_length: 10 * 1024 * 1024,
            default_page_size: 100,
            max_page_size: 1000,
        }
    }
}

/// Shared state of the router.
#[derive(Clone)]
pub struct TaxiiState {
    store: Store,
    config: Arc<TaxiiConfig>,
}

impl TaxiiState {
    /// State over a store.
    pub fn new(store: Store, config: TaxiiConfig) -> Self {
        TaxiiState {
            store,
            config: Arc::new(config),
        }
    }
}

/// SHA-256 of an account secret, lower-case hex (what the store keeps).
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new random account secret (256 bits, hex).
pub fn new_secret() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// The router: `/taxii2/` and `/{api_root}/…`.
pub fn router(state: TaxiiState) -> Router {
    let root = state.config.api_root.trim_matches('/').to_string();
    Router::new()
        .route("/taxii2/", get(discovery))
        .route(&format!("/{root}/"), get(api_root))
        .route(&format!("/{root}/collections/"), get(collections))
        .route(
            &format!("/{root}/collections/{{collection}}/"),
            get(collection),
        )
        .route(
            &format!("/{root}/collections/{{collection}}/objects/"),
            get(get_objects).post(post_objects),
        )
        .route(
            &format!("/{root}/collections/{{collection}}/objects/{{object}}/"),
            get(get_object),
        )
        .route(
            &format!("/{root}/collections/{{collection}}/objects/{{object}}/versions/"),
            get(versions),
        )
        .route(
            &format!("/{root}/collections/{{collection}}/manifest/"),
            get(manifest),
        )
        .route(&format!("/{root}/status/{{status}}/"), get(status))
        .fallback(|| async {
            TaxiiError::new(StatusCode::NOT_FOUND, "Not found", "no such TAXII resource")
        })
        .with_state(state)
}

/// A TAXII error response.
#[derive(Debug)]
pub struct TaxiiError {
    status: StatusCode,
    title: String,
    description: String,
}

impl TaxiiError {
    fn new(status: StatusCode, title: &str, description: impl Into<String>) -> Self {
        TaxiiError {
            status,
            title: title.into(),
            description: description.into(),
        }
    }

    fn bad_request(description: impl Into<String>) -> Self {
        TaxiiError::new(StatusCode::BAD_REQUEST, "Bad request", description)
    }

    fn not_found(what: &str) -> Self {
        TaxiiError::new(
            StatusCode::NOT_FOUND,
            "Not found",
            format!("{what} not found"),
        )
    }
}

impl From<mamori_store::StoreError> for TaxiiError {
    fn from(e: mamori_store::StoreError) -> Self {
        tracing::warn!(error = %e, "TAXII store error");
        TaxiiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Store unavailable",
            "the store failed; retry later",
        )
    }
}

impl IntoResponse for TaxiiError {
    fn into_response(self) -> Response {
        let body = json!({
            "title": self.title,
            "description": self.description,
            "http_status": self.status.as_u16().to_string(),
        });
        let mut response = taxii_json(self.status, &body);
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"mamori TAXII\""),
            );
        }
        response
    }
}

fn taxii_json(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(TAXII_MEDIA_TYPE),
    );
    response
}

type TaxiiResult = Result<Response, TaxiiError>;

/// The authenticated organisation.
struct Caller {
    org: String,
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn authenticate(state: &TaxiiState, headers: &HeaderMap) -> Result<Caller, TaxiiError> {
    let unauthorized = || {
        TaxiiError::new(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "valid organisation credentials are required (HTTP Basic or Bearer org:secret)",
        )
    };
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(unauthorized)?;
    let credentials = if let Some(basic) = value.strip_prefix("Basic ") {
        let decoded = STANDARD.decode(basic.trim()).map_err(|_| unauthorized())?;
        String::from_utf8(decoded).map_err(|_| unauthorized())?
    } else if let Some(bearer) = value.strip_prefix("Bearer ") {
        bearer.trim().to_string()
    } else {
        return Err(unauthorized());
    };
    let (org, secret) = credentials.split_once(':').ok_or_else(unauthorized)?;
    let account = state.store.intel_org(org).await?.ok_or_else(unauthorized)?;
    if !constant_time_eq(
        hash_secret(secret).as_bytes(),
        account.secret_sha256.as_bytes(),
    ) {
        return Err(unauthorized());
    }
    Ok(Caller { org: account.id })
}

fn check_accept(headers: &HeaderMap, stix_too: bool) -> Result<(), TaxiiError> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let acceptable = accept.split(',').any(|item| {
        let item: String = item
            .split(";q=")
            .next()
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let item = item.to_ascii_lowercase();
        item == "*/*"
            || item == "application/*"
            || item == "application/taxii+json"
            || item == TAXII_MEDIA_TYPE
            || (stix_too && (item == "application/stix+json" || item == STIX_MEDIA_TYPE))
    });
    if acceptable {
        Ok(())
    } else {
        Err(TaxiiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "Not acceptable",
            format!("this server answers {TAXII_MEDIA_TYPE}"),
        ))
    }
}

async fn begin(state: &TaxiiState, headers: &HeaderMap) -> Result<Caller, TaxiiError> {
    let caller = authenticate(state, headers).await?;
    check_accept(headers, false)?;
    Ok(caller)
}

/// The collection as the caller may see it: 404 when unknown or when the caller has no right on it at all.
async fn visible_collection(
    state: &TaxiiState,
    caller: &Caller,
    id: &str,
) -> Result<(mamori_store::intel::IntelCollection, Grant), TaxiiError> {
    let grant = state.store.intel_grant(&caller.org, id).await?;
    let collection = state
        .store
        .intel_collections()
        .await?
        .into_iter()
        .find(|c| c.id == id);
    match collection {
        Some(c) if grant.read || grant.write => Ok((c, grant)),
        _ => Err(TaxiiError::not_found("collection")),
    }
}

fn collection_json(c: &mamori_store::intel::IntelCollection, grant: Grant) -> Value {
    let mut out = json!({
        "id": c.id,
        "title": c.title,
        "can_read": grant.read,
        "can_write": grant.write,
        "media_types": [STIX_MEDIA_TYPE],
    });
    if let Some(d) = &c.description {
        out["description"] = json!(d);
    }
    out
}

async fn discovery(State(state): State<TaxiiState>, headers: HeaderMap) -> TaxiiResult {
    begin(&state, &headers).await?;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let root = format!(
        "http://{host}{}/{}/",
        state.config.base_path.trim_end_matches('/'),
        state.config.api_root.trim_matches('/')
    );
    Ok(taxii_json(
        StatusCode::OK,
        &json!({
            "title": state.config.title,
            "description": "STIX 2.1 intelligence shared between organisations (mamori)",
            "default": root,
            "api_roots": [root],
        }),
    ))
}

async fn api_root(State(state): State<TaxiiState>, headers: HeaderMap) -> TaxiiResult {
    begin(&state, &headers).await?;
    Ok(taxii_json(
        StatusCode::OK,
        &json!({
            "title": state.config.title,
            "versions": [TAXII_MEDIA_TYPE],
            "max_content_length": state.config.max_content_length,
        }),
    ))
}

async fn collections(State(state): State<TaxiiState>, headers: HeaderMap) -> TaxiiResult {
    let caller = begin(&state, &headers).await?;
    let mut out = Vec::new();
    for c in state.store.intel_collections().await? {
        let grant = state.store.intel_grant(&caller.org, &c.id).await?;
        if grant.read || grant.write {
            out.push(collection_json(&c, grant));
        }
    }
    let body = if out.is_empty() {
        json!({})
    } else {
        json!({"collections": out})
    };
    Ok(taxii_json(StatusCode::OK, &body))
}

async fn collection(
    State(state): State<TaxiiState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> TaxiiResult {
    let caller = begin(&state, &headers).await?;
    let (c, grant) = visible_collection(&state, &caller, &id).await?;
    Ok(taxii_json(StatusCode::OK, &collection_json(&c, grant)))
}

/// Filters of an objects/manifest/versions request.
struct Filters {
    query: IntelQuery,
}

fn encode_cursor(object: &IntelObject) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        "{}:{}:{}",
        object.date_added_us, object.object.version_us, object.object.id
    ))
}

fn decode_cursor(text: &str) -> Result<Cursor, TaxiiError> {
    let bad = || TaxiiError::bad_request("next is not a value this server handed out");
    let decoded = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let mut parts = decoded.splitn(3, ':');
    let date_added_us = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let version_us = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let id = parts.next().ok_or_else(bad)?.to_string();
    Ok(Cursor {
        date_added_us,
        id,
        version_us,
    })
}

fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

fn parse_filters(
    state: &TaxiiState,
    collection: &str,
    params: &[(String, String)],
    allowed: &[&str],
    visibility: Visibility,
) -> Result<Filters, TaxiiError> {
    let mut query = IntelQuery {
        collection: collection.to_string(),
        limit: state.config.default_page_size,
        visibility,
        ..IntelQuery::default()
    };
    for (key, value) in params {
        if !allowed.contains(&key.as_str()) {
            return Err(TaxiiError::bad_request(format!(
                "unsupported parameter {key:?} (supported here: {})",
                allowed.join(", ")
            )));
        }
        match key.as_str() {
            "match[type]" => {
                let types = split_list(value);
                if let Some(bad) = types.iter().find(|t| !stix::is_valid_type_name(t)) {
                    return Err(TaxiiError::bad_request(format!(
                        "match[type]: {bad:?} is not a STIX type"
                    )));
                }
                query.types = types;
            }
            "match[id]" => {
                let ids = split_list(value);
                if let Some(bad) = ids
                    .iter()
                    .find(|i| stix::check_identifier(i, None).is_err())
                {
                    return Err(TaxiiError::bad_request(format!(
                        "match[id]: {bad:?} is not a STIX identifier"
                    )));
                }
                query.ids = ids;
            }
            "match[spec_version]" => {
                let versions = split_list(value);
                if let Some(bad) = versions
                    .iter()
                    .find(|v| !matches!(v.as_str(), "2.0" | "2.1"))
                {
                    return Err(TaxiiError::bad_request(format!(
                        "match[spec_version]: {bad:?} is not 2.0 or 2.1"
                    )));
                }
                query.spec_versions = versions;
            }
            "match[version]" => {
                let mut exact = Vec::new();
                let mut mode = None;
                for item in split_list(value) {
                    match item.as_str() {
                        "last" => mode = Some(VersionMatch::Last),
                        "first" => mode = Some(VersionMatch::First),
                        "all" => mode = Some(VersionMatch::All),
                        t => exact.push(stix::parse_timestamp(t).map_err(|e| {
                            TaxiiError::bad_request(format!(
                                "match[version]: {e} (or use first, last, all)"
                            ))
                        })?),
                    }
                }
                query.version = match (mode, exact.is_empty()) {
                    (Some(m), true) => m,
                    (None, false) => VersionMatch::Exact(exact),
                    (Some(_), false) => VersionMatch::All,
                    (None, true) => return Err(TaxiiError::bad_request("match[version] is empty")),
                };
            }
            "added_after" => {
                query.added_after_us = Some(
                    stix::parse_timestamp(value)
                        .map_err(|e| TaxiiError::bad_request(format!("added_after: {e}")))?,
                );
            }
            "limit" => {
                let limit: i64 =
                    value.parse().ok().filter(|l| *l > 0).ok_or_else(|| {
                        TaxiiError::bad_request("limit must be a positive integer")
                    })?;
                query.limit = limit.min(state.config.max_page_size);
            }
            "next" => query.after = Some(decode_cursor(value)?),
            _ => {}
        }
    }
    Ok(Filters { query })
}

const OBJECT_FILTERS: &[&str] = &[
    "match[type]",
    "match[id]",
    "match[version]",
    "match[spec_version]",
    "added_after",
    "limit",
    "next",
];

fn date_headers(response: &mut Response, objects: &[IntelObject]) {
    if let (Some(first), Some(last)) = (
        objects.iter().map(|o| o.date_added_us).min(),
        objects.iter().map(|o| o.date_added_us).max(),
    ) {
        for (name, us) in [
            ("x-taxii-date-added-first", first),
            ("x-taxii-date-added-last", last),
        ] {
            if let Ok(value) = HeaderValue::from_str(&stix::format_timestamp_us(us)) {
                response.headers_mut().insert(name, value);
            }
        }
    }
}

async fn readable(
    state: &TaxiiState,
    caller: &Caller,
    collection: &str,
) -> Result<Visibility, TaxiiError> {
    let (_, grant) = visible_collection(state, caller, collection).await?;
    if !grant.read {
        return Err(TaxiiError::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "this account may not read the collection",
        ));
    }
    Ok(Visibility {
        org: Some(caller.org.clone()),
        restricted: grant.restricted,
    })
}

fn envelope(objects: &[IntelObject], more: bool) -> Result<Value, TaxiiError> {
    let mut list = Vec::with_capacity(objects.len());
    for o in objects {
        list.push(serde_json::from_str::<Value>(&o.object.json).map_err(|_| {
            TaxiiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Stored object unreadable",
                "a stored object is not JSON",
            )
        })?);
    }
    let mut body = json!({"more": more});
    if !list.is_empty() {
        body["objects"] = Value::Array(list);
    }
    if more && let Some(last) = objects.last() {
        body["next"] = json!(encode_cursor(last));
    }
    Ok(body)
}

async fn get_objects(
    State(state): State<TaxiiState>,
    Path(collection): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> TaxiiResult {
    let caller = begin(&state, &headers).await?;
    let visibility = readable(&state, &caller, &collection).await?;
    let filters = parse_filters(&state, &collection, &params, OBJECT_FILTERS, visibility)?;
    let (objects, more) = state.store.intel_query(&filters.query).await?;
    let mut response = taxii_json(StatusCode::OK, &envelope(&objects, more)?);
    date_headers(&mut response, &objects);
    Ok(response)
}

async fn get_object(
    State(state): State<TaxiiState>,
    Path((collection, object)): Path<(String, String)>,
    Query(params): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> TaxiiResult {
    let caller = begin(&state, &headers).await?;
    let visibility = readable(&state, &caller, &collection).await?;
    let allowed = [
        "match[version]",
        "match[spec_version]",
        "added_after",
        "limit",
        "next",
    ];
    let mut filters = parse_filters(&state, &collection, &params, &allowed, visibility)?;
    stix::check_identifier(&object, None).map_err(TaxiiError::bad_request)?;
    filters.query.ids = vec![object];
    let (objects, more) = state.store.intel_query(&filters.query).await?;
    if objects.is_empty() && filters.query.after.is_none() {
        return Err(TaxiiError::not_found("object"));
    }
    let mut response = taxii_json(StatusCode::OK, &envelope(&objects, more)?);
    date_headers(&mut response, &objects);
    Ok(response)
}

async fn versions(
    State(state): State<TaxiiState>,
    Path((collection, object)): Path<(String, String)>,
    Query(params): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> TaxiiResult {
    let caller = begin(&state, &headers).await?;
    let visibility = readable(&state, &caller, &collection).await?;
    let allowed = ["match[spec_version]", "added_after", "limit", "next"];
    let mut filters = parse_filters(&state, &collection, &params, &allowed, visibility)?;
    stix::check_identifier(&object, None).map_err(TaxiiError::bad_request)?;
    filters.query.ids = vec![object];
    filters.query.version = VersionMatch::All;
    let (objects, more) = state.store.intel_query(&filters.query).await?;
    if objects.is_empty() && filters.query.after.is_none() {
        return Err(TaxiiError::not_found("object"));
    }
    let mut body = json!({"more": more});
    body["versions"] = json!(
        objects
            .iter()
            .map(|o| o.object.version.clone())
            .collect::<Vec<_>>()
    );
    if more && let Some(last) = objects.last() {
        body["next"] = json!(encode_cursor(last));
    }
    let mut response = taxii_json(StatusCode::OK, &body);
    date_headers(&mut response, &objects);
    Ok(response)
}

async fn manifest(
    State(state): State<TaxiiState>,
    Path(collection): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> TaxiiResult {
    let caller = begin(&state, &headers).await?;
    let visibility = readable(&state, &caller, &collection).await?;
    let filters = parse_filters(&state, &collection, &params, OBJECT_FILTERS, visibility)?;
    let (objects, more) = state.store.intel_query(&filters.query).await?;
    let mut body = json!({"more": more});
    if !objects.is_empty() {
        body["objects"] = json!(
            objects
                .iter()
                .map(|o| json!({
                    "id": o.object.id,
                    "date_added": stix::format_timestamp_us(o.date_added_us),
                    "version": o.object.version,
                    "media_type": STIX_MEDIA_TYPE,
                }))
                .collect::<Vec<_>>()
        );
    }
    if more && let Some(last) = objects.last() {
        body["next"] = json!(encode_cursor(last));
    }
    let mut response = taxii_json(StatusCode::OK, &body);
    date_headers(&mut response, &objects);
    Ok(response)
}

/// Outcome of adding one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Stored (or already present in the same version).
    Success {
        /// Object id.
        id: String,
        /// Version.
        version: String,
        /// Note, e.g. that it was already present.
        message: Option<String>,
    },
    /// Rejected.
    Failure {
        /// Object id as given (or a placeholder).
        id: String,
        /// Version as given, if any.
        version: Option<String>,
        /// Why.
        message: String,
    },
}

/// Validates and stores objects posted by `org` into `collection`, one outcome per object. Objects without a
/// version (`modified`/`created`, i.e. SCOs) are stored once: re-posting one is a success that changes nothing.
pub async fn ingest(
    store: &Store,
    collection: &str,
    objects: &[Value],
    org: Option<&str>,
) -> Result<Vec<Outcome>, IntelError> {
    let now = stix::now_us();
    let mut outcomes = Vec::with_capacity(objects.len());
    let mut rows = Vec::new();
    let mut row_outcome = Vec::new();
    for (index, object) in objects.iter().enumerate() {
        match stix::validate(object) {
            Err(e) => outcomes.push(Outcome::Failure {
                id: e
                    .id
                    .clone()
                    .or_else(|| object.get("id").and_then(Value::as_str).map(str::to_string))
                    .unwrap_or_else(|| format!("object #{index}")),
                version: object
                    .get("modified")
                    .or_else(|| object.get("created"))
                    .and_then(Value::as_str)
                    .map(str::to_string),
                message: e.message,
            }),
            Ok(meta) => {
                if meta.version_us.is_none() {
                    let (found, _) = store
                        .intel_query(&IntelQuery {
                            collection: collection.to_string(),
                            ids: vec![meta.id.clone()],
                            limit: 1,
                            visibility: Visibility {
                                org: None,
                                restricted: true,
                            },
                            ..IntelQuery::default()
                        })
                        .await?;
                    if let Some(existing) = found.first() {
                        outcomes.push(Outcome::Success {
                            id: meta.id.clone(),
                            version: existing.object.version.clone(),
                            message: Some("already present".into()),
                        });
                        continue;
                    }
                }
                let row = crate::attack::to_row(object, &meta, org, now)?;
                row_outcome.push(outcomes.len());
                outcomes.push(Outcome::Success {
                    id: row.id.clone(),
                    version: row.version.clone(),
                    message: None,
                });
                rows.push(row);
            }
        }
    }
    store
        .intel_put_objects(
            collection,
            &rows,
            mamori_store::intel::VersionPolicy::KeepAll,
            now,
        )
        .await?;
    Ok(outcomes)
}

/// The TAXII status resource for a set of outcomes.
pub fn status_resource(id: &str, request_us: i64, outcomes: &[Outcome]) -> Value {
    let mut successes = Vec::new();
    let mut failures = Vec::new();
    for outcome in outcomes {
        match outcome {
            Outcome::Success {
                id,
                version,
                message,
            } => {
                let mut s = json!({"id": id, "version": version});
                if let Some(m) = message {
                    s["message"] = json!(m);
                }
                successes.push(s);
            }
            Outcome::Failure {
                id,
                version,
                message,
            } => {
                let mut f = json!({"id": id, "message": message});
                if let Some(v) = version {
                    f["version"] = json!(v);
                }
                failures.push(f);
            }
        }
    }
    let mut body = json!({
        "id": id,
        "status": "complete",
        "request_timestamp": stix::format_timestamp_us(request_us),
        "total_count": outcomes.len(),
        "success_count": successes.len(),
        "failure_count": failures.len(),
        "pending_count": 0,
    });
    if !successes.is_empty() {
        body["successes"] = json!(successes);
    }
    if !failures.is_empty() {
        body["failures"] = json!(failures);
    }
    body
}

async fn post_objects(
    State(state): State<TaxiiState>,
    Path(collection): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> TaxiiResult {
    let caller = begin(&state, &headers).await?;
    let (_, grant) = visible_collection(&state, &caller, &collection).await?;
    if !grant.write {
        return Err(TaxiiError::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "this account may not write to the collection",
        ));
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .replace(' ', "")
        .to_ascii_lowercase();
    if content_type != TAXII_MEDIA_TYPE && content_type != "application/taxii+json" {
        return Err(TaxiiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type",
            format!("post envelopes as {TAXII_MEDIA_TYPE}"),
        ));
    }
    let max = state.config.max_content_length;
    let too_large = || {
        TaxiiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request too large",
            format!("the envelope exceeds max_content_length ({max} bytes)"),
        )
    };
    if headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|n| n > max)
    {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, max)
        .await
        .map_err(|_| too_large())?;
    let envelope: Value = serde_json::from_slice(&bytes)
        .map_err(|e| TaxiiError::bad_request(format!("body is not JSON: {e}")))?;
    let objects = envelope
        .get("objects")
        .and_then(Value::as_array)
        .ok_or_else(|| TaxiiError::bad_request("envelope has no objects list"))?;
    let request_us = stix::now_us();
    let outcomes = ingest(&state.store, &collection, objects, Some(&caller.org))
        .await
        .map_err(|e| match e {
            IntelError::Store(s) => TaxiiError::from(s),
            other => TaxiiError::bad_request(other.to_string()),
        })?;
    let status_id = uuid::Uuid::new_v4().to_string();
    let status = status_resource(&status_id, request_us, &outcomes);
    state
        .store
        .intel_put_status(&status_id, Some(&caller.org), &status.to_string())
        .await?;
    Ok(taxii_json(StatusCode::ACCEPTED, &status))
}

async fn status(
    State(state): State<TaxiiState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> TaxiiResult {
    let caller = begin(&state, &headers).await?;
    let (owner, text) = match state.store.intel_status(&id).await {
        Ok(found) => found,
        Err(mamori_store::StoreError::NotFound(_)) => return Err(TaxiiError::not_found("status")),
        Err(e) => return Err(e.into()),
    };
    if owner.as_deref() != Some(caller.org.as_str()) {
        return Err(TaxiiError::not_found("status"));
    }
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| json!({}));
    Ok(taxii_json(StatusCode::OK, &body))
}
