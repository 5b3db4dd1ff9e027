//! Tenant policies: a tenant's own WebAssembly component (world `tenant-policy` of `wit/policy.wit`),
//! consulted by the engine at its decision points inside the call's transaction.
//!
//! The host runs a hook in its own engine and store, under limits stricter than the engine's: an
//! instruction budget (fuel: the deterministic limit), a wall-clock deadline (epochs), a memory cap, a
//! stack cap and a bound on what comes back. A policy imports nothing: it has no file system, network,
//! clock, randomness or environment, and sees only the event and the tenant's configuration.
//!
//! * Compiling is bounded: a size cap before anything is parsed, one compilation of an upload and one of a
//!   stored version at a time, each on one core and a thread of its own, a compile-time bound after which
//!   an upload is refused (the thread finishes in the background, still holding its slot, so uploads
//!   cannot pile up compilations), and an hourly budget of new compilations per tenant.
//! * Compiled policies are cached by content hash (shared by tenants who upload the same bytes); a
//!   version's configuration is cached by (tenant, version, hash), and version numbers are never reused.
//! * [`policy_gate`] is the engine's import; [`stats`] keeps the counters of each version.

pub mod policy_gate;
pub mod stats;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, Store, StoreLimits, StoreLimitsBuilder, Trap};

use crate::bindings::aos::accounts::policy_types::{
    Decision, KeyDecision, PinDecision, PolicyContext, Trigger, TriggerSet,
};
use crate::bindings::policy_gate::{PolicyEvent, Verdict};
use crate::db::codec::Id;
use crate::identity::sha256_hex;

/// The host side of the `tenant-policy` world: the hooks a policy exports.
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "tenant-policy",
        exports: { default: async },
        with: {
            "aos:accounts/types": crate::bindings::aos::accounts::types,
            "aos:accounts/policy-types": crate::bindings::aos::accounts::policy_types,
        },
    });
}

/// The host side of policies built for contract 0.4 (`host/wit-policy-0.4`: its `types` and `policy.wit`
/// as 0.4.1 had them). Their hooks and types are today's — the contract's minor moved for the engine's
/// operations, not for policies — so a tenant's 0.4 policy keeps running unrebuilt; its types are
/// today's Rust types (`with`), checked by structure when it is loaded.
pub mod bindings_0_4 {
    wasmtime::component::bindgen!({
        path: "wit-policy-0.4",
        world: "tenant-policy",
        exports: { default: async },
        with: {
            "aos:accounts/types": crate::bindings::aos::accounts::types,
            "aos:accounts/policy-types": crate::bindings::aos::accounts::policy_types,
        },
    });
}

/// The contract versions a policy may be built for: today's, and 0.4 (see [`bindings_0_4`]).
const POLICY_CONTRACTS: [&str; 2] = [env!("AOS_CONTRACT_VERSION"), "0.4.1"];

/// A policy ready to instantiate, for the contract it was built for.
#[derive(Clone)]
enum PolicyPre {
    Current(bindings::TenantPolicyPre<PolicyStore>),
    Contract04(bindings_0_4::TenantPolicyPre<PolicyStore>),
}

/// An instance of a policy.
enum Policy {
    Current(bindings::TenantPolicy),
    Contract04(bindings_0_4::TenantPolicy),
}

/// Runs `$body` with `$hooks` bound to the policy's hooks, whichever contract it was built for (the
/// hooks have the same functions and types in both).
macro_rules! with_hooks {
    ($policy:expr, |$hooks:ident| $body:expr) => {
        match &$policy {
            Policy::Current(p) => {
                let $hooks = p.aos_accounts_hooks();
                $body
            }
            Policy::Contract04(p) => {
                let $hooks = p.aos_accounts_hooks();
                $body
            }
        }
    };
}

/// The interfaces a policy component imports only for their types (they have no functions), at each of
/// [`POLICY_CONTRACTS`].
const TYPE_ONLY_IMPORTS: [&str; 2] = ["aos:accounts/types", "aos:accounts/policy-types"];

/// Whether a policy's import names one of [`TYPE_ONLY_IMPORTS`] at a semver-compatible version (the same
/// `0.minor`): a policy built against an earlier patch of the contract keeps loading, as the linker
/// and the hooks' export lookup accept it.
fn type_only_import(name: &str) -> bool {
    // The part of a version that must be equal: `0.minor` below 1.0, the major above (no pre-releases,
    // no `0.0.x`, which semver never calls compatible with anything else).
    fn compatible(version: &str) -> Option<&str> {
        let mut parts = version.splitn(3, '.');
        let (major, minor, patch) = (parts.next()?, parts.next()?, parts.next()?);
        let numbers = [major, minor, patch].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        match (numbers, major, minor) {
            (false, ..) | (true, "0", "0") => None,
            (true, "0", _) => Some(&version[..major.len() + 1 + minor.len()]),
            (true, ..) => Some(major),
        }
    }
    let Some((interface, version)) = name.rsplit_once('@') else { return false };
    TYPE_ONLY_IMPORTS.contains(&interface)
        && POLICY_CONTRACTS.iter().any(|v| compatible(v).is_some() && compatible(v) == compatible(version))
}

