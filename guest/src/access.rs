//! Who may do what. Every tenant-scoped operation starts with [`tenant_access`]: it names the tenant of
//! the call (from the context, never from a payload), resolves the caller into a [`Principal`] with its
//! role or scopes, checks the permission the operation needs, and applies the lifecycle gate
//! (domain.md §3.7.1: suspended tenants read but do not write; terminated and archived do neither).

use crate::accounts_facade_driver as facade;
use crate::aos::accounts::policy_types::TriggerSet;
use crate::aos::accounts::types::{Actor, ApiKeyPrincipal, CallContext, ErrorCode, Role, TenantStatus, UserStatus};
use crate::error::{Result, err, forbidden, invalid, not_found};
use crate::tenant_lifecycle_driver as lifecycle;

pub use crate::permission::Permission;

/// Whether an operation only reads, or writes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Read,
    Write,
}

/// The caller of a tenant-scoped operation, resolved.
pub enum Principal {
    /// A human member of the tenant, with the role of their membership.
    User {
        user_id: String,
        role: Role,
    },
    ApiKey {
        key_id: String,
    },
    Operator,
    System,
}

/// The outcome of a successful access check.
pub struct Access {
    pub tenant_id: String,
    pub principal: Principal,
    pub status: TenantStatus,
    /// What the tenant's active policy handles (see [`crate::policy_gate`]).
    pub policy: TriggerSet,
}

impl Access {
    pub fn user_id(&self) -> Option<&str> {
        match &self.principal {
            Principal::User { user_id, .. } => Some(user_id),
            _ => None,
        }
    }

    pub fn api_key_id(&self) -> Option<&str> {
        match &self.principal {
            Principal::ApiKey { key_id } => Some(key_id),
            _ => None,
        }
    }

    pub fn role(&self) -> Option<Role> {
        match &self.principal {
            Principal::User { role, .. } => Some(*role),
            _ => None,
        }
    }

    /// Operators and the system act for the platform, above the tenant's roles.
    pub fn is_platform(&self) -> bool {
        matches!(self.principal, Principal::Operator | Principal::System)
    }
}

/// Role order: viewer < member < admin < owner.
pub fn rank(role: Role) -> u8 {
    match role {
        Role::Viewer => 1,
        Role::Member => 2,
        Role::Admin => 3,
        Role::Owner => 4,
    }
}

pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Viewer => "viewer",
        Role::Member => "member",
        Role::Admin => "admin",
        Role::Owner => "owner",
    }
}

pub fn status_name(status: TenantStatus) -> &'static str {
    match status {
        TenantStatus::Active => "active",
        TenantStatus::Suspended => "suspended",
        TenantStatus::Terminated => "terminated",
        TenantStatus::Archived => "archived",
    }
}

impl Permission {
    /// Whether `read:*` grants it: the permission only ever reads. Reading the audit log is a read that
    /// `read:*` does not grant: it came after keys with `read:*` were made (they must not gain it
    /// unasked), and it names members, operators and policy changes; `audit:read` grants it.
    pub fn only_reads(self) -> bool {
        match self {
            Permission::TenantRead
            | Permission::UsersRead
            | Permission::InvitationsRead
            | Permission::KeysRead
            | Permission::BillingRead
            | Permission::LifecycleRead
            | Permission::OnboardingRead
            | Permission::ProfileRead
            | Permission::RunRead
            | Permission::SupportRead
            | Permission::UsageRead
            | Permission::MemoryPinRead
            | Permission::PoliciesRead => true,
            Permission::TenantWrite
            | Permission::UsersManage
            | Permission::RolesManage
            | Permission::InvitationsManage
            | Permission::KeysCreate
            | Permission::KeysRevoke
            | Permission::OnboardingWrite
            | Permission::RunWrite
            | Permission::SupportWrite
            | Permission::MemoryPinWrite
            | Permission::MemoryPinDelete
            | Permission::MemoryPinAdmin
            | Permission::PoliciesManage
            | Permission::AuditRead => false,
        }
    }

