//! `account-service`: the account engine as a service, and its administration.
//!
//! With no command it serves HTTP on 127.0.0.1:8080 over an embedded SQLite file in `./data`, created
//! and migrated on first start. `--database-url postgres://…` (or `DATABASE_URL`) switches to PostgreSQL.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use account_host::bindings::{Actor, OperatorPrincipal};
use account_host::clock::SystemClock;
use account_host::db::Database;
use account_host::server::HttpLimits;
use account_host::server::{AppState, auth::AuthConfig, auth::JwtConfig};
use account_host::{Caller, Runtime, RuntimeConfig, Settings};
use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use serde_json::{Value, json};

#[derive(Parser)]
#[command(
    name = "account-service",
    version,
    about = "Multi-tenant account logic in a WebAssembly sandbox, served over HTTP/JSON"
)]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Args)]
struct Config {
    /// Database: `sqlite:<file>` or `postgres://…`. Default: a SQLite file in the data directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    database_url: Option<String>,
    /// Where the default SQLite file lives (created private to the service's user).
    #[arg(long, env = "DATA_DIR", default_value = "data", global = true)]
    data_dir: PathBuf,
    /// Cache compiled components in this directory (it must be the service user's and writable by nobody
    /// else; created 0700). Off by default: the component is compiled at every start (about a second).
    #[arg(long, env = "COMPILE_CACHE_DIR", global = true)]
    cache_dir: Option<PathBuf>,
    /// How many tenants one person may own (creating a project is refused beyond it).
    #[arg(long, env = "MAX_OWNED_TENANTS_PER_USER", default_value_t = 10, global = true)]
    max_owned_tenants_per_user: u32,
    /// Wall-clock limit of one engine call, in milliseconds.
    #[arg(long, env = "CALL_DEADLINE_MS", default_value_t = 10_000, global = true)]
    call_deadline_ms: u64,
    /// Linear memory one sandboxed instance may use, in MiB.
    #[arg(long, env = "INSTANCE_MEMORY_MIB", default_value_t = 64, global = true)]
    instance_memory_mib: usize,
    /// Whether the memory pins feature is on.
    #[arg(long, env = "MEMORY_PINS_ENABLED", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    memory_pins_enabled: bool,
    /// The support contact returned by `get-support-contact`.
    #[arg(long, env = "SUPPORT_EMAIL", default_value = "support@example.com", global = true)]
    support_email: String,
    #[arg(long, env = "SUPPORT_HOURS", default_value = "24/7", global = true)]
    support_hours: String,
    #[arg(long, env = "SUPPORT_RESPONSE_TIME", default_value = "Within 24 hours", global = true)]
    support_response_time: String,
    /// Largest tenant policy component accepted, in bytes (a JavaScript policy is about 12 MB).
    #[arg(long, env = "POLICY_MAX_BYTES", default_value_t = 1 << 20, global = true)]
    policy_max_bytes: usize,
    /// Instructions (fuel) one policy hook may use.
    #[arg(long, env = "POLICY_FUEL", default_value_t = 20_000_000, global = true)]
    policy_fuel: u64,
    /// Wall-clock limit of one policy hook, in milliseconds.
    #[arg(long, env = "POLICY_DEADLINE_MS", default_value_t = 100, global = true)]
    policy_deadline_ms: u64,
    /// Linear memory one policy instance may use, in MiB.
    #[arg(long, env = "POLICY_MEMORY_MIB", default_value_t = 32, global = true)]
    policy_memory_mib: usize,
    /// How long compiling an uploaded policy may take before it is refused, in milliseconds.
    #[arg(long, env = "POLICY_COMPILE_TIMEOUT_MS", default_value_t = 30_000, global = true)]
    policy_compile_timeout_ms: u64,
}

