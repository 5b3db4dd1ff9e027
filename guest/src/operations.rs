//! Every operation of the engine, described once: which interface it lives in, whether it writes, and who
//! may call it. The engine checks each call against its description (`access::check`); the host compiles
//! this same file to run read-only operations in read-only transactions, to refuse anonymous callers at
//! its front door and to document the HTTP API; the host's build refuses a contract (`wit/`) whose exports
//! and this list differ, naming the operation that is missing or left over.
//!
//! A new operation is a new entry here. Its fields have no defaults: one that leaves out whether it
//! writes or what it needs does not compile.

use super::permission::Permission;

/// Whether an operation writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Only reads: its call runs in a read-only transaction, so a write in it fails loudly (PostgreSQL
    /// refuses it) instead of running without serialisability.
    Reads,
    /// May write: rows, audit rows, usage periods rolled over, a first sign-in's user.
    Writes,
    /// Writes only now and then (a usage period that rolled over since the last call). On PostgreSQL its
    /// call runs first as `Reads` does; only when the server refuses one of its writes is it run again as
    /// a writer, with its tenant's writer turn, so that the common call neither waits for nor holds up
    /// the tenant's writers. One that writes on most calls is `Writes`: it would pay for two attempts.
    SeldomWrites,
}

/// What the lifecycle of the call's tenant allows customers (operators and the system pass the gate).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Allowed while the tenant is active or suspended (reads, and what a suspended tenant must still be
    /// able to do: revoke a key, open a ticket, check a quota).
    Read,
    /// Allowed only while the tenant is active.
    Write,
}

/// Who may call an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without a credential.
    Public,
    /// A signed-in person acting for themselves (their projects, an invitation they accept), across
    /// tenants; what they reach is decided per row.
    Person,
    /// Operators and the system only.
    Platform,
    /// The call's tenant: its members and keys holding `permission`, and operators and the system.
    Tenant {
        /// What a member's role or a key's scopes must grant.
        permission: Permission,
        /// What the tenant's lifecycle must allow.
        gate: Gate,
    },
    /// The call's tenant, as `Tenant`, but never operators or the system (a tenant's own code and its
    /// configuration are its owners' alone).
    TenantMembers {
        /// What a member's role or a key's scopes must grant.
        permission: Permission,
        /// What the tenant's lifecycle must allow.
        gate: Gate,
    },
    /// Operators and the system without a tenant (platform-wide), or, naming a tenant, as `Tenant`.
    PlatformOrTenant {
        /// What a member's role or a key's scopes must grant, naming a tenant.
        permission: Permission,
        /// What the tenant's lifecycle must allow, naming a tenant.
        gate: Gate,
    },
}

/// One operation of the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Operation {
    /// The WIT interface, e.g. `memory-pins`.
    pub interface: &'static str,
    /// The WIT function, e.g. `upsert-pin`.
    pub name: &'static str,
    /// Whether it writes.
    pub effect: Effect,
    /// Who may call it, with which permission.
    pub access: Access,
}

impl Operation {
    /// The permission a customer needs, if the operation acts on a tenant.
    pub const fn permission(&self) -> Option<Permission> {
        match self.access {
            Access::Tenant { permission, .. }
            | Access::TenantMembers { permission, .. }
            | Access::PlatformOrTenant { permission, .. } => Some(permission),
            Access::Public | Access::Person | Access::Platform => None,
        }
    }

    /// Whether the operation only reads.
    pub const fn reads_only(&self) -> bool {
        matches!(self.effect, Effect::Reads)
    }

    /// Whether the operation may write (now and then, or on every call).
    pub const fn may_write(&self) -> bool {
        !self.reads_only()
    }

    /// Whether anyone may call it without a credential.
    pub const fn is_public(&self) -> bool {
        matches!(self.access, Access::Public)
    }
}

