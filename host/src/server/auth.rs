//! Who is calling, from the `Authorization` header. The tenant always comes from the credential (the API
//! key's tenant, the JWT's `tenant_id` claim or the user's default tenant), never from the body; only an
//! operator names the tenant they act on, with `X-Tenant-Id`.
//!
//! * `Bearer aos_…` — a tenant API key, checked by hash; revoked, expired and frozen keys are refused.
//! * `Bearer <operator token>` — the operator credential from configuration.
//! * `Bearer <JWT>` — a human, signed by the identity provider (HS256 secret or RS256 public key):
//!   `sub` is the identity's subject, `email` its e-mail, optional `name` and `tenant_id`.

use axum::http::HeaderMap;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::bindings::{Actor, ApiKeyPrincipal, ErrorCode, IdentityPrincipal, OperatorPrincipal};
use crate::clock::Clock;
use crate::db::Database;
use crate::identity;
use crate::runtime::Caller;

/// How human and operator credentials are checked.
pub struct AuthConfig {
    pub jwt: Option<(DecodingKey, Algorithm)>,
    /// SHA-256 of the operator token (compared in constant time).
    pub operator_token_hash: Option<[u8; 32]>,
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    email: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    tenant_id: Option<String>,
}

/// An authentication failure: the HTTP layer answers 401 with this message.
pub struct Refused(pub ErrorCode, pub &'static str);

pub async fn caller(config: &AuthConfig, db: &Database, clock: &dyn Clock, headers: &HeaderMap, request_id: &str) -> Result<Caller, Refused> {
    let Some(value) = headers.get("authorization") else {
        return Ok(Caller::new(Actor::Anonymous, None).with_request_id(request_id));
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .ok_or(Refused(ErrorCode::Unauthenticated, "expected `Authorization: Bearer <credential>`"))?;

    if token.starts_with("aos_") {
        let key = identity::api_key(db, token, clock.now_micros())
            .await
            .map_err(|_| Refused(ErrorCode::Unavailable, "the database is unavailable"))?
            .ok_or(Refused(ErrorCode::Unauthenticated, "the API key is unknown, revoked or expired"))?;
        let actor = Actor::ApiKey(ApiKeyPrincipal { key_id: key.key_id, scopes: key.scopes });
        return Ok(Caller::new(actor, Some(&key.tenant_id)).with_request_id(request_id));
    }

    if let Some(expected) = &config.operator_token_hash {
        let presented: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if constant_time_eq(&presented, expected) {
            let tenant = headers.get("x-tenant-id").and_then(|v| v.to_str().ok()).map(str::trim).filter(|t| !t.is_empty());
            let actor = Actor::Operator(OperatorPrincipal { operator_id: "operator".into() });
            return Ok(Caller::new(actor, tenant).with_request_id(request_id));
        }
    }

    let Some((key, algorithm)) = &config.jwt else {
        return Err(Refused(ErrorCode::Unauthenticated, "the credential is not valid"));
    };
    let mut validation = Validation::new(*algorithm);
    validation.validate_aud = false;
    let claims = jsonwebtoken::decode::<Claims>(token, key, &validation)
        .map_err(|_| Refused(ErrorCode::Unauthenticated, "the credential is not valid"))?
        .claims;
    let user_id = identity::user_id_for_subject(db, &claims.sub)
        .await
        .map_err(|_| Refused(ErrorCode::Unavailable, "the database is unavailable"))?;
    let tenant = match (&claims.tenant_id, &user_id) {
        (Some(t), _) => Some(t.clone()),
        (None, Some(u)) => {
            identity::default_tenant(db, u).await.map_err(|_| Refused(ErrorCode::Unavailable, "the database is unavailable"))?
        }
        (None, None) => None,
    };
    let actor = Actor::Identity(IdentityPrincipal { external_id: claims.sub, email: claims.email, user_id, name: claims.name });
    Ok(Caller::new(actor, tenant.as_deref()).with_request_id(request_id))
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