#[derive(Subcommand)]
enum Command {
    /// Serve HTTP/JSON (the default).
    Serve(ServeArgs),
    /// Create or update the schema, then exit.
    Migrate,
    /// Write the engine component and its contract (WIT, documented) into a directory, for a host in
    /// another language: `account-engine.wasm` and `wit/`.
    Contract {
        /// Where to write them (created if missing).
        #[arg(long, default_value = "contract")]
        out: PathBuf,
    },
    /// Create the first tenant, its owner and an API key; prints the key once.
    Bootstrap {
        #[arg(long)]
        name: String,
        #[arg(long)]
        slug: String,
        /// The owner's e-mail.
        #[arg(long)]
        owner_email: String,
        /// The owner's subject at the identity provider (the JWT `sub`).
        #[arg(long)]
        owner_subject: String,
        #[arg(long, default_value = "free")]
        plan: String,
    },
    /// Call any engine operation with JSON arguments, as an operator (or the system).
    Call {
        /// `accounts`, `tenants`, `memory-pins`, `onboarding` or `lifecycle`.
        interface: String,
        /// The operation, e.g. `get-tenant` or `get_tenant`.
        operation: String,
        /// The arguments, a JSON object.
        #[arg(long, default_value = "{}")]
        json: String,
        /// The tenant to act on.
        #[arg(long)]
        tenant: Option<String>,
        /// Act as the system instead of an operator.
        #[arg(long)]
        system: bool,
    },
    /// Tenant administration.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// API key administration.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Memory pin administration.
    #[command(subcommand)]
    Pin(PinCommand),
    /// Tenant policies: what an operator sees and may do, and packaging an upload for an owner.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// List every operation with its parameters.
    Operations,
}

/// Secrets are read from the environment (or from files named there), never from flags: a flag's value
/// is visible to every user of the machine in the process list.
#[derive(Parser)]
#[command(after_help = SECRETS_HELP)]
struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, env = "LISTEN_ADDR", default_value = "127.0.0.1:8080")]
    listen: String,
    /// PEM file with the identity provider's RS256 public key.
    #[arg(long, env = "JWT_RS256_PUBLIC_KEY_FILE")]
    jwt_rs256_public_key_file: Option<PathBuf>,
    /// The `iss` every JWT must carry (recommended).
    #[arg(long, env = "JWT_ISSUER")]
    jwt_issuer: Option<String>,
    /// The audience every JWT must name in `aud` (recommended; comma-separated for several).
    #[arg(long, env = "JWT_AUDIENCE", value_delimiter = ',')]
    jwt_audience: Vec<String>,
    /// Count a JWT without `email_verified` as verified (only for an identity provider that issues
    /// nothing but verified e-mails and leaves the claim out; an explicit `false` is never verified).
    #[arg(long, env = "JWT_EMAILS_VERIFIED_BY_DEFAULT", default_value_t = false, action = clap::ArgAction::Set)]
    jwt_emails_verified_by_default: bool,
    /// Largest request body, in bytes.
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 2 * 1024 * 1024)]
    max_body_bytes: usize,
    /// Time a client has to send a request's headers (and how long an idle connection is kept), in ms.
    #[arg(long, env = "HEADER_TIMEOUT_MS", default_value_t = 10_000)]
    header_timeout_ms: u64,
    /// Time a client has to send a request's body, in ms.
    #[arg(long, env = "BODY_TIMEOUT_MS", default_value_t = 30_000)]
    body_timeout_ms: u64,
    /// Time a response waits for a client that does not read it, in ms.
    #[arg(long, env = "WRITE_TIMEOUT_MS", default_value_t = 30_000)]
    write_timeout_ms: u64,
    /// Connections served at once (each takes a file descriptor: the limit is raised at start, and this is
    /// lowered to fit what the system allows).
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 8192)]
    max_connections: usize,
    /// Engine calls of one tenant that may run at once.
    #[arg(long, env = "MAX_CALLS_PER_TENANT", default_value_t = 16)]
    max_calls_per_tenant: u32,
}

const SECRETS_HELP: &str = "Secrets (environment only; each also as <NAME>_FILE, a file holding it):
  JWT_HS256_SECRET   HS256 secret of the identity provider's JWTs (at least 32 bytes)
  OPERATOR_TOKENS    operator credentials, comma-separated `id:token` (the audit log names the id)
  OPERATOR_TOKEN     one operator credential (the operator id `operator`)";

#[derive(Subcommand)]
enum TenantCommand {
    /// Create a tenant.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        slug: String,
        #[arg(long, default_value = "free")]
        plan: String,
    },
    /// Show a tenant.
    Show { tenant: String },
    /// Change a tenant's plan.
    Plan { tenant: String, plan: String },
    /// Move a tenant through its lifecycle: suspend, resume, terminate or archive.
    Lifecycle {
        tenant: String,
        action: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Create an API key (printed once).
    Create {
        tenant: String,
        #[arg(long)]
        name: String,
    },
    /// List a tenant's keys.
    List {
        tenant: String,
        #[arg(long)]
        include_revoked: bool,
    },
    /// Revoke a key.
    Revoke {
        tenant: String,
        key_id: String,
        #[arg(long)]
        reason: Option<String>,
    },
}

