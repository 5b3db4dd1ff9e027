//! Resolving an authenticated identity-provider subject to the internal user, once, before the engine
//! call (design.md §4: the guest never resolves identities itself).

use crate::db::Database;
use crate::db::codec::Id;

/// The internal user id of an identity-provider subject, if it has a user.
pub async fn user_id_for_subject(db: &Database, external_id: &str) -> Result<Option<String>, sqlx::Error> {
    let id: Option<Id> = match db {
        Database::Sqlite(pool, _) => {
            sqlx::query_scalar("SELECT id FROM users WHERE clerk_user_id = $1").bind(external_id).fetch_optional(pool).await?
        }
        Database::Postgres(pool) => {
            sqlx::query_scalar("SELECT id FROM users WHERE clerk_user_id = $1").bind(external_id).fetch_optional(pool).await?
        }
    };
    Ok(id.map(|id| id.to_string()))
}