/// The operation `name` of `interface` (WIT names).
pub fn find(interface: &str, name: &str) -> Option<&'static Operation> {
    ALL.iter().copied().find(|op| op.interface == interface && op.name == name)
}

const fn op(interface: &'static str, name: &'static str, effect: Effect, access: Access) -> Operation {
    Operation { interface, name, effect, access }
}

const fn tenant(permission: Permission, gate: Gate) -> Access {
    Access::Tenant { permission, gate }
}

use Access::{Person, Platform, Public};
use Effect::{Reads, SeldomWrites, Writes};
use Permission as P;

/// `accounts`: people, members, invitations, billing and support.
pub mod accounts {
    use super::*;
    /// `accounts.list-projects`: the projects (tenants) the caller sees: the call's own tenant (0 or 1 item).
    pub const LIST_PROJECTS: Operation = op("accounts", "list-projects", Reads, tenant(P::TenantRead, Gate::Read));
    /// `accounts.get-project-detail`: the call's own project; `forbidden` for any other id.
    pub const GET_PROJECT_DETAIL: Operation =
        op("accounts", "get-project-detail", Reads, tenant(P::TenantRead, Gate::Read));
    /// `accounts.create-project`: creates a new tenant with the calling human as its owner (and default tenant).
    pub const CREATE_PROJECT: Operation = op("accounts", "create-project", Writes, Person);
    /// `accounts.list-users`: members of the tenant by e-mail, with optional filters.
    pub const LIST_USERS: Operation = op("accounts", "list-users", Reads, tenant(P::UsersRead, Gate::Read));
    /// `accounts.get-user-detail`: one member; `not-found` if the user is not a member of the tenant.
    pub const GET_USER_DETAIL: Operation = op("accounts", "get-user-detail", Reads, tenant(P::UsersRead, Gate::Read));
    /// `accounts.list-tenant-users`: members in joining order.
    pub const LIST_TENANT_USERS: Operation =
        op("accounts", "list-tenant-users", Reads, tenant(P::UsersRead, Gate::Read));
    /// `accounts.update-user-role`: owners only; not on oneself; the last owner cannot be demoted.
    pub const UPDATE_USER_ROLE: Operation =
        op("accounts", "update-user-role", Writes, tenant(P::RolesManage, Gate::Write));
    /// `accounts.remove-user`: owners and admins; not oneself; only owners remove owners; the last owner cannot be removed.
    pub const REMOVE_USER: Operation = op("accounts", "remove-user", Writes, tenant(P::UsersManage, Gate::Write));
    /// `accounts.get-profile`: the calling human's profile in the tenant.
    pub const GET_PROFILE: Operation = op("accounts", "get-profile", Reads, tenant(P::ProfileRead, Gate::Read));
    /// `accounts.update-profile`: updates the calling human's name and preferences; they persist.
    pub const UPDATE_PROFILE: Operation = op("accounts", "update-profile", Writes, tenant(P::ProfileRead, Gate::Read));
    /// `accounts.get-billing-summary`.
    pub const GET_BILLING_SUMMARY: Operation =
        op("accounts", "get-billing-summary", Reads, tenant(P::BillingRead, Gate::Read));
    /// `accounts.get-billing-invoices`: invoices are issued by the billing provider, not kept here: the list is empty, with a message.
    pub const GET_BILLING_INVOICES: Operation =
        op("accounts", "get-billing-invoices", Reads, tenant(P::BillingRead, Gate::Read));
    /// `accounts.get-support-contact`: the support contact from the host's configuration. Needs no tenant.
    pub const GET_SUPPORT_CONTACT: Operation = op("accounts", "get-support-contact", Reads, Public);
    /// `accounts.create-support-ticket`: files a ticket as the calling human.
    pub const CREATE_SUPPORT_TICKET: Operation =
        op("accounts", "create-support-ticket", Writes, tenant(P::SupportWrite, Gate::Read));
    /// `accounts.list-support-tickets`.
    pub const LIST_SUPPORT_TICKETS: Operation =
        op("accounts", "list-support-tickets", Reads, tenant(P::SupportRead, Gate::Read));
    /// `accounts.invite-user`: owners and admins invite; only owners invite owners.
    pub const INVITE_USER: Operation = op("accounts", "invite-user", Writes, tenant(P::InvitationsManage, Gate::Write));
    /// `accounts.list-invitations`.
    pub const LIST_INVITATIONS: Operation =
        op("accounts", "list-invitations", Reads, tenant(P::InvitationsRead, Gate::Read));
    /// `accounts.accept-invitation`: accepts as the calling identity, whose e-mail must be the invited one.
    pub const ACCEPT_INVITATION: Operation = op("accounts", "accept-invitation", Writes, Person);
    /// `accounts.revoke-invitation`: owners and admins withdraw a pending invitation (admins not an owner invitation).
    pub const REVOKE_INVITATION: Operation =
        op("accounts", "revoke-invitation", Writes, tenant(P::InvitationsManage, Gate::Write));
}

