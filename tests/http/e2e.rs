//! End to end: the real `account-service` binary on a free loopback port, driven over HTTP by a real
//! client, on SQLite (the default, nothing configured) and on PostgreSQL, through a whole customer
//! journey and the bad requests that must get a 4xx and change nothing.
//!
//! (Compiled as an integration test of the host package, which is what makes the binary's path known.)

#[path = "support.rs"]
mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{OPERATOR_TOKEN, command, jwt, start};

async fn journey(database_url: Option<&str>) {
    let (svc, tenant) = start(database_url);
    let (status, _) = svc.call(None, "accounts/get_support_contact", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let ready = svc.http.get(format!("{}/readyz", svc.base)).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let openapi: Value = svc.http.get(format!("{}/openapi.json", svc.base)).send().await.unwrap().json().await.unwrap();
    assert!(openapi["paths"]["/v1/memory-pins/upsert_pin"]["post"].is_object());
    assert_eq!(openapi["paths"].as_object().unwrap().len(), 59);

    let ann = jwt("ann", "ann@example.com", Some(&tenant));
    // An API key, created by the owner.
    let (status, created) = svc.call(Some(&ann), "tenants/create_api_key", json!({ "key": { "name": "ci" } })).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let key = created["key"].as_str().unwrap().to_string();
    let (status, me) = svc.call(Some(&key), "tenants/get_tenant", json!({})).await;
    assert_eq!((status, me["id"].as_str()), (StatusCode::OK, Some(tenant.as_str())));

    // Invite Bob; Bob accepts with his own identity; the owner makes him an admin.
    let (status, invited) =
        svc.call(Some(&ann), "accounts/invite_user", json!({ "email": "bob@example.com", "role": "member" })).await;
    assert_eq!(status, StatusCode::OK, "{invited}");
    let bob_no_tenant = jwt("bob", "bob@example.com", None);
    let (status, accepted) = svc
        .call(
            Some(&bob_no_tenant),
            "accounts/accept_invitation",
            json!({ "invitation_id": invited["invitation"]["id"], "token": invited["token"] }),
        )
        .await;
    assert_eq!((status, &accepted["accepted"]), (StatusCode::OK, &json!(true)), "{accepted}");
    let bob = jwt("bob", "bob@example.com", None); // his first tenant became his default when he accepted
    let (status, users) = svc.call(Some(&bob), "accounts/list_users", json!({})).await;
    assert_eq!(status, StatusCode::OK, "Bob's default tenant, and a default page: {users}");
    let bob = jwt("bob", "bob@example.com", Some(&tenant));
    let (_, users) = svc.call(Some(&bob), "accounts/list_users", json!({ "page": { "limit": 10 } })).await;
    let bob_id =
        users["items"].as_array().unwrap().iter().find(|u| u["email"] == "bob@example.com").unwrap()["user_id"].clone();
    let (status, role) =
        svc.call(Some(&ann), "accounts/update_user_role", json!({ "user_id": bob_id, "new_role": "admin" })).await;
    assert_eq!((status, &role["role"]), (StatusCode::OK, &json!("admin")));

    // Pins with a TTL, written by a person and read with the API key.
    let (status, pin) = svc
        .call(
            Some(&bob),
            "memory-pins/upsert_pin",
            json!({ "key": "agent:state", "value": "{\"step\":3}", "ttl_seconds": 3600 }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{pin}");
    assert!(pin["expires_at"].as_i64().unwrap() > pin["created_at"].as_i64().unwrap());
    let (status, got) = svc.call(Some(&key), "memory-pins/get_pin", json!({ "key": "agent:state" })).await;
    assert_eq!((status, &got["value"]), (StatusCode::OK, &json!("{\"step\":3}")));
    let (status, _) = svc.call(Some(&key), "memory-pins/upsert_pin", json!({ "key": "k", "value": "{}" })).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the default scopes do not write pins");

    // Onboarding.
    let (status, step) = svc
        .call(Some(&ann), "onboarding/advance", json!({ "target": "identity_verified", "trigger": "first_human_auth" }))
        .await;
    assert_eq!(status, StatusCode::OK, "{step}");
    let (_, state) = svc.call(Some(&ann), "onboarding/get_state", json!({})).await;
    assert_eq!(state["state"], "api_key_created", "a key existed already: the state never moves back");

    // The operator suspends: reads go on, writes are refused; then resumes.
    let (status, _) = svc.operator(&tenant, "lifecycle/suspend", json!({ "reason": "unpaid" })).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = svc.call(Some(&bob), "memory-pins/upsert_pin", json!({ "key": "x", "value": "{}" })).await;
    assert_eq!((status, &body["error"]["code"]), (StatusCode::FORBIDDEN, &json!("lifecycle_blocked")));
    let (status, _) = svc.call(Some(&key), "memory-pins/get_pin", json!({ "key": "agent:state" })).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = svc.call(Some(&ann), "lifecycle/suspend", json!({ "reason": "self" })).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "customers do not transition");
    let (status, _) = svc.operator(&tenant, "lifecycle/resume", json!({ "reason": "paid" })).await;
    assert_eq!(status, StatusCode::OK);

    // Bad requests: 4xx, and nothing changes.
    let (_, before) = svc
        .call(Some(&key), "memory-pins/list_pins", json!({ "include_expired": true, "page": { "limit": 100 } }))
        .await;
    let cases: Vec<(Option<&str>, &str, Vec<u8>, StatusCode)> = vec![
        (Some(&bob), "memory-pins/upsert_pin", b"{\"key\": ".to_vec(), StatusCode::BAD_REQUEST),
        (Some(&bob), "memory-pins/upsert_pin", b"[1, 2]".to_vec(), StatusCode::BAD_REQUEST),
        (
            Some(&bob),
            "memory-pins/upsert_pin",
            br#"{"key":"a","value":"{}","bogus":1}"#.to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (Some(&bob), "memory-pins/upsert_pin", br#"{"key":7,"value":"{}"}"#.to_vec(), StatusCode::BAD_REQUEST),
        (None, "memory-pins/upsert_pin", br#"{"key":"a","value":"{}"}"#.to_vec(), StatusCode::UNAUTHORIZED),
        (
            Some("aos_forgedforgedforgedforgedforgedforgedforge"),
            "memory-pins/upsert_pin",
            br#"{"key":"a","value":"{}"}"#.to_vec(),
            StatusCode::UNAUTHORIZED,
        ),
        (
            Some("not.a.jwt"),
            "memory-pins/upsert_pin",
            br#"{"key":"a","value":"{}"}"#.to_vec(),
            StatusCode::UNAUTHORIZED,
        ),
        (Some(&bob), "memory-pins/nope", b"{}".to_vec(), StatusCode::NOT_FOUND),
    ];
    for (credential, op, body, expected) in cases {
        let (status, answer) = svc.raw(credential, op, body.clone(), None).await;
        assert_eq!(status, expected, "{op} {} -> {answer}", String::from_utf8_lossy(&body));
        assert!(answer["error"]["code"].is_string(), "{answer}");
    }
    // A JWT signed with another secret.
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({ "sub": "ann", "email": "ann@example.com", "tenant_id": tenant, "exp": 4_102_444_800u64 }),
        &jsonwebtoken::EncodingKey::from_secret(b"wrong").unwrap(),
    )
    .unwrap();
    let (status, _) = svc.call(Some(&forged), "memory-pins/upsert_pin", json!({ "key": "a", "value": "{}" })).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // (Too large a body is answered 413 before it is read: `security_http` sends one over a raw socket.)
    // Another tenant's ids: a key of a second tenant cannot be revoked from this one.
    let (status, other) = svc
        .raw(
            Some(OPERATOR_TOKEN),
            "tenants/create_tenant",
            json!({ "tenant": { "name": "Other", "slug": "other", "plan": "free" } }).to_string().into_bytes(),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{other}");
    let other_id = other["id"].as_str().unwrap();
    let (_, other_key) = svc.operator(other_id, "tenants/create_api_key", json!({ "key": { "name": "theirs" } })).await;
    let (status, _) =
        svc.call(Some(&ann), "tenants/revoke_api_key", json!({ "key_id": other_key["api_key"]["id"] })).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, still) = svc
        .operator(other_id, "tenants/list_api_keys", json!({ "include_revoked": false, "page": { "limit": 10 } }))
        .await;
    assert_eq!((status, still["items"].as_array().unwrap().len()), (StatusCode::OK, 1));
    let (_, after) = svc
        .call(Some(&key), "memory-pins/list_pins", json!({ "include_expired": true, "page": { "limit": 100 } }))
        .await;
    assert_eq!(before["total"], after["total"]);

    // The API key's use is recorded (time and count), as the server authenticated it: written in batches
    // off the request path, within a couple of seconds.
    let mut used = Value::Null;
    for _ in 0..50 {
        let (_, keys) = svc
            .call(Some(&ann), "tenants/list_api_keys", json!({ "include_revoked": false, "page": { "limit": 10 } }))
            .await;
        used = keys["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["key_prefix"] == json!(&key[..12]))
            .expect("the key")
            .clone();
        if used["total_requests"].as_i64().unwrap() >= 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(used["total_requests"].as_i64().unwrap() >= 5, "{used}");
    assert!(used["last_used_at"].is_i64(), "{used}");

    // Request ids are echoed.
    let response = svc
        .http
        .post(format!("{}/v1/accounts/get_support_contact", svc.base))
        .header("x-request-id", "req-e2e-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "req-e2e-1");

    // The command line administers the same database.
    let listed = command(&svc._dir.0, database_url).args(["key", "list", &tenant]).output().unwrap();
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 2, "the bootstrap key and the owner's");
    let refused = command(&svc._dir.0, database_url).args(["pin", "set", &tenant, "a/b", "{}"]).output().unwrap();
    assert!(!refused.status.success());

    // Metrics count what happened.
    let metrics = svc.http.get(format!("{}/metrics", svc.base)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("account_engine_calls_total{operation=\"memory-pins.upsert_pin\"}"), "{metrics}");
    assert!(metrics.contains("code=\"lifecycle_blocked\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_journey_on_sqlite() {
    journey(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_journey_on_postgres() {
    support::on_postgres("the customer journey", |url| async move { journey(Some(&url)).await }).await;
}

/// A tenant's policy over HTTP and the CLI: the owner packages and installs it, it denies and allows,
/// its status shows it, an operator switches it off from the command line.
async fn policy_journey(database_url: Option<&str>) {
    let (svc, tenant) = start(database_url);
    let ann = jwt("ann", "ann@example.com", Some(&tenant));
    let component = std::path::Path::new(account_host::runtime::TEST_POLICIES_DIR).join("email-domain.wasm");
    let packaged = command(&svc._dir.0, database_url)
        .args(["policy", "package"])
        .arg(&component)
        .args(["--config", r#"{"domains": ["acme.com"]}"#, "--note", "over HTTP"])
        .output()
        .expect("package the policy");
    assert!(packaged.status.success(), "{}", String::from_utf8_lossy(&packaged.stderr));
    let body = packaged.stdout;

    // Keys never install policies: refused before the body is read (a small body here: a client still
    // sending a large one when the refusal comes may see the connection closed instead).
    let (status, refused) = svc.call(Some(&svc.bootstrap_key), "policies/install", json!({})).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{refused}");
    let (status, installed) = svc.raw(Some(&ann), "policies/install", body, None).await;
    assert_eq!(status, StatusCode::OK, "{installed}");
    assert_eq!(installed["handles"], json!(["invite_user", "accept_invitation"]));
    // The install answer has the shape of a listed version (the install path is typed, the list generic).
    let (status, listed) = svc.call(Some(&ann), "policies/list_versions", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(listed[0], installed, "install and list describe a version alike");

    let (status, activated) =
        svc.call(Some(&ann), "policies/activate", json!({ "version": installed["version"] })).await;
    assert_eq!((status, &activated["active_version"]), (StatusCode::OK, &installed["version"]), "{activated}");
    let (status, denied) =
        svc.call(Some(&ann), "accounts/invite_user", json!({ "email": "eve@evil.example", "role": "member" })).await;
    assert_eq!((status, denied["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("policy_denied")), "{denied}");
    let (status, _) =
        svc.call(Some(&ann), "accounts/invite_user", json!({ "email": "bob@acme.com", "role": "member" })).await;
    assert_eq!(status, StatusCode::OK);
    let (_, dry) = svc
        .call(
            Some(&ann),
            "policies/dry_run",
            json!({ "version": installed["version"], "event": { "invite_user": { "email": "x@evil.example", "role": "admin", "members": 1, "pending_invitations": 0 } } }),
        )
        .await;
    assert!(dry["verdict"]["deny"].as_str().is_some_and(|r| r.contains("@acme.com")), "{dry}");

    let status_cli = command(&svc._dir.0, database_url).args(["policy", "status", &tenant]).output().unwrap();
    assert!(status_cli.status.success(), "{}", String::from_utf8_lossy(&status_cli.stderr));
    let shown: Value = serde_json::from_slice(&status_cli.stdout).unwrap();
    assert_eq!(shown["active_version"], installed["version"]);
    let disabled = command(&svc._dir.0, database_url)
        .args(["policy", "disable", &tenant, "--reason", "support ticket 7"])
        .output()
        .unwrap();
    assert!(disabled.status.success(), "{}", String::from_utf8_lossy(&disabled.stderr));
    let (_, status_now) = svc.call(Some(&ann), "policies/status", json!({})).await;
    assert_eq!(
        (status_now["active_version"].clone(), status_now["reason"].as_str()),
        (Value::Null, Some("support ticket 7"))
    );
    let (status, _) =
        svc.call(Some(&ann), "accounts/invite_user", json!({ "email": "eve@evil.example", "role": "member" })).await;
    assert_eq!(status, StatusCode::OK, "switched off");
    let (_, counted) = svc.call(Some(&ann), "policies/list_versions", json!({})).await;
    assert_eq!((counted[0]["calls"].as_u64(), counted[0]["denials"].as_u64()), (Some(2), Some(1)), "{counted}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_journey_on_sqlite() {
    policy_journey(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_journey_on_postgres() {
    support::on_postgres("the policy journey", |url| async move { policy_journey(Some(&url)).await }).await;
}

/// A person with only the binary gets what a host in another language needs: the component (the one
/// published one: the binary runs the same engine, cut into one component per interface), the documented
/// WIT, and the types of every function.
#[test]
fn the_contract_command_writes_the_component_its_wit_and_its_types() {
    let dir = support::TempDir::new("aos-contract");
    let out = dir.0.join("contract");
    let status = std::process::Command::new(support::BIN).arg("contract").arg("--out").arg(&out).status().expect("run");
    assert!(status.success());
    assert_eq!(
        std::fs::read(out.join("account-engine.wasm")).unwrap(),
        account_host::runtime::ACCOUNT_ENGINE_COMPONENT
    );
    let tenant_driver = std::fs::read_to_string(out.join("wit/tenant-driver.wit")).unwrap();
    assert!(tenant_driver.contains("/// The tenant with this slug"), "the WIT keeps its documentation");
    assert!(out.join("wit/deps/random/random.wit").exists());
    let types: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("account-engine.types.json")).unwrap()).unwrap();
    assert_eq!(types["package"], "aos:accounts@0.5.0");
    let upsert = &types["exports"]["aos:accounts/memory-pins@0.5.0"]["upsert-pin"];
    assert_eq!(upsert["params"][1], json!(["key", "string"]));
    assert_eq!(upsert["params"][4], json!(["ttl-seconds", { "option": "u32" }]));
    let status = &types["imports"]["aos:accounts/tenant-lifecycle-driver@0.5.0"]["update-lifecycle-status"]["result"];
    assert!(status["result"]["ok"]["enum"].as_array().unwrap().contains(&json!("suspended")), "{status}");
    // Every imported driver interface is described, each with its functions.
    let imports = types["imports"].as_object().unwrap();
    assert_eq!(imports.keys().filter(|k| k.ends_with("-driver@0.5.0")).count(), 7);
}

/// What the OpenAPI document says of arguments, credentials and answers is what the service does (the
/// schemathesis test checks every operation; these are the cases a client meets first).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_says_what_the_service_takes() {
    let (svc, _) = start(None);
    let doc: Value = svc.http.get(format!("{}/openapi.json", svc.base)).send().await.unwrap().json().await.unwrap();
    let op = |path: &str| doc["paths"][path]["post"].clone();

    // A body with a required argument is required; a missing one is refused, as the document says.
    let update_plan = op("/v1/tenants/update_plan");
    assert_eq!(update_plan["requestBody"]["required"], json!(true));
    assert_eq!(update_plan["requestBody"]["content"]["application/json"]["schema"]["required"], json!(["plan"]));
    let (status, body) = svc.raw(Some(OPERATOR_TOKEN), "tenants/update_plan", Vec::new(), None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_argument")), "{body}");
    // Every argument of get_tenant may be left out: so may its body.
    assert_eq!(op("/v1/tenants/get_tenant")["requestBody"]["required"], json!(false));

    // The public operation takes no credential (but a wrong one is still refused); every other one names 401.
    let contact = op("/v1/accounts/get_support_contact");
    assert_eq!(contact["security"], json!([{}, { "bearer": [] }]));
    assert!(op("/v1/tenants/get_tenant")["responses"]["401"].is_object());
    let (status, _) = svc.call(None, "tenants/get_tenant", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a missing credential is 401, as documented");

    // The engine's limits are in the document: text bounds, ids, ranges, the scopes a key may hold.
    let key =
        &op("/v1/tenants/create_api_key")["requestBody"]["content"]["application/json"]["schema"]["properties"]["key"];
    assert!(
        key["properties"]["name"]["pattern"].as_str().unwrap().contains("{0,98}"),
        "a name is 1..=100 characters: {key}"
    );
    assert_eq!(key["properties"]["expires_in_days"]["anyOf"][0]["maximum"], json!(365));
    assert!(
        key["properties"]["permissions"]["anyOf"][0]["items"]["enum"]
            .as_array()
            .unwrap()
            .contains(&json!("audit:read"))
    );
    assert_eq!(key["additionalProperties"], json!(false));
    let revoke =
        &op("/v1/tenants/revoke_api_key")["requestBody"]["content"]["application/json"]["schema"]["properties"];
    assert_eq!(revoke["key_id"]["format"], json!("uuid"));

    // A body that is not a JSON object is refused, white space included (only no body means no arguments).
    let (status, _) = svc.raw(Some(OPERATOR_TOKEN), "tenants/get_tenant_by_slug", b"\r\n".to_vec(), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // JSON has one kind of number: 2.0 is the integer 2 (2.5 is not an integer).
    let ann = jwt("ann", "ann@example.com", None);
    let (status, page) = svc.call(Some(&ann), "tenants/list_api_keys", json!({ "page": { "limit": 2.0 } })).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let (status, _) = svc.call(Some(&ann), "tenants/list_api_keys", json!({ "page": { "limit": 2.5 } })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // An id has one spelling, the hyphenated UUID of the document's pattern: the simple form of a real
    // key's id names no key.
    let (_, created) = svc.call(Some(&ann), "tenants/create_api_key", json!({ "key": { "name": "spelt" } })).await;
    let simple = created["api_key"]["id"].as_str().unwrap().replace('-', "");
    let (status, body) = svc.call(Some(&ann), "tenants/revoke_api_key", json!({ "key_id": simple })).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{body}");
}

/// The console is served by the binary, under headers that keep it to its own files and origin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_is_served_with_a_strict_policy() {
    let (svc, _) = start(None);
    let page = svc.http.get(format!("{}/console/", svc.base)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let headers = page.headers().clone();
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"));
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert_eq!(
        csp,
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
         frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    );
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(page.text().await.unwrap().contains("console.js"));
    let script = svc.http.get(format!("{}/console/console.js", svc.base)).send().await.unwrap();
    assert!(script.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    // Only the console's own files: a name is looked up, never a path.
    for name in ["..%2FCargo.toml", "..%2F..%2FCargo.toml", "console.js%00", "README.md"] {
        let missing = svc.http.get(format!("{}/console/{name}", svc.base)).send().await.unwrap();
        assert_eq!(missing.status(), StatusCode::NOT_FOUND, "{name}");
    }
    let redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let root = redirect.get(format!("{}/console", svc.base)).send().await.unwrap();
    assert_eq!(
        (root.status(), root.headers()["location"].to_str().unwrap()),
        (StatusCode::PERMANENT_REDIRECT, "/console/")
    );
}
