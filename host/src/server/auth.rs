//! Who is calling, from the `Authorization` header. The tenant always comes from the credential (the API
//! key's tenant, the JWT's `tenant_id` claim or the user's default tenant), never from the body; only an
//! operator names the tenant they act on, with `X-Tenant-Id`.
//!
//! * `Bearer aos_…` — a tenant API key, checked by hash; revoked, expired and frozen keys are refused, and
//!   each key's `rate_limit_rpm` is enforced here ([`RateLimiter`]).
//! * `Bearer <operator token>` — one of the configured operator credentials, each with its own operator id
//!   (the audit log names who acted).
//! * `Bearer <JWT>` — a human, signed by the identity provider (HS256 secret or RS256 public key), with
//!   `exp`, `nbf`, and the configured `iss` and `aud` checked: `sub` is the identity's subject, `email` its
//!   e-mail, `email_verified` whether the provider vouches for it (absent: not verified, unless
//!   `JWT_EMAILS_VERIFIED_BY_DEFAULT` says the provider only issues verified ones), optional `name`
//!   and `tenant_id`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::bindings::{Actor, ErrorCode, IdentityPrincipal, OperatorPrincipal};
use crate::clock::Clock;
use crate::identity::{self, KeyUsage};
use crate::runtime::Caller;

/// The shortest HS256 secret accepted: 32 bytes, the size of the hash (RFC 7518 §3.2).
pub const MIN_HS256_SECRET_BYTES: usize = 32;
/// Requests per minute of a key without its own limit (the platform default).
pub const DEFAULT_KEY_RPM: u32 = 1000;

/// How the identity provider's JWTs are checked.
pub struct JwtConfig {
    /// The key tokens are verified with: the HS256 shared secret or the RS256 public key.
    pub key: DecodingKey,
    /// The one signature algorithm accepted (HS256 or RS256, matching `key`).
    pub algorithm: Algorithm,
    /// The `iss` every token must carry; none: not checked (a warning at start).
    pub issuer: Option<String>,
    /// One of these must be in `aud`; empty: not checked (a warning at start).
    pub audiences: Vec<String>,
    /// Whether a token without `email_verified` counts as verified (for identity providers that only ever
    /// issue verified e-mails and leave the claim out). Off by default: absent means unverified, as in
    /// OIDC. An explicit `false` is never verified.
    pub emails_verified_by_default: bool,
}

impl JwtConfig {
    /// A configuration from an HS256 secret; refuses secrets shorter than [`MIN_HS256_SECRET_BYTES`].
    pub fn hs256(secret: &[u8], issuer: Option<String>, audiences: Vec<String>) -> anyhow::Result<Self> {
        if secret.len() < MIN_HS256_SECRET_BYTES {
            anyhow::bail!(
                "the HS256 secret is {} bytes; at least {MIN_HS256_SECRET_BYTES} are required (e.g. `openssl rand -base64 48`)",
                secret.len()
            );
        }
        Ok(JwtConfig {
            key: DecodingKey::from_secret(secret)?,
            algorithm: Algorithm::HS256,
            issuer,
            audiences,
            emails_verified_by_default: false,
        })
    }

    /// A configuration from an RS256 public key in PEM form; fails when the PEM is not an RSA key.
    pub fn rs256_pem(pem: &[u8], issuer: Option<String>, audiences: Vec<String>) -> anyhow::Result<Self> {
        Ok(JwtConfig {
            key: DecodingKey::from_rsa_pem(pem)?,
            algorithm: Algorithm::RS256,
            issuer,
            audiences,
            emails_verified_by_default: false,
        })
    }

    fn validation(&self) -> Validation {
        let mut validation = Validation::new(self.algorithm);
        validation.validate_nbf = true;
        validation.leeway = 30;
        let mut required = vec!["exp", "sub"];
        match &self.issuer {
            Some(iss) => {
                validation.set_issuer(&[iss]);
                required.push("iss");
            }
            None => validation.iss = None,
        }
        if self.audiences.is_empty() {
            validation.validate_aud = false;
        } else {
            validation.set_audience(&self.audiences);
            required.push("aud");
        }
        validation.set_required_spec_claims(&required);
        validation
    }
}