#[derive(Subcommand)]
enum PinCommand {
    /// Set a pin (value: a JSON object).
    Set {
        tenant: String,
        key: String,
        value: String,
        #[arg(long)]
        ttl_seconds: Option<u32>,
    },
    /// Show a pin.
    Get { tenant: String, key: String },
    /// Delete a pin.
    Delete { tenant: String, key: String },
    /// Delete expired pins (of every tenant when none is given).
    Cleanup { tenant: Option<String> },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// A tenant's policy versions.
    List { tenant: String },
    /// A tenant's active version and its counters (calls, denials, failures, the last failure).
    Status { tenant: String },
    /// Switch a tenant's policy off (an operator's right on any tenant), with the reason.
    Disable {
        tenant: String,
        #[arg(long)]
        reason: String,
    },
    /// Write the body of `POST /v1/policies/install` for a policy component: the owner sends it with
    /// their own credential (`curl -d @install.json …`). Installing is the owners' alone.
    Package {
        /// The component (world `tenant-policy` of wit/policy.wit).
        component: PathBuf,
        /// The tenant's configuration of this version (a JSON object).
        #[arg(long, default_value = "{}")]
        config: String,
        #[arg(long)]
        note: Option<String>,
    },
}

fn main() -> anyhow::Result<()> {
    // Files the service creates (the database, its journal, the cache) are its user's alone.
    // SAFETY: umask has no preconditions; it is set before any thread starts.
    unsafe { libc::umask(0o077) };
    let cli = Cli::parse();
    init_logging();
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(run(cli))
}