/// Elements a policy's table may hold.
pub const MAX_TABLE_ELEMENTS: usize = 100_000;

/// Longest deny reason a policy may give (longer is a malformed answer).
pub const MAX_REASON_BYTES: usize = 1024;
/// Fuel between yields to the async runtime: a long hook never holds a worker thread for long.
const YIELD_FUEL: u64 = 200_000;

/// The limits of tenant policies.
#[derive(Debug, Clone)]
pub struct PolicyLimits {
    /// Largest component accepted at install, in bytes. Rust policies are tens of KiB; a JavaScript policy
    /// built with componentize-js carries its engine and is about 12 MB (raise this to accept one).
    pub max_component_bytes: usize,
    /// Instructions (fuel) one hook may use: the deterministic limit.
    pub fuel: u64,
    /// Wall-clock limit of one hook, instantiation included.
    pub deadline: Duration,
    /// Linear memory one policy instance may grow to.
    pub max_memory_bytes: usize,
    /// Wasm stack one hook may use.
    pub max_stack_bytes: usize,
    /// How long compiling an upload may take before it is refused.
    pub compile_timeout: Duration,
    /// Compiled policies kept in memory (and, apart, configured versions and uploads refused).
    pub cache_entries: usize,
    /// The total size of the compiled policies kept in memory, counted in component bytes (the compiled
    /// code is a few times that).
    pub cache_bytes: usize,
}

impl Default for PolicyLimits {
    fn default() -> Self {
        PolicyLimits {
            max_component_bytes: 1 << 20,
            fuel: 20_000_000,
            deadline: Duration::from_millis(100),
            max_memory_bytes: 32 << 20,
            max_stack_bytes: 256 << 10,
            compile_timeout: Duration::from_secs(30),
            cache_entries: 256,
            cache_bytes: 256 << 20,
        }
    }
}

/// Why a stored version cannot run now.
#[derive(Debug, Clone)]
pub enum Unready {
    /// It cannot run at all (its bytes no longer compile or match their hash): a failure of the policy.
    Broken(String),
    /// It is still being compiled, or the host has no compile slot free: try again shortly.
    Compiling(String),
}

/// How long a call waits for its tenant's policy to be compiled (on a host that has not compiled it
/// yet, or after a cache eviction) before it is refused as `unavailable`; the compilation goes on and a
/// later call finds it ready. Short: the call holds its transaction (on SQLite, the writer lock).
pub const PREPARE_WAIT: Duration = Duration::from_millis(250);

/// Why a policy could not answer: it refuses the operation (fail closed).
#[derive(Debug, Clone)]
pub struct Failure(pub String);

/// Why a hook did not run to an answer.
#[derive(Debug, Clone)]
pub enum HookError {
    /// The policy failed: its fault, counted in its status.
    Policy(Failure),
    /// The host had no place to run it in time: nobody's fault, the caller tries again.
    Busy,
}

impl From<Failure> for HookError {
    fn from(f: Failure) -> Self {
        HookError::Policy(f)
    }
}

/// Why an upload is not accepted as a policy.
#[derive(Debug, Clone)]
pub enum Refusal {
    /// Not a component of the policy world (the message says what is wrong).
    Invalid(String),
    /// Over the size cap.
    TooLarge(String),
    /// The host has no compile slot free (or the tenant's compile budget is spent): later, it may be.
    Busy(String),
    /// Compiling it took longer than the bound: not accepted (not remembered either: it depends on load).
    TooSlow(String),
    /// It is being compiled: the same upload, tried again, finds it compiled (or refused).
    Compiling,
}

/// What a caller is told while its upload compiles (inside the install call, which never waits for it).
pub const STILL_COMPILING: &str = "the component is being compiled; try again in a few seconds";

/// A version ready to run: its configuration, what it handles and its compiled component.
pub struct Loaded {
    /// The tenant's configuration of this version (JSON text), passed to every hook.
    pub config: String,
    /// The triggers this version handles; events of other triggers are not sent to it.
    pub handles: TriggerSet,
    pre: PolicyPre,
}

/// What the host learned of an accepted upload.
pub struct Inspected {
    /// The SHA-256 of the component, lower-case hex: the key of its compiled form in the cache.
    pub content_hash: String,
    /// The component's size, in bytes.
    pub size_bytes: u32,
    /// The triggers the policy says it handles (its `handles` export).
    pub handles: Vec<Trigger>,
}

/// The store data of one hook run.
pub struct PolicyStore {
    limits: StoreLimits,
    /// The store's hold on the policy engine's epoch clock, which the hook's deadline is measured by.
    _clock: crate::runtime::Ticking,
}