    /// The least role of a member that holds it (the membership predicates of the role table).
    pub fn least_role(self) -> Role {
        match self {
            Permission::RolesManage
            | Permission::TenantWrite
            | Permission::PoliciesRead
            | Permission::PoliciesManage => Role::Owner,
            Permission::UsersManage
            | Permission::InvitationsRead
            | Permission::InvitationsManage
            | Permission::KeysCreate
            | Permission::KeysRead
            | Permission::KeysRevoke
            | Permission::BillingRead
            | Permission::MemoryPinAdmin
            | Permission::AuditRead => Role::Admin,
            Permission::RunWrite | Permission::MemoryPinWrite | Permission::MemoryPinDelete => Role::Member,
            Permission::TenantRead
            | Permission::UsersRead
            | Permission::LifecycleRead
            | Permission::OnboardingRead
            | Permission::OnboardingWrite
            | Permission::ProfileRead
            | Permission::RunRead
            | Permission::SupportRead
            | Permission::SupportWrite
            | Permission::UsageRead
            | Permission::MemoryPinRead => Role::Viewer,
        }
    }

    /// Whether an API key may ever hold it. Changing roles and the tenant row are people's and operators';
    /// so is the tenant's policy (the code that judges what keys do, and its configuration).
    pub fn key_may_hold(self) -> bool {
        !matches!(
            self,
            Permission::RolesManage | Permission::TenantWrite | Permission::PoliciesRead | Permission::PoliciesManage
        )
    }

    /// Whether a member with `role` holds it.
    pub fn held_by(self, role: Role) -> bool {
        rank(role) >= rank(self.least_role())
    }
}

/// One scope of an API key, parsed. A scope names a permission, a family (`keys:*`), every read
/// (`read:*`) or everything a key may hold (`admin:*`). Unknown scopes are refused when a key is created,
/// and grant nothing if one is ever found stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    One(Permission),
    Family(&'static str),
    AllReads,
    All,
}

impl Scope {
    pub fn parse(text: &str) -> Option<Scope> {
        match text {
            "admin:*" => return Some(Scope::All),
            "read:*" => return Some(Scope::AllReads),
            _ => {}
        }
        if let Some(family) = text.strip_suffix(":*") {
            return Permission::ALL.iter().find(|p| p.family() == family).map(|p| Scope::Family(p.family()));
        }
        Permission::ALL.iter().find(|p| p.name() == text).map(|p| Scope::One(*p))
    }

    pub fn grants(self, permission: Permission) -> bool {
        if !permission.key_may_hold() {
            return false;
        }
        match self {
            Scope::One(p) => p == permission,
            Scope::Family(f) => permission.family() == f,
            Scope::AllReads => permission.only_reads(),
            Scope::All => true,
        }
    }

    /// The permissions the scope grants.
    pub fn permissions(self) -> impl Iterator<Item = Permission> {
        Permission::ALL.into_iter().filter(move |p| self.grants(*p))
    }
}

/// Whether an API key's scopes grant a permission.
pub fn scopes_allow(scopes: &[String], permission: Permission) -> bool {
    scopes.iter().filter_map(|s| Scope::parse(s)).any(|s| s.grants(permission))
}

/// What a caller may put on a key it creates: only permissions it holds itself (a key's scopes, bounded
/// by its creator's role; a member's role; anything a key may hold for operators and the system).
pub fn may_grant(ctx: &CallContext, access: &Access, permission: Permission) -> bool {
    if !permission.key_may_hold() {
        return false;
    }
    match (&ctx.actor, &access.principal) {
        (_, Principal::Operator | Principal::System) => true,
        (_, Principal::User { role, .. }) => permission.held_by(*role),
        (Actor::ApiKey(key), Principal::ApiKey { .. }) => key_allows(key, permission),
        _ => false,
    }
}

