//! How contract values are stored, the same way for every driver:
//!
//! | contract            | PostgreSQL    | SQLite                 |
//! |---------------------|---------------|------------------------|
//! | `id` ([`Id`])       | `uuid`        | text                   |
//! | `timestamp` ([`Ts`])| `timestamptz` | integer microseconds   |
//! | `json` ([`Json`])   | `jsonb`       | text                   |
//! | enums               | text          | text                   |
//! | `onboarding-state`  | integer 0..=4 | integer 0..=4          |

use chrono::{DateTime, Utc};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Postgres, Sqlite, Type};

use crate::bindings::{
    ApiKeyStatus, BillingPeriod, DriverError, DriverErrorCode, InvitationStatus, MemoryAuditOperation, OauthProvider,
    OnboardingState, Plan, Role, RunStatus, SubscriptionStatus, TenantStatus, TicketCategory, TicketPriority,
    TicketStatus, UsageUnit, UserStatus,
};

/// A row id: a UUID in canonical lowercase text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Id(pub uuid::Uuid);

impl Id {
    /// A fresh random (version 4) id.
    pub fn new() -> Self {
        Id(uuid::Uuid::new_v4())
    }

    /// Parses an id that came from the guest; a malformed one is `invalid`.
    pub fn parse(text: &str) -> Result<Self, DriverError> {
        // Only the canonical form, lowercase and hyphenated (`try_parse` also takes upper case and the
        // simple, braced and URN forms): one spelling of each id on the way in, as on the way out, so that
        // the engine may compare ids as text.
        let canonical = text.len() == 36 && !text.bytes().any(|b| b.is_ascii_uppercase());
        canonical.then(|| uuid::Uuid::try_parse(text).ok()).flatten().map(Id).ok_or_else(|| DriverError {
            code: DriverErrorCode::Invalid,
            message: format!("'{}' is not a valid id", text.chars().take(64).collect::<String>()),
        })
    }
}

impl Default for Id {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.as_hyphenated().fmt(f)
    }
}

impl From<Id> for String {
    fn from(id: Id) -> String {
        id.to_string()
    }
}

impl Type<Postgres> for Id {
    fn type_info() -> <Postgres as Database>::TypeInfo {
        <uuid::Uuid as Type<Postgres>>::type_info()
    }
}
impl Encode<'_, Postgres> for Id {
    fn encode_by_ref(&self, buf: &mut <Postgres as Database>::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <uuid::Uuid as Encode<Postgres>>::encode_by_ref(&self.0, buf)
    }
}
impl Decode<'_, Postgres> for Id {
    fn decode(value: <Postgres as Database>::ValueRef<'_>) -> Result<Self, BoxDynError> {
        Ok(Id(<uuid::Uuid as Decode<Postgres>>::decode(value)?))
    }
}
impl Type<Sqlite> for Id {
    fn type_info() -> <Sqlite as Database>::TypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
}
impl Encode<'_, Sqlite> for Id {
    fn encode_by_ref(&self, buf: &mut <Sqlite as Database>::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <String as Encode<Sqlite>>::encode(self.to_string(), buf)
    }
}
impl Decode<'_, Sqlite> for Id {
    fn decode(value: <Sqlite as Database>::ValueRef<'_>) -> Result<Self, BoxDynError> {
        Ok(Id(uuid::Uuid::try_parse(<&str as Decode<Sqlite>>::decode(value)?)?))
    }
}

/// A time: microseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ts(pub i64);

impl Ts {
    /// A time a caller gives as the bound of a range (a filter's `since`/`until`, a window's start and
    /// end), brought within what every backend stores (PostgreSQL's `timestamptz` starts in 4714 BC; the
    /// codec ends in year 262143). No stored time lies beyond, so the range selects the same rows — and
    /// a bound far from now is a range, not an error, on every backend alike.
    pub fn bound(micros: i64) -> Ts {
        /// 4714-11-24 00:00:00 UTC BC, PostgreSQL's first `timestamptz`.
        const FIRST: i64 = -210_866_803_200_000_000;
        Ts(micros.clamp(FIRST, DateTime::<Utc>::MAX_UTC.timestamp_micros()))
    }

    fn datetime(self) -> Result<DateTime<Utc>, BoxDynError> {
        DateTime::from_timestamp_micros(self.0).ok_or_else(|| "timestamp out of range".into())
    }
}