/// `tenants`: the tenant row, plans, keys, usage, runs and the audit log.
pub mod tenants {
    use super::*;
    /// `tenants.create-tenant`: operators and the system: a new active tenant with the plan's quotas.
    pub const CREATE_TENANT: Operation = op("tenants", "create-tenant", Writes, Platform);
    /// `tenants.get-tenant`: the call's tenant.
    pub const GET_TENANT: Operation = op("tenants", "get-tenant", Reads, tenant(P::TenantRead, Gate::Read));
    /// `tenants.get-tenant-by-slug`: operators and the system (anyone else sees only their own tenant); none if no tenant has the slug.
    pub const GET_TENANT_BY_SLUG: Operation = op(
        "tenants",
        "get-tenant-by-slug",
        Reads,
        Access::PlatformOrTenant { permission: P::TenantRead, gate: Gate::Read },
    );
    /// `tenants.update-plan`: operators and the system: sets the plan and its quotas; counters are untouched.
    pub const UPDATE_PLAN: Operation = op("tenants", "update-plan", Writes, Platform);
    /// `tenants.suspend`: operators and the system: suspends the tenant through the lifecycle state machine (audited).
    pub const SUSPEND: Operation = op("tenants", "suspend", Writes, Platform);
    /// `tenants.create-membership-with-default`: operators and the system: adds a member, optionally making the tenant the user's default.
    pub const CREATE_MEMBERSHIP_WITH_DEFAULT: Operation =
        op("tenants", "create-membership-with-default", Writes, Platform);
    /// `tenants.create-api-key`: owners, admins, keys with `keys:create` or `admin:*`, operators.
    pub const CREATE_API_KEY: Operation = op("tenants", "create-api-key", Writes, tenant(P::KeysCreate, Gate::Write));
    /// `tenants.list-api-keys`.
    pub const LIST_API_KEYS: Operation = op("tenants", "list-api-keys", Reads, tenant(P::KeysRead, Gate::Read));
    /// `tenants.revoke-api-key`: revokes one of the tenant's keys (another tenant's key is `not-found`). Audited.
    pub const REVOKE_API_KEY: Operation = op("tenants", "revoke-api-key", Writes, tenant(P::KeysRevoke, Gate::Read));
    /// `tenants.check-run-quota`: whether a run may start now (lifecycle, daily and concurrent limits). Persists counter resets.
    pub const CHECK_RUN_QUOTA: Operation =
        op("tenants", "check-run-quota", SeldomWrites, tenant(P::RunWrite, Gate::Read));
    /// `tenants.check-token-quota`: whether `tokens` more tokens fit in this month's quota.
    pub const CHECK_TOKEN_QUOTA: Operation =
        op("tenants", "check-token-quota", SeldomWrites, tenant(P::RunWrite, Gate::Read));
    /// `tenants.increment-usage`: counts one run and `tokens` tokens, after the day's and month's resets.
    pub const INCREMENT_USAGE: Operation = op("tenants", "increment-usage", Writes, tenant(P::RunWrite, Gate::Write));
    /// `tenants.record-usage`: records usage in the current hour bucket (the API key of the context, if any, is noted).
    pub const RECORD_USAGE: Operation = op("tenants", "record-usage", Writes, tenant(P::RunWrite, Gate::Write));
    /// `tenants.get-usage-summary`.
    pub const GET_USAGE_SUMMARY: Operation =
        op("tenants", "get-usage-summary", Reads, tenant(P::UsageRead, Gate::Read));
    /// `tenants.create-run`.
    pub const CREATE_RUN: Operation = op("tenants", "create-run", Writes, tenant(P::RunWrite, Gate::Write));
    /// `tenants.complete-run`: ends a queued or running run of the tenant; counts its tokens and records usage.
    pub const COMPLETE_RUN: Operation = op("tenants", "complete-run", Writes, tenant(P::RunWrite, Gate::Write));
    /// `tenants.list-runs`.
    pub const LIST_RUNS: Operation = op("tenants", "list-runs", Reads, tenant(P::RunRead, Gate::Read));
    /// `tenants.list-audit-log`: the tenant's audit log, newest first, filtered (none: every row).
    pub const LIST_AUDIT_LOG: Operation = op("tenants", "list-audit-log", Reads, tenant(P::AuditRead, Gate::Read));
}