/// The process-wide runtime of tenant policies.
pub struct Policies {
    engine: Engine,
    linker: Linker<PolicyStore>,
    limits: PolicyLimits,
    /// Compiled components by content hash.
    compiled: Arc<Mutex<Bounded<String, PolicyPre>>>,
    /// Uploads found not to be policies, by content hash (so the same bytes are not compiled again).
    refused: Arc<Mutex<Bounded<String, String>>>,
    /// Content hashes being compiled right now: the same upload waits for that compilation.
    in_progress: Arc<Mutex<std::collections::HashSet<String>>>,
    versions: Mutex<Bounded<(Id, u32, String), Arc<Loaded>>>,
    /// One compilation of an upload at a time, and one of a stored version.
    compiling_uploads: Arc<tokio::sync::Semaphore>,
    compiling_stored: Arc<tokio::sync::Semaphore>,
    /// Places in the instance pool: a hook takes one for its store's life.
    slots: tokio::sync::Semaphore,
    budget: CompileBudget,
    /// The counters of every version's calls, denials and failures, not yet written.
    pub stats: stats::Stats,
    ticker: crate::runtime::EpochTicker,
}

impl Policies {
    /// A policy runtime that runs at most `slots` hooks at once (its pool's size; more wait for a slot
    /// until their deadline, then are refused as the host's, not the policy's, failure).
    pub fn new(limits: PolicyLimits, slots: u32) -> anyhow::Result<Self> {
        // With PAGEMAP_SCAN (Linux 6.7+) a pooled slot is reset by rewriting only the pages a hook
        // touched; without it, by unmapping (see `crate::runtime`).
        let engine = Engine::new(&engine_config(&limits, slots, true))
            .or_else(|_| Engine::new(&engine_config(&limits, slots, false)))?;
        let mut linker = Linker::new(&engine);
        // The only imports a policy has are the contract's type-only interfaces: nothing it can call.
        for version in POLICY_CONTRACTS {
            for interface in TYPE_ONLY_IMPORTS {
                linker.instance(&format!("{interface}@{version}"))?;
            }
        }
        let ticker = crate::runtime::EpochTicker::start(&engine, limits.deadline, "policy-epoch");
        Ok(Policies {
            engine,
            linker,
            compiled: Arc::new(Mutex::new(Bounded::new(limits.cache_entries, limits.cache_bytes))),
            refused: Arc::new(Mutex::new(Bounded::new(limits.cache_entries, 1 << 20))),
            in_progress: Arc::default(),
            versions: Mutex::new(Bounded::new(limits.cache_entries, limits.cache_bytes)),
            budget: CompileBudget::default(),
            limits,
            compiling_uploads: Arc::new(tokio::sync::Semaphore::new(1)),
            compiling_stored: Arc::new(tokio::sync::Semaphore::new(1)),
            slots: tokio::sync::Semaphore::new(slots as usize),
            stats: stats::Stats::default(),
            ticker,
        })
    }

    /// The limits the runtime was made with.
    pub fn limits(&self) -> &PolicyLimits {
        &self.limits
    }

    /// Checks an upload of `uploader`, compiles it (bounded) and asks it what it handles, waiting for
    /// the compiler at most `wait`. Before an install call the host waits the compile timeout (holding
    /// nothing); inside the call, the engine's `inspect` waits for nothing and finds it compiled.
    pub async fn inspect(&self, uploader: Option<&Id>, bytes: &[u8], wait: Duration) -> Result<Inspected, Refusal> {
        let size_bytes = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        if bytes.len() > self.limits.max_component_bytes {
            return Err(Refusal::TooLarge(format!(
                "the component is {} bytes; this host accepts policies of at most {} bytes",
                bytes.len(),
                self.limits.max_component_bytes
            )));
        }
        let content_hash = sha256_hex(bytes);
        let pre = match self.compile(Purpose::Upload(uploader), &content_hash, bytes, wait).await {
            // Waited the whole bound: too slow (and the background compilation will not be kept).
            Err(Refusal::Compiling) if wait >= self.limits.compile_timeout => {
                return Err(Refusal::TooSlow(format!(
                    "compiling the component takes longer than {} ms: this host does not accept it",
                    self.limits.compile_timeout.as_millis()
                )));
            }
            other => other?,
        };
        let (_slot, mut store, policy) = self.fresh(&pre).await.map_err(|e| match e {
            HookError::Policy(f) => Refusal::Invalid(format!("the policy failed to start: {}", f.0)),
            HookError::Busy => Refusal::Busy("the host is running too many policies; try again".into()),
        })?;
        let handles = with_hooks!(policy, |hooks| hooks.call_handles(&mut store).await).map_err(|e| {
            Refusal::Invalid(format!("the policy's `handles` failed: {}", failure_of(&e, &self.limits).0))
        })?;
        Ok(Inspected { content_hash, size_bytes, handles })
    }

    /// The version `(tenant, version)` ready to run, if the cache holds it for `content_hash`; otherwise
    /// [`Policies::prepare`] builds it from what the call's transaction reads.
    pub fn cached(&self, tenant: &Id, version: u32, content_hash: &str) -> Option<Arc<Loaded>> {
        self.versions.lock().unwrap_or_else(|e| e.into_inner()).get(&(
            tenant.clone(),
            version,
            content_hash.to_string(),
        ))
    }