/// How human and operator credentials are checked.
pub struct AuthConfig {
    /// How JWTs of the identity provider are checked; none: JWTs are refused.
    pub jwt: Option<JwtConfig>,
    /// SHA-256 of each operator token (compared in constant time) and the operator id it stands for.
    pub operators: Vec<([u8; 32], String)>,
}

/// Operator tokens shorter than this are accepted with a warning at start.
pub const MIN_OPERATOR_TOKEN_CHARS: usize = 16;

impl AuthConfig {
    /// Operator credentials: `named` holds `id:token` pairs (the id goes into the audit log); `single` is
    /// one token for the operator `operator`, taken whole.
    pub fn operators_from(named: &[String], single: Option<&str>) -> anyhow::Result<Vec<([u8; 32], String)>> {
        let mut operators = Vec::new();
        for entry in named.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
            let (id, token) =
                entry.split_once(':').ok_or_else(|| anyhow::anyhow!("OPERATOR_TOKENS holds `id:token` pairs"))?;
            if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.@".contains(&b))
            {
                anyhow::bail!("an operator id is 1 to 64 of A-Z, a-z, 0-9, '-', '_', '.', '@'");
            }
            operators.push((id.to_string(), token));
        }
        if let Some(token) = single.filter(|t| !t.is_empty()) {
            operators.push(("operator".to_string(), token));
        }
        let mut hashed = Vec::new();
        for (id, token) in operators {
            if token.starts_with("aos_") {
                anyhow::bail!("an operator token must not look like an API key (aos_…)");
            }
            if token.chars().count() < MIN_OPERATOR_TOKEN_CHARS {
                tracing::warn!(operator = %id, "an operator token shorter than {MIN_OPERATOR_TOKEN_CHARS} characters is easy to guess");
            }
            hashed.push((Sha256::digest(token.as_bytes()).into(), id));
        }
        Ok(hashed)
    }
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    email: String,
    #[serde(default, deserialize_with = "flag")]
    email_verified: Option<bool>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    tenant_id: Option<String>,
}

/// A boolean claim as identity providers send it: `true`, or the string `"true"` (some do); anything else
/// present is false.
fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(Some(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Bool(b) => b,
        serde_json::Value::String(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }))
}

/// An authentication failure: the HTTP layer answers with its code and this message.
pub struct Refused(pub ErrorCode, pub &'static str);

/// What authenticating a request needs besides its headers.
pub struct Authenticator<'a> {
    /// The JWT and operator credentials configured.
    pub config: &'a AuthConfig,
    /// The runtime whose database the lookups use (and which learns when they fail).
    pub runtime: &'a crate::runtime::Runtime,
    /// The clock that decides whether an API key has expired, and when it was used.
    pub clock: &'a dyn Clock,
    /// Where each use of an API key is noted, to be written off the request path.
    pub key_usage: &'a KeyUsage,
    /// The per-key request budgets.
    pub rate_limiter: &'a RateLimiter,
}

/// Why a request was not let through.
pub enum Rejected {
    /// The credential is missing its form, unknown, invalid or expired, or the database could not check it.
    Refused(Refused),
    /// The key is over its `rate_limit_rpm`: try again after this long.
    RateLimited(Duration),
}

impl From<Refused> for Rejected {
    fn from(r: Refused) -> Self {
        Rejected::Refused(r)
    }
}