/// `memory-pins`: the tenant's JSON key/value store and its access log.
pub mod memory_pins {
    use super::*;
    /// `memory-pins.upsert-pin`: creates or replaces a pin. `source` defaults to `api` (at most 64 characters).
    pub const UPSERT_PIN: Operation = op("memory-pins", "upsert-pin", Writes, tenant(P::MemoryPinWrite, Gate::Write));
    /// `memory-pins.get-pin`: the pin, or none when absent or expired.
    // Its access log row is written after the read's snapshot commits (the host's `ReadLog`).
    pub const GET_PIN: Operation = op("memory-pins", "get-pin", Reads, tenant(P::MemoryPinRead, Gate::Read));
    /// `memory-pins.list-pins`: pins newest first whose key starts with `prefix` (matched literally).
    pub const LIST_PINS: Operation = op("memory-pins", "list-pins", Reads, tenant(P::MemoryPinRead, Gate::Read));
    /// `memory-pins.delete-pin`: whether a pin was deleted.
    pub const DELETE_PIN: Operation = op("memory-pins", "delete-pin", Writes, tenant(P::MemoryPinDelete, Gate::Write));
    /// `memory-pins.cleanup-expired`.
    pub const CLEANUP_EXPIRED: Operation = op(
        "memory-pins",
        "cleanup-expired",
        Writes,
        Access::PlatformOrTenant { permission: P::MemoryPinAdmin, gate: Gate::Write },
    );
    /// `memory-pins.list-access-log`.
    pub const LIST_ACCESS_LOG: Operation =
        op("memory-pins", "list-access-log", Reads, tenant(P::MemoryPinAdmin, Gate::Read));
}

/// `onboarding`: the tenant's onboarding state machine.
pub mod onboarding {
    use super::*;
    /// `onboarding.get-state`: the tenant's state with what it allows and what to do next.
    pub const GET_STATE: Operation = op("onboarding", "get-state", Reads, tenant(P::OnboardingRead, Gate::Read));
    /// `onboarding.advance`: moves forward to `target` (a target at or below the current state is a successful no-op).
    pub const ADVANCE: Operation = op("onboarding", "advance", Writes, tenant(P::OnboardingWrite, Gate::Write));
}

