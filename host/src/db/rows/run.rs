//! Worker runs (table `worker_runs`) and usage records (table `usage_records`), with their conversions into
//! the contract's run and usage record snapshots.

use sqlx::FromRow;

use crate::bindings::{RunSnapshot, RunStatus, UsageRecordSnapshot, UsageUnit};
use crate::db::codec::{Id, Ts};

/// A worker run row, read with the catalogue fragment `run-columns` (`hosts/sql/fragments.sql`): keep the two in step.
#[derive(FromRow)]
pub struct RunRecord {
    /// The run's id.
    pub id: Id,
    /// The tenant the run belongs to.
    pub tenant_id: Id,
    /// The worker that runs it.
    pub worker_id: String,
    /// The API key that started it, if a key did.
    pub api_key_id: Option<Id>,
    /// The person who started it, if a person did.
    pub user_id: Option<Id>,
    /// What the worker was asked to do.
    pub task: String,
    /// The run's input, as JSON text, if any.
    pub input_json: Option<String>,
    /// Where the run is (queued, running, completed, failed, crashed); an ended run is immutable.
    pub status: RunStatus,
    /// Whether the run succeeded, once it has ended.
    pub success: Option<bool>,
    /// What went wrong, if the run failed.
    pub error: Option<String>,
    /// The run's output, as JSON text, if any.
    pub output_json: Option<String>,
    /// What the worker needs to replay the run, as JSON text, if it gave any.
    pub replay_token_json: Option<String>,
    /// The tokens the run used, once reported.
    pub total_tokens: Option<i64>,
    /// How long the run took, in milliseconds, once reported.
    pub total_latency_ms: Option<i64>,
    /// How many of its stages the run completed, once reported.
    pub stages_completed: Option<i32>,
    /// How many times the run recovered from a failure.
    pub recoveries: i32,
    /// How many policy violations the run reported.
    pub policy_violations: i32,
    /// What the run cost, in cents, once reported.
    pub cost_cents: Option<i64>,
    /// When the run was created.
    pub created_at: Ts,
    /// When the run ended, if it has.
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
    /// The record's id.
    pub id: Id,
    /// The tenant whose usage it counts.
    pub tenant_id: Id,
    /// The meter it counts against.
    pub meter_name: String,
    /// How much was used, in `unit`; never negative.
    pub amount: i64,
    /// What `amount` counts (count, tokens or seconds).
    pub unit: UsageUnit,
    /// The start of the period (an hour bucket) the usage falls in.
    pub period_start: Ts,
    /// The end of that period.
    pub period_end: Ts,
    /// The worker that used it, if known.
    pub worker_id: Option<String>,
    /// The API key that reported it, if a key did.
    pub api_key_id: Option<Id>,
    /// Extra details, as JSON text of an object, if given.
    pub metadata_json: Option<String>,
    /// When the usage was recorded.
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
