//! The harness of the HTTP tests: the real `account-service` binary on a free loopback port, bootstrapped
//! with the CLI, driven by a real client. (Included by each HTTP test file.)

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use reqwest::StatusCode;
use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_account-service");

/// The workspace's root (the HTTP tests are the host package's).
pub fn workspace() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace").to_path_buf()
}
pub const JWT_SECRET: &str = "test-secret-for-hs256-at-least-32-bytes-long";
pub const OPERATOR_TOKEN: &str = "operator-token-for-tests";
/// The identity provider the servers of the tests trust (tokens must name it and this service).
pub const JWT_ISSUER: &str = "https://idp.test";
pub const JWT_AUDIENCE: &str = "accounts";

pub struct Service {
    pub child: Child,
    pub base: String,
    pub http: reqwest::Client,
    pub _dir: TempDir,
    /// The API key bootstrap printed (the owner's, `admin:*`).
    pub bootstrap_key: String,
}

pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    /// A fresh directory of the test's own (mode 0700, as a service's data directory should be).
    pub fn new(prefix: &str) -> TempDir {
        use std::os::unix::fs::DirBuilderExt;
        let path = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::new_v4()));
        std::fs::DirBuilder::new().mode(0o700).create(&path).unwrap();
        TempDir(path)
    }
}
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
    let dir = TempDir::new("aos-e2e");
    let (tenant_id, bootstrap_key) = bootstrap(&dir.0, database_url);
    let (child, base) = spawn(&dir.0, database_url, env, None);
    (Service { child, base, http: reqwest::Client::new(), _dir: dir, bootstrap_key }, tenant_id)
}