fn init_logging() {
    // PostgreSQL's notices are not the service's news: after a COMMIT that loses a serialisation race,
    // sqlx's cleanup sends a ROLLBACK the server answers with "there is no transaction in progress" —
    // normal operation, which the default filter keeps out of the log (RUST_LOG can bring it back).
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx::postgres::notice=error".into());
    // Colour only for a person at a terminal: escape codes in a log file are noise.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    if std::env::var("LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(Command::Policy(PolicyCommand::Package { component, config, note })) = &cli.command {
        return package_policy(component, config, note.as_deref());
    }
    if let Some(Command::Contract { out }) = &cli.command {
        for path in
            account_host::runtime::write_contract(out).with_context(|| format!("writing to {}", out.display()))?
        {
            println!("{}", path.display());
        }
        return Ok(());
    }
    let c = &cli.config;
    let url = match &c.database_url {
        Some(url) => {
            if url_has_password(url) && std::env::args().any(|a| a.starts_with("--database-url")) {
                tracing::warn!(
                    "the database password was given on the command line, where every user of the machine can read it: use DATABASE_URL"
                );
            }
            url.clone()
        }
        None => {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&c.data_dir)
                .with_context(|| format!("creating {}", c.data_dir.display()))?;
            format!("sqlite:{}", c.data_dir.join("accounts.db").display())
        }
    };
    if c.database_url.is_none() {
        warn_if_shared(&c.data_dir);
        warn_if_shared(&c.data_dir.join("accounts.db"));
    }
    let db = Database::connect(&url).await?;
    db.migrate().await.context("migrating the database")?;
    if let Some(Command::Migrate) = cli.command {
        println!("migrated {}", redact(&url));
        return Ok(());
    }
    let config = RuntimeConfig {
        call_deadline: Duration::from_millis(c.call_deadline_ms),
        max_memory_bytes: c.instance_memory_mib << 20,
        cache: c.cache_dir.as_ref().map(|dir| account_host::CacheConfig {
            dir: dir.clone(),
            // The key that authenticates cache files lives beside the cache, never inside it.
            key_file: dir.with_extension("key"),
        }),
        settings: Settings {
            memory_pins_enabled: c.memory_pins_enabled,
            support_email: c.support_email.clone(),
            support_hours: c.support_hours.clone(),
            support_response_time: c.support_response_time.clone(),
            max_owned_tenants_per_user: c.max_owned_tenants_per_user,
        },
        policies: account_host::PolicyLimits {
            max_component_bytes: c.policy_max_bytes,
            fuel: c.policy_fuel,
            deadline: Duration::from_millis(c.policy_deadline_ms),
            max_memory_bytes: c.policy_memory_mib << 20,
            compile_timeout: Duration::from_millis(c.policy_compile_timeout_ms),
            ..account_host::PolicyLimits::default()
        },
        ..RuntimeConfig::default()
    };
    let command = cli.command.unwrap_or_else(|| Command::Serve(ServeArgs::parse_from(["serve"])));
    let config = match &command {
        Command::Serve(args) => RuntimeConfig { max_calls_per_tenant: args.max_calls_per_tenant, ..config },
        _ => config,
    };
    let clock = Arc::new(SystemClock);
    let runtime = Runtime::with(db, clock.clone(), config)?;
    match command {
        Command::Serve(args) => serve(runtime, clock, args).await,
        Command::Migrate | Command::Contract { .. } => Ok(()),
        Command::Operations => {
            for op in runtime.operations() {
                let params: Vec<String> = op.params.iter().map(|(n, _)| n.replace('-', "_")).collect();
                println!("{} {} ({})", op.interface, op.name, params.join(", "));
            }
            Ok(())
        }
        Command::Bootstrap { name, slug, owner_email, owner_subject, plan } => {
            bootstrap(&runtime, &name, &slug, &owner_email, &owner_subject, &plan).await
        }
        Command::Call { interface, operation, json, tenant, system } => {
            let args: Value = serde_json::from_str(&json).context("--json is not valid JSON")?;
            let caller = if system { Caller::system(tenant.as_deref()) } else { operator(tenant.as_deref()) };
            print(runtime.call_json(&caller, &interface, &operation, &args).await)
        }
        Command::Tenant(t) => {
            let (tenant, iface, op, args) = match t {
                TenantCommand::Create { name, slug, plan } => (
                    None,
                    "tenants",
                    "create-tenant",
                    json!({ "tenant": { "name": name, "slug": slug, "plan": plan } }),
                ),
                TenantCommand::Show { tenant } => (Some(tenant), "tenants", "get-tenant", json!({})),
                TenantCommand::Plan { tenant, plan } => {
                    (Some(tenant), "tenants", "update-plan", json!({ "plan": plan }))
                }
                TenantCommand::Lifecycle { tenant, action, reason } => {
                    let op = match action.as_str() {
                        "suspend" | "resume" | "terminate" | "archive" => action.clone(),
                        other => bail!("unknown lifecycle action '{other}': suspend, resume, terminate or archive"),
                    };
                    return print(
                        runtime
                            .call_json(&operator(Some(&tenant)), "lifecycle", &op, &json!({ "reason": reason }))
                            .await,
                    );
                }
            };
            print(runtime.call_json(&operator(tenant.as_deref()), iface, op, &args).await)
        }
        Command::Key(k) => {
            let (tenant, op, args) = match k {
                KeyCommand::Create { tenant, name } => (tenant, "create-api-key", json!({ "key": { "name": name } })),
                KeyCommand::List { tenant, include_revoked } => {
                    (tenant, "list-api-keys", json!({ "include_revoked": include_revoked, "page": { "limit": 1000 } }))
                }
                KeyCommand::Revoke { tenant, key_id, reason } => {
                    (tenant, "revoke-api-key", json!({ "key_id": key_id, "reason": reason }))
                }
            };
            print(runtime.call_json(&operator(Some(&tenant)), "tenants", op, &args).await)
        }
        Command::Policy(p) => {
            let (tenant, op, args) = match p {
                PolicyCommand::List { tenant } => (tenant, "list-versions", json!({})),
                PolicyCommand::Status { tenant } => (tenant, "status", json!({})),
                PolicyCommand::Disable { tenant, reason } => (tenant, "deactivate", json!({ "reason": reason })),
                PolicyCommand::Package { .. } => unreachable!("handled above"),
            };
            print(runtime.call_json(&operator(Some(&tenant)), "policies", op, &args).await)
        }
        Command::Pin(p) => {
            let (tenant, op, args) = match p {
                PinCommand::Set { tenant, key, value, ttl_seconds } => {
                    (Some(tenant), "upsert-pin", json!({ "key": key, "value": value, "ttl_seconds": ttl_seconds }))
                }
                PinCommand::Get { tenant, key } => (Some(tenant), "get-pin", json!({ "key": key })),
                PinCommand::Delete { tenant, key } => (Some(tenant), "delete-pin", json!({ "key": key })),
                PinCommand::Cleanup { tenant } => (tenant, "cleanup-expired", json!({})),
            };
            print(runtime.call_json(&operator(tenant.as_deref()), "memory-pins", op, &args).await)
        }
    }
}

