//! Who may do what. Every tenant-scoped operation starts with [`tenant_access`]: it names the tenant of
//! the call (from the context, never from a payload), resolves the caller into a [`Principal`] with its
//! role or scopes, checks the permission the operation needs, and applies the lifecycle gate
//! (domain.md §3.7.1: suspended tenants read but do not write; terminated and archived do neither).

use crate::aos::accounts::types::{Actor, CallContext, ErrorCode, Role, TenantStatus};
use crate::accounts_facade_driver as facade;
use crate::error::{Result, err, forbidden, invalid, not_found};
use crate::tenant_lifecycle_driver as lifecycle;

/// Whether an operation only reads, or writes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Read,
    Write,
}

/// The caller of a tenant-scoped operation, resolved.
pub enum Principal {
    /// A human member of the tenant, with the role of their membership.
    User { user_id: String, role: Role },
    ApiKey { key_id: String },
    Operator,
    System,
}

/// The outcome of a successful access check.
pub struct Access {
    pub tenant_id: String,
    pub principal: Principal,
    pub status: TenantStatus,
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

/// The least role that holds a permission (the membership predicates of domain.md §1.3).
fn least_role(permission: &str) -> Role {
    match permission {
        "roles:manage" => Role::Owner,
        "users:manage" | "invitations:manage" | "keys:create" | "keys:read" | "keys:revoke" | "billing:read"
        | "memory_pin:admin" => Role::Admin,
        "run:write" | "memory_pin:write" | "memory_pin:delete" => Role::Member,
        _ => Role::Viewer,
    }
}

/// Whether an API key's scopes grant a permission: the permission itself, its family (`keys:*`),
/// `read:*` for any `…:read`, or `admin:*`. Role changes are never a key's to make.
pub fn scopes_allow(scopes: &[String], permission: &str) -> bool {
    if permission == "roles:manage" {
        return false;
    }
    let family = permission.split(':').next().unwrap_or(permission);
    scopes.iter().any(|s| {
        s == permission
            || s == "admin:*"
            || (s.strip_suffix(":*") == Some(family))
            || (s == "read:*" && permission.ends_with(":read"))
    })
}

/// The tenant the call acts on.
pub fn call_tenant(ctx: &CallContext) -> Result<String> {
    ctx.tenant_id.clone().ok_or_else(|| invalid("this operation acts on a tenant and the call names none"))
}

/// Checks that the caller may use `permission` on the call's tenant in `mode`.
pub fn tenant_access(ctx: &CallContext, permission: &str, mode: Mode) -> Result<Access> {
    if matches!(ctx.actor, Actor::Anonymous) {
        return Err(err(ErrorCode::Unauthenticated, "authentication is required"));
    }
    let tenant_id = call_tenant(ctx)?;
    let principal = match &ctx.actor {
        Actor::Anonymous => return Err(err(ErrorCode::Unauthenticated, "authentication is required")),
        Actor::Identity(identity) => {
            let user_id = identity.user_id.clone().ok_or_else(|| forbidden("you are not a member of this tenant"))?;
            let membership = facade::fetch_membership(&tenant_id, &user_id)?
                .ok_or_else(|| forbidden("you are not a member of this tenant"))?;
            if rank(membership.role) < rank(least_role(permission)) {
                return Err(forbidden(format!(
                    "the {} role does not allow {permission}",
                    role_name(membership.role)
                )));
            }
            Principal::User { user_id, role: membership.role }
        }
        Actor::ApiKey(key) => {
            if !scopes_allow(&key.scopes, permission) {
                return Err(forbidden(format!("the API key lacks the scope {permission}")));
            }
            Principal::ApiKey { key_id: key.key_id.clone() }
        }
        Actor::Operator(_) => Principal::Operator,
        Actor::System => Principal::System,
    };
    let status = lifecycle::fetch_tenant_status(&tenant_id)?.ok_or_else(|| not_found("Tenant not found"))?;
    let access = Access { tenant_id, principal, status };
    if !access.is_platform() {
        gate(status, mode)?;
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
    Err(err(
        ErrorCode::LifecycleBlocked,
        format!("the tenant is {}: {what} are not allowed", status_name(status)),
    ))
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
