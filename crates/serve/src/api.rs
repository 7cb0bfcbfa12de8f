//! The HTTP API (axum): scanning, message-log queries, quarantine, block lists, playbook view and reload,
//! Prometheus metrics and health. Everything under `/v1` needs a bearer token whose SHA-256 is configured in
//! `api_tokens`; errors are JSON `{"error": "...", "status": N}`. Other routers (the intelligence hub's TAXII
//! endpoints) can be merged with [`router_with`].

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use mamori_mail::Envelope;
use mamori_store::StoreError;
use mamori_store::blocklist::BlockKind;
use mamori_store::message_log::MessageQuery;
use mamori_store::quarantine::QuarantineStatus;
use serde::Deserialize;
use serde_json::json;

use crate::service::{ServeError, Service};

/// An API error: status and message, rendered as JSON.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    fn bad(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"error": self.message, "status": self.status.as_u16()})),
        )
            .into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match &e {
            StoreError::NotFound(_) => ApiError::new(StatusCode::NOT_FOUND, e.to_string()),
            StoreError::Data(_) => ApiError::bad(e.to_string()),
            _ if e.is_unavailable() => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
            }
            _ => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        }
    }
}

impl From<ServeError> for ApiError {
    fn from(e: ServeError) -> ApiError {
        match e {
            ServeError::Store(s) => s.into(),
            ServeError::Playbook(p) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, p.to_string())
            }
            ServeError::Release(r) => ApiError::new(StatusCode::BAD_GATEWAY, r),
            other => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> ApiError {
        ApiError::bad(e.body_text())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> ApiError {
        ApiError::new(e.status(), e.body_text())
    }
}

impl From<BytesRejection> for ApiError {
    fn from(e: BytesRejection) -> ApiError {
        ApiError::new(e.status(), e.body_text())
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// The API router over `service`.
pub fn router(service: Arc<Service>) -> Router {
    router_with(service, Vec::new())
}

/// The API router with extra routers merged in (each keeps its own paths and authentication).
pub fn router_with(service: Arc<Service>, extra: Vec<Router>) -> Router {
    let limit = service.config().max_request_bytes;
    let v1 = Router::new()
        .route("/v1/scan", post(scan))
        .route("/v1/messages", get(messages))
        .route("/v1/messages/{id}", get(message))
        .route("/v1/quarantine", get(quarantine_list))
        .route(
            "/v1/quarantine/{id}",
            get(quarantine_show).delete(quarantine_delete),
        )
        .route("/v1/quarantine/{id}/raw", get(quarantine_raw))
        .route("/v1/quarantine/{id}/release", post(quarantine_release))
        .route("/v1/blocks", get(blocks_list).post(blocks_add))
        .route(
            "/v1/blocks/{kind}/{value}",
            axum::routing::delete(blocks_remove),
        )
        .route("/v1/playbook", get(playbook))
        .route("/v1/reload", post(reload))
        .route("/v1/actions", get(actions))
        .layer(middleware::from_fn_with_state(
            service.clone(),
            require_token,
        ));
    let mut app = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .merge(v1)
        .with_state(service);
    for r in extra {
        app = app.merge(r);
    }
    app.fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such endpoint") })
        .layer(DefaultBodyLimit::max(limit))
}

async fn require_token(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    request: Request,
    next: Next,
) -> Response {
    let tokens = &service.config().api_tokens;
    if tokens.is_empty() {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "the API is disabled: no api_tokens are configured ([serve] api_tokens, docs/api.md)",
        )
        .into_response();
    }
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(token) = presented else {
        return ApiError::new(StatusCode::UNAUTHORIZED, "missing bearer token").into_response();
    };
    // Compare hashes, so the comparison time says nothing about the secret.
    let hashed = crate::config::hash_token(token);
    if !tokens.iter().any(|t| t.eq_ignore_ascii_case(&hashed)) {
        return ApiError::new(StatusCode::UNAUTHORIZED, "invalid bearer token").into_response();
    }
    next.run(request).await
}

async fn healthz(State(service): State<Arc<Service>>) -> Response {
    match service.store().ping().await {
        Ok(()) => Json(json!({"status": "ok"})).into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "degraded", "error": e.to_string()})),
        )
            .into_response(),
    }
}