/// Prints the body of `POST /v1/policies/install` for a component (no database is opened).
fn package_policy(component: &std::path::Path, config: &str, note: Option<&str>) -> anyhow::Result<()> {
    let bytes = std::fs::read(component).with_context(|| format!("reading {}", component.display()))?;
    if bytes.get(4..8) == Some(&[1, 0, 0, 0]) {
        bail!(
            "{} is a core WebAssembly module: make it a component of world `tenant-policy` first \
             (`wasm-tools component new {} -o policy.wasm`, or `npx @bytecodealliance/jco new …`)",
            component.display(),
            component.display()
        );
    }
    serde_json::from_str::<serde_json::Map<String, Value>>(config).context("--config must be a JSON object")?;
    use base64::Engine as _;
    let body = json!({ "policy": {
        "component": base64::engine::general_purpose::STANDARD.encode(&bytes),
        "config": config,
        "note": note,
    }});
    println!("{body}");
    Ok(())
}

fn operator(tenant: Option<&str>) -> Caller {
    Caller::new(Actor::Operator(OperatorPrincipal { operator_id: "cli".into() }), tenant)
}

fn print(result: Result<Value, account_host::bindings::EngineError>) -> anyhow::Result<()> {
    match result {
        Ok(v) => {
            println!("{}", serde_json::to_string_pretty(&v)?);
            Ok(())
        }
        Err(e) => bail!("{:?}: {}", e.code, e.message),
    }
}

/// The first tenant, its owner (invited and accepted, as any member would be) and an API key.
async fn bootstrap(
    runtime: &Runtime,
    name: &str,
    slug: &str,
    email: &str,
    subject: &str,
    plan: &str,
) -> anyhow::Result<()> {
    let ops = operator(None);
    let tenant = runtime
        .call_json(&ops, "tenants", "create-tenant", &json!({ "tenant": { "name": name, "slug": slug, "plan": plan } }))
        .await
        .map_err(|e| anyhow::anyhow!("creating the tenant: {}", e.message))?;
    let tenant_id = tenant["id"].as_str().context("tenant id")?.to_string();
    let ops = operator(Some(&tenant_id));
    let invited = runtime
        .call_json(&ops, "accounts", "invite-user", &json!({ "email": email, "role": "owner" }))
        .await
        .map_err(|e| anyhow::anyhow!("inviting the owner: {}", e.message))?;
    // The operator vouches for the owner's e-mail: bootstrap is how the first owner is named.
    let owner_in = |user_id: Option<String>, tenant: Option<&str>| {
        Caller::new(
            Actor::Identity(account_host::bindings::IdentityPrincipal {
                external_id: subject.into(),
                email: email.into(),
                user_id,
                name: None,
                email_verified: true,
            }),
            tenant,
        )
    };
    let owner = owner_in(account_host::identity::user_id_for_subject(runtime.database(), subject).await?, None);
    let accepted = runtime
        .call_json(
            &owner,
            "accounts",
            "accept-invitation",
            &json!({ "invitation_id": invited["invitation"]["id"], "token": invited["token"] }),
        )
        .await
        .map_err(|e| anyhow::anyhow!("accepting as the owner: {}", e.message))?;
    if accepted["accepted"] != Value::Bool(true) {
        bail!("the owner could not accept: {}", accepted["message"]);
    }
    // The first key is the owner's own, with everything a key may hold (never more than the owner's role).
    let owner =
        owner_in(account_host::identity::user_id_for_subject(runtime.database(), subject).await?, Some(&tenant_id));
    let key = runtime
        .call_json(
            &owner,
            "tenants",
            "create-api-key",
            &json!({ "key": { "name": "bootstrap", "permissions": ["admin:*"] } }),
        )
        .await
        .map_err(|e| anyhow::anyhow!("creating the API key: {}", e.message))?;
    println!("tenant_id={tenant_id}");
    println!("api_key={}", key["key"].as_str().unwrap_or_default());
    println!("(the API key is shown once: store it now)");
    Ok(())
}

/// A secret from the environment, or from the file named by `<NAME>_FILE`.
fn secret(name: &str) -> anyhow::Result<Option<String>> {
    if let Ok(file) = std::env::var(format!("{name}_FILE")) {
        let value = std::fs::read_to_string(&file).with_context(|| format!("reading {name}_FILE ({file})"))?;
        return Ok(Some(value.trim_end_matches(['\n', '\r']).to_string()));
    }
    Ok(std::env::var(name).ok().filter(|v| !v.is_empty()))
}

