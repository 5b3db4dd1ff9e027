//! The HTTP/JSON front door: every engine operation at `POST /v1/{interface}/{operation}` (arguments as
//! a JSON object), authenticated per request before its body is read, one sandboxed instance and one
//! transaction per request. Every answer that is not a success is the JSON error envelope.
//! Also `/healthz`, `/readyz`, `/metrics` (Prometheus) and `/openapi.json`, request ids
//! (`X-Request-Id`), structured logs and graceful shutdown.

pub mod auth;
mod console;
mod limits;
pub mod metrics;
pub mod openapi;
mod slow_io;

use std::sync::Arc;
use std::time::Instant;

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::bindings::{Actor, ErrorCode};
use crate::clock::Clock;
use crate::engine::dynamic::error_code_name;
use crate::identity::KeyUsage;
use crate::runtime::Runtime;

/// Policy uploads the server receives (and compiles) at once.
const MAX_CONCURRENT_UPLOADS: usize = 2;

/// Everything the HTTP handlers share: the runtime, how credentials are checked, the clock, metrics,
/// limits, and the bookkeeping of API keys.
pub struct AppState {
    /// The runtime every operation is called on.
    pub runtime: Runtime,
    /// How JWTs and operator tokens are checked.
    pub auth: auth::AuthConfig,
    /// The clock of authentication (key expiry and use).
    pub clock: Arc<dyn Clock>,
    /// Per-operation counts and latencies, served at `/metrics`.
    pub metrics: metrics::Metrics,
    /// What one client may make the server spend.
    pub limits: HttpLimits,
    /// API key use, written in batches off the request path.
    pub key_usage: KeyUsage,
    /// The per-key request budgets (`rate_limit_rpm`).
    pub rate_limiter: auth::RateLimiter,
    /// Policy uploads being received or compiled at once (their bodies are the largest the server takes).
    install_bodies: tokio::sync::Semaphore,
    openapi: Value,
    operations: Vec<(String, String)>,
}

/// What one client may make the server spend on its connection and request.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Time to receive a request's headers (also how long an idle keep-alive connection is kept).
    pub header_timeout: Duration,
    /// Time to receive a request's body.
    pub body_timeout: Duration,
    /// Time a response may wait for a client that does not read it.
    pub write_timeout: Duration,
    /// Connections open at once; further ones wait in the listen backlog.
    pub max_connections: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max_body_bytes: 2 * 1024 * 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            max_connections: 8192,
        }
    }
}

impl AppState {
    /// The state of a server with the default [`HttpLimits`].
    pub fn new(runtime: Runtime, auth: auth::AuthConfig, clock: Arc<dyn Clock>) -> Self {
        Self::with_limits(runtime, auth, clock, HttpLimits::default())
    }

    /// The state of a server with these limits; builds the OpenAPI document and the table of operations
    /// from the runtime (panics if a declared argument limit names no argument of an operation).
    pub fn with_limits(runtime: Runtime, auth: auth::AuthConfig, clock: Arc<dyn Clock>, limits: HttpLimits) -> Self {
        let operations = runtime.operations();
        let openapi = openapi::document(operations);
        openapi::check_limits(&openapi).expect("every declared limit names an argument of an operation");
        let operations = operations.iter().map(|o| (o.interface.clone(), o.name.replace('-', "_"))).collect();
        AppState {
            runtime,
            auth,
            clock,
            metrics: metrics::Metrics::default(),
            limits,
            key_usage: KeyUsage::default(),
            rate_limiter: auth::RateLimiter::default(),
            install_bodies: tokio::sync::Semaphore::new(MAX_CONCURRENT_UPLOADS),
            openapi,
            operations,
        }
    }

    /// Writes the API key use collected so far (not while the database is known to be down; a write that
    /// loses a race is kept for the next second, quietly: that is normal under load).
    pub async fn flush_key_usage(&self) {
        if self.runtime.database_down() {
            return;
        }
        match self.key_usage.flush(self.runtime.database()).await {
            Ok(_) => {}
            Err(e) if crate::db::errors::is_retryable(&e) => {
                tracing::debug!(error = %e, "API key use kept for the next flush")
            }
            Err(e) => {
                self.runtime.database_failed(&e);
                tracing::warn!(error = %e, "could not record API key use; kept for the next attempt");
            }
        }
    }
}

/// The router of the server.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics_text))
        .route("/openapi.json", get(openapi_json))
        .route("/console", get(console::root))
        .route("/console/", get(console::index))
        .route("/console/{name}", get(console::asset))
        .route("/v1/{interface}/{operation}", post(operation))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

async fn not_found(headers: HeaderMap) -> Response {
    error_response(StatusCode::NOT_FOUND, "not_found", "no such route", &request_id(&headers))
}

async fn method_not_allowed(headers: HeaderMap) -> Response {
    error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take this method",
        &request_id(&headers),
    )
}

async fn ready(State(state): State<Arc<AppState>>) -> Response {
    if state.runtime.ready().await {
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
        ErrorCode::Forbidden | ErrorCode::LifecycleBlocked | ErrorCode::PolicyDenied => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Conflict | ErrorCode::ActivationIncomplete => StatusCode::CONFLICT,
        ErrorCode::QuotaExceeded => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::FeatureDisabled | ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        // The tenant's own code failed, not the service: a dependency of the request failed.
        ErrorCode::PolicyFailed => StatusCode::FAILED_DEPENDENCY,
    }
}

