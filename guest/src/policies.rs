//! `policies`: managing a tenant's own policy components (see `wit/policies.wit`).
//!
//! Who may do what: owners install, activate, roll back, delete and dry-run; owners and operators list,
//! read the status and deactivate (an operator may switch off any tenant's policy, but never installs
//! or activates code for a tenant). Keys never manage policies. None of these operations is a decision
//! point: a policy that denies everything can always be removed by its owner.

use crate::Engine;
use crate::access::{self, Access, Principal};
use crate::aos::accounts::policy_types::{Trigger, TriggerSet};
use crate::aos::accounts::types::{CallContext, EngineError, ErrorCode, Role};
use crate::error::{Result, err, forbidden, not_found};
use crate::exports::aos::accounts::policies::{Guest, NewPolicy, PolicyFailure, PolicyStatus, PolicyVersion};
use crate::operations::{Operation, policies as op};
use crate::policy_driver::{self as driver, NewPolicyRow, PolicyVersionRow};
use crate::policy_gate::{self, DryRunOutcome, PolicyEvent};
use crate::tenant_driver::{Audit, audit};
use crate::validate;

/// Versions a tenant may keep (delete old ones to install more).
pub const MAX_VERSIONS: usize = 20;
/// Largest configuration, serialised.
pub const MAX_CONFIG_BYTES: usize = 64 * 1024;

impl Guest for Engine {
    fn install(ctx: CallContext, policy: NewPolicy) -> Result<PolicyVersion, EngineError> {
        let access = owner(&ctx, &op::INSTALL)?;
        let config = config(&policy.config)?;
        let note = validate::optional_text("note", policy.note.as_deref(), 200)?;
        let stored = driver::fetch_policy_versions(&access.tenant_id)?;
        if stored.len() >= MAX_VERSIONS {
            return Err(err(
                ErrorCode::QuotaExceeded,
                format!("a tenant keeps at most {MAX_VERSIONS} policy versions; delete one to install another"),
            ));
        }
        let inspection = policy_gate::inspect(&policy.component)?;
        let handles = inspection.handles.iter().fold(TriggerSet::empty(), |set, t| set | flag(*t));
        let row = NewPolicyRow {
            component: policy.component,
            content_hash: inspection.content_hash.clone(),
            size_bytes: inspection.size_bytes,
            handles,
            config: config.clone(),
            note: note.clone(),
            created_by: access.user_id().map(str::to_string),
        };
        let version = driver::insert_policy_version(&access.tenant_id, &row)?;
        audit(
            &ctx,
            &access,
            Audit {
                action: "install_policy",
                resource_type: "policy",
                resource_id: Some(&version.to_string()),
                old_value: None,
                new_value: Some(serde_json::json!({
                    "version": version,
                    "content_hash": inspection.content_hash,
                    "size_bytes": inspection.size_bytes,
                    "handles": names(handles),
                })),
            },
        )?;
        Ok(PolicyVersion {
            version,
            content_hash: row.content_hash,
            size_bytes: row.size_bytes,
            handles: triggers(handles),
            config,
            note,
            created_by: row.created_by,
            created_at: ctx.now,
            active: false,
            calls: 0,
            denials: 0,
            failures: 0,
        })
    }

    fn activate(ctx: CallContext, version: u32) -> Result<PolicyStatus, EngineError> {
        let access = owner(&ctx, &op::ACTIVATE)?;
        switch(&ctx, &access, Some(version), "activate_policy", None, true)
    }

    fn deactivate(ctx: CallContext, reason: Option<String>) -> Result<PolicyStatus, EngineError> {
        let access = access::check(&ctx, &op::DEACTIVATE)?;
        let reason = validate::optional_text("reason", reason.as_deref(), 500)?;
        switch(&ctx, &access, None, "deactivate_policy", reason, true)
    }

    fn rollback(ctx: CallContext) -> Result<PolicyStatus, EngineError> {
        let access = owner(&ctx, &op::ROLLBACK)?;
        let state = driver::fetch_policy_state(&access.tenant_id)?;
        let previous =
            state.previous_version.ok_or_else(|| not_found("there is no earlier policy version to roll back to"))?;
        switch(&ctx, &access, Some(previous), "rollback_policy", None, false)
    }

    fn list_versions(ctx: CallContext) -> Result<Vec<PolicyVersion>, EngineError> {
        let access = access::check(&ctx, &op::LIST_VERSIONS)?;
        let active = driver::fetch_policy_state(&access.tenant_id)?.active_version;
        Ok(driver::fetch_policy_versions(&access.tenant_id)?.into_iter().map(|row| version_of(row, active)).collect())
    }

    fn delete_version(ctx: CallContext, version: u32) -> Result<bool, EngineError> {
        let access = owner(&ctx, &op::DELETE_VERSION)?;
        if driver::fetch_policy_state(&access.tenant_id)?.active_version == Some(version) {
            return Err(err(
                ErrorCode::Conflict,
                "the active version cannot be deleted; deactivate it or activate another first",
            ));
        }
        let deleted = driver::delete_policy_version(&access.tenant_id, version)?;
        if deleted {
            audit(
                &ctx,
                &access,
                Audit {
                    action: "delete_policy_version",
                    resource_type: "policy",
                    resource_id: Some(&version.to_string()),
                    old_value: Some(serde_json::json!({ "version": version })),
                    new_value: None,
                },
            )?;
        }
        Ok(deleted)
    }