/// Runs `bootstrap` on the database: the tenant's id and the owner's API key.
pub fn bootstrap(dir: &std::path::Path, database_url: Option<&str>) -> (String, String) {
    let out = command(dir, database_url)
        .args([
            "bootstrap",
            "--name",
            "Acme",
            "--slug",
            "acme",
            "--owner-email",
            "ann@example.com",
            "--owner-subject",
            "ann",
        ])
        .output()
        .expect("run bootstrap");
    assert!(out.status.success(), "bootstrap failed: {}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let tenant_id = stdout.lines().find_map(|l| l.strip_prefix("tenant_id=")).expect("tenant id").to_string();
    let bootstrap_key = stdout.lines().find_map(|l| l.strip_prefix("api_key=")).expect("the bootstrap key").to_string();
    (tenant_id, bootstrap_key)
}

/// Starts `serve` on a free port over the data directory (and database): the process and its base URL.
/// Its log goes to `log` (a file) when given, else to the test's stderr. `("RUST_LOG", "")` in `env`
/// leaves the service's own default log filter in force.
pub fn spawn(
    dir: &std::path::Path,
    database_url: Option<&str>,
    env: &[(&str, &str)],
    log: Option<&std::path::Path>,
) -> (Child, String) {
    let stderr = match log {
        Some(path) => Stdio::from(std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap()),
        None => Stdio::inherit(),
    };
    let mut cmd = command(dir, database_url);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--max-body-bytes", "1500000"])
        .env("JWT_HS256_SECRET", JWT_SECRET)
        .env("JWT_ISSUER", JWT_ISSUER)
        .env("JWT_AUDIENCE", JWT_AUDIENCE)
        .env("OPERATOR_TOKEN", OPERATOR_TOKEN)
        .envs(env.iter().copied().filter(|(_, v)| !v.is_empty()));
    if env.iter().any(|(k, v)| *k == "RUST_LOG" && v.is_empty()) {
        cmd.env_remove("RUST_LOG");
    }
    let mut child = cmd.stdout(Stdio::piped()).stderr(stderr).spawn().expect("start the server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().strip_prefix("listening on ").expect("the listening address").to_string();
    (child, base)
}

/// A server process that is killed when the test ends, however it ends.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A PostgreSQL cluster of the test's own, on a free port of 127.0.0.1, that the test may stop and start
/// (never the machine's shared server). Removed when dropped.
pub struct Cluster {
    pub dir: std::path::PathBuf,
    pub port: u16,
    bin: std::path::PathBuf,
}

impl Cluster {
    /// A fresh cluster, started; none (with a note) where PostgreSQL's server programs are not installed.
    pub fn start() -> Option<Cluster> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin"))
            .find(|b| b.join("initdb").exists());
        let Some(bin) = bin else {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "NOTE: no PostgreSQL server programs: the outage test is skipped");
            return None;
        };
        let dir = std::env::temp_dir().join(format!("aos-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let cluster = Cluster { dir, port, bin };
        cluster.chown();
        cluster.run("initdb", &["-D", &cluster.data(), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
        cluster.up();
        Some(cluster)
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The server's own user runs it: as root, `postgres` (PostgreSQL refuses to run as root).
    fn run(&self, program: &str, args: &[&str]) {
        let program = self.bin.join(program);
        let status = if is_root() {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&program)
                .args(args)
                .stdout(Stdio::null())
                .status()
        } else {
            Command::new(&program).args(args).stdout(Stdio::null()).status()
        };
        assert!(status.expect("run a PostgreSQL program").success(), "{} {args:?} failed", program.display());
    }

    fn chown(&self) {
        if is_root() {
            let _ = Command::new("chown").args(["-R", "postgres:postgres"]).arg(&self.dir).status();
        }
    }

    pub fn up(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("server.log").display().to_string();
        self.run("pg_ctl", &["-D", &self.data(), "-o", &options, "-l", &log, "-w", "start"]);
    }

    /// Stops the server at once, as a crash or an operator would.
    pub fn down(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "immediate", "-w", "stop"]);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let program = self.bin.join("pg_ctl");
        let args = ["-D", &self.data(), "-m", "immediate", "stop"];
        let _ = if is_root() {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&program)
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
        } else {
            Command::new(&program).args(args).stdout(Stdio::null()).stderr(Stdio::null()).status()
        };
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

/// A fresh schema on the suite's PostgreSQL server (the database URL naming it), or none when the
/// PostgreSQL half of the suite is off.
pub async fn postgres_schema() -> Option<(String, String)> {
    let admin = std::env::var("TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty())?;
    let schema = format!("rel_{}", uuid::Uuid::new_v4().simple());
    let pool = sqlx::PgPool::connect(&admin).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&pool).await.unwrap();
    pool.close().await;
    let sep = if admin.contains('?') { '&' } else { '?' };
    Some((format!("{admin}{sep}options=-c%20search_path%3D{schema}"), schema))
}

/// Runs `test` with the database URL of a fresh PostgreSQL schema, then drops the schema; says that
/// `what` was skipped when the PostgreSQL half of the suite is off.
pub async fn on_postgres<F, Fut>(what: &str, test: F)
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let Some((url, schema)) = postgres_schema().await else {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "NOTE: {what} on PostgreSQL skipped: set TEST_POSTGRES_URL to run it");
        return;
    };
    test(url).await;
    drop_schema(&schema).await;
}

pub async fn drop_schema(schema: &str) {
    if let Some(admin) = std::env::var("TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty()) {
        let pool = sqlx::PgPool::connect(&admin).await.unwrap();
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(&pool).await;
        pool.close().await;
    }
}

pub fn jwt(sub: &str, email: &str, tenant_id: Option<&str>) -> String {
    let mut claims = json!({ "sub": sub, "email": email, "email_verified": true, "exp": 4_102_444_800u64, "iss": JWT_ISSUER, "aud": JWT_AUDIENCE });
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

    pub async fn raw(
        &self,
        credential: Option<&str>,
        op: &str,
        body: Vec<u8>,
        tenant: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request =
            self.http.post(format!("{}/v1/{op}", self.base)).header("content-type", "application/json").body(body);
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
