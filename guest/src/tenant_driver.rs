//! The engine's side of `tenant-driver`: the generated calls, and the audit-log helper every mutation
//! uses (in the operation's own transaction: a failed audit write fails the operation).

pub use crate::aos::accounts::tenant_driver::*;

use crate::access::{Access, actor_label};
use crate::aos::accounts::types::CallContext;
use crate::error::Result;

/// One audit-log row for a mutation of the call's tenant.
pub struct Audit<'a> {
    pub action: &'a str,
    pub resource_type: &'a str,
    pub resource_id: Option<&'a str>,
    pub old_value: Option<serde_json::Value>,
    pub new_value: Option<serde_json::Value>,
}

/// Writes the audit row of a mutation made by `access`'s caller.
pub fn audit(ctx: &CallContext, access: &Access, entry: Audit<'_>) -> Result<()> {
    audit_tenant(ctx, Some(&access.tenant_id), access.user_id(), access.api_key_id(), entry)
}

/// Writes an audit row naming the tenant and caller explicitly (for calls without an `Access`).
pub fn audit_tenant(
    ctx: &CallContext,
    tenant_id: Option<&str>,
    user_id: Option<&str>,
    api_key_id: Option<&str>,
    entry: Audit<'_>,
) -> Result<()> {
    let row = AuditEntry {
        tenant_id: tenant_id.map(str::to_string),
        user_id: user_id.map(str::to_string),
        api_key_id: api_key_id.map(str::to_string),
        action: entry.action.to_string(),
        resource_type: entry.resource_type.to_string(),
        resource_id: entry.resource_id.map(str::to_string),
        actor: actor_label(ctx),
        old_value: entry.old_value.map(|v| v.to_string()),
        new_value: entry.new_value.map(|v| v.to_string()),
        request_id: audited_request_id(&ctx.request_id),
    };
    insert_audit_log(&row)?;
    Ok(())
}

/// The request id as the audit log keeps it: a plain token of at most 100 characters, or nothing. Hosts
/// pass what their clients sent; the log is not a place for whatever a client chose to write.
fn audited_request_id(id: &str) -> Option<String> {
    let plain =
        !id.is_empty() && id.len() <= 100 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    plain.then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::audited_request_id;

    #[test]
    fn the_audit_log_keeps_plain_request_ids_only() {
        assert_eq!(audited_request_id("req-1.a_b:c").as_deref(), Some("req-1.a_b:c"));
        for kept_out in ["", "a b", "<script>", "é", &"r".repeat(101)] {
            assert_eq!(audited_request_id(kept_out), None, "{kept_out:?}");
        }
    }
}
