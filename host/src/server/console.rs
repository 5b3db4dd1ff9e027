//! The web console: static files (`host/console/`, embedded at build time) served at `/console/`. They
//! use only the service's own HTTP API, from the same origin; the credential a user signs in with stays
//! in the page's memory. The headers keep the pages from running anything but their own files, from
//! being framed, and from leaking their address.

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

mod files {
    include!(concat!(env!("OUT_DIR"), "/console_files.rs"));
}

/// Only the console's own files run, and it talks only to this origin.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// `/console`: the console lives under `/console/` (its files are addressed relative to it).
pub async fn root() -> Redirect {
    Redirect::permanent("/console/")
}

/// `/console/`: the console's page.
pub async fn index(headers: HeaderMap) -> Response {
    file("index.html", &headers)
}

/// `/console/{name}`: one of the console's files.
pub async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    file(&name, &headers)
}

fn file(name: &str, headers: &HeaderMap) -> Response {
    let Some((_, content_type, bytes)) = files::FILES.iter().find(|(n, ..)| *n == name) else {
        return super::error_response(StatusCode::NOT_FOUND, "not_found", "no such route", &super::request_id(headers));
    };
    let mut response = (*bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    // A new binary may bring new files: the browser asks again rather than mixing versions.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
