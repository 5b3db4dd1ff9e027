//! `policy-driver` over sqlx: a tenant's policy versions and which one is active. Version numbers come
//! from the tenant's `policy_state.last_version` and are never reused. Counters read here include what
//! this process has counted and not written yet (see [`crate::policy::stats`]).

use crate::bindings::DriverError;
use crate::bindings::policy_driver::{Host, NewPolicyRow, PolicyFailureRow, PolicyStateRow, PolicyVersionRow};
use crate::call::CallState;
use crate::catalogue::policy_driver as statements;
use crate::db::codec::{Id, Json, Ts};
use crate::db::errors::not_found;
use crate::policy::trigger_by_name;
use crate::sql;

type VersionRecord = (i32, String, i32, i32, Json, Option<String>, Option<Id>, Ts, i64, i64, i64);
type StateRecord = (
    Option<i32>,
    Option<i32>,
    Option<String>,
    Option<String>,
    Option<Ts>,
    Option<i32>,
    Option<String>,
    Option<String>,
    Option<Ts>,
);

impl Host for CallState {
    async fn insert_policy_version(&mut self, tenant_id: String, row: NewPolicyRow) -> Result<u32, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let created_by = row.created_by.as_deref().map(Id::parse).transpose()?;
        let now = self.now;
        let version: i32 =
            sql!(self, |c| sqlx::query_scalar(statements::INSERT_POLICY_VERSION_NEXT_NUMBER).bind(&t).fetch_one(c))?;
        sql!(
            self,
            rows | c
                | sqlx::query(statements::INSERT_POLICY_VERSION_WRITE)
                    .bind(&t)
                    .bind(version)
                    .bind(&row.content_hash)
                    .bind(&row.component)
                    .bind(row.size_bytes as i32)
                    .bind(crate::policy::bits_of(row.handles))
                    .bind(Json(row.config))
                    .bind(&row.note)
                    .bind(&created_by)
                    .bind(now)
                    .execute(c)
        )?;
        Ok(version as u32)
    }

    async fn fetch_policy_versions(&mut self, tenant_id: String) -> Result<Vec<PolicyVersionRow>, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let rows: Vec<VersionRecord> =
            sql!(self, |c| sqlx::query_as(statements::FETCH_POLICY_VERSIONS).bind(&t).fetch_all(c))?;
        Ok(rows
            .into_iter()
            .map(|(version, hash, size, handles, config, note, created_by, created_at, calls, denials, failures)| {
                let version = version as u32;
                let pending = self.pending_policy_counts(&t, Some(version));
                PolicyVersionRow {
                    version,
                    content_hash: hash.trim().to_string(),
                    size_bytes: size as u32,
                    handles: crate::policy::set_of_bits(handles),
                    config: config.0,
                    note,
                    created_by: created_by.map(|u| u.to_string()),
                    created_at: created_at.0,
                    calls: calls as u64 + pending.calls,
                    denials: denials as u64 + pending.denials,
                    failures: failures as u64 + pending.failures,
                }
            })
            .collect())
    }

    async fn fetch_policy_state(&mut self, tenant_id: String) -> Result<PolicyStateRow, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let row: Option<StateRecord> =
            sql!(self, |c| sqlx::query_as(statements::FETCH_POLICY_STATE).bind(&t).fetch_optional(c))?;
        let (active, previous, changed_by, reason, changed_at, f_version, f_trigger, f_message, f_at) =
            row.unwrap_or((None, None, None, None, None, None, None, None, None));
        let stored_failure = match (f_version, f_trigger.as_deref().and_then(trigger_by_name), f_message, f_at) {
            (Some(version), Some(trigger), Some(message), Some(at)) => {
                Some(PolicyFailureRow { version: version as u32, trigger, message, at: at.0 })
            }
            _ => None,
        };
        let pending = self.policies.as_ref().and_then(|p| p.stats.pending_for(&t, None).1);
        let last_failure = match (stored_failure, pending) {
            (stored, Some(p)) if stored.as_ref().is_none_or(|s| s.at <= p.at) => {
                Some(PolicyFailureRow { version: p.version, trigger: p.trigger, message: p.message, at: p.at })
            }
            (stored, _) => stored,
        };
        Ok(PolicyStateRow {
            active_version: active.map(|v| v as u32),
            previous_version: previous.map(|v| v as u32),
            changed_by,
            reason,
            changed_at: changed_at.map(|t| t.0),
            last_failure,
        })
    }

    async fn set_active_policy(
        &mut self,
        tenant_id: String,
        version: Option<u32>,
        changed_by: Option<String>,
        reason: Option<String>,
        remember_previous: bool,
    ) -> Result<(), DriverError> {
        let t = self.tenant(&tenant_id)?;
        if let Some(v) = version {
            let exists: Option<i32> = sql!(self, |c| sqlx::query_scalar(statements::SET_ACTIVE_POLICY_CHECK_VERSION)
                .bind(&t)
                .bind(v as i32)
                .fetch_optional(c))?;
            if exists.is_none() {
                return Err(not_found(&format!("the tenant has no policy version {v}")));
            }
        }
        let now = self.now;
        sql!(
            self,
            rows | c
                | sqlx::query(statements::SET_ACTIVE_POLICY_WRITE)
                    .bind(&t)
                    .bind(version.map(|v| v as i32))
                    .bind(&changed_by)
                    .bind(&reason)
                    .bind(now)
                    .bind(remember_previous)
                    .execute(c)
        )?;
        Ok(())
    }

    async fn delete_policy_version(&mut self, tenant_id: String, version: u32) -> Result<bool, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let deleted = sql!(
            self,
            rows | c | sqlx::query(statements::DELETE_POLICY_VERSION_WRITE).bind(&t).bind(version as i32).execute(c)
        )?;
        if deleted > 0 {
            sql!(
                self,
                rows | c
                    | sqlx::query(statements::DELETE_POLICY_VERSION_FORGET_PREVIOUS)
                        .bind(&t)
                        .bind(version as i32)
                        .execute(c)
            )?;
        }
        Ok(deleted > 0)
    }
}

impl CallState {
    fn pending_policy_counts(&self, tenant: &Id, version: Option<u32>) -> crate::policy::stats::Delta {
        self.policies.as_ref().map(|p| p.stats.pending_for(tenant, version).0).unwrap_or_default()
    }
}
