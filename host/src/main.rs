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
use account_host::server::{AppState, auth::AuthConfig};
use account_host::{Caller, Runtime, RuntimeConfig, Settings};
use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

#[derive(Parser)]
#[command(name = "account-service", version, about = "Multi-tenant account logic in a WebAssembly sandbox, served over HTTP/JSON")]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Args)]
struct Config {
    /// Database: `sqlite:<file>` or `postgres://…`. Default: a SQLite file in the data directory.
    #[arg(long, env = "DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// Where the default SQLite file and the compiled-component cache live.
    #[arg(long, env = "DATA_DIR", default_value = "data", global = true)]
    data_dir: PathBuf,
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
}

#[derive(Subcommand)]
enum Command {
    /// Serve HTTP/JSON (the default).
    Serve(ServeArgs),
    /// Create or update the schema, then exit.
    Migrate,
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
    /// List every operation with its parameters.
    Operations,
}

#[derive(Parser)]
struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, env = "LISTEN_ADDR", default_value = "127.0.0.1:8080")]
    listen: String,
    /// HS256 secret of the identity provider's JWTs.
    #[arg(long, env = "JWT_HS256_SECRET")]
    jwt_hs256_secret: Option<String>,
    /// PEM file with the identity provider's RS256 public key.
    #[arg(long, env = "JWT_RS256_PUBLIC_KEY_FILE")]
    jwt_rs256_public_key_file: Option<PathBuf>,
    /// The operator credential (founder actions). Operators are refused when unset.
    #[arg(long, env = "OPERATOR_TOKEN")]
    operator_token: Option<String>,
    /// Largest request body, in bytes.
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 2 * 1024 * 1024)]
    max_body_bytes: usize,
}

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
    Lifecycle { tenant: String, action: String, #[arg(long, default_value = "")] reason: String },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Create an API key (printed once).
    Create { tenant: String, #[arg(long)] name: String },
    /// List a tenant's keys.
    List { tenant: String, #[arg(long)] include_revoked: bool },
    /// Revoke a key.
    Revoke { tenant: String, key_id: String, #[arg(long)] reason: Option<String> },
}

#[derive(Subcommand)]
enum PinCommand {
    /// Set a pin (value: a JSON object).
    Set { tenant: String, key: String, value: String, #[arg(long)] ttl_seconds: Option<u32> },
    /// Show a pin.
    Get { tenant: String, key: String },
    /// Delete a pin.
    Delete { tenant: String, key: String },
    /// Delete expired pins (of every tenant when none is given).
    Cleanup { tenant: Option<String> },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging();
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(run(cli))
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if std::env::var("LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let c = &cli.config;
    let url = match &c.database_url {
        Some(url) => url.clone(),
        None => {
            std::fs::create_dir_all(&c.data_dir).with_context(|| format!("creating {}", c.data_dir.display()))?;
            format!("sqlite:{}", c.data_dir.join("accounts.db").display())
        }
    };
    let db = Database::connect(&url).await?;
    db.migrate().await.context("migrating the database")?;
    if let Some(Command::Migrate) = cli.command {
        println!("migrated {}", redact(&url));
        return Ok(());
    }
    let config = RuntimeConfig {
        call_deadline: Duration::from_millis(c.call_deadline_ms),
        max_memory_bytes: c.instance_memory_mib << 20,
        cache_dir: Some(c.data_dir.join("cache")),
        settings: Settings {
            memory_pins_enabled: c.memory_pins_enabled,
            support_email: c.support_email.clone(),
            support_hours: c.support_hours.clone(),
            support_response_time: c.support_response_time.clone(),
        },
        ..RuntimeConfig::default()
    };
    let clock = Arc::new(SystemClock);
    let runtime = Runtime::with(db, clock.clone(), config)?;
    let command = cli.command.unwrap_or(Command::Serve(ServeArgs::parse_from(["serve"])));
    match command {
        Command::Serve(args) => serve(runtime, clock, args).await,
        Command::Migrate => Ok(()),
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
                TenantCommand::Create { name, slug, plan } => {
                    (None, "tenants", "create-tenant", json!({ "tenant": { "name": name, "slug": slug, "plan": plan } }))
                }
                TenantCommand::Show { tenant } => (Some(tenant), "tenants", "get-tenant", json!({})),
                TenantCommand::Plan { tenant, plan } => (Some(tenant), "tenants", "update-plan", json!({ "plan": plan })),
                TenantCommand::Lifecycle { tenant, action, reason } => {
                    let op = match action.as_str() {
                        "suspend" | "resume" | "terminate" | "archive" => action.clone(),
                        other => bail!("unknown lifecycle action '{other}': suspend, resume, terminate or archive"),
                    };
                    return print(runtime.call_json(&operator(Some(&tenant)), "lifecycle", &op, &json!({ "reason": reason })).await);
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
                KeyCommand::Revoke { tenant, key_id, reason } => (tenant, "revoke-api-key", json!({ "key_id": key_id, "reason": reason })),
            };
            print(runtime.call_json(&operator(Some(&tenant)), "tenants", op, &args).await)
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
async fn bootstrap(runtime: &Runtime, name: &str, slug: &str, email: &str, subject: &str, plan: &str) -> anyhow::Result<()> {
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
    let owner = Caller::new(
        Actor::Identity(account_host::bindings::IdentityPrincipal {
            external_id: subject.into(),
            email: email.into(),
            user_id: account_host::identity::user_id_for_subject(runtime.database(), subject).await?,
            name: None,
        }),
        None,
    );
    let accepted = runtime
        .call_json(&owner, "accounts", "accept-invitation", &json!({ "invitation_id": invited["invitation"]["id"], "token": invited["token"] }))
        .await
        .map_err(|e| anyhow::anyhow!("accepting as the owner: {}", e.message))?;
    if accepted["accepted"] != Value::Bool(true) {
        bail!("the owner could not accept: {}", accepted["message"]);
    }
    let key = runtime
        .call_json(&ops, "tenants", "create-api-key", &json!({ "key": { "name": "bootstrap" } }))
        .await
        .map_err(|e| anyhow::anyhow!("creating the API key: {}", e.message))?;
    println!("tenant_id={tenant_id}");
    println!("api_key={}", key["key"].as_str().unwrap_or_default());
    println!("(the API key is shown once: store it now)");
    Ok(())
}

async fn serve(runtime: Runtime, clock: Arc<SystemClock>, args: ServeArgs) -> anyhow::Result<()> {
    let jwt = match (&args.jwt_hs256_secret, &args.jwt_rs256_public_key_file) {
        (Some(secret), _) => Some((jsonwebtoken::DecodingKey::from_secret(secret.as_bytes())?, jsonwebtoken::Algorithm::HS256)),
        (None, Some(file)) => {
            let pem = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
            Some((jsonwebtoken::DecodingKey::from_rsa_pem(&pem)?, jsonwebtoken::Algorithm::RS256))
        }
        (None, None) => {
            tracing::warn!("no JWT key configured: people cannot sign in (set JWT_HS256_SECRET or JWT_RS256_PUBLIC_KEY_FILE)");
            None
        }
    };
    let operator_token_hash = args.operator_token.as_ref().map(|t| Sha256::digest(t.as_bytes()).into());
    let state = Arc::new(AppState::new(runtime, AuthConfig { jwt, operator_token_hash }, clock));
    let listener = tokio::net::TcpListener::bind(&args.listen).await.with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr()?;
    // The address goes to stdout, for scripts and tests that asked for port 0.
    println!("listening on http://{addr}");
    tracing::info!(%addr, "serving");
    account_host::server::serve(listener, state, args.max_body_bytes).await
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
