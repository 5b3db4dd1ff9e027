//! The rows the drivers read, as sqlx `FromRow` records with the columns they select, and their
//! conversions into the contract's snapshot records. One record per table (or join) serves every
//! snapshot cut from it.

use sqlx::FromRow;

use crate::bindings::{
    ApiKeySnapshot, ApiKeyStatus, BillingPeriod, DriverError, InvitationSnapshot, InvitationStatus, MembershipRow,
    MembershipSnapshot, OauthProvider, PinRow, Plan, PlanQuotas, Role, RunSnapshot, RunStatus, SubscriptionSnapshot,
    SubscriptionStatus, TenantDetailSnapshot, TenantRow, TenantSnapshot, TenantStatus, TicketCategory, TicketPriority,
    TicketSnapshot, TicketStatus, UsageCounters, UsageRecordSnapshot, UsageUnit, UserDetailSnapshot, UserRow,
    UserSnapshot, UserStatus, UserSummary,
};
use crate::db::codec::{Id, Json, Ts, onboarding_state};

/// A tenant row, read with the catalogue fragment `tenant-columns` (`hosts/sql/fragments.sql`): keep the two in step.
#[derive(FromRow)]
pub struct TenantRecord {
    pub id: Id,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    pub clerk_org_id: Option<String>,
    pub plan: Plan,
    pub billing_email: Option<String>,
    pub stripe_customer_id: Option<String>,
    pub max_workers: i32,
    pub max_runs_per_day: i32,
    pub max_concurrent_runs: i32,
    pub max_tokens_per_month: i64,
    pub max_api_keys: i32,
    pub runs_today: i32,
    pub runs_this_month: i32,
    pub tokens_this_month: i64,
    pub last_run_reset_at: Option<Ts>,
    pub status: TenantStatus,
    pub suspended_reason: Option<String>,
    pub is_synthetic: bool,
    pub onboarding_state: i32,
    pub created_at: Ts,
    pub updated_at: Ts,
}

impl TenantRecord {
    fn quotas(&self) -> PlanQuotas {
        PlanQuotas {
            max_workers: self.max_workers,
            max_runs_per_day: self.max_runs_per_day,
            max_concurrent_runs: self.max_concurrent_runs,
            max_tokens_per_month: self.max_tokens_per_month,
            max_api_keys: self.max_api_keys,
        }
    }

    fn usage(&self) -> UsageCounters {
        UsageCounters {
            runs_today: self.runs_today,
            runs_this_month: self.runs_this_month,
            tokens_this_month: self.tokens_this_month,
            last_run_reset_at: self.last_run_reset_at.map(|t| t.0),
        }
    }

    pub fn into_row(self) -> Result<TenantRow, DriverError> {
        Ok(TenantRow {
            quotas: self.quotas(),
            usage: self.usage(),
            onboarding_state: onboarding_state(self.onboarding_state)?,
            id: self.id.into(),
            name: self.name,
            slug: self.slug,
            description: self.description,
            external_org_id: self.clerk_org_id,
            plan: self.plan,
            billing_email: self.billing_email,
            stripe_customer_id: self.stripe_customer_id,
            status: self.status,
            suspended_reason: self.suspended_reason,
            is_synthetic: self.is_synthetic,
            created_at: self.created_at.0,
            updated_at: self.updated_at.0,
        })
    }

    pub fn into_snapshot(self) -> TenantSnapshot {
        TenantSnapshot {
            id: self.id.into(),
            name: self.name,
            slug: self.slug,
            status: self.status,
            plan: self.plan,
            created_at: self.created_at.0,
            updated_at: Some(self.updated_at.0),
        }
    }

    pub fn into_detail(self) -> Result<TenantDetailSnapshot, DriverError> {
        let state = onboarding_state(self.onboarding_state)?;
        Ok(TenantDetailSnapshot {
            quotas: self.quotas(),
            usage: self.usage(),
            onboarding_state: state,
            onboarding_complete: self.onboarding_state >= 4,
            id: self.id.into(),
            name: self.name,
            slug: self.slug,
            description: self.description,
            status: self.status,
            plan: self.plan,
            created_at: self.created_at.0,
            updated_at: Some(self.updated_at.0),
        })
    }
}

