//! The permissions an operation can require: a closed set, named once. This file has no dependency (the
//! host compiles it too, to describe every operation and to list the scopes a key may hold); what each
//! permission means for roles and keys is in `access.rs`.

/// Every permission an operation can require. A closed set: a new operation names one of these (the
/// compiler refuses anything else), and a new permission cannot compile without a decision about the least
/// role that holds it, whether it only reads, and whether a key may hold it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// Reading the tenant, its plan, quotas and project detail.
    TenantRead,
    /// Platform writes on the tenant row (plan); operators and the system only in practice.
    TenantWrite,
    /// Reading the tenant's members.
    UsersRead,
    /// Adding and removing members.
    UsersManage,
    /// Changing members' roles (owners only; never a key's).
    RolesManage,
    /// Reading the tenant's invitations.
    InvitationsRead,
    /// Inviting people and withdrawing invitations.
    InvitationsManage,
    /// Creating API keys (with at most the creator's own permissions).
    KeysCreate,
    /// Reading the tenant's API keys (never their secrets).
    KeysRead,
    /// Revoking API keys.
    KeysRevoke,
    /// Reading the billing summary and invoices.
    BillingRead,
    /// Reading the tenant's lifecycle status.
    LifecycleRead,
    /// Reading the tenant's onboarding state.
    OnboardingRead,
    /// Advancing the tenant's onboarding.
    OnboardingWrite,
    /// Reading and editing one's own profile in the tenant.
    ProfileRead,
    /// Reading runs.
    RunRead,
    /// Checking quotas, creating and completing runs, recording usage.
    RunWrite,
    /// Reading support tickets.
    SupportRead,
    /// Filing support tickets.
    SupportWrite,
    /// Reading usage summaries.
    UsageRead,
    /// Reading memory pins.
    MemoryPinRead,
    /// Creating and replacing memory pins.
    MemoryPinWrite,
    /// Deleting memory pins.
    MemoryPinDelete,
    /// Sweeping expired pins and reading the memory access log.
    MemoryPinAdmin,
    /// Reading a tenant's policy versions and status (their configuration may hold the tenant's secrets).
    PoliciesRead,
    /// Installing, activating, deactivating, rolling back and deleting a tenant's policy versions.
    PoliciesManage,
    /// Reading the tenant's audit log (who changed what; invitations name e-mail addresses).
    AuditRead,
}

impl Permission {
    /// Every permission, in declaration order.
    pub const ALL: [Permission; 27] = [
        Permission::TenantRead,
        Permission::TenantWrite,
        Permission::UsersRead,
        Permission::UsersManage,
        Permission::RolesManage,
        Permission::InvitationsRead,
        Permission::InvitationsManage,
        Permission::KeysCreate,
        Permission::KeysRead,
        Permission::KeysRevoke,
        Permission::BillingRead,
        Permission::LifecycleRead,
        Permission::OnboardingRead,
        Permission::OnboardingWrite,
        Permission::ProfileRead,
        Permission::RunRead,
        Permission::RunWrite,
        Permission::SupportRead,
        Permission::SupportWrite,
        Permission::UsageRead,
        Permission::MemoryPinRead,
        Permission::MemoryPinWrite,
        Permission::MemoryPinDelete,
        Permission::MemoryPinAdmin,
        Permission::PoliciesRead,
        Permission::PoliciesManage,
        Permission::AuditRead,
    ];

    /// The scope string naming exactly this permission (`family:action`).
    pub fn name(self) -> &'static str {
        match self {
            Permission::TenantRead => "tenant:read",
            Permission::TenantWrite => "tenant:write",
            Permission::UsersRead => "users:read",
            Permission::UsersManage => "users:manage",
            Permission::RolesManage => "roles:manage",
            Permission::InvitationsRead => "invitations:read",
            Permission::InvitationsManage => "invitations:manage",
            Permission::KeysCreate => "keys:create",
            Permission::KeysRead => "keys:read",
            Permission::KeysRevoke => "keys:revoke",
            Permission::BillingRead => "billing:read",
            Permission::LifecycleRead => "lifecycle:read",
            Permission::OnboardingRead => "onboarding:read",
            Permission::OnboardingWrite => "onboarding:write",
            Permission::ProfileRead => "profile:read",
            Permission::RunRead => "run:read",
            Permission::RunWrite => "run:write",
            Permission::SupportRead => "support:read",
            Permission::SupportWrite => "support:write",
            Permission::UsageRead => "usage:read",
            Permission::MemoryPinRead => "memory_pin:read",
            Permission::MemoryPinWrite => "memory_pin:write",
            Permission::MemoryPinDelete => "memory_pin:delete",
            Permission::MemoryPinAdmin => "memory_pin:admin",
            Permission::PoliciesRead => "policies:read",
            Permission::PoliciesManage => "policies:manage",
            Permission::AuditRead => "audit:read",
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

    /// The family a `family:*` scope grants.
    pub fn family(self) -> &'static str {
        self.name().split(':').next().unwrap_or_default()
    }
}
