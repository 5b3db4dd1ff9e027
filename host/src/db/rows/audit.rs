//! The audit log row (table `audit_log`) and its conversion into the contract's audit record.

use sqlx::FromRow;

use crate::db::codec::{Id, Ts};

/// An audit log row, read with the catalogue fragment `audit-columns` (`hosts/sql/fragments.sql`): keep the two in step.
#[derive(FromRow)]
pub struct AuditRecord {
    /// The entry's id.
    pub id: Id,
    /// The user who acted, if a person did.
    pub user_id: Option<Id>,
    /// The API key that acted, if a key did.
    pub api_key_id: Option<Id>,
    /// Who acted: `operator:<id>`, `system`, `identity:<subject>` or `api_key:<id>`.
    pub actor: Option<String>,
    /// What was done, e.g. `create_api_key`.
    pub action: String,
    /// The kind of resource acted on, e.g. `api_key`.
    pub resource_type: String,
    /// The resource acted on, if the action names one.
    pub resource_id: Option<String>,
    /// The request id the caller's host passed, when it was a plain token.
    pub request_id: Option<String>,
    /// What the resource was before (JSON text of an object), when the action says.
    pub old_value_json: Option<String>,
    /// What the resource became (JSON text of an object), when the action says.
    pub new_value_json: Option<String>,
    /// When the action was done.
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