/// `lifecycle`: suspending, resuming, terminating and archiving a tenant.
pub mod lifecycle {
    use super::*;
    /// `lifecycle.get-state`.
    pub const GET_STATE: Operation = op("lifecycle", "get-state", Reads, tenant(P::LifecycleRead, Gate::Read));
    /// `lifecycle.transition`: moves to `to-status` along the state machine.
    pub const TRANSITION: Operation = op("lifecycle", "transition", Writes, Platform);
    /// `lifecycle.suspend`.
    pub const SUSPEND: Operation = op("lifecycle", "suspend", Writes, Platform);
    /// `lifecycle.resume`.
    pub const RESUME: Operation = op("lifecycle", "resume", Writes, Platform);
    /// `lifecycle.terminate`.
    pub const TERMINATE: Operation = op("lifecycle", "terminate", Writes, Platform);
    /// `lifecycle.archive`.
    pub const ARCHIVE: Operation = op("lifecycle", "archive", Writes, Platform);
}

/// `policies`: the tenant's own policy components.
pub mod policies {
    use super::*;
    const OWNERS_WRITE: Access = Access::TenantMembers { permission: P::PoliciesManage, gate: Gate::Write };
    /// `policies.install`: installs a new version (not active until `activate`).
    pub const INSTALL: Operation = op("policies", "install", Writes, OWNERS_WRITE);
    /// `policies.activate`: makes `version` the one the tenant's calls run, atomically for concurrent calls.
    pub const ACTIVATE: Operation = op("policies", "activate", Writes, OWNERS_WRITE);
    /// `policies.deactivate`: no policy runs any more (owners, and operators for any tenant).
    pub const DEACTIVATE: Operation = op("policies", "deactivate", Writes, tenant(P::PoliciesManage, Gate::Write));
    /// `policies.rollback`: activates the version that was active before the current one.
    pub const ROLLBACK: Operation = op("policies", "rollback", Writes, OWNERS_WRITE);
    /// `policies.list-versions`: every stored version, newest first (at most 20 are kept: delete old ones to install more).
    pub const LIST_VERSIONS: Operation = op("policies", "list-versions", Reads, tenant(P::PoliciesRead, Gate::Read));
    /// `policies.delete-version`: deletes a version that is not active.
    pub const DELETE_VERSION: Operation = op("policies", "delete-version", Writes, OWNERS_WRITE);
    /// `policies.dry-run`: runs `version` on a sample event, as the caller, without activating it or recording anything.
    pub const DRY_RUN: Operation =
        op("policies", "dry-run", Reads, Access::TenantMembers { permission: P::PoliciesManage, gate: Gate::Read });
    /// `policies.status`.
    pub const STATUS: Operation = op("policies", "status", Reads, tenant(P::PoliciesRead, Gate::Read));
}