    /// Compiles (or finds compiled) a stored version and caches it for its tenant, waiting at most `wait`
    /// (a call waits [`PREPARE_WAIT`]: it must not hold its transaction through a long compilation, so it
    /// is refused as not ready while the compilation goes on). The stored bytes must still have their hash.
    #[allow(clippy::too_many_arguments)]
    pub async fn prepare(
        &self,
        tenant: &Id,
        version: u32,
        content_hash: &str,
        component: &[u8],
        config: String,
        handles: TriggerSet,
        wait: Duration,
    ) -> Result<Arc<Loaded>, Unready> {
        if sha256_hex(component) != content_hash {
            return Err(Unready::Broken("the stored component does not match its content hash".into()));
        }
        let pre = self.compile(Purpose::Stored, content_hash, component, wait).await.map_err(|r| match r {
            Refusal::Invalid(m) | Refusal::TooLarge(m) | Refusal::TooSlow(m) => Unready::Broken(m),
            Refusal::Busy(m) => Unready::Compiling(m),
            Refusal::Compiling => Unready::Compiling(STILL_COMPILING.into()),
        })?;
        let loaded = Arc::new(Loaded { config, handles, pre });
        self.versions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            // Weighed like the compiled component it keeps alive.
            .insert(
                (tenant.clone(), version, content_hash.to_string()),
                loaded.clone(),
                component.len() + loaded.config.len(),
            );
        Ok(loaded)
    }

    /// Runs the hook of `event` in a fresh instance of `loaded`; returns the verdict and the fuel used.
    pub async fn run(
        &self,
        loaded: &Loaded,
        ctx: PolicyContext,
        event: &PolicyEvent,
    ) -> Result<(Verdict, u64), HookError> {
        let (_slot, mut store, policy) = self.fresh(&loaded.pre).await?;
        let answer = with_hooks!(policy, |hooks| match event {
            PolicyEvent::InviteUser(e) => hooks.call_invite_user(&mut store, &ctx, e).await.map(decision),
            PolicyEvent::AcceptInvitation(e) => hooks.call_accept_invitation(&mut store, &ctx, e).await.map(decision),
            PolicyEvent::ChangeRole(e) => hooks.call_change_role(&mut store, &ctx, e).await.map(decision),
            PolicyEvent::RemoveMember(e) => hooks.call_remove_member(&mut store, &ctx, e).await.map(decision),
            PolicyEvent::CreateApiKey(e) => hooks.call_create_api_key(&mut store, &ctx, e).await.map(|d| match d {
                KeyDecision::Allow => Verdict::Allow,
                KeyDecision::Deny(r) => Verdict::Deny(r),
                KeyDecision::Narrow(change) => Verdict::NarrowKey(change),
            }),
            PolicyEvent::WritePin(e) => hooks.call_write_pin(&mut store, &ctx, e).await.map(|d| match d {
                PinDecision::Allow => Verdict::Allow,
                PinDecision::Deny(r) => Verdict::Deny(r),
                PinDecision::Rewrite(change) => Verdict::RewritePin(change),
            }),
            PolicyEvent::FileTicket(e) => hooks.call_file_ticket(&mut store, &ctx, e).await.map(decision),
        });
        let verdict = answer.map_err(|e| HookError::Policy(failure_of(&e, &self.limits)))?;
        if let Verdict::Deny(reason) = &verdict
            && reason.len() > MAX_REASON_BYTES
        {
            return Err(HookError::Policy(Failure(format!(
                "its deny reason is {} bytes; at most {MAX_REASON_BYTES} are allowed",
                reason.len()
            ))));
        }
        let fuel_used = self.limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
        Ok((verdict, fuel_used))
    }

    /// A fresh store under the limits and an instance of `pre` in it, with its place in the pool.
    async fn fresh(
        &self,
        pre: &PolicyPre,
    ) -> Result<(tokio::sync::SemaphorePermit<'_>, Store<PolicyStore>, Policy), HookError> {
        // The place first and dropped last (bindings drop in reverse): the store leaves the pool before
        // another hook may take its place.
        let slot = tokio::time::timeout(self.limits.deadline, self.slots.acquire())
            .await
            .map_err(|_| HookError::Busy)?
            .map_err(|_| HookError::Busy)?;
        // One memory, so its cap is the policy's; tables bounded in elements (a table grows in host memory,
        // where neither fuel nor the deadline reaches).
        let limits = StoreLimitsBuilder::new()
            .memory_size(self.limits.max_memory_bytes)
            .memories(1)
            .instances(16)
            .tables(8)
            .table_elements(MAX_TABLE_ELEMENTS)
            .trap_on_grow_failure(true)
            .build();
        let mut store = Store::new(&self.engine, PolicyStore { limits, _clock: self.ticker.running() });
        store.limiter(|s| &mut s.limits);
        let fuel = || Failure("the host could not set the instruction budget".into());
        store.set_fuel(self.limits.fuel).map_err(|_| fuel())?;
        store.fuel_async_yield_interval(Some(YIELD_FUEL)).map_err(|_| fuel())?;
        store.set_epoch_deadline(self.ticker.ticks_in(self.limits.deadline));
        store.epoch_deadline_trap();
        let policy = match pre {
            PolicyPre::Current(pre) => pre.instantiate_async(&mut store).await.map(Policy::Current),
            PolicyPre::Contract04(pre) => pre.instantiate_async(&mut store).await.map(Policy::Contract04),
        };
        let policy = policy.map_err(|e| {
            if e.downcast_ref::<wasmtime::PoolConcurrencyLimitError>().is_some() {
                HookError::Busy
            } else {
                HookError::Policy(failure_of(&e, &self.limits))
            }
        })?;
        Ok((slot, store, policy))
    }

