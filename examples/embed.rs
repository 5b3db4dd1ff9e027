//! A platform that embeds the account engine as a plugin of its own axum application.
//!
//! What it shows, each a few lines:
//! - **its own authentication**: a `Platform <user>` header the platform trusts, turned into the
//!   engine's [`Caller`]; the tenant is the one the route names, and the engine decides whether the
//!   person may act on it (membership and role), as it does for every host;
//! - **its own store data**: each call's store holds [`PlatformData`] (the engine's driver context plus
//!   the platform's context), exposed to the engine's imports through [`DriverView`];
//! - **its own host interface**: `platform:embed/seats`, added with the engine's drivers to the one
//!   linker the runtime builds, and called by a component of the platform's own (a plugin of a few
//!   instructions, in WAT below) that runs against that same linker;
//! - **typed calls**: `runtime.accounts().create_project(..)`, not JSON.
//!
//! Run it: `cargo run -p account-host --example embed`, then
//! `curl -X POST -H 'authorization: Platform alice' -H 'content-type: application/json' -d '{"name":"Alpha"}' localhost:3900/projects`
//! and, with the id it answers, `curl -H 'authorization: Platform alice' localhost:3900/projects/<id>/seats`.
//! `cargo test` runs the test at the bottom, which drives the same app over HTTP.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use account_host::bindings::{Actor, EngineError, IdentityPrincipal, PageRequest};
use account_host::call::CallState;
use account_host::drivers::DriverView;
use account_host::{Caller, Database, Runtime, RuntimeBuilder, RuntimeConfig};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use wasmtime::component::{Component, HasData, Linker};

// The platform's own host interface.
wasmtime::component::bindgen!({
    inline: "
        package platform:embed;

        interface seats {
            /// How many members the platform's plan sells per project.
            per-project: func() -> u32;
        }

        world plugin-host {
            import seats;
        }
    ",
});

/// The platform's plugin: given how many members a project has, how many seats are left. It asks the
/// platform's `seats` interface for the number sold.
const SEATS_PLUGIN_WAT: &str = r#"
(component
  (import "platform:embed/seats" (instance $seats (export "per-project" (func (result u32)))))
  (core func $sold (canon lower (func $seats "per-project")))
  (core module $plugin
    (import "seats" "per-project" (func $sold (result i32)))
    (func (export "remaining") (param $members i32) (result i32)
      (local $sold i32)
      (local.set $sold (call $sold))
      (if (result i32) (i32.gt_u (local.get $sold) (local.get $members))
        (then (i32.sub (local.get $sold) (local.get $members)))
        (else (i32.const 0)))))
  (core instance $instance (instantiate $plugin (with "seats" (instance (export "per-project" (func $sold))))))
  (func (export "remaining") (param "members" u32) (result u32) (canon lift (core func $instance "remaining")))
)
"#;

/// The data of every store the platform's runtime makes: the engine's driver context and its own.
pub struct PlatformData {
    drivers: CallState,
    platform: PlatformContext,
}

impl DriverView for PlatformData {
    fn drivers(&mut self) -> &mut CallState {
        &mut self.drivers
    }
}

/// What the platform's own host interface works on.
pub struct PlatformContext {
    seats_per_project: u32,
    /// How often a component asked (shared with the app, to show the interface was reached).
    asked: Arc<AtomicU32>,
}

impl platform::embed::seats::Host for PlatformContext {
    fn per_project(&mut self) -> u32 {
        self.asked.fetch_add(1, Ordering::Relaxed);
        self.seats_per_project
    }
}

/// The `HasData` of the platform's interface: it reaches [`PlatformContext`] inside [`PlatformData`].
struct Platform;

impl HasData for Platform {
    type Data<'a> = &'a mut PlatformContext;
}

/// The platform's application state.
#[derive(Clone)]
pub struct App {
    runtime: Arc<Runtime<PlatformData>>,
    plugin: Component,
    asked: Arc<AtomicU32>,
}