impl Type<Postgres> for Ts {
    fn type_info() -> <Postgres as Database>::TypeInfo {
        <DateTime<Utc> as Type<Postgres>>::type_info()
    }
}
impl Encode<'_, Postgres> for Ts {
    fn encode_by_ref(&self, buf: &mut <Postgres as Database>::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <DateTime<Utc> as Encode<Postgres>>::encode(self.datetime()?, buf)
    }
}
impl Decode<'_, Postgres> for Ts {
    fn decode(value: <Postgres as Database>::ValueRef<'_>) -> Result<Self, BoxDynError> {
        Ok(Ts(<DateTime<Utc> as Decode<Postgres>>::decode(value)?.timestamp_micros()))
    }
}
impl Type<Sqlite> for Ts {
    fn type_info() -> <Sqlite as Database>::TypeInfo {
        <i64 as Type<Sqlite>>::type_info()
    }
}
impl Encode<'_, Sqlite> for Ts {
    fn encode_by_ref(&self, buf: &mut <Sqlite as Database>::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <i64 as Encode<Sqlite>>::encode(self.0, buf)
    }
}
impl Decode<'_, Sqlite> for Ts {
    fn decode(value: <Sqlite as Database>::ValueRef<'_>) -> Result<Self, BoxDynError> {
        Ok(Ts(<i64 as Decode<Sqlite>>::decode(value)?))
    }
}

/// JSON text; `jsonb` on PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Json(pub String);

impl Type<Postgres> for Json {
    fn type_info() -> <Postgres as Database>::TypeInfo {
        <sqlx::types::Json<serde_json::Value> as Type<Postgres>>::type_info()
    }
}
impl Encode<'_, Postgres> for Json {
    fn encode_by_ref(&self, buf: &mut <Postgres as Database>::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        let raw: &serde_json::value::RawValue = serde_json::from_str(&self.0)?;
        <sqlx::types::Json<&serde_json::value::RawValue> as Encode<Postgres>>::encode(sqlx::types::Json(raw), buf)
    }
}
impl Decode<'_, Postgres> for Json {
    fn decode(value: <Postgres as Database>::ValueRef<'_>) -> Result<Self, BoxDynError> {
        // jsonb prints `{"a": 1}`; the contract's canonical form is compact with sorted keys, as SQLite
        // keeps what the engine wrote.
        let parsed = <sqlx::types::Json<serde_json::Value> as Decode<Postgres>>::decode(value)?;
        Ok(Json(parsed.0.to_string()))
    }
}
impl Type<Sqlite> for Json {
    fn type_info() -> <Sqlite as Database>::TypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
}
impl Encode<'_, Sqlite> for Json {
    fn encode_by_ref(&self, buf: &mut <Sqlite as Database>::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <String as Encode<Sqlite>>::encode(self.0.clone(), buf)
    }
}
impl Decode<'_, Sqlite> for Json {
    fn decode(value: <Sqlite as Database>::ValueRef<'_>) -> Result<Self, BoxDynError> {
        Ok(Json(<String as Decode<Sqlite>>::decode(value)?))
    }
}

/// A closed value set stored as text: its names in the database, and the codecs for both backends.
pub trait DbEnum: Sized + Copy + 'static {
    /// Every value with the text it is stored as.
    const NAMES: &'static [(Self, &'static str)];

    /// The text this value is stored as.
    fn name(self) -> &'static str
    where
        Self: PartialEq,
    {
        Self::NAMES.iter().find(|(v, _)| *v == self).map(|(_, n)| *n).unwrap_or("")
    }

    /// The value stored as `text`; none for a text that names no value.
    fn parse(text: &str) -> Option<Self>
    where
        Self: PartialEq,
    {
        Self::NAMES.iter().find(|(_, n)| *n == text).map(|(v, _)| *v)
    }
}