/// Every operation, in the order of the contract.
pub const ALL: &[&Operation] = &[
    &accounts::LIST_PROJECTS,
    &accounts::GET_PROJECT_DETAIL,
    &accounts::CREATE_PROJECT,
    &accounts::LIST_USERS,
    &accounts::GET_USER_DETAIL,
    &accounts::LIST_TENANT_USERS,
    &accounts::UPDATE_USER_ROLE,
    &accounts::REMOVE_USER,
    &accounts::GET_PROFILE,
    &accounts::UPDATE_PROFILE,
    &accounts::GET_BILLING_SUMMARY,
    &accounts::GET_BILLING_INVOICES,
    &accounts::GET_SUPPORT_CONTACT,
    &accounts::CREATE_SUPPORT_TICKET,
    &accounts::LIST_SUPPORT_TICKETS,
    &accounts::INVITE_USER,
    &accounts::LIST_INVITATIONS,
    &accounts::ACCEPT_INVITATION,
    &accounts::REVOKE_INVITATION,
    &tenants::CREATE_TENANT,
    &tenants::GET_TENANT,
    &tenants::GET_TENANT_BY_SLUG,
    &tenants::UPDATE_PLAN,
    &tenants::SUSPEND,
    &tenants::CREATE_MEMBERSHIP_WITH_DEFAULT,
    &tenants::CREATE_API_KEY,
    &tenants::LIST_API_KEYS,
    &tenants::REVOKE_API_KEY,
    &tenants::CHECK_RUN_QUOTA,
    &tenants::CHECK_TOKEN_QUOTA,
    &tenants::INCREMENT_USAGE,
    &tenants::RECORD_USAGE,
    &tenants::GET_USAGE_SUMMARY,
    &tenants::CREATE_RUN,
    &tenants::COMPLETE_RUN,
    &tenants::LIST_RUNS,
    &tenants::LIST_AUDIT_LOG,
    &memory_pins::UPSERT_PIN,
    &memory_pins::GET_PIN,
    &memory_pins::LIST_PINS,
    &memory_pins::DELETE_PIN,
    &memory_pins::CLEANUP_EXPIRED,
    &memory_pins::LIST_ACCESS_LOG,
    &onboarding::GET_STATE,
    &onboarding::ADVANCE,
    &lifecycle::GET_STATE,
    &lifecycle::TRANSITION,
    &lifecycle::SUSPEND,
    &lifecycle::RESUME,
    &lifecycle::TERMINATE,
    &lifecycle::ARCHIVE,
    &policies::INSTALL,
    &policies::ACTIVATE,
    &policies::DEACTIVATE,
    &policies::ROLLBACK,
    &policies::LIST_VERSIONS,
    &policies::DELETE_VERSION,
    &policies::DRY_RUN,
    &policies::STATUS,
];

// Compiled by the host too: these tests use nothing but this file and `permission.rs`.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_operation_is_described_once_and_found_by_its_names() {
        for op in ALL {
            let same = ALL.iter().filter(|o| o.interface == op.interface && o.name == op.name).count();
            assert_eq!(same, 1, "{}.{} is described {same} times", op.interface, op.name);
            assert_eq!(find(op.interface, op.name), Some(*op));
        }
        assert_eq!(find("tenants", "rename-tenant"), None);
        assert_eq!(find("accounts", "get-tenant"), None, "a name is found in its own interface only");
    }

    #[test]
    fn the_six_engine_interfaces_hold_the_fifty_nine_operations() {
        let count = |interface: &str| ALL.iter().filter(|op| op.interface == interface).count();
        let counts: Vec<_> = ["accounts", "tenants", "memory-pins", "onboarding", "lifecycle", "policies"]
            .into_iter()
            .map(|i| (i, count(i)))
            .collect();
        assert_eq!(
            counts,
            [
                ("accounts", 19),
                ("tenants", 18),
                ("memory-pins", 6),
                ("onboarding", 2),
                ("lifecycle", 6),
                ("policies", 8)
            ]
        );
        assert_eq!(ALL.len(), 59);
    }

    #[test]
    fn names_are_wit_names() {
        let kebab = |s: &str| {
            !s.is_empty()
                && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !s.starts_with('-')
                && !s.ends_with('-')
                && !s.contains("--")
        };
        for op in ALL {
            assert!(kebab(op.interface) && kebab(op.name), "{}.{}", op.interface, op.name);
        }
    }

    #[test]
    fn an_operation_behind_the_write_gate_writes() {
        for op in ALL {
            let write_gate = matches!(
                op.access,
                Access::Tenant { gate: Gate::Write, .. }
                    | Access::TenantMembers { gate: Gate::Write, .. }
                    | Access::PlatformOrTenant { gate: Gate::Write, .. }
            );
            assert!(!write_gate || op.effect == Effect::Writes, "{}.{}", op.interface, op.name);
        }
    }

    #[test]
    fn only_policies_are_for_members_alone_and_public_operations_only_read() {
        for op in ALL {
            if matches!(op.access, Access::TenantMembers { .. }) {
                assert_eq!(op.interface, "policies", "{}", op.name);
            }
            if op.is_public() {
                assert!(op.reads_only(), "{}.{}", op.interface, op.name);
            }
        }
    }
}