/// A key's own power: its scopes, never more than its creator's current role.
fn key_allows(key: &ApiKeyPrincipal, permission: Permission) -> bool {
    scopes_allow(&key.scopes, permission) && key.creator_role.is_none_or(|role| permission.held_by(role))
}

/// The tenant the call acts on.
pub fn call_tenant(ctx: &CallContext) -> Result<String> {
    ctx.tenant_id.clone().ok_or_else(|| invalid("this operation acts on a tenant and the call names none"))
}

/// Checks that the caller may use `permission` on the call's tenant in `mode`.
pub fn tenant_access(ctx: &CallContext, permission: Permission, mode: Mode) -> Result<Access> {
    if matches!(ctx.actor, Actor::Anonymous) {
        return Err(err(ErrorCode::Unauthenticated, "authentication is required"));
    }
    let tenant_id = call_tenant(ctx)?;
    let principal = match &ctx.actor {
        Actor::Anonymous => return Err(err(ErrorCode::Unauthenticated, "authentication is required")),
        Actor::Identity(identity) => {
            let user_id = identity.user_id.clone().ok_or_else(|| forbidden("you are not a member of this tenant"))?;
            let member = facade::fetch_membership_with_user(&tenant_id, &user_id)?
                .ok_or_else(|| forbidden("you are not a member of this tenant"))?;
            if member.user.status != UserStatus::Active {
                return Err(forbidden("your account is not active"));
            }
            let role = member.membership.role;
            if !permission.held_by(role) {
                return Err(forbidden(format!("the {} role does not allow {}", role_name(role), permission.name())));
            }
            Principal::User { user_id, role }
        }
        Actor::ApiKey(key) => {
            if key.created_by.is_some() && key.creator_role.is_none() {
                return Err(forbidden(
                    "the API key's creator is no longer an active member of the tenant; the key does nothing",
                ));
            }
            if !scopes_allow(&key.scopes, permission) {
                return Err(forbidden(format!("the API key lacks the scope {}", permission.name())));
            }
            if !key_allows(key, permission) {
                return Err(forbidden(format!(
                    "the API key's creator no longer holds {} (a key never does more than its creator's role)",
                    permission.name()
                )));
            }
            Principal::ApiKey { key_id: key.key_id.clone() }
        }
        Actor::Operator(_) => Principal::Operator,
        Actor::System => Principal::System,
    };
    let found = lifecycle::fetch_tenant_status(&tenant_id)?.ok_or_else(|| not_found("Tenant not found"))?;
    let access = Access { tenant_id, principal, status: found.status, policy: found.policy_handles };
    if !access.is_platform() {
        gate(access.status, mode)?;
    }
    Ok(access)
}

/// The lifecycle gate for customers (operators and the system pass it).
pub fn gate(status: TenantStatus, mode: Mode) -> Result<()> {
    let allowed = match mode {
        Mode::Read => matches!(status, TenantStatus::Active | TenantStatus::Suspended),
        Mode::Write => status == TenantStatus::Active,
    };
    if allowed {
        return Ok(());
    }
    let what = if mode == Mode::Read { "reads" } else { "writes" };
    Err(err(ErrorCode::LifecycleBlocked, format!("the tenant is {}: {what} are not allowed", status_name(status))))
}

/// Operators and the system only.
pub fn require_platform(ctx: &CallContext) -> Result<()> {
    match ctx.actor {
        Actor::Operator(_) | Actor::System => Ok(()),
        Actor::Anonymous => Err(err(ErrorCode::Unauthenticated, "authentication is required")),
        _ => Err(forbidden("only operators may do this")),
    }
}

/// How the audit log names a caller who is neither a user nor a key.
pub fn actor_label(ctx: &CallContext) -> Option<String> {
    match &ctx.actor {
        Actor::Operator(op) => Some(format!("operator:{}", op.operator_id)),
        Actor::System => Some("system".to_string()),
        Actor::Identity(id) => Some(format!("identity:{}", id.external_id)),
        Actor::ApiKey(key) => Some(format!("api_key:{}", key.key_id)),
        Actor::Anonymous => None,
    }
}