fn error_response(status: StatusCode, code: &str, message: &str, request_id: &str) -> Response {
    let body = json!({ "error": { "code": code, "message": message, "request_id": request_id } });
    let mut response = with_request_id((status, axum::Json(body)).into_response(), request_id);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
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
        .filter(|v| {
            !v.is_empty() && v.len() <= 100 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

async fn operation(
    State(state): State<Arc<AppState>>,
    Path((interface, operation)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let request_id = request_id(&headers);
    if !state.operations.iter().any(|(i, o)| *i == interface && *o == operation) {
        return error_response(StatusCode::NOT_FOUND, "not_found", "no such operation", &request_id);
    }
    // The credential first: nothing of an unauthenticated request is read or parsed beyond its headers.
    // While the database is known to be down (and a probe does not find it back), every call is refused
    // at once: the credential's own lookup would only wait for a connection.
    if !state.runtime.database_available().await {
        return error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the database is unavailable; try again",
            &request_id,
        );
    }
    let authenticator = auth::Authenticator {
        config: &state.auth,
        runtime: &state.runtime,
        clock: state.clock.as_ref(),
        key_usage: &state.key_usage,
        rate_limiter: &state.rate_limiter,
    };
    let caller = match authenticator.caller(&headers, &request_id).await {
        Ok(caller) if matches!(caller.actor, Actor::Anonymous) && !crate::engine::is_public(&interface, &operation) => {
            return error_response(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "authentication is required",
                &request_id,
            );
        }
        Ok(caller) => caller,
        Err(auth::Rejected::Refused(auth::Refused(code, message))) => {
            return error_response(status_of(code), error_code_name(code), message, &request_id);
        }
        Err(auth::Rejected::RateLimited(wait)) => {
            let mut response = error_response(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "this API key is over its requests per minute",
                &request_id,
            );
            let seconds = wait.as_secs().max(1).to_string();
            if let Ok(v) = HeaderValue::from_str(&seconds) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return response;
        }
    };
    // A policy upload is a component (base64) and may be larger than any other body; only a person can
    // install one (the engine then checks that they own the tenant), so nobody else sends that much.
    let installing = interface == "policies" && operation == "install";
    if installing && !matches!(caller.actor, Actor::Identity(_)) {
        return error_response(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only the tenant's owners install its policy",
            &request_id,
        );
    }
    // And only someone the engine lets read the tenant's policies (its owners) gets to send that much.
    if installing && let Err(e) = state.runtime.policies().list_versions(&caller).await {
        return error_response(status_of(e.code), error_code_name(e.code), &e.message, &request_id);
    }
    let _upload = match installing.then(|| state.install_bodies.try_acquire()) {
        Some(Err(_)) => {
            let message = "the server is receiving other policy uploads; try again";
            let mut response = error_response(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message, &request_id);
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            return response;
        }
        Some(Ok(permit)) => Some(permit),
        None => None,
    };
    let max_body_bytes = if installing {
        let component = state.runtime.config().policies.max_component_bytes;
        state.limits.max_body_bytes.max(component.div_ceil(3) * 4 + (256 << 10))
    } else {
        state.limits.max_body_bytes
    };
    let too_large = || {
        let message = format!("the body is larger than {max_body_bytes} bytes");
        error_response(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", &message, &request_id)
    };
    // An announced length over the limit is refused before a byte of the body is read.
    let announced =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > max_body_bytes as u64) {
        return too_large();
    }
    let body = match tokio::time::timeout(state.limits.body_timeout, axum::body::to_bytes(body, max_body_bytes)).await {
        Ok(Ok(body)) => body,
        Ok(Err(e)) if is_too_large(&e) => return too_large(),
        Ok(Err(_)) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "invalid_argument",
                "the body could not be read",
                &request_id,
            );
        }
        Err(_) => {
            return error_response(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "the body did not arrive in time",
                &request_id,
            );
        }
    };
    // No body means no arguments; anything else must be a JSON object.
    let args: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&body) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => {
                return error_response(
                    StatusCode::BAD_REQUEST,
                    "invalid_argument",
                    "the body must be a JSON object",
                    &request_id,
                );
            }
            Err(e) => {
                let message = format!("the body is not valid JSON: {e}");
                return error_response(StatusCode::BAD_REQUEST, "invalid_argument", &message, &request_id);
            }
        }
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

fn is_too_large(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// Serves until Ctrl-C or SIGTERM, then finishes the requests in flight. Each connection has a deadline
/// for its headers (hyper's header read timeout, which also ends idle keep-alive connections) and the
/// number of open connections is capped, so slow or idle clients cannot hold the server. API key use is
/// written every second.
pub async fn serve(listener: tokio::net::TcpListener, state: Arc<AppState>) -> anyhow::Result<()> {
    let app = router(state.clone());
    let limits = state.limits.clone();
    let connections = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let bookkeeping = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                state.flush_key_usage().await;
            }
        })
    };
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => permit?,
            _ = &mut shutdown => break,
        };
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .serve_connection(
                hyper_util::rt::TokioIo::new(slow_io::TimedStream::new(stream, limits.write_timeout)),
                service,
            );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _permit = permit;
            let _ = connection.await;
        });
    }
    drop(listener);
    if tokio::time::timeout(Duration::from_secs(30), graceful.shutdown()).await.is_err() {
        tracing::warn!("requests still in flight after 30 s; stopping anyway");
    }
    bookkeeping.abort();
    state.flush_key_usage().await;
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