/// A user row, read with the catalogue fragment `user-columns` (`hosts/sql/fragments.sql`): keep the two in step.
#[derive(FromRow)]
pub struct UserRecord {
    pub id: Id,
    pub clerk_user_id: String,
    pub email: String,
    pub name: Option<String>,
    pub avatar_url: Option<String>,
    pub default_tenant_id: Option<Id>,
    pub status: UserStatus,
    pub oauth_provider: Option<OauthProvider>,
    pub email_verified: bool,
    pub preferences_json: Option<String>,
    pub created_at: Ts,
    pub updated_at: Ts,
    pub last_login_at: Option<Ts>,
}

impl From<UserRecord> for UserRow {
    fn from(u: UserRecord) -> Self {
        UserRow {
            id: u.id.into(),
            external_id: u.clerk_user_id,
            email: u.email,
            name: u.name,
            avatar_url: u.avatar_url,
            default_tenant_id: u.default_tenant_id.map(Into::into),
            status: u.status,
            oauth_provider: u.oauth_provider,
            email_verified: u.email_verified,
            preferences: u.preferences_json,
            created_at: u.created_at.0,
            updated_at: u.updated_at.0,
            last_login_at: u.last_login_at.map(|t| t.0),
        }
    }
}

impl From<UserRecord> for UserSummary {
    fn from(u: UserRecord) -> Self {
        UserSummary {
            id: u.id.into(),
            email: u.email,
            name: u.name,
            avatar_url: u.avatar_url,
            default_tenant_id: u.default_tenant_id.map(Into::into),
            status: u.status,
        }
    }
}

/// A user joined with their membership of one tenant, read with the catalogue fragment `member-columns`
/// (`hosts/sql/fragments.sql`): keep the two in step.
#[derive(FromRow)]
pub struct MemberRecord {
    pub id: Id,
    pub email: String,
    pub name: Option<String>,
    pub avatar_url: Option<String>,
    pub status: UserStatus,
    pub oauth_provider: Option<OauthProvider>,
    pub email_verified: bool,
    pub created_at: Ts,
    pub updated_at: Ts,
    pub last_login_at: Option<Ts>,
    pub membership_id: Id,
    pub role: Role,
    pub membership_created_at: Ts,
    pub invited_by: Option<Id>,
}

impl From<MemberRecord> for UserSnapshot {
    fn from(m: MemberRecord) -> Self {
        UserSnapshot {
            id: m.id.into(),
            email: m.email,
            name: m.name,
            status: m.status,
            role: m.role,
            created_at: m.created_at.0,
            last_login_at: m.last_login_at.map(|t| t.0),
        }
    }
}

impl From<MemberRecord> for UserDetailSnapshot {
    fn from(m: MemberRecord) -> Self {
        UserDetailSnapshot {
            id: m.id.into(),
            email: m.email,
            name: m.name,
            avatar_url: m.avatar_url,
            status: m.status,
            role: m.role,
            email_verified: m.email_verified,
            oauth_provider: m.oauth_provider,
            membership_created_at: m.membership_created_at.0,
            invited_by: m.invited_by.map(Into::into),
            created_at: m.created_at.0,
            updated_at: Some(m.updated_at.0),
            last_login_at: m.last_login_at.map(|t| t.0),
        }
    }
}

impl From<MemberRecord> for MembershipSnapshot {
    fn from(m: MemberRecord) -> Self {
        MembershipSnapshot {
            membership_id: m.membership_id.into(),
            user_id: m.id.into(),
            email: m.email,
            name: m.name,
            role: m.role,
            created_at: m.membership_created_at.0,
        }
    }
}

/// A membership row, read with the catalogue fragment `membership-columns` (`hosts/sql/fragments.sql`): keep the two in step.
#[derive(FromRow)]
pub struct MembershipRecord {
    pub id: Id,
    pub tenant_id: Id,
    pub user_id: Id,
    pub role: Role,
    pub invited_by: Option<Id>,
    pub created_at: Ts,
}

