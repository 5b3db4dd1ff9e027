//! Who may do what. Every operation starts by checking its caller against its description in
//! [`crate::operations`] ([`check`] and its siblings, one per kind of description). An operation on a
//! tenant names the tenant of the call (from the context, never from a payload), resolves the caller into
//! a [`Principal`] with its role or scopes, checks the permission the operation needs, and applies the
//! lifecycle gate the description names (suspended tenants read but do not write; terminated and archived
//! do neither).

use crate::accounts_facade_driver as facade;
use crate::aos::accounts::policy_types::TriggerSet;
use crate::aos::accounts::types::{
    Actor, ApiKeyPrincipal, CallContext, EngineError, ErrorCode, IdentityPrincipal, Role, TenantStatus, UserStatus,
};
use crate::error::{Result, err, forbidden, invalid, not_found};
use crate::operations::{Access as Rule, Gate, Operation};
use crate::tenant_lifecycle_driver as lifecycle;

pub use crate::permission::Permission;

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

/// Checks the caller of `op`, an operation on the call's tenant, against its description and resolves
/// who they are there: `Tenant` and `TenantMembers` operations check the permission and the lifecycle
/// gate they name; `Platform` operations admit operators and the system only.
pub fn check(ctx: &CallContext, op: &Operation) -> Result<Access> {
    match op.access {
        Rule::Tenant { permission, gate } => tenant_access(ctx, permission, gate),
        Rule::TenantMembers { permission, gate } => {
            let access = tenant_access(ctx, permission, gate)?;
            if access.is_platform() {
                return Err(forbidden(MEMBERS_ONLY));
            }
            Ok(access)
        }
        Rule::Platform => {
            require_platform(ctx)?;
            resolve(call_tenant(ctx)?, platform_principal(ctx))
        }
        Rule::PlatformOrTenant { .. } | Rule::Person | Rule::Public => {
            Err(misdescribed(op, "acting on the call's tenant"))
        }
    }
}

/// Checks the caller of `op`, an operation of operators and the system only (`Platform`), before it
/// resolves anything itself.
pub fn check_platform(ctx: &CallContext, op: &Operation) -> Result<()> {
    match op.access {
        Rule::Platform => require_platform(ctx),
        _ => Err(misdescribed(op, "platform-only")),
    }
}

/// Checks the caller of `op`, a `PlatformOrTenant` operation: a call naming a tenant is checked as a
/// `Tenant` operation and gives its access; a call naming none is platform-wide, operators and the system
/// only, and gives none.
pub fn check_platform_or_tenant(ctx: &CallContext, op: &Operation) -> Result<Option<Access>> {
    let Rule::PlatformOrTenant { permission, gate } = op.access else {
        return Err(misdescribed(op, "platform-wide or on a tenant"));
    };
    match ctx.tenant_id {
        Some(_) => tenant_access(ctx, permission, gate).map(Some),
        None => require_platform(ctx).map(|()| None),
    }
}

/// Checks the caller of `op`, a `Person` operation: the signed-in person, or `refusal` for anyone else
/// (each operation says in its own words why it needs a person).
pub fn check_person<'a>(
    ctx: &'a CallContext,
    op: &Operation,
    refusal: impl FnOnce() -> EngineError,
) -> Result<&'a IdentityPrincipal> {
    if op.access != Rule::Person {
        return Err(misdescribed(op, "a person's own"));
    }
    match &ctx.actor {
        Actor::Identity(identity) => Ok(identity),
        _ => Err(refusal()),
    }
}

/// Checks `op`, an operation anyone may call (`Public`): there is no caller to check.
pub fn check_public(op: &Operation) -> Result<()> {
    if op.access != Rule::Public {
        return Err(misdescribed(op, "public"));
    }
    Ok(())
}

/// Why an operation that members alone may call refuses operators and the system (only `policies` has
/// such operations: a tenant's own code is its owners' alone).
const MEMBERS_ONLY: &str =
    "operators may deactivate a tenant's policy, but only its owners install, activate or run one";

/// The engine's own bug: an operation checked as a kind its description does not say it is.
fn misdescribed(op: &Operation, checked_as: &str) -> EngineError {
    err(
        ErrorCode::Internal,
        format!("{}.{} was checked as {checked_as}, which its description does not say it is", op.interface, op.name),
    )
}