async fn metrics(State(service): State<Arc<Service>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        service.metrics().render(),
    )
        .into_response()
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ScanParams {
    mail_from: Option<String>,
    /// Comma-separated recipients.
    rcpt: Option<String>,
    client_ip: Option<String>,
    helo: Option<String>,
}

async fn scan(
    State(service): State<Arc<Service>>,
    params: Result<Query<ScanParams>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let Query(params) = params?;
    let body = body?;
    if body.is_empty() {
        return Err(ApiError::bad("the request body must be the raw message"));
    }
    let client_ip = match params.client_ip.as_deref() {
        Some(ip) => Some(
            ip.parse()
                .map_err(|_| ApiError::bad(format!("client_ip {ip:?} is not an IP address")))?,
        ),
        None => None,
    };
    let envelope = Envelope {
        client_ip,
        client_name: None,
        helo: params.helo,
        mail_from: params.mail_from,
        rcpt_to: params
            .rcpt
            .map(|r| {
                r.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        received_at: None,
    };
    let (verdict, plan) = service.scan_only(envelope, body.to_vec()).await?;
    Ok(Json(json!({"verdict": verdict, "plan": plan})).into_response())
}

async fn messages(
    State(service): State<Arc<Service>>,
    query: Result<Query<MessageQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(query) = query?;
    let rows = service.store().messages_find(&query).await?;
    Ok(Json(json!({"messages": rows})).into_response())
}

async fn message(
    State(service): State<Arc<Service>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (row, verdict) = service.store().message_get(&id).await?;
    let indicators = service.store().message_indicators(&id).await?;
    let actions = service.store().actions_for(&id).await?;
    Ok(Json(
        json!({"message": row, "verdict": verdict, "indicators": indicators, "actions": actions}),
    )
    .into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ListParams {
    status: Option<String>,
    limit: Option<i64>,
}

async fn quarantine_list(
    State(service): State<Arc<Service>>,
    params: Result<Query<ListParams>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(params) = params?;
    let status = params
        .status
        .as_deref()
        .map(QuarantineStatus::parse)
        .transpose()?;
    let rows = service
        .store()
        .quarantine_list(status, params.limit.unwrap_or(100).clamp(1, 10_000))
        .await?;
    Ok(Json(json!({"quarantine": rows})).into_response())
}

async fn quarantine_show(
    State(service): State<Arc<Service>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let entry = service.store().quarantine_entry(&id).await?;
    let verdict = match service.store().quarantine_content(&id).await {
        Ok((_, verdict)) => verdict,
        Err(StoreError::NotFound(_)) => serde_json::Value::Null,
        Err(e) => return Err(e.into()),
    };
    let actions = service.store().actions_for(&id).await?;
    Ok(Json(json!({"entry": entry, "verdict": verdict, "actions": actions})).into_response())
}

async fn quarantine_raw(
    State(service): State<Arc<Service>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (raw, _) = service.store().quarantine_content(&id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "message/rfc822".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{id}.eml\""),
            ),
        ],
        raw,
    )
        .into_response())
}

async fn quarantine_release(
    State(service): State<Arc<Service>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let how = service.release(&id).await?;
    Ok(Json(json!({"id": id, "status": "released", "delivery": how})).into_response())
}

async fn quarantine_delete(
    State(service): State<Arc<Service>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    service.store().quarantine_delete(&id).await?;
    let _ = service
        .store()
        .action_record(&id, "delete", "ok", "deleted through the API")
        .await;
    Ok(Json(json!({"id": id, "status": "deleted"})).into_response())
}