impl From<MembershipRecord> for MembershipRow {
    fn from(m: MembershipRecord) -> Self {
        MembershipRow {
            id: m.id.into(),
            tenant_id: m.tenant_id.into(),
            user_id: m.user_id.into(),
            role: m.role,
            invited_by: m.invited_by.map(Into::into),
            created_at: m.created_at.0,
        }
    }
}

/// An invitation row, read with the catalogue fragment `invitation-columns` (`hosts/sql/fragments.sql`): keep the two in step.
#[derive(FromRow)]
pub struct InvitationRecord {
    pub id: Id,
    pub tenant_id: Id,
    pub email: String,
    pub role: Role,
    pub status: InvitationStatus,
    pub invited_by: Option<Id>,
    pub created_at: Ts,
    pub expires_at: Ts,
    pub accepted_at: Option<Ts>,
}

impl From<InvitationRecord> for InvitationSnapshot {
    fn from(i: InvitationRecord) -> Self {
        InvitationSnapshot {
            id: i.id.into(),
            tenant_id: i.tenant_id.into(),
            email: i.email,
            role: i.role,
            status: i.status,
            invited_by: i.invited_by.map(Into::into),
            created_at: i.created_at.0,
            expires_at: i.expires_at.0,
            accepted_at: i.accepted_at.map(|t| t.0),
        }
    }
}

/// A support ticket row, read with the catalogue fragment `ticket-columns` (`hosts/sql/fragments.sql`): keep the two in step.
#[derive(FromRow)]
pub struct TicketRecord {
    pub id: Id,
    pub tenant_id: Id,
    pub user_id: Id,
    pub subject: String,
    pub description: String,
    pub category: TicketCategory,
    pub priority: TicketPriority,
    pub status: TicketStatus,
    pub resolution: Option<String>,
    pub created_at: Ts,
    pub updated_at: Ts,
    pub resolved_at: Option<Ts>,
}

impl From<TicketRecord> for TicketSnapshot {
    fn from(t: TicketRecord) -> Self {
        TicketSnapshot {
            id: t.id.into(),
            tenant_id: t.tenant_id.into(),
            user_id: t.user_id.into(),
            subject: t.subject,
            description: t.description,
            category: t.category,
            priority: t.priority,
            status: t.status,
            resolution: t.resolution,
            created_at: t.created_at.0,
            updated_at: t.updated_at.0,
            resolved_at: t.resolved_at.map(|t| t.0),
        }
    }
}

#[derive(FromRow)]
pub struct SubscriptionRecord {
    pub plan: Plan,
    pub status: SubscriptionStatus,
    pub billing_period: BillingPeriod,
    pub current_period_start: Option<Ts>,
    pub current_period_end: Option<Ts>,
}

impl From<SubscriptionRecord> for SubscriptionSnapshot {
    fn from(s: SubscriptionRecord) -> Self {
        SubscriptionSnapshot {
            plan: s.plan,
            status: s.status,
            billing_period: s.billing_period,
            current_period_start: s.current_period_start.map(|t| t.0),
            current_period_end: s.current_period_end.map(|t| t.0),
        }
    }
}

/// An API key row, read with the catalogue fragment `api-key-columns` (`hosts/sql/fragments.sql`): keep the two in step.
#[derive(FromRow)]
pub struct ApiKeyRecord {
    pub id: Id,
    pub tenant_id: Id,
    pub user_id: Option<Id>,
    pub name: String,
    pub key_prefix: String,
    pub status: ApiKeyStatus,
    pub permissions_json: String,
    pub allowed_workers_json: Option<String>,
    pub rate_limit_rpm: Option<i32>,
    pub max_concurrent_runs: Option<i32>,
    pub expires_at: Option<Ts>,
    pub revoked_at: Option<Ts>,
    pub revoked_reason: Option<String>,
    pub last_used_at: Option<Ts>,
    pub total_requests: i64,
    pub created_at: Ts,
}

