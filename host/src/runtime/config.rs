//! What a runtime is configured with ([`RuntimeConfig`], the engine's [`Settings`]) and who calls it
//! ([`Caller`]).

use std::time::Duration;

use crate::bindings::Actor;
use crate::cache::CacheConfig;

/// Host settings passed to the engine with every call.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Whether the memory pins interface serves calls (`feature-disabled` otherwise).
    pub memory_pins_enabled: bool,
    /// The support contact's e-mail address.
    pub support_email: String,
    /// When support answers.
    pub support_hours: String,
    /// How soon support answers.
    pub support_response_time: String,
    /// How many tenants one person may own (projects they create).
    pub max_owned_tenants_per_user: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            memory_pins_enabled: true,
            support_email: "support@example.com".into(),
            support_hours: "24/7".into(),
            support_response_time: "Within 24 hours".into(),
            max_owned_tenants_per_user: 10,
        }
    }
}

/// Limits and settings of the runtime.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Wall-clock limit of one engine call, database work included.
    pub call_deadline: Duration,
    /// Linear memory one instance may grow to.
    pub max_memory_bytes: usize,
    /// Engine calls that may run at once (instances in the pool).
    pub max_concurrent_calls: u32,
    /// Engine calls of one tenant that may run at once, reading and writing counted apart (see
    /// [`crate::admission`]), so that one tenant cannot take every instance. With the default of 16 and
    /// 10 tenants per person, one person cannot fill the default pool of 256 either.
    pub max_calls_per_tenant: u32,
    /// How long a reading call waits for its place and an instance before it is refused as `unavailable`
    /// (HTTP 503 with `Retry-After`); writing calls wait until their deadline. Nothing is instantiated
    /// while a call waits.
    pub admission_wait: Duration,
    /// How often a call that lost a serialisation race may run again; it stops earlier when its deadline
    /// would pass (the usual limit).
    pub max_attempts: u32,
    /// Instances of an embedder's own components that may live at once in the runtime's stores (see
    /// [`crate::Runtime::store`]), beside the engine's calls, which never share their places (default 0).
    pub embedder_instances: u32,
    /// Where the compiled components are cached; none (the default) compiles them at every start.
    pub cache: Option<CacheConfig>,
    /// The limits of tenants' own policy components (see [`crate::policy`]).
    pub policies: crate::policy::PolicyLimits,
    /// What the engine is told with every call.
    pub settings: Settings,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            call_deadline: Duration::from_secs(10),
            max_memory_bytes: 64 << 20,
            max_concurrent_calls: 256,
            max_calls_per_tenant: 16,
            admission_wait: Duration::from_secs(2),
            max_attempts: 1000,
            embedder_instances: 0,
            cache: None,
            policies: crate::policy::PolicyLimits::default(),
            settings: Settings::default(),
        }
    }
}

/// Who is calling, as the host established it (from a credential, the command line or a test).
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who: a person, an API key, an operator, the system or nobody.
    pub actor: Actor,
    /// The tenant the call acts on, from the credential (never from a payload).
    pub tenant_id: Option<String>,
    /// The request's id, written to the audit log.
    pub request_id: String,
}

impl Caller {
    /// `actor` acting on `tenant_id`, with a fresh request id.
    pub fn new(actor: Actor, tenant_id: Option<&str>) -> Self {
        Caller { actor, tenant_id: tenant_id.map(str::to_string), request_id: uuid::Uuid::new_v4().to_string() }
    }

    /// The host itself (maintenance), acting on `tenant_id` or on the platform.
    pub fn system(tenant_id: Option<&str>) -> Self {
        Self::new(Actor::System, tenant_id)
    }

    /// The same caller with the request id the front door gave the request.
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = request_id.into();
        self
    }
}