    fn compiled_or_refused(&self, content_hash: &str) -> Option<Result<PolicyPre, Refusal>> {
        if let Some(pre) = self.compiled.lock().unwrap_or_else(|e| e.into_inner()).get(&content_hash.to_string()) {
            return Some(Ok(pre));
        }
        let refused = self.refused.lock().unwrap_or_else(|e| e.into_inner()).get(&content_hash.to_string());
        refused.map(|why| Err(Refusal::Invalid(why)))
    }

    /// Compiles a component once per content hash, on a thread of its own; checks that it imports
    /// nothing callable and exports the hooks. Uploads and stored versions have a compile slot each (an
    /// uploader cannot keep stored versions from being compiled). Waits at most `wait` in all (zero:
    /// only what is cached); a compilation still running then finishes in the background (keeping its
    /// slot) and fills the cache. An upload is charged to its tenant's hourly budget once it has its slot,
    /// and one that compiles longer than the compile timeout is refused and not cached.
    async fn compile(
        &self,
        purpose: Purpose<'_>,
        content_hash: &str,
        bytes: &[u8],
        wait: Duration,
    ) -> Result<PolicyPre, Refusal> {
        let until = tokio::time::Instant::now() + wait;
        // Claim the compilation of these bytes (checked and claimed under one lock), or wait for the one
        // that is running: a second upload of the same bytes never takes a slot of its own.
        let claim = loop {
            if let Some(done) = self.compiled_or_refused(content_hash) {
                return done;
            }
            if let Some(claim) = InProgress::claim(&self.in_progress, content_hash) {
                break claim;
            }
            if tokio::time::Instant::now() >= until {
                return Err(Refusal::Compiling);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        // A compilation may have finished between the look and the claim.
        if let Some(done) = self.compiled_or_refused(content_hash) {
            return done;
        }
        check_header(bytes)?;
        let slot = match purpose {
            Purpose::Upload(_) => &self.compiling_uploads,
            Purpose::Stored => &self.compiling_stored,
        };
        let busy = || Refusal::Busy("the host is compiling other policies; try again".into());
        let permit = tokio::time::timeout_at(until, slot.clone().acquire_owned())
            .await
            .map_err(|_| busy())?
            .map_err(|_| busy())?;
        if let Purpose::Upload(Some(tenant)) = purpose {
            self.budget.take(tenant)?;
        }
        let bound = matches!(purpose, Purpose::Upload(_)).then_some(self.limits.compile_timeout);
        let (engine, linker) = (self.engine.clone(), self.linker.clone());
        let (cache, refused) = (self.compiled.clone(), self.refused.clone());
        let (owned, hash) = (bytes.to_vec(), content_hash.to_string());
        let compiling = tokio::task::spawn_blocking(move || {
            // Released when this ends, however it ends (a panicking compiler too), after the cache below.
            let _claim = claim;
            let started = std::time::Instant::now();
            let compiled = compile_checked(&engine, &linker, &owned);
            drop(permit);
            match compiled {
                // Too slow depends on the host's load as much as on the bytes: refused, not remembered.
                Ok(_) if bound.is_some_and(|limit| started.elapsed() > limit) => Err(Refusal::TooSlow(format!(
                    "compiling the component took {} ms, longer than {} ms: this host does not accept it",
                    started.elapsed().as_millis(),
                    bound.unwrap_or_default().as_millis()
                ))),
                Ok(pre) => {
                    cache.lock().unwrap_or_else(|e| e.into_inner()).insert(hash, pre.clone(), owned.len());
                    Ok(pre)
                }
                Err(Refusal::Invalid(why)) => {
                    refused.lock().unwrap_or_else(|e| e.into_inner()).insert(hash, why.clone(), why.len());
                    Err(Refusal::Invalid(why))
                }
                Err(other) => Err(other),
            }
        });
        match tokio::time::timeout_at(until, compiling).await {
            Err(_) => Err(Refusal::Compiling),
            Ok(Err(_)) => Err(Refusal::Invalid("compiling the component failed".into())),
            Ok(Ok(compiled)) => compiled,
        }
    }
}

/// What a compilation is for: an upload (of a tenant, charged to its budget; bounded in time) or a
/// stored version (accepted before; compiled again on a host that has not compiled it).
#[derive(Clone, Copy)]
enum Purpose<'a> {
    Upload(Option<&'a Id>),
    Stored,
}

/// The claim on compiling one content hash: one compilation per hash at a time; released when dropped
/// (also when compiling panics, and on every early return before it starts).
struct InProgress(Arc<Mutex<std::collections::HashSet<String>>>, String);

impl InProgress {
    fn claim(set: &Arc<Mutex<std::collections::HashSet<String>>>, hash: &str) -> Option<InProgress> {
        let claimed = set.lock().unwrap_or_else(|e| e.into_inner()).insert(hash.to_string());
        claimed.then(|| InProgress(set.clone(), hash.to_string()))
    }
}

impl Drop for InProgress {
    fn drop(&mut self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.1);
    }
}

/// Compiles a component and checks its imports and exports (no instance is made).
fn compile_checked(engine: &Engine, linker: &Linker<PolicyStore>, bytes: &[u8]) -> Result<PolicyPre, Refusal> {
    let component = Component::new(engine, bytes)
        .map_err(|e| Refusal::Invalid(format!("not a valid WebAssembly component: {e:#}")))?;
    let callable: Vec<String> = component
        .component_type()
        .imports(engine)
        .filter(|(name, item)| !type_only_import(name) || !only_types(engine, &item.ty))
        .map(|(name, _)| name.to_string())
        .collect();
    if !callable.is_empty() {
        return Err(Refusal::Invalid(format!(
            "a policy may import nothing (but the contract's types), and this one imports {}",
            callable.join(", ")
        )));
    }
    let instance_pre =
        linker.instantiate_pre(&component).map_err(|e| Refusal::Invalid(format!("not a policy component: {e:#}")))?;
    // Built for today's contract, or else for 0.4.
    match bindings::TenantPolicyPre::new(instance_pre.clone()) {
        Ok(pre) => Ok(PolicyPre::Current(pre)),
        Err(current) => bindings_0_4::TenantPolicyPre::new(instance_pre).map(PolicyPre::Contract04).map_err(|_| {
            Refusal::Invalid(format!(
                "the component does not export the hooks of world `tenant-policy` (contract {}): {current:#}",
                POLICY_CONTRACTS.join(" or ")
            ))
        }),
    }
}

/// The policy engine: fuel and epochs, one core per compilation, and a pool of instances, memories,
/// tables and fiber stacks reused from hook to hook (a hook's own store and instance cost tens of
/// microseconds less than mapping fresh ones).
fn engine_config(limits: &PolicyLimits, slots: u32, pagemap_scan: bool) -> Config {
    let mut pool = wasmtime::PoolingAllocationConfig::new();
    pool.total_component_instances(slots)
        // A componentize-js policy has a handful of core instances (its engine and the adapters).
        .total_core_instances(slots * 8)
        .total_memories(slots)
        .total_tables(slots * 4)
        .total_stacks(slots)
        .max_memory_size(limits.max_memory_bytes)
        .max_memories_per_component(1)
        // What one policy may take of the pool (checked when it is compiled, so it cannot drain the pool).
        .max_core_instances_per_component(8)
        .max_tables_per_component(4)
        .table_elements(MAX_TABLE_ELEMENTS)
        .max_core_instance_size(16 << 20)
        .max_component_instance_size(16 << 20)
        .max_unused_warm_slots(slots / 4);
    if pagemap_scan {
        pool.pagemap_scan(wasmtime::Enabled::Yes).linear_memory_keep_resident(1 << 20).table_keep_resident(64 << 10);
    }
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .consume_fuel(true)
        .epoch_interruption(true)
        .max_wasm_stack(limits.max_stack_bytes)
        // One core per compilation: a compiling upload never takes the whole machine.
        .parallel_compilation(false)
        // Guard pages and signal-based bounds checks (the default): explicit checks made a large policy
        // compile half as long again.
        .memory_reservation(limits.max_memory_bytes as u64)
        .allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
    config
}

/// Whether an imported item is an instance of types only (nothing a policy could call).
fn only_types(engine: &Engine, item: &wasmtime::component::types::ComponentItem) -> bool {
    use wasmtime::component::types::ComponentItem;
    match item {
        ComponentItem::ComponentInstance(instance) => {
            instance.exports(engine).all(|(_, e)| matches!(e.ty, ComponentItem::Type(_)))
        }
        _ => false,
    }
}

/// What a hook's error means, for the caller and the status.
fn failure_of(error: &wasmtime::Error, limits: &PolicyLimits) -> Failure {
    let what = match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => format!("it used its whole instruction budget ({} instructions)", limits.fuel),
        Some(Trap::Interrupt) => format!("it ran past its deadline ({} ms)", limits.deadline.as_millis()),
        Some(Trap::StackOverflow) => "it overflowed its stack".to_string(),
        Some(trap) => format!("it trapped: {trap}"),
        // The store's limiter: see `StoreLimitsBuilder::trap_on_grow_failure`.
        None if format!("{error:#}").contains("forcing trap when growing memory")
            || format!("{error:#}").contains("memory growth failure") =>
        {
            format!("it went over its memory cap ({} bytes)", limits.max_memory_bytes)
        }
        None if format!("{error:#}").contains("forcing trap when growing table") => {
            format!("it went over its table cap ({MAX_TABLE_ELEMENTS} elements)")
        }
        None => format!("it failed: {error:#}"),
    };
    Failure(what)
}