impl From<ApiKeyRecord> for ApiKeySnapshot {
    fn from(k: ApiKeyRecord) -> Self {
        ApiKeySnapshot {
            id: k.id.into(),
            tenant_id: k.tenant_id.into(),
            user_id: k.user_id.map(Into::into),
            name: k.name,
            key_prefix: k.key_prefix,
            status: k.status,
            permissions: serde_json::from_str(&k.permissions_json).unwrap_or_default(),
            allowed_workers: k.allowed_workers_json.and_then(|w| serde_json::from_str(&w).ok()),
            rate_limit_rpm: k.rate_limit_rpm,
            max_concurrent_runs: k.max_concurrent_runs,
            expires_at: k.expires_at.map(|t| t.0),
            revoked_at: k.revoked_at.map(|t| t.0),
            revoked_reason: k.revoked_reason,
            last_used_at: k.last_used_at.map(|t| t.0),
            total_requests: k.total_requests,
            created_at: k.created_at.0,
        }
    }
}

/// A worker run row, read with the catalogue fragment `run-columns` (`hosts/sql/fragments.sql`): keep the two in step.
#[derive(FromRow)]
pub struct RunRecord {
    pub id: Id,
    pub tenant_id: Id,
    pub worker_id: String,
    pub api_key_id: Option<Id>,
    pub user_id: Option<Id>,
    pub task: String,
    pub input_json: Option<String>,
    pub status: RunStatus,
    pub success: Option<bool>,
    pub error: Option<String>,
    pub output_json: Option<String>,
    pub replay_token_json: Option<String>,
    pub total_tokens: Option<i64>,
    pub total_latency_ms: Option<i64>,
    pub stages_completed: Option<i32>,
    pub recoveries: i32,
    pub policy_violations: i32,
    pub cost_cents: Option<i64>,
    pub created_at: Ts,
    pub completed_at: Option<Ts>,
}

impl RunRecord {
    /// What the row weighs in a page (see [`crate::db::cursor::collect_bounded`]).
    pub fn size(&self) -> usize {
        let text = |t: &Option<String>| t.as_ref().map_or(0, String::len);
        self.task.len()
            + text(&self.input_json)
            + text(&self.output_json)
            + text(&self.replay_token_json)
            + text(&self.error)
    }
}

impl From<RunRecord> for RunSnapshot {
    fn from(r: RunRecord) -> Self {
        RunSnapshot {
            id: r.id.into(),
            tenant_id: r.tenant_id.into(),
            worker_id: r.worker_id,
            api_key_id: r.api_key_id.map(Into::into),
            user_id: r.user_id.map(Into::into),
            task: r.task,
            input_json: r.input_json,
            status: r.status,
            success: r.success,
            error: r.error,
            output_json: r.output_json,
            replay_token_json: r.replay_token_json,
            total_tokens: r.total_tokens,
            total_latency_ms: r.total_latency_ms,
            stages_completed: r.stages_completed,
            recoveries: r.recoveries,
            policy_violations: r.policy_violations,
            cost_cents: r.cost_cents,
            created_at: r.created_at.0,
            completed_at: r.completed_at.map(|t| t.0),
        }
    }
}

/// A usage record row, read with the catalogue fragment `usage-columns` (`hosts/sql/fragments.sql`): keep the two in step.
#[derive(FromRow)]
pub struct UsageRecordRecord {
    pub id: Id,
    pub tenant_id: Id,
    pub meter_name: String,
    pub amount: i64,
    pub unit: UsageUnit,
    pub period_start: Ts,
    pub period_end: Ts,
    pub worker_id: Option<String>,
    pub api_key_id: Option<Id>,
    pub metadata_json: Option<String>,
    pub recorded_at: Ts,
}

impl From<UsageRecordRecord> for UsageRecordSnapshot {
    fn from(u: UsageRecordRecord) -> Self {
        UsageRecordSnapshot {
            id: u.id.into(),
            tenant_id: u.tenant_id.into(),
            meter_name: u.meter_name,
            amount: u.amount,
            unit: u.unit,
            period_start: u.period_start.0,
            period_end: u.period_end.0,
            worker_id: u.worker_id,
            api_key_id: u.api_key_id.map(Into::into),
            metadata: u.metadata_json,
            recorded_at: u.recorded_at.0,
        }
    }
}

