//! The harness of the HTTP tests: the real `account-service` binary on a free loopback port, bootstrapped
//! with the CLI, driven by a real client. (Included by each HTTP test file.)

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use reqwest::StatusCode;
use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_account-service");
pub const JWT_SECRET: &str = "test-secret-for-hs256-at-least-32-bytes-long";
pub const OPERATOR_TOKEN: &str = "operator-token-for-tests";

pub struct Service {
    pub child: Child,
    pub base: String,
    pub http: reqwest::Client,
    pub _dir: TempDir,
    /// The API key bootstrap printed (the owner's, `admin:*`).
    pub bootstrap_key: String,
}

pub struct TempDir(pub std::path::PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn command(dir: &std::path::Path, database_url: Option<&str>) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env("DATA_DIR", dir).env("RUST_LOG", "warn").env_remove("DATABASE_URL");
    if let Some(url) = database_url {
        cmd.env("DATABASE_URL", url);
    }
    cmd
}

/// Bootstraps a tenant with the CLI, then starts the server on a free port.
pub fn start(database_url: Option<&str>) -> (Service, String) {
    start_with(database_url, &[])
}

/// [`start`] with more environment for the server.
pub fn start_with(database_url: Option<&str>, env: &[(&str, &str)]) -> (Service, String) {
    let dir = TempDir(std::env::temp_dir().join(format!("aos-e2e-{}", uuid::Uuid::new_v4())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let out = command(&dir.0, database_url)
        .args(["bootstrap", "--name", "Acme", "--slug", "acme", "--owner-email", "ann@example.com", "--owner-subject", "ann"])
        .output()
        .expect("run bootstrap");
    assert!(out.status.success(), "bootstrap failed: {}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let tenant_id = stdout.lines().find_map(|l| l.strip_prefix("tenant_id=")).expect("tenant id").to_string();
    let bootstrap_key = stdout.lines().find_map(|l| l.strip_prefix("api_key=")).expect("the bootstrap key").to_string();

    let mut child = command(&dir.0, database_url)
        .args(["serve", "--listen", "127.0.0.1:0", "--max-body-bytes", "1500000"])
        .env("JWT_HS256_SECRET", JWT_SECRET)
        .env("OPERATOR_TOKEN", OPERATOR_TOKEN)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().strip_prefix("listening on ").expect("the listening address").to_string();
    (Service { child, base, http: reqwest::Client::new(), _dir: dir, bootstrap_key }, tenant_id)
}

pub fn jwt(sub: &str, email: &str, tenant_id: Option<&str>) -> String {
    let mut claims = json!({ "sub": sub, "email": email, "email_verified": true, "exp": 4_102_444_800u64 });
    if let Some(t) = tenant_id {
        claims["tenant_id"] = json!(t);
    }
    sign(&claims)
}

/// A JWT with exactly these claims, signed with the test secret.
pub fn sign(claims: &Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()).unwrap(),
    )
    .unwrap()
}

impl Service {
    pub async fn call(&self, credential: Option<&str>, op: &str, body: Value) -> (StatusCode, Value) {
        self.raw(credential, op, body.to_string().into_bytes(), None).await
    }

    pub async fn raw(&self, credential: Option<&str>, op: &str, body: Vec<u8>, tenant: Option<&str>) -> (StatusCode, Value) {
        let mut request = self.http.post(format!("{}/v1/{op}", self.base)).header("content-type", "application/json").body(body);
        if let Some(c) = credential {
            request = request.bearer_auth(c);
        }
        if let Some(t) = tenant {
            request = request.header("x-tenant-id", t);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn operator(&self, tenant: &str, op: &str, body: Value) -> (StatusCode, Value) {
        self.raw(Some(OPERATOR_TOKEN), op, body.to_string().into_bytes(), Some(tenant)).await
    }
}