async fn serve(runtime: Runtime, clock: Arc<SystemClock>, args: ServeArgs) -> anyhow::Result<()> {
    let (issuer, audiences) = (args.jwt_issuer.clone(), args.jwt_audience.clone());
    let jwt = match (secret("JWT_HS256_SECRET")?, &args.jwt_rs256_public_key_file) {
        (Some(secret), _) => Some(JwtConfig::hs256(secret.as_bytes(), issuer, audiences).context("JWT_HS256_SECRET")?),
        (None, Some(file)) => {
            let pem = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
            Some(JwtConfig::rs256_pem(&pem, issuer, audiences)?)
        }
        (None, None) => {
            tracing::warn!(
                "no JWT key configured: people cannot sign in (set JWT_HS256_SECRET or JWT_RS256_PUBLIC_KEY_FILE)"
            );
            None
        }
    };
    let jwt = jwt.map(|j| JwtConfig { emails_verified_by_default: args.jwt_emails_verified_by_default, ..j });
    if let Some(jwt) = &jwt {
        if jwt.issuer.is_none() {
            tracing::warn!("JWT_ISSUER is not set: tokens from any issuer signed with the key are accepted");
        }
        if jwt.audiences.is_empty() {
            tracing::warn!("JWT_AUDIENCE is not set: tokens for any audience signed with the key are accepted");
        }
    }
    let named: Vec<String> =
        secret("OPERATOR_TOKENS")?.map(|t| t.split(',').map(str::to_string).collect()).unwrap_or_default();
    let operators = AuthConfig::operators_from(&named, secret("OPERATOR_TOKEN")?.as_deref())?;
    if operators.is_empty() {
        tracing::warn!(
            "no operator credential configured: operators are refused (set OPERATOR_TOKENS or OPERATOR_TOKEN)"
        );
    }
    let limits = HttpLimits {
        max_body_bytes: args.max_body_bytes,
        header_timeout: Duration::from_millis(args.header_timeout_ms.max(1)),
        body_timeout: Duration::from_millis(args.body_timeout_ms.max(1)),
        write_timeout: Duration::from_millis(args.write_timeout_ms.max(1)),
        max_connections: raise_fd_limit(args.max_connections.max(1)),
    };
    let state = Arc::new(AppState::with_limits(runtime, AuthConfig { jwt, operators }, clock, limits));
    let listener =
        tokio::net::TcpListener::bind(&args.listen).await.with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr()?;
    // The address goes to stdout, for scripts and tests that asked for port 0.
    println!("listening on http://{addr}");
    tracing::info!(%addr, "serving");
    let sweeper = tokio::spawn(sweep(state.clone()));
    let served = account_host::server::serve(listener, state).await;
    sweeper.abort();
    served
}

/// Hourly housekeeping as the system: expired pins go, and the memory access log older than its retention.
async fn sweep(state: Arc<AppState>) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        if let Err(e) =
            state.runtime.call_json(&Caller::system(None), "memory-pins", "cleanup-expired", &json!({})).await
        {
            tracing::warn!(code = ?e.code, message = %e.message, "the hourly cleanup failed");
        }
    }
}

/// Each connection and each database connection takes a file descriptor: raises the soft limit to the
/// hard one, and returns how many connections fit beside the service's own descriptors (accepting more
/// would fail with "too many open files" instead of waiting in the backlog).
fn raise_fd_limit(max_connections: usize) -> usize {
    const RESERVED: u64 = 256;
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit with a valid pointer to an rlimit.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return max_connections;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    let fits = limit.rlim_cur.saturating_sub(RESERVED).max(16) as usize;
    if fits < max_connections {
        tracing::warn!(
            fd_limit = limit.rlim_cur,
            max_connections = fits,
            "the file-descriptor limit allows fewer connections than MAX_CONNECTIONS; raise `ulimit -n`"
        );
        return fits;
    }
    max_connections
}

/// Whether a database URL carries a password (`scheme://user:password@host`).
fn url_has_password(url: &str) -> bool {
    url.split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .is_some_and(|(credentials, _)| credentials.contains(':'))
}

/// The data directory and the database were created private to the service's user; an existing one that
/// others may read is said so at start (the service does not change permissions it did not set).
fn warn_if_shared(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(metadata) = std::fs::metadata(path)
        && metadata.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(path = %path.display(), mode = format!("{:o}", metadata.permissions().mode() & 0o777), "other users of the machine may read this: chmod go-rwx it");
    }
}

fn redact(url: &str) -> String {
    match url.split_once('@') {
        Some((scheme_user, host)) if url.starts_with("postgres") => {
            let scheme = scheme_user.split("//").next().unwrap_or("postgres:");
            format!("{scheme}//…@{host}")
        }
        _ => url.to_string(),
    }
}