/// A memory pin row, read with the catalogue fragment `pin-columns` (`hosts/sql/fragments.sql`): keep the two in step.
#[derive(FromRow)]
pub struct PinRecord {
    pub id: i64,
    pub tenant_id: Id,
    pub key: String,
    pub value: Json,
    pub source: String,
    pub created_at: Ts,
    pub updated_at: Ts,
    pub ttl_seconds: Option<i32>,
    pub expires_at: Option<Ts>,
}

impl PinRecord {
    /// What the row weighs in a page (see [`crate::db::cursor::collect_bounded`]).
    pub fn size(&self) -> usize {
        self.value.0.len() + self.key.len() + self.source.len()
    }
}

impl From<PinRecord> for PinRow {
    fn from(p: PinRecord) -> Self {
        PinRow {
            id: p.id,
            tenant_id: p.tenant_id.into(),
            key: p.key,
            value: p.value.0,
            source: p.source,
            created_at: p.created_at.0,
            updated_at: p.updated_at.0,
            ttl_seconds: p.ttl_seconds.map(|t| t as u32),
            expires_at: p.expires_at.map(|t| t.0),
        }
    }
}

/// An audit log row, read with the catalogue fragment `audit-columns` (`hosts/sql/fragments.sql`): keep the two in step.
#[derive(FromRow)]
pub struct AuditRecord {
    pub id: Id,
    pub user_id: Option<Id>,
    pub api_key_id: Option<Id>,
    pub actor: Option<String>,
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<String>,
    pub request_id: Option<String>,
    pub old_value_json: Option<String>,
    pub new_value_json: Option<String>,
    pub created_at: Ts,
}

impl AuditRecord {
    /// What the row weighs in a page (see [`crate::db::cursor::collect_bounded`]).
    pub fn size(&self) -> usize {
        let text = |t: &Option<String>| t.as_ref().map_or(0, String::len);
        self.action.len()
            + self.resource_type.len()
            + text(&self.actor)
            + text(&self.resource_id)
            + text(&self.old_value_json)
            + text(&self.new_value_json)
    }
}

impl From<AuditRecord> for crate::bindings::AuditRecord {
    fn from(r: AuditRecord) -> Self {
        crate::bindings::AuditRecord {
            id: r.id.into(),
            user_id: r.user_id.map(Into::into),
            api_key_id: r.api_key_id.map(Into::into),
            actor: r.actor,
            action: r.action,
            resource_type: r.resource_type,
            resource_id: r.resource_id,
            request_id: r.request_id,
            old_value: r.old_value_json,
            new_value: r.new_value_json,
            created_at: r.created_at.0,
        }
    }
}

/// A memory access log row, read with the catalogue fragment `access-columns` (`hosts/sql/fragments.sql`): keep the two in step.
#[derive(FromRow)]
pub struct AccessRecord {
    pub id: i64,
    pub ts: Ts,
    pub operation: crate::bindings::MemoryAuditOperation,
    pub key: String,
    pub agent_id: Option<String>,
    pub source: Option<String>,
    pub latency_ms: Option<f64>,
    pub old_value_hash: Option<String>,
    pub new_value_hash: Option<String>,
}

impl AccessRecord {
    /// What the row weighs in a page (see [`crate::db::cursor::collect_bounded`]).
    pub fn size(&self) -> usize {
        let text = |t: &Option<String>| t.as_ref().map_or(0, String::len);
        self.key.len() + text(&self.agent_id) + text(&self.source) + 128
    }
}

impl From<AccessRecord> for crate::bindings::AccessRecord {
    fn from(r: AccessRecord) -> Self {
        crate::bindings::AccessRecord {
            id: r.id,
            at: r.ts.0,
            operation: r.operation,
            key: r.key,
            agent_id: r.agent_id,
            source: r.source,
            latency_ms: r.latency_ms,
            old_value_hash: r.old_value_hash,
            new_value_hash: r.new_value_hash,
        }
    }
}