/// Checks that the caller may use `permission` on the call's tenant through the lifecycle gate `needed`.
fn tenant_access(ctx: &CallContext, permission: Permission, needed: Gate) -> Result<Access> {
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
            role_allows(role, permission)?;
            Principal::User { user_id, role }
        }
        Actor::ApiKey(key) => key_principal(key, permission)?,
        Actor::Operator(_) => Principal::Operator,
        Actor::System => Principal::System,
    };
    let access = resolve(tenant_id, principal)?;
    if !access.is_platform() {
        gate(access.status, needed)?;
    }
    Ok(access)
}

/// A member's role against the permission an operation needs.
fn role_allows(role: Role, permission: Permission) -> Result<()> {
    if permission.held_by(role) {
        Ok(())
    } else {
        Err(forbidden(format!("the {} role does not allow {}", role_name(role), permission.name())))
    }
}

/// An API key against the permission an operation needs: its scopes, bounded by its creator's role.
fn key_principal(key: &ApiKeyPrincipal, permission: Permission) -> Result<Principal> {
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
    Ok(Principal::ApiKey { key_id: key.key_id.clone() })
}

/// The principal of an operator or the system (once `require_platform` has admitted the caller).
fn platform_principal(ctx: &CallContext) -> Principal {
    match ctx.actor {
        Actor::System => Principal::System,
        _ => Principal::Operator,
    }
}

/// The access of `principal` to the tenant `tenant_id`, which must exist.
fn resolve(tenant_id: String, principal: Principal) -> Result<Access> {
    let found = lifecycle::fetch_tenant_status(&tenant_id)?.ok_or_else(|| not_found("Tenant not found"))?;
    Ok(Access { tenant_id, principal, status: found.status, policy: found.policy_handles })
}

/// The lifecycle gate for customers (operators and the system pass it): a suspended tenant reads but
/// does not write; a terminated or archived one does neither.
pub fn gate(status: TenantStatus, needed: Gate) -> Result<()> {
    let allowed = match needed {
        Gate::Read => matches!(status, TenantStatus::Active | TenantStatus::Suspended),
        Gate::Write => status == TenantStatus::Active,
    };
    if allowed {
        return Ok(());
    }
    let what = if needed == Gate::Read { "reads" } else { "writes" };
    Err(err(ErrorCode::LifecycleBlocked, format!("the tenant is {}: {what} are not allowed", status_name(status))))
}