/// The platform's people (its own authentication; a real platform asks its identity provider).
const PEOPLE: [(&str, &str); 2] = [("alice", "alice@platform.example"), ("bob", "bob@platform.example")];

/// Builds the app on `db` (migrated here): the engine's runtime with the platform's store data and
/// interface, and the platform's plugin compiled against the same engine.
pub async fn app(db: Database) -> anyhow::Result<Router> {
    db.migrate().await?;
    let asked = Arc::new(AtomicU32::new(0));
    let shared = asked.clone();
    let runtime = RuntimeBuilder::with_store_data(db, move |drivers| PlatformData {
        drivers,
        platform: PlatformContext { seats_per_project: 3, asked: shared.clone() },
    })
    // The plugin's instances get places of their own in the runtime's pool (never an engine call's).
    .config(RuntimeConfig { embedder_instances: 16, ..RuntimeConfig::default() })
    .link(|linker: &mut Linker<PlatformData>| {
        platform::embed::seats::add_to_linker::<PlatformData, Platform>(linker, |data| &mut data.platform)
    })
    .build()
    .await?;
    let engine = runtime.engine().clone();
    let plugin =
        tokio::task::spawn_blocking(move || Component::new(&engine, wat::parse_str(SEATS_PLUGIN_WAT)?)).await??;
    let state = App { runtime: Arc::new(runtime), plugin, asked };
    Ok(Router::new()
        .route("/projects", post(create_project))
        .route("/projects/{tenant_id}", get(project))
        .route("/projects/{tenant_id}/seats", get(seats))
        .with_state(state))
}

type Reply = Result<Json<Value>, (StatusCode, Json<Value>)>;

/// The platform's authentication: `authorization: Platform <user>` names one of its people.
async fn person(app: &App, headers: &HeaderMap, tenant: Option<&str>) -> Result<Caller, (StatusCode, Json<Value>)> {
    let name = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Platform "));
    let Some((name, email)) = name.and_then(|name| PEOPLE.into_iter().find(|(n, _)| *n == name)) else {
        return Err((StatusCode::UNAUTHORIZED, Json(json!({ "error": "who are you?" }))));
    };
    let subject = format!("platform|{name}");
    let user_id = account_host::identity::user_id_for_subject(app.runtime.database(), &subject)
        .await
        .map_err(|e| (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "error": e.to_string() }))))?;
    let principal =
        IdentityPrincipal { external_id: subject, email: email.into(), user_id, name: None, email_verified: true };
    Ok(Caller::new(Actor::Identity(principal), tenant))
}

/// An engine refusal as the platform's HTTP answer (the status the engine's own HTTP API gives its code).
fn refused(error: EngineError) -> (StatusCode, Json<Value>) {
    (account_host::server::status_of(error.code), Json(json!({ "error": error.message })))
}

async fn create_project(State(app): State<App>, headers: HeaderMap, Json(body): Json<Value>) -> Reply {
    let caller = person(&app, &headers, None).await?;
    let name = body["name"].as_str().unwrap_or_default();
    let project = app.runtime.accounts().create_project(&caller, name, None).await.map_err(refused)?;
    Ok(Json(json!({ "id": project.project_id, "name": project.name, "slug": project.slug })))
}

async fn project(State(app): State<App>, headers: HeaderMap, Path(tenant_id): Path<String>) -> Reply {
    let caller = person(&app, &headers, Some(&tenant_id)).await?;
    let project = app.runtime.accounts().get_project_detail(&caller, &tenant_id).await.map_err(refused)?;
    Ok(Json(json!({ "id": project.project_id, "name": project.name, "max_api_keys": project.quotas.max_api_keys })))
}

