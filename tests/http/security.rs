//! The security review's findings at the HTTP front door (issue 10), against the real binary on SQLite:
//! JWT claims, per-key rate limits, authentication before the body, slow clients, secrets and files,
//! operator identities, request ids, and the JSON envelope of every refusal.

#[path = "support.rs"]
mod support;

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{BIN, JWT_SECRET, OPERATOR_TOKEN, command, sign, start, start_with};

const NOW: u64 = 1_800_000_000;

fn far() -> u64 {
    4_102_444_800
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_issuer_audience_and_not_before_are_checked() {
    let (svc, tenant) =
        start_with(None, &[("JWT_ISSUER", "https://idp.example"), ("JWT_AUDIENCE", "accounts,console")]);
    let claims = |extra: Value| {
        let mut c = json!({ "sub": "ann", "email": "ann@example.com", "email_verified": true, "tenant_id": tenant, "exp": far(),
                            "iss": "https://idp.example", "aud": "accounts" });
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        sign(&c)
    };
    let (status, body) = svc.call(Some(&claims(json!({}))), "tenants/get_tenant", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) =
        svc.call(Some(&claims(json!({ "aud": ["console", "other"] }))), "tenants/get_tenant", json!({})).await;
    assert_eq!(status, StatusCode::OK, "one of the configured audiences");
    for (why, extra) in [
        ("another issuer", json!({ "iss": "https://evil.example" })),
        ("no issuer", json!({ "iss": null })),
        ("another audience", json!({ "aud": "billing" })),
        ("no audience", json!({ "aud": null })),
        ("not yet valid", json!({ "nbf": NOW * 2 })),
        ("expired", json!({ "exp": 1_000 })),
    ] {
        let (status, body) = svc.call(Some(&claims(extra)), "tenants/get_tenant", json!({})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{why}: {body}");
        assert_eq!(body["error"]["code"], "unauthenticated", "{why}");
    }
}

#[test]
fn a_weak_hs256_secret_is_refused_at_start() {
    let dir = std::env::temp_dir().join(format!("aos-weak-{}", uuid::Uuid::new_v4()));
    let mut child = command(&dir, None)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("JWT_HS256_SECRET", "dev-secret")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run the service");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let running = child.try_wait().unwrap().is_none();
    if running {
        let _ = child.kill();
    }
    let out = child.wait_with_output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!running && !out.status.success(), "the service started with a 10-byte secret");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("at least 32"), "{stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("listening"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_is_held_to_its_requests_per_minute() {
    let (svc, tenant) = start(None);
    let (status, created) = svc
        .operator(&tenant, "tenants/create_api_key", json!({ "key": { "name": "slow", "rate_limit_rpm": 1 } }))
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let key = created["key"].as_str().unwrap();
    let (status, _) = svc.call(Some(key), "tenants/get_tenant", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    for _ in 0..4 {
        let response =
            svc.http.post(format!("{}/v1/tenants/get_tenant", svc.base)).bearer_auth(key).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        let wait: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "rate_limited");
    }
    // Another key of the tenant is not affected.
    let (status, _) = svc.call(Some(&svc.bootstrap_key), "tenants/get_tenant", json!({})).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_credential_is_checked_before_the_body_is_read() {
    let (svc, _) = start(None);
    // Malformed JSON from nobody: 401, not a parse error (which would mean the body was parsed first).
    let (status, body) = svc.raw(None, "memory-pins/upsert_pin", b"{not json".to_vec(), None).await;
    assert_eq!((status, &body["error"]["code"]), (StatusCode::UNAUTHORIZED, &json!("unauthenticated")));
    // A large body announced by a caller without a valid credential is answered at once, unread; so is
    // one over the limit from a caller with one.
    let addr = svc.base.strip_prefix("http://").unwrap().to_string();
    let announce = |credential: &str| {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        write!(
            s,
            "POST /v1/memory-pins/upsert_pin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {credential}\r\nContent-Type: application/json\r\nContent-Length: 3000000\r\n\r\n{{\"key\""
        )
        .unwrap();
        let mut answer = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&answer).contains("\r\n\r\n{") {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
        String::from_utf8_lossy(&answer).to_string()
    };
    let answer = announce("not-a-credential");
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.contains("unauthenticated"), "{answer}");
    let answer = announce(&svc.bootstrap_key);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("payload_too_large") && answer.to_lowercase().contains("x-request-id"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_do_not_hold_the_server() {
    let (svc, _) = start_with(None, &[("HEADER_TIMEOUT_MS", "500"), ("MAX_CONNECTIONS", "16")]);
    let addr = svc.base.strip_prefix("http://").unwrap().to_string();
    // Twice the connection cap, each sending half a request and then nothing.
    let mut slow: Vec<std::net::TcpStream> = (0..32)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(&addr).unwrap();
            s.write_all(b"POST /v1/tenants/get_tenant HTTP/1.1\r\nHost: x\r\n").unwrap();
            s
        })
        .collect();
    let started = Instant::now();
    let response = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap()
        .get(format!("{}/healthz", svc.base))
        .send()
        .await;
    assert_eq!(response.expect("served while slow clients wait").status(), StatusCode::OK);
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    // Every half-open connection is closed by the server once its header deadline passes.
    tokio::time::sleep(Duration::from_secs(3)).await;
    for s in &mut slow {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 512];
        let closed = loop {
            match s.read(&mut buf) {
                Ok(0) => break true,
                Ok(_) => continue, // a 408 or similar before closing
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
                Err(_) => break false,
            }
        };
        assert!(closed, "a half-open connection was kept");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_stay_out_of_help_flags_and_other_users_files() {
    let dir = std::env::temp_dir().join(format!("aos-secrets-{}", uuid::Uuid::new_v4()));
    let help = command(&dir, Some("postgres://user:db-password-123@127.0.0.1:1/x"))
        .args(["serve", "--help"])
        .env("OPERATOR_TOKEN", "operator-secret-123")
        .env("JWT_HS256_SECRET", "jwt-secret-123-jwt-secret-123-jwt-secret-123")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&help.stdout).to_string() + &String::from_utf8_lossy(&help.stderr);
    for secret in ["operator-secret-123", "jwt-secret-123", "db-password-123"] {
        assert!(!text.contains(secret), "`serve --help` shows {secret}:\n{text}");
    }
    assert!(text.contains("OPERATOR_TOKENS"), "the help says where secrets go:\n{text}");
    for flag in ["--operator-token", "--jwt-hs256-secret"] {
        let refused = command(&dir, None).args(["serve", flag, "x"]).output().unwrap();
        assert!(!refused.status.success(), "{flag} is accepted on the command line");
    }
    let _ = std::fs::remove_dir_all(&dir);

    // The data directory and the database are the service user's alone, whatever the umask.
    let (svc, _) = start(None);
    let data = &svc._dir.0;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let db = data.join("accounts.db");
    assert_eq!(mode(&db) & 0o077, 0, "accounts.db has mode {:o}", mode(&db));
    let fresh = std::env::temp_dir().join(format!("aos-fresh-{}", uuid::Uuid::new_v4())).join("data");
    let out = command(&fresh, None).arg("migrate").output().unwrap();
    assert!(out.status.success());
    assert_eq!(mode(&fresh), 0o700);
    assert_eq!(mode(&fresh.join("accounts.db")) & 0o077, 0);
    let _ = std::fs::remove_dir_all(fresh.parent().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_act_under_their_own_names() {
    let (svc, tenant) =
        start_with(None, &[("OPERATOR_TOKENS", "alice:alice-token-0123456789,bob:bob-token-0123456789")]);
    let act = |token: &'static str, op: &'static str, request_id: &'static str| {
        let request = svc
            .http
            .post(format!("{}/v1/lifecycle/{op}", svc.base))
            .bearer_auth(token)
            .header("x-tenant-id", &tenant)
            .header("x-request-id", request_id)
            .json(&json!({ "reason": "review" }));
        async move { request.send().await.unwrap() }
    };
    assert_eq!(act("alice-token-0123456789", "suspend", "ok-id-1").await.status(), StatusCode::OK);
    // A request id that is not a plain token is replaced, not written to the audit log.
    let long: &'static str = Box::leak("x".repeat(300).into_boxed_str());
    let response = act("bob-token-0123456789", "resume", long).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_ne!(response.headers()["x-request-id"].to_str().unwrap(), long);
    // The single-token setting still works beside the named ones.
    let (status, _) = svc.operator(&tenant, "tenants/get_tenant", json!({})).await;
    assert_eq!(status, StatusCode::OK);

    let pool =
        sqlx::SqlitePool::connect(&format!("sqlite:{}", svc._dir.0.join("accounts.db").display())).await.unwrap();
    let actors: Vec<(String, String)> = sqlx::query_as(
        "SELECT action, actor FROM audit_log WHERE action IN ('suspend_tenant', 'resume_tenant') ORDER BY created_at",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        actors,
        [
            ("suspend_tenant".to_string(), "operator:alice".to_string()),
            ("resume_tenant".to_string(), "operator:bob".to_string())
        ]
    );
    let long_ids: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE length(request_id) > 100")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(long_ids, 0);
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_is_the_json_envelope_and_obvious_arguments_have_defaults() {
    let (svc, _) = start(None);
    let check = |response: reqwest::Response, status: StatusCode, code: &'static str| async move {
        assert_eq!(response.status(), status);
        assert!(response.headers().contains_key("x-request-id"));
        let body: Value = response.json().await.expect("a JSON body");
        assert_eq!(body["error"]["code"], code, "{body}");
    };
    check(svc.http.get(format!("{}/nowhere", svc.base)).send().await.unwrap(), StatusCode::NOT_FOUND, "not_found")
        .await;
    check(
        svc.http.get(format!("{}/v1/tenants/get_tenant", svc.base)).send().await.unwrap(),
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;
    check(
        svc.http.delete(format!("{}/healthz", svc.base)).send().await.unwrap(),
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;
    // `include_revoked` and `page` may be left out.
    let (status, keys) = svc.call(Some(&svc.bootstrap_key), "tenants/list_api_keys", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{keys}");
    // The bootstrap key writes pins (the README's quick start).
    let (status, pin) = svc
        .call(Some(&svc.bootstrap_key), "memory-pins/upsert_pin", json!({ "key": "agent:state", "value": "{}" }))
        .await;
    assert_eq!(status, StatusCode::OK, "{pin}");
    let _ = (JWT_SECRET, OPERATOR_TOKEN, BIN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_verified_e_mail_accepts_an_invitation_over_http() {
    for (verified_by_default, claim, accepted) in [
        ("false", None, false),
        ("false", Some(json!(false)), false),
        ("false", Some(json!("true")), true),
        ("true", None, true),
        ("true", Some(json!(false)), false),
    ] {
        let (svc, tenant) = start_with(None, &[("JWT_EMAILS_VERIFIED_BY_DEFAULT", verified_by_default)]);
        let (status, invited) = svc
            .operator(&tenant, "accounts/invite_user", json!({ "email": "bob@example.com", "role": "member" }))
            .await;
        assert_eq!(status, StatusCode::OK, "{invited}");
        let mut claims = json!({ "sub": "bob", "email": "bob@example.com", "exp": far(), "iss": support::JWT_ISSUER, "aud": support::JWT_AUDIENCE });
        if let Some(claim) = &claim {
            claims["email_verified"] = claim.clone();
        }
        let (status, answer) = svc
            .call(
                Some(&sign(&claims)),
                "accounts/accept_invitation",
                json!({ "invitation_id": invited["invitation"]["id"], "token": invited["token"] }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["accepted"], json!(accepted), "default {verified_by_default}, claim {claim:?}: {answer}");
    }
}