/// Operators and the system only.
fn require_platform(ctx: &CallContext) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operations::{self as ops, ALL};
    use crate::test_support::{access, ctx, key, member, operator, person};

    fn refusal<T>(result: Result<T>) -> (ErrorCode, String) {
        let e = result.err().expect("refused");
        (e.code, e.message)
    }

    #[test]
    fn roles_are_ordered_and_each_holds_what_the_roles_below_hold() {
        let roles = [Role::Viewer, Role::Member, Role::Admin, Role::Owner];
        assert!(roles.windows(2).all(|w| rank(w[0]) < rank(w[1])));
        for p in Permission::ALL {
            assert!(p.held_by(Role::Owner), "owners hold {}", p.name());
            for w in roles.windows(2) {
                assert!(!p.held_by(w[0]) || p.held_by(w[1]), "{} held by a lower role only", p.name());
            }
        }
        assert!(Permission::RunWrite.held_by(Role::Member) && !Permission::RunWrite.held_by(Role::Viewer));
        assert!(Permission::KeysCreate.held_by(Role::Admin) && !Permission::KeysCreate.held_by(Role::Member));
        assert!(!Permission::RolesManage.held_by(Role::Admin));
        assert!(!Permission::PoliciesRead.held_by(Role::Admin), "a policy's configuration is its owners'");
        assert!(Permission::TenantRead.held_by(Role::Viewer));
    }

    #[test]
    fn a_role_short_of_the_permission_is_named_in_the_refusal() {
        assert!(role_allows(Role::Member, Permission::RunWrite).is_ok());
        assert_eq!(
            refusal(role_allows(Role::Viewer, Permission::RunWrite)),
            (ErrorCode::Forbidden, "the viewer role does not allow run:write".to_string())
        );
    }

    #[test]
    fn keys_never_hold_roles_the_tenant_row_or_policies_and_admin_all_grants_the_rest() {
        let never: Vec<_> = Permission::ALL.into_iter().filter(|p| !p.key_may_hold()).collect();
        assert_eq!(
            never,
            [Permission::TenantWrite, Permission::RolesManage, Permission::PoliciesRead, Permission::PoliciesManage]
        );
        // `admin:*` grants everything else.
        for p in Permission::ALL {
            assert_eq!(Scope::All.grants(p), p.key_may_hold(), "{}", p.name());
        }
    }

    #[test]
    fn scopes_parse_to_a_permission_a_family_or_a_wildcard() {
        assert_eq!(Scope::parse("admin:*"), Some(Scope::All));
        assert_eq!(Scope::parse("read:*"), Some(Scope::AllReads));
        assert_eq!(Scope::parse("keys:*"), Some(Scope::Family("keys")));
        assert_eq!(Scope::parse("memory_pin:*"), Some(Scope::Family("memory_pin")));
        assert_eq!(Scope::parse("memory_pin:write"), Some(Scope::One(Permission::MemoryPinWrite)));
        for unknown in ["", "*", "admin", "keys:delete", "nope:*", "Keys:read", " keys:read", "keys:read ", "read"] {
            assert_eq!(Scope::parse(unknown), None, "{unknown:?}");
        }
    }

    #[test]
    fn read_all_grants_reads_but_not_the_audit_log_nor_policies() {
        let reads: Vec<_> = Scope::AllReads.permissions().collect();
        assert!(reads.contains(&Permission::TenantRead) && reads.contains(&Permission::MemoryPinRead));
        assert!(reads.iter().all(|p| p.only_reads()));
        assert!(!Scope::AllReads.grants(Permission::AuditRead), "audit:read is asked for by name");
        assert!(!Scope::AllReads.grants(Permission::PoliciesRead), "a read, but never a key's");
        assert!(!Scope::AllReads.grants(Permission::RunWrite));
    }

    #[test]
    fn a_family_grants_its_own_permissions_only() {
        let keys: Vec<_> = Scope::Family("keys").permissions().collect();
        assert_eq!(keys, [Permission::KeysCreate, Permission::KeysRead, Permission::KeysRevoke]);
        // Scopes naming what no key holds parse (so they are not "unknown") but grant nothing.
        assert_eq!(Scope::parse("policies:*").map(|s| s.permissions().count()), Some(0));
        assert_eq!(Scope::parse("roles:manage").map(|s| s.permissions().count()), Some(0));
    }

    #[test]
    fn stored_scopes_that_are_unknown_grant_nothing() {
        let scopes = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(scopes_allow(&scopes(&["bogus", "run:*"]), Permission::RunWrite));
        assert!(!scopes_allow(&scopes(&["bogus", "run:everything"]), Permission::RunRead));
        assert!(!scopes_allow(&[], Permission::TenantRead));
    }

    #[test]
    fn a_key_never_does_more_than_its_creators_current_role() {
        let bounded = key(&["admin:*"], Some("u-1"), Some(Role::Member));
        assert!(key_allows(&bounded, Permission::RunWrite));
        assert!(!key_allows(&bounded, Permission::KeysCreate));
        let operators = key(&["admin:*"], None, None);
        assert!(key_allows(&operators, Permission::KeysCreate), "an operator's key is bounded by its scopes only");
    }

    #[test]
    fn a_key_is_refused_for_its_orphan_creator_a_missing_scope_or_its_creators_role() {
        let orphan = key(&["admin:*"], Some("u-1"), None);
        let (code, message) = refusal(key_principal(&orphan, Permission::TenantRead));
        assert_eq!(code, ErrorCode::Forbidden);
        assert!(message.contains("creator is no longer an active member"), "{message}");

        let reader = key(&["read:*"], Some("u-1"), Some(Role::Owner));
        assert_eq!(
            refusal(key_principal(&reader, Permission::KeysCreate)).1,
            "the API key lacks the scope keys:create"
        );

        let bounded = key(&["keys:*"], Some("u-1"), Some(Role::Member));
        let (_, message) = refusal(key_principal(&bounded, Permission::KeysCreate));
        assert!(message.starts_with("the API key's creator no longer holds keys:create"), "{message}");

        assert!(
            matches!(key_principal(&reader, Permission::TenantRead), Ok(Principal::ApiKey { key_id }) if key_id == "key-1")
        );
    }

    #[test]
    fn the_lifecycle_gate_lets_a_suspended_tenant_read_but_not_write() {
        assert!(gate(TenantStatus::Active, Gate::Write).is_ok());
        assert!(gate(TenantStatus::Suspended, Gate::Read).is_ok());
        assert_eq!(
            refusal(gate(TenantStatus::Suspended, Gate::Write)),
            (ErrorCode::LifecycleBlocked, "the tenant is suspended: writes are not allowed".to_string())
        );
        for closed in [TenantStatus::Terminated, TenantStatus::Archived] {
            let (code, message) = refusal(gate(closed, Gate::Read));
            assert_eq!(code, ErrorCode::LifecycleBlocked);
            assert!(message.ends_with("reads are not allowed"), "{message}");
        }
    }

    #[test]
    fn platform_operations_admit_operators_and_the_system_only() {
        let create = &ops::tenants::CREATE_TENANT;
        assert!(check_platform(&ctx(operator(), None), create).is_ok());
        assert!(check_platform(&ctx(Actor::System, None), create).is_ok());
        assert_eq!(refusal(check_platform(&ctx(Actor::Anonymous, None), create)).0, ErrorCode::Unauthenticated);
        assert_eq!(
            refusal(check_platform(&ctx(Actor::Identity(person(Some("u-1"))), Some("t-1")), create)),
            (ErrorCode::Forbidden, "only operators may do this".to_string())
        );
        let with_key = ctx(Actor::ApiKey(key(&["admin:*"], None, None)), Some("t-1"));
        assert_eq!(refusal(check(&with_key, &ops::tenants::UPDATE_PLAN)).0, ErrorCode::Forbidden);
    }

    #[test]
    fn tenant_operations_refuse_the_anonymous_first_and_need_a_tenant() {
        let get = &ops::tenants::GET_TENANT;
        assert_eq!(
            refusal(check(&ctx(Actor::Anonymous, Some("t-1")), get)),
            (ErrorCode::Unauthenticated, "authentication is required".to_string())
        );
        let (code, message) = refusal(check(&ctx(operator(), None), get));
        assert_eq!(code, ErrorCode::InvalidArgument);
        assert!(message.contains("the call names none"), "{message}");
        assert_eq!(refusal(check(&ctx(operator(), None), &ops::tenants::UPDATE_PLAN)).0, ErrorCode::InvalidArgument);
    }

    #[test]
    fn platform_or_tenant_operations_without_a_tenant_are_platform_wide() {
        let cleanup = &ops::memory_pins::CLEANUP_EXPIRED;
        assert!(matches!(check_platform_or_tenant(&ctx(operator(), None), cleanup), Ok(None)));
        assert!(matches!(check_platform_or_tenant(&ctx(Actor::System, None), cleanup), Ok(None)));
        let member = ctx(Actor::Identity(person(Some("u-1"))), None);
        assert_eq!(refusal(check_platform_or_tenant(&member, cleanup)).1, "only operators may do this");
        let anonymous = ctx(Actor::Anonymous, Some("t-1"));
        assert_eq!(refusal(check_platform_or_tenant(&anonymous, cleanup)).0, ErrorCode::Unauthenticated);
    }

    #[test]
    fn person_operations_give_the_person_or_the_operations_own_refusal() {
        let create = &ops::accounts::CREATE_PROJECT;
        let signed_in = ctx(Actor::Identity(person(None)), None);
        assert_eq!(
            check_person(&signed_in, create, || forbidden("no")).map(|p| p.external_id.as_str()).ok(),
            Some("idp|ann")
        );
        let operator_call = ctx(operator(), None);
        let refused = check_person(&operator_call, create, || invalid("a person, please"));
        assert_eq!(refusal(refused), (ErrorCode::InvalidArgument, "a person, please".to_string()));
    }

    #[test]
    fn an_operation_checked_as_another_kind_is_the_engines_own_error() {
        let someone = ctx(operator(), Some("t-1"));
        let (code, message) = refusal(check(&someone, &ops::accounts::CREATE_PROJECT));
        assert_eq!(code, ErrorCode::Internal);
        assert!(message.starts_with("accounts.create-project was checked as"), "{message}");
        assert_eq!(refusal(check_platform(&someone, &ops::tenants::GET_TENANT)).0, ErrorCode::Internal);
        assert_eq!(refusal(check_platform_or_tenant(&someone, &ops::tenants::GET_TENANT)).0, ErrorCode::Internal);
        assert_eq!(
            refusal(check_person(&someone, &ops::tenants::GET_TENANT, || forbidden("no"))).0,
            ErrorCode::Internal
        );
        assert_eq!(refusal(check_public(&ops::tenants::GET_TENANT)).0, ErrorCode::Internal);
        assert!(check_public(&ops::accounts::GET_SUPPORT_CONTACT).is_ok());
    }

    #[test]
    fn a_caller_puts_on_a_key_only_what_it_holds() {
        let member_call = ctx(Actor::Identity(person(Some("u-1"))), Some("t-1"));
        let as_member = access(member(Role::Member));
        assert!(may_grant(&member_call, &as_member, Permission::RunWrite));
        assert!(!may_grant(&member_call, &as_member, Permission::KeysCreate));

        let operator_call = ctx(operator(), Some("t-1"));
        assert!(may_grant(&operator_call, &access(Principal::Operator), Permission::KeysCreate));
        assert!(!may_grant(&operator_call, &access(Principal::Operator), Permission::RolesManage));

        let key_call = ctx(Actor::ApiKey(key(&["run:write"], Some("u-1"), Some(Role::Owner))), Some("t-1"));
        let as_key = access(Principal::ApiKey { key_id: "key-1".into() });
        assert!(may_grant(&key_call, &as_key, Permission::RunWrite));
        assert!(!may_grant(&key_call, &as_key, Permission::RunRead), "its scopes, not its creator's role");
    }

    #[test]
    fn the_audit_log_names_each_kind_of_caller() {
        assert_eq!(actor_label(&ctx(operator(), None)).as_deref(), Some("operator:op-1"));
        assert_eq!(actor_label(&ctx(Actor::System, None)).as_deref(), Some("system"));
        assert_eq!(actor_label(&ctx(Actor::Identity(person(None)), None)).as_deref(), Some("identity:idp|ann"));
        assert_eq!(actor_label(&ctx(Actor::ApiKey(key(&[], None, None)), None)).as_deref(), Some("api_key:key-1"));
        assert_eq!(actor_label(&ctx(Actor::Anonymous, None)), None);
    }

    // The descriptions against what permissions mean for keys and roles.

    #[test]
    fn read_all_never_passes_a_write_gate() {
        for op in ALL {
            if let Rule::Tenant { permission, gate: Gate::Write }
            | Rule::TenantMembers { permission, gate: Gate::Write }
            | Rule::PlatformOrTenant { permission, gate: Gate::Write } = op.access
            {
                assert!(!Scope::AllReads.grants(permission), "read:* opens {}.{}", op.interface, op.name);
            }
        }
    }

    #[test]
    fn members_only_operations_need_an_owners_permission_that_no_key_holds() {
        for op in ALL {
            if let Rule::TenantMembers { permission, .. } = op.access {
                assert_eq!(permission.least_role(), Role::Owner, "{}.{}", op.interface, op.name);
                assert!(!permission.key_may_hold(), "{}.{}", op.interface, op.name);
            }
        }
    }

    #[test]
    fn read_all_reaches_every_reading_operation_but_the_logs_and_policies() {
        let out_of_reach: Vec<_> = ALL
            .iter()
            .filter(|op| op.reads_only())
            .filter(|op| op.permission().is_some_and(|p| !Scope::AllReads.grants(p)))
            .map(|op| format!("{}.{}", op.interface, op.name))
            .collect();
        let expected = [
            "tenants.list-audit-log",
            "memory-pins.list-access-log",
            "policies.list-versions",
            "policies.dry-run",
            "policies.status",
        ];
        assert_eq!(out_of_reach, expected);
    }
}