async fn blocks_list(State(service): State<Arc<Service>>) -> ApiResult<Response> {
    let rows = service.store().block_active(mamori_store::now_ms()).await?;
    Ok(Json(json!({"blocks": rows})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewBlock {
    kind: String,
    value: String,
    ttl: Option<String>,
    reason: Option<String>,
}

async fn blocks_add(
    State(service): State<Arc<Service>>,
    body: Result<Json<NewBlock>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(block) = body?;
    let kind = BlockKind::parse(&block.kind)?;
    let value = normalise_block_value(kind, &block.value).map_err(ApiError::bad)?;
    let expires = match block.ttl.as_deref() {
        Some(ttl) => {
            let d = humantime::parse_duration(ttl)
                .map_err(|e| ApiError::bad(format!("ttl {ttl:?}: {e}")))?;
            Some(mamori_store::now_ms() + i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2))
        }
        None => None,
    };
    let reason = block
        .reason
        .unwrap_or_else(|| "added through the API".into());
    service
        .store()
        .block_add(kind, &value, expires, &reason, None)
        .await?;
    service.refresh_blocks().await?;
    let _ = service
        .store()
        .action_record("api", "block", "ok", &format!("{}:{value}", kind.as_str()))
        .await;
    Ok((
        StatusCode::CREATED,
        Json(json!({"kind": kind, "value": value, "expires_at": expires})),
    )
        .into_response())
}

async fn blocks_remove(
    State(service): State<Arc<Service>>,
    Path((kind, value)): Path<(String, String)>,
) -> ApiResult<Response> {
    let kind = BlockKind::parse(&kind)?;
    let value = normalise_block_value(kind, &value).map_err(ApiError::bad)?;
    service.store().block_remove(kind, &value).await?;
    service.refresh_blocks().await?;
    Ok(Json(json!({"kind": kind, "value": value, "removed": true})).into_response())
}

async fn playbook(State(service): State<Arc<Service>>) -> ApiResult<Response> {
    let p = service.playbook();
    let rules: Vec<_> = p
        .rules
        .iter()
        .map(|r| json!({"name": r.name, "line": r.line, "continue": r.continue_, "then": r.then}))
        .collect();
    Ok(Json(json!({"origin": p.origin, "rules": rules, "source": p.source})).into_response())
}

async fn reload(State(service): State<Arc<Service>>) -> ApiResult<Response> {
    let summary = service.reload().await?;
    Ok(Json(json!({"reloaded": summary})).into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ActionParams {
    message_ref: Option<String>,
    limit: Option<i64>,
}

async fn actions(
    State(service): State<Arc<Service>>,
    params: Result<Query<ActionParams>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(params) = params?;
    let rows = match params.message_ref {
        Some(r) => service.store().actions_for(&r).await?,
        None => {
            service
                .store()
                .actions_recent(params.limit.unwrap_or(100).clamp(1, 10_000))
                .await?
        }
    };
    Ok(Json(json!({"actions": rows})).into_response())
}

/// Normalises a block-list value by kind (lower case, IP and hash syntax checked).
pub fn normalise_block_value(kind: BlockKind, value: &str) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() || v.len() > 2048 {
        return Err("value must have 1 to 2048 characters".into());
    }
    match kind {
        BlockKind::Sender => {
            let v = v.trim_matches(['<', '>']).to_lowercase();
            if v.contains('@') {
                Ok(v)
            } else {
                Err(format!("{v:?} is not an address"))
            }
        }
        BlockKind::Domain => {
            let v = v.trim_end_matches('.').to_lowercase();
            if v.contains('.') && !v.contains(['/', '@', ' ']) {
                Ok(v)
            } else {
                Err(format!("{v:?} is not a domain"))
            }
        }
        BlockKind::Url => Ok(v.to_string()),
        BlockKind::File => {
            let v = v.to_lowercase();
            if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
                Ok(v)
            } else {
                Err("file values are SHA-256 hashes (64 hex digits)".into())
            }
        }
        BlockKind::Ip => v
            .parse::<std::net::IpAddr>()
            .map(|ip| ip.to_string())
            .map_err(|_| format!("{v:?} is not an IP address")),
    }
}