fn decision(d: Decision) -> Verdict {
    match d {
        Decision::Allow => Verdict::Allow,
        Decision::Deny(reason) => Verdict::Deny(reason),
    }
}

/// A clear word on bytes that are not a component at all, before the compiler reads them.
fn check_header(bytes: &[u8]) -> Result<(), Refusal> {
    const MAGIC: &[u8; 4] = b"\0asm";
    if bytes.len() < 8 || &bytes[..4] != MAGIC {
        return Err(Refusal::Invalid("not WebAssembly (the upload does not start with `\\0asm`)".into()));
    }
    match bytes[6..8] {
        [1, 0] => Ok(()),
        [0, 0] => Err(Refusal::Invalid(
            "a core WebAssembly module, not a component: build it as a component of world `tenant-policy`".into(),
        )),
        _ => Err(Refusal::Invalid("an unknown WebAssembly encoding".into())),
    }
}

/// Which trigger an event is for.
pub fn trigger_of(event: &PolicyEvent) -> Trigger {
    match event {
        PolicyEvent::InviteUser(_) => Trigger::InviteUser,
        PolicyEvent::AcceptInvitation(_) => Trigger::AcceptInvitation,
        PolicyEvent::ChangeRole(_) => Trigger::ChangeRole,
        PolicyEvent::RemoveMember(_) => Trigger::RemoveMember,
        PolicyEvent::CreateApiKey(_) => Trigger::CreateApiKey,
        PolicyEvent::WritePin(_) => Trigger::WritePin,
        PolicyEvent::FileTicket(_) => Trigger::FileTicket,
    }
}