    fn dry_run(ctx: CallContext, version: u32, event: PolicyEvent) -> Result<DryRunOutcome, EngineError> {
        let access = owner(&ctx, &op::DRY_RUN)?;
        let actor = policy_gate::actor(&ctx, &access);
        policy_gate::dry_run(&access.tenant_id, version, &actor, &event)
    }

    fn status(ctx: CallContext) -> Result<PolicyStatus, EngineError> {
        let access = access::check(&ctx, &op::STATUS)?;
        status_of(&access.tenant_id)
    }
}

/// Makes `version` (none: no policy) the tenant's active one, audited.
fn switch(
    ctx: &CallContext,
    access: &Access,
    version: Option<u32>,
    action: &str,
    reason: Option<String>,
    remember_previous: bool,
) -> Result<PolicyStatus> {
    let before = driver::fetch_policy_state(&access.tenant_id)?.active_version;
    let changed_by = crate::access::actor_label(ctx);
    driver::set_active_policy(&access.tenant_id, version, changed_by.as_deref(), reason.as_deref(), remember_previous)?;
    audit(
        ctx,
        access,
        Audit {
            action,
            resource_type: "policy",
            resource_id: version.map(|v| v.to_string()).as_deref(),
            old_value: Some(serde_json::json!({ "active_version": before })),
            new_value: Some(serde_json::json!({ "active_version": version, "reason": reason })),
        },
    )?;
    status_of(&access.tenant_id)
}

fn status_of(tenant_id: &str) -> Result<PolicyStatus> {
    let state = driver::fetch_policy_state(tenant_id)?;
    let counters = match state.active_version {
        Some(active) => driver::fetch_policy_versions(tenant_id)?.into_iter().find(|v| v.version == active),
        None => None,
    };
    let (calls, denials, failures) = counters.map(|v| (v.calls, v.denials, v.failures)).unwrap_or_default();
    Ok(PolicyStatus {
        active_version: state.active_version,
        previous_version: state.previous_version,
        changed_by: state.changed_by,
        reason: state.reason,
        changed_at: state.changed_at,
        calls,
        denials,
        failures,
        last_failure: state.last_failure.map(|f| PolicyFailure {
            version: f.version,
            trigger: f.trigger,
            message: f.message,
            at: f.at,
        }),
    })
}

/// An owner of the tenant, in person, for `op`, an operation of the tenant's members alone (its
/// description refuses operators and the system, and its permission is an owner's that no key holds).
fn owner(ctx: &CallContext, op: &Operation) -> Result<Access> {
    let access = access::check(ctx, op)?;
    match access.principal {
        Principal::User { role: Role::Owner, .. } => Ok(access),
        _ => Err(forbidden("only the tenant's owners manage its policy")),
    }
}

/// The tenant's configuration: a JSON object of at most 64 KiB, kept in its canonical form.
fn config(text: &str) -> Result<String> {
    validate::canonical_object("config", text, MAX_CONFIG_BYTES)
}

fn version_of(row: PolicyVersionRow, active: Option<u32>) -> PolicyVersion {
    PolicyVersion {
        version: row.version,
        content_hash: row.content_hash,
        size_bytes: row.size_bytes,
        handles: triggers(row.handles),
        config: row.config,
        note: row.note,
        created_by: row.created_by,
        created_at: row.created_at,
        active: active == Some(row.version),
        calls: row.calls,
        denials: row.denials,
        failures: row.failures,
    }
}

const ALL: [(Trigger, TriggerSet, &str); 7] = [
    (Trigger::InviteUser, TriggerSet::INVITE_USER, "invite-user"),
    (Trigger::AcceptInvitation, TriggerSet::ACCEPT_INVITATION, "accept-invitation"),
    (Trigger::ChangeRole, TriggerSet::CHANGE_ROLE, "change-role"),
    (Trigger::RemoveMember, TriggerSet::REMOVE_MEMBER, "remove-member"),
    (Trigger::CreateApiKey, TriggerSet::CREATE_API_KEY, "create-api-key"),
    (Trigger::WritePin, TriggerSet::WRITE_PIN, "write-pin"),
    (Trigger::FileTicket, TriggerSet::FILE_TICKET, "file-ticket"),
];

pub fn flag(trigger: Trigger) -> TriggerSet {
    ALL.iter().find(|(t, _, _)| *t == trigger).map(|(_, f, _)| *f).unwrap_or(TriggerSet::empty())
}

fn triggers(set: TriggerSet) -> Vec<Trigger> {
    ALL.iter().filter(|(_, f, _)| set.contains(*f)).map(|(t, _, _)| *t).collect()
}

fn names(set: TriggerSet) -> Vec<&'static str> {
    ALL.iter().filter(|(_, f, _)| set.contains(*f)).map(|(_, _, n)| *n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_trigger_has_its_own_flag_and_name() {
        let mut all = TriggerSet::empty();
        for (trigger, _, name) in ALL {
            let one = flag(trigger);
            assert!(!one.is_empty() && !all.intersects(one), "{name}");
            all |= one;
            assert_eq!(triggers(one), [trigger]);
            assert_eq!(names(one), [name]);
        }
        assert_eq!(all, TriggerSet::all());
        assert_eq!(names(flag(Trigger::WritePin) | flag(Trigger::InviteUser)), ["invite-user", "write-pin"]);
    }
}