macro_rules! text_enum {
    ($ty:ty { $($variant:ident => $name:literal),+ $(,)? } $(, legacy { $($old:literal => $new:ident),+ })?) => {
        impl DbEnum for $ty {
            const NAMES: &'static [(Self, &'static str)] = &[$((<$ty>::$variant, $name)),+];
        }
        impl Type<Postgres> for $ty {
            fn type_info() -> <Postgres as Database>::TypeInfo { <String as Type<Postgres>>::type_info() }
            fn compatible(ty: &<Postgres as Database>::TypeInfo) -> bool { <String as Type<Postgres>>::compatible(ty) }
        }
        impl Encode<'_, Postgres> for $ty {
            fn encode_by_ref(&self, buf: &mut <Postgres as Database>::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
                <&str as Encode<Postgres>>::encode(self.name(), buf)
            }
        }
        impl Decode<'_, Postgres> for $ty {
            fn decode(value: <Postgres as Database>::ValueRef<'_>) -> Result<Self, BoxDynError> {
                let text = <&str as Decode<Postgres>>::decode(value)?;
                $($(if text == $old { return Ok(<$ty>::$new); })+)?
                <$ty as DbEnum>::parse(text).ok_or_else(|| format!("unknown {} value '{text}'", stringify!($ty)).into())
            }
        }
        impl Type<Sqlite> for $ty {
            fn type_info() -> <Sqlite as Database>::TypeInfo { <String as Type<Sqlite>>::type_info() }
        }
        impl Encode<'_, Sqlite> for $ty {
            fn encode_by_ref(&self, buf: &mut <Sqlite as Database>::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
                <&str as Encode<Sqlite>>::encode(self.name(), buf)
            }
        }
        impl Decode<'_, Sqlite> for $ty {
            fn decode(value: <Sqlite as Database>::ValueRef<'_>) -> Result<Self, BoxDynError> {
                let text = <&str as Decode<Sqlite>>::decode(value)?;
                $($(if text == $old { return Ok(<$ty>::$new); })+)?
                <$ty as DbEnum>::parse(text).ok_or_else(|| format!("unknown {} value '{text}'", stringify!($ty)).into())
            }
        }
    };
}

text_enum!(Role { Viewer => "viewer", Member => "member", Admin => "admin", Owner => "owner" });
// `churned`, the name older rows may still hold for `terminated`, reads as `terminated` (and is never written).
text_enum!(TenantStatus { Active => "active", Suspended => "suspended", Terminated => "terminated", Archived => "archived" },
    legacy { "churned" => Terminated });
text_enum!(Plan { Free => "free", Pro => "pro", Enterprise => "enterprise" });
text_enum!(UserStatus { Active => "active", Suspended => "suspended", Deleted => "deleted" });
text_enum!(InvitationStatus { Pending => "pending", Accepted => "accepted", Expired => "expired", Revoked => "revoked" });
text_enum!(ApiKeyStatus { Active => "active", Revoked => "revoked", Expired => "expired" });
text_enum!(SubscriptionStatus { Active => "active", Canceled => "canceled", PastDue => "past_due", Trialing => "trialing" });
text_enum!(BillingPeriod { Monthly => "monthly", Annual => "annual" });
text_enum!(RunStatus { Queued => "queued", Running => "running", Completed => "completed", Failed => "failed", Crashed => "crashed" });
text_enum!(TicketCategory { General => "general", Billing => "billing", Technical => "technical", FeatureRequest => "feature_request" });
text_enum!(TicketPriority { Low => "low", Medium => "medium", High => "high", Critical => "critical" });
text_enum!(TicketStatus { Open => "open", InProgress => "in_progress", Resolved => "resolved", Closed => "closed" });
text_enum!(UsageUnit { Count => "count", Tokens => "tokens", Seconds => "seconds" });
text_enum!(OauthProvider { Google => "google", Azure => "azure", Email => "email" });
text_enum!(MemoryAuditOperation { Upsert => "upsert", Get => "get", Delete => "delete" });

/// Onboarding states are stored as their step number.
pub fn onboarding_step(state: OnboardingState) -> i32 {
    match state {
        OnboardingState::Created => 0,
        OnboardingState::IdentityVerified => 1,
        OnboardingState::ApiKeyCreated => 2,
        OnboardingState::SdkConnected => 3,
        OnboardingState::Complete => 4,
    }
}

/// The onboarding state stored as step number `step`; a number outside 0..=4 is a `backend` error.
pub fn onboarding_state(step: i32) -> Result<OnboardingState, DriverError> {
    Ok(match step {
        0 => OnboardingState::Created,
        1 => OnboardingState::IdentityVerified,
        2 => OnboardingState::ApiKeyCreated,
        3 => OnboardingState::SdkConnected,
        4 => OnboardingState::Complete,
        n => {
            return Err(DriverError {
                code: DriverErrorCode::Backend,
                message: format!("stored onboarding state {n} is not one of 0..=4"),
            });
        }
    })
}