/// Every trigger, with its flag in a [`TriggerSet`] and its stable name, in the order of the WIT enum
/// (the order of the stored bits).
const TRIGGERS: [(Trigger, TriggerSet, &str); 7] = [
    (Trigger::InviteUser, TriggerSet::INVITE_USER, "invite-user"),
    (Trigger::AcceptInvitation, TriggerSet::ACCEPT_INVITATION, "accept-invitation"),
    (Trigger::ChangeRole, TriggerSet::CHANGE_ROLE, "change-role"),
    (Trigger::RemoveMember, TriggerSet::REMOVE_MEMBER, "remove-member"),
    (Trigger::CreateApiKey, TriggerSet::CREATE_API_KEY, "create-api-key"),
    (Trigger::WritePin, TriggerSet::WRITE_PIN, "write-pin"),
    (Trigger::FileTicket, TriggerSet::FILE_TICKET, "file-ticket"),
];

/// The flag of a trigger in a [`TriggerSet`].
pub fn flag_of(trigger: Trigger) -> TriggerSet {
    TRIGGERS.iter().find(|(t, _, _)| *t == trigger).map_or(TriggerSet::empty(), |(_, f, _)| *f)
}

/// The stable name of a trigger (`invite-user`, ...).
pub fn trigger_name(trigger: Trigger) -> &'static str {
    TRIGGERS.iter().find(|(t, _, _)| *t == trigger).map_or("", |(_, _, n)| n)
}

/// The trigger with this stable name (`invite-user`, ...); none for a name that is not one.
pub fn trigger_by_name(name: &str) -> Option<Trigger> {
    TRIGGERS.iter().find(|(_, _, n)| *n == name).map(|(t, _, _)| *t)
}

/// A trigger set as stored: bit `i` is the `i`-th trigger of the WIT enum.
pub fn bits_of(set: TriggerSet) -> i32 {
    TRIGGERS.iter().enumerate().filter(|(_, (_, f, _))| set.contains(*f)).fold(0, |bits, (i, _)| bits | (1 << i))
}

/// The trigger set of stored bits (unknown bits are ignored).
pub fn set_of_bits(bits: i32) -> TriggerSet {
    TRIGGERS
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .fold(TriggerSet::empty(), |set, (_, (_, f, _))| set | *f)
}

/// A map bounded in entries and in weight (bytes) that forgets its least recently used entries when
/// full (the caches above: no tenant can grow them past their bounds).
struct Bounded<K, V> {
    capacity: usize,
    max_weight: usize,
    weight: usize,
    entries: HashMap<K, (u64, usize, V)>,
    clock: u64,
}

impl<K: std::hash::Hash + Eq + Clone, V: Clone> Bounded<K, V> {
    fn new(capacity: usize, max_weight: usize) -> Self {
        Bounded { capacity: capacity.max(1), max_weight, weight: 0, entries: HashMap::new(), clock: 0 }
    }

    fn get(&mut self, key: &K) -> Option<V> {
        self.clock += 1;
        let clock = self.clock;
        self.entries.get_mut(key).map(|(used, _, v)| {
            *used = clock;
            v.clone()
        })
    }