/// How many seats of a project are left: the engine lists its members (the caller must be allowed to),
/// the platform's plugin — run in a store of the runtime (its deadline and memory limit, one of the
/// places `embedder_instances` sets aside) against the runtime's linker, where the platform's interface
/// sits beside the engine's drivers — subtracts them from what the platform sold.
async fn seats(State(app): State<App>, headers: HeaderMap, Path(tenant_id): Path<String>) -> Reply {
    let caller = person(&app, &headers, Some(&tenant_id)).await?;
    let mut members = 0;
    let mut page = PageRequest { limit: 100, after: None };
    loop {
        let listed = app.runtime.accounts().list_tenant_users(&caller, &page).await.map_err(refused)?;
        members += listed.items.len();
        match listed.next {
            Some(after) => page.after = Some(after),
            None => break,
        }
    }
    let failed = |e: wasmtime::Error| (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({ "error": e.to_string() })));
    let (mut store, _) = app.runtime.store(&caller);
    let instance = app.runtime.linker().instantiate_async(&mut store, &app.plugin).await.map_err(failed)?;
    let remaining = instance.get_typed_func::<(u32,), (u32,)>(&mut store, "remaining").map_err(failed)?;
    let (remaining,) = remaining.call_async(&mut store, (members as u32,)).await.map_err(failed)?;
    Ok(Json(json!({ "members": members, "remaining": remaining, "asked": app.asked.load(Ordering::Relaxed) })))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let db = Database::connect("sqlite://platform-example.db").await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3900").await?;
    println!("the platform listens on http://{}", listener.local_addr()?);
    axum::serve(listener, app(db).await?).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The app on an in-memory database, served on a free port of 127.0.0.1.
    async fn serve() -> String {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let app = app(db).await.unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        address
    }

    async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    #[tokio::test]
    async fn the_platform_serves_the_engine_behind_its_own_authentication_and_interface() {
        let base = serve().await;
        let http = reqwest::Client::new();
        let as_person =
            |request: reqwest::RequestBuilder, name: &str| request.header("authorization", format!("Platform {name}"));

        // The platform's own authentication comes first: the engine is never reached without it.
        let (status, _) = send(http.post(format!("{base}/projects")).json(&json!({ "name": "Alpha" }))).await;
        assert_eq!(status, 401);
        let (status, _) =
            send(as_person(http.post(format!("{base}/projects")).json(&json!({ "name": "Alpha" })), "mallory")).await;
        assert_eq!(status, 401);

        // Typed calls through the embedded engine: alice creates a project and owns it.
        let (status, created) =
            send(as_person(http.post(format!("{base}/projects")).json(&json!({ "name": "Alpha" })), "alice")).await;
        assert_eq!(status, 200, "{created}");
        assert_eq!(created["name"], "Alpha");
        let tenant_id = created["id"].as_str().unwrap().to_string();
        let (status, detail) = send(as_person(http.get(format!("{base}/projects/{tenant_id}")), "alice")).await;
        assert_eq!(status, 200, "{detail}");
        assert_eq!(detail["name"], "Alpha");

        // The engine's rules hold inside the platform: bob is not a member of alice's project.
        let (status, _) = send(as_person(http.get(format!("{base}/projects/{tenant_id}")), "bob")).await;
        assert_eq!(status, 403, "a person outside the tenant is refused by the engine");

        // A bad argument is the engine's typed refusal.
        let (status, _) =
            send(as_person(http.post(format!("{base}/projects")).json(&json!({ "name": "   " })), "alice")).await;
        assert_eq!(status, 400);

        // The platform's plugin reaches the platform's own interface through the runtime's linker.
        let (status, seats) = send(as_person(http.get(format!("{base}/projects/{tenant_id}/seats")), "alice")).await;
        assert_eq!(status, 200, "{seats}");
        assert_eq!(
            (seats["members"].clone(), seats["remaining"].clone(), seats["asked"].clone()),
            (json!(1), json!(2), json!(1))
        );
        // bob is refused by the engine before the plugin runs.
        let (status, _) = send(as_person(http.get(format!("{base}/projects/{tenant_id}/seats")), "bob")).await;
        assert_eq!(status, 403);
        let (_, seats) = send(as_person(http.get(format!("{base}/projects/{tenant_id}/seats")), "alice")).await;
        assert_eq!(seats["asked"], 2, "the plugin ran once more, for alice only");
    }
}
