//! The HTTP/JSON front door: every engine operation at `POST /v1/{interface}/{operation}` (arguments as
//! a JSON object), authenticated per request, one sandboxed instance and one transaction per request.
//! Also `/healthz`, `/readyz`, `/metrics` (Prometheus) and `/openapi.json`, request ids
//! (`X-Request-Id`), structured logs and graceful shutdown.

pub mod auth;
pub mod metrics;
pub mod openapi;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::bindings::ErrorCode;
use crate::clock::Clock;
use crate::engine::dynamic::error_code_name;
use crate::runtime::Runtime;

pub struct AppState {
    pub runtime: Runtime,
    pub auth: auth::AuthConfig,
    pub clock: Arc<dyn Clock>,
    pub metrics: metrics::Metrics,
    openapi: Value,
    operations: Vec<(String, String)>,
}

impl AppState {
    pub fn new(runtime: Runtime, auth: auth::AuthConfig, clock: Arc<dyn Clock>) -> Self {
        let operations = runtime.operations();
        let openapi = openapi::document(operations);
        let operations = operations.iter().map(|o| (o.interface.clone(), o.name.replace('-', "_"))).collect();
        AppState { runtime, auth, clock, metrics: metrics::Metrics::default(), openapi, operations }
    }
}

/// The router of the server; `max_body_bytes` bounds request bodies.
pub fn router(state: Arc<AppState>, max_body_bytes: usize) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics_text))
        .route("/openapi.json", get(openapi_json))
        .route("/v1/{interface}/{operation}", post(operation))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(state)
}

async fn ready(State(state): State<Arc<AppState>>) -> Response {
    if state.runtime.database().ping().await {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
    }
}

async fn metrics_text(State(state): State<Arc<AppState>>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render()).into_response()
}

async fn openapi_json(State(state): State<Arc<AppState>>) -> Response {
    axum::Json(state.openapi.clone()).into_response()
}

/// The HTTP status of an engine error code.
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidArgument => StatusCode::BAD_REQUEST,
        ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden | ErrorCode::LifecycleBlocked => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Conflict | ErrorCode::ActivationIncomplete => StatusCode::CONFLICT,
        ErrorCode::QuotaExceeded => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::FeatureDisabled | ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn error_response(status: StatusCode, code: &str, message: &str, request_id: &str) -> Response {
    let body = json!({ "error": { "code": code, "message": message, "request_id": request_id } });
    with_request_id((status, axum::Json(body)).into_response(), request_id)
}

fn with_request_id(mut response: Response, request_id: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-request-id", v);
    }
    response
}

/// The client's request id when it is a sane token, otherwise a new one.
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 100 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b)))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

async fn operation(
    State(state): State<Arc<AppState>>,
    Path((interface, operation)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = request_id(&headers);
    if !state.operations.iter().any(|(i, o)| *i == interface && *o == operation) {
        return error_response(StatusCode::NOT_FOUND, "not_found", "no such operation", &request_id);
    }
    let args: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        match serde_json::from_slice(&body) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => return error_response(StatusCode::BAD_REQUEST, "invalid_argument", "the body must be a JSON object", &request_id),
            Err(e) => {
                let message = format!("the body is not valid JSON: {e}");
                return error_response(StatusCode::BAD_REQUEST, "invalid_argument", &message, &request_id);
            }
        }
    };
    let caller = match auth::caller(&state.auth, state.runtime.database(), state.clock.as_ref(), &headers, &request_id).await {
        Ok(caller) => caller,
        Err(auth::Refused(code, message)) => return error_response(status_of(code), error_code_name(code), message, &request_id),
    };
    let started = Instant::now();
    let result = state.runtime.call_json(&caller, &interface, &operation, &args).await;
    let name = format!("{interface}.{operation}");
    let elapsed = started.elapsed();
    match result {
        Ok(value) => {
            state.metrics.record(&name, elapsed, None);
            tracing::info!(request_id, operation = %name, elapsed_ms = elapsed.as_secs_f64() * 1e3, "ok");
            with_request_id((StatusCode::OK, axum::Json(value)).into_response(), &request_id)
        }
        Err(e) => {
            let code = error_code_name(e.code);
            state.metrics.record(&name, elapsed, Some(code));
            tracing::info!(request_id, operation = %name, code, elapsed_ms = elapsed.as_secs_f64() * 1e3, "refused");
            error_response(status_of(e.code), code, &e.message, &request_id)
        }
    }
}

/// Serves until Ctrl-C or SIGTERM, then finishes the requests in flight.
pub async fn serve(listener: tokio::net::TcpListener, state: Arc<AppState>, max_body_bytes: usize) -> anyhow::Result<()> {
    axum::serve(listener, router(state, max_body_bytes)).with_graceful_shutdown(shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down: finishing requests in flight");
}