impl Authenticator<'_> {
    /// The caller of a request, from its `Authorization` header (anonymous without one), tagged with
    /// `request_id`; refused when the credential does not hold or the key is over its rate limit.
    pub async fn caller(&self, headers: &HeaderMap, request_id: &str) -> Result<Caller, Rejected> {
        let Some(value) = headers.get("authorization") else {
            return Ok(Caller::new(Actor::Anonymous, None).with_request_id(request_id));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .ok_or(Refused(ErrorCode::Unauthenticated, "expected `Authorization: Bearer <credential>`"))?;
        let unavailable = |e: sqlx::Error| {
            self.runtime.database_failed(&e);
            Refused(ErrorCode::Unavailable, "the database is unavailable")
        };
        let db = self.runtime.database();

        if token.starts_with("aos_") {
            let now = self.clock.now_micros();
            let key = identity::api_key(db, token, now)
                .await
                .map_err(unavailable)?
                .ok_or(Refused(ErrorCode::Unauthenticated, "the API key is unknown, revoked or expired"))?;
            if let Err(wait) = self.rate_limiter.admit(&key.key_id, key.rate_limit_rpm.unwrap_or(DEFAULT_KEY_RPM)) {
                return Err(Rejected::RateLimited(wait));
            }
            self.key_usage.record(&key.key_id, now);
            let actor = Actor::ApiKey(key.principal());
            return Ok(Caller::new(actor, Some(&key.tenant_id)).with_request_id(request_id));
        }

        let presented: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        // Every configured token is compared, so that timing does not tell which one matched.
        let operator = self
            .config
            .operators
            .iter()
            .fold(None, |found, (hash, id)| if constant_time_eq(&presented, hash) { Some(id) } else { found });
        if let Some(operator_id) = operator {
            let tenant =
                headers.get("x-tenant-id").and_then(|v| v.to_str().ok()).map(str::trim).filter(|t| !t.is_empty());
            let actor = Actor::Operator(OperatorPrincipal { operator_id: operator_id.clone() });
            return Ok(Caller::new(actor, tenant).with_request_id(request_id));
        }

        let Some(jwt) = &self.config.jwt else {
            return Err(Refused(ErrorCode::Unauthenticated, "the credential is not valid").into());
        };
        let claims = jsonwebtoken::decode::<Claims>(token, &jwt.key, &jwt.validation())
            .map_err(|_| Refused(ErrorCode::Unauthenticated, "the credential is not valid"))?
            .claims;
        let user_id = identity::user_id_for_subject(db, &claims.sub).await.map_err(unavailable)?;
        let tenant = match (&claims.tenant_id, &user_id) {
            (Some(t), _) => Some(t.clone()),
            (None, Some(u)) => identity::default_tenant(db, u).await.map_err(unavailable)?,
            (None, None) => None,
        };
        let actor = Actor::Identity(IdentityPrincipal {
            external_id: claims.sub,
            email: claims.email,
            user_id,
            name: claims.name,
            email_verified: claims.email_verified.unwrap_or(jwt.emails_verified_by_default),
        });
        Ok(Caller::new(actor, tenant.as_deref()).with_request_id(request_id))
    }
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Per-key request budgets: a token bucket per key holding at most one minute's requests, refilled
/// continuously (`rpm` per minute). In memory, per process: behind a balancer each process enforces the
/// limit on its own share of the traffic.
#[derive(Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
    rpm: f64,
}

impl Bucket {
    fn refilled(&self, now: Instant) -> f64 {
        (self.tokens + now.duration_since(self.at).as_secs_f64() * self.rpm / 60.0).min(self.rpm)
    }
}

/// Buckets kept before idle ones (full again, so forgetting them changes nothing) are dropped.
const MAX_IDLE_BUCKETS: usize = 10_000;

impl RateLimiter {
    /// Takes one request from the key's budget, or says how long until one is available.
    pub fn admit(&self, key_id: &str, rpm: u32) -> Result<(), Duration> {
        let rpm = f64::from(rpm.max(1));
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > MAX_IDLE_BUCKETS {
            buckets.retain(|_, b| b.refilled(now) < b.rpm);
        }
        let bucket = buckets.entry(key_id.to_string()).or_insert(Bucket { tokens: rpm, at: now, rpm });
        // A key's limit may have been changed: the bucket follows it.
        bucket.rpm = rpm;
        bucket.tokens = bucket.refilled(now);
        bucket.at = now;
        let per_second = rpm / 60.0;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_second))
        }
    }
}