    fn insert(&mut self, key: K, value: V, weight: usize) {
        self.clock += 1;
        if let Some((_, old, _)) = self.entries.remove(&key) {
            self.weight -= old;
        }
        while !self.entries.is_empty()
            && (self.entries.len() >= self.capacity || self.weight + weight > self.max_weight)
        {
            let oldest = self.entries.iter().min_by_key(|(_, (used, _, _))| *used).map(|(k, _)| k.clone());
            if let Some((_, w, _)) = oldest.and_then(|k| self.entries.remove(&k)) {
                self.weight -= w;
            }
        }
        self.weight += weight;
        self.entries.insert(key, (self.clock, weight, value));
    }
}

/// New compilations each tenant may cause per hour (cached ones are free): a tenant cannot keep the
/// compile slot busy, or churn the cache, for everyone.
pub const COMPILES_PER_TENANT_PER_HOUR: u32 = 20;

/// The hourly compile budget of each tenant.
#[derive(Default)]
struct CompileBudget {
    used: Mutex<HashMap<Id, (std::time::Instant, u32)>>,
}

impl CompileBudget {
    fn take(&self, tenant: &Id) -> Result<(), Refusal> {
        let now = std::time::Instant::now();
        let hour = Duration::from_secs(3600);
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        // Windows that have passed are forgotten (the map holds only tenants of the last hour).
        used.retain(|_, (since, _)| now.duration_since(*since) < hour);
        let (_, count) = used.entry(tenant.clone()).or_insert((now, 0));
        if *count >= COMPILES_PER_TENANT_PER_HOUR {
            return Err(Refusal::Busy(format!(
                "this tenant uploaded {COMPILES_PER_TENANT_PER_HOUR} new components within the hour; try again later"
            )));
        }
        *count += 1;
        Ok(())
    }
}

impl Policies {
    /// Compiles the active version of every tenant in the background (up to the cache's size), so that
    /// the first calls after a start find their policy ready instead of waiting for it.
    pub fn warm_in_background(self: &Arc<Self>, db: &crate::db::Database) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else { return };
        let (policies, db) = (Arc::downgrade(self), db.clone());
        handle.spawn(async move {
            if let Err(e) = warm(&policies, &db).await {
                tracing::warn!(error = %e, "tenant policies were not compiled ahead; their first calls compile them");
            }
        });
    }
}

async fn warm(policies: &std::sync::Weak<Policies>, db: &crate::db::Database) -> Result<(), sqlx::Error> {
    let limit = policies.upgrade().map_or(0, |p| p.limits.cache_entries) as i64;
    let mut tx = db.begin(true).await?;
    let active: Vec<(Id, i32, String)> = crate::on_tx!(&mut tx, |c| {
        sqlx::query_as(
        "SELECT s.tenant_id, v.version, v.content_hash FROM policy_state s \
         JOIN policy_versions v ON v.tenant_id = s.tenant_id AND v.version = s.active_version ORDER BY s.changed_at DESC LIMIT $1"
    )
    .bind(limit)
    .fetch_all(c)
    })?;
    tx.commit().await?;
    for (tenant, version, hash) in active {
        let mut tx = db.begin(true).await?;
        let row: Option<(Vec<u8>, crate::db::codec::Json, i32)> = crate::on_tx!(&mut tx, |c| sqlx::query_as(
            "SELECT component, config, handles FROM policy_versions WHERE tenant_id = $1 AND version = $2"
        )
        .bind(&tenant)
        .bind(version)
        .fetch_optional(c))?;
        tx.commit().await?;
        let (Some(policies), Some((component, config, handles))) = (policies.upgrade(), row) else { continue };
        let hash = hash.trim();
        if policies.cached(&tenant, version as u32, hash).is_some() {
            continue;
        }
        // Waits as long as compiling may take: nothing is held meanwhile.
        let wait = policies.limits.compile_timeout;
        let _ = policies.prepare(&tenant, version as u32, hash, &component, config.0, set_of_bits(handles), wait).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::type_only_import;

    #[test]
    fn type_only_imports_match_semver_compatible_versions_only() {
        let ours = env!("AOS_CONTRACT_VERSION");
        assert!(type_only_import(&format!("aos:accounts/types@{ours}")));
        let (minor, _) = ours.rsplit_once('.').expect("major.minor.patch");
        assert!(type_only_import(&format!("aos:accounts/policy-types@{minor}.0")), "an earlier patch");
        assert!(type_only_import(&format!("aos:accounts/policy-types@{minor}.99")), "a later patch");
        assert!(type_only_import("aos:accounts/types@0.4.0"), "a policy built for 0.4 (bindings_0_4)");
        assert!(type_only_import("aos:accounts/policy-types@0.4.9"));
        for other in ["0.3.9", "0.6.0", "0.50.0", "1.5.0", "0.5", "0.5.0-rc.1", "0.5.x"] {
            assert!(!type_only_import(&format!("aos:accounts/types@{other}")), "{other}");
        }
        assert!(!type_only_import(&format!("aos:accounts/hooks@{ours}")), "not a type-only interface");
        assert!(!type_only_import("aos:accounts/types"), "no version");
    }
}
