//! How the databases plan the statements of a filtered list (issue 14: a page costs the same at any
//! tenant size). A list of members filtered by role must seek the role in an index, in the list's order,
//! or a page of a rare role on a big tenant walks every member of it (a million-member tenant: 1.7 s a
//! page and 190 ms its count on SQLite, 459 ms a page in PostgreSQL's generic plan).
//!
//! The plans are read from the databases themselves: SQLite's `EXPLAIN QUERY PLAN` (SQLite plans a
//! statement without its parameters' values), and PostgreSQL's generic plan (the one a prepared statement
//! switches to after five runs when it looks no dearer than the custom ones, made without the values;
//! forced here), over a tenant seeded and analysed so that the plan follows realistic statistics.

use account_host::catalogue::accounts_facade_driver as statements;
use account_host::db::{Backend, Pool};
use suite::{Harness, each_backend};

/// The statements a role-filtered list of members runs, with their parameters' types on PostgreSQL:
/// (name, SQL, parameter types, arguments) — a page in e-mail order, and the counts without and with a
/// user-status filter. The last is checked on SQLite only: PostgreSQL's generic plan for it merges the
/// memberships with the users by user id (guessing its `LIMIT` at a tenth of the rows), and a custom
/// plan, which knows the role, would seek it with the old statement too.
const ROLE_FILTERED: [(&str, &str, &str, &str); 4] = [
    (
        "first page",
        statements::FETCH_USERS_WITH_ROLE_FIRST_PAGE,
        "uuid, text, text, bigint",
        "'{tenant}', 'admin', NULL, 51",
    ),
    (
        "next page",
        statements::FETCH_USERS_WITH_ROLE_NEXT_PAGE,
        "uuid, text, text, bigint, text, uuid",
        "'{tenant}', 'admin', NULL, 51, 'a@example.com', \
         '00000000-0000-0000-0000-000000000002'",
    ),
    ("count", statements::COUNT_USERS_WITH_ROLE_ANY_STATUS, "uuid, text, bigint", "'{tenant}', 'admin', 1001"),
    (
        "count with a status",
        statements::COUNT_USERS_WITH_ROLE_WITH_STATUS,
        "uuid, text, text, bigint",
        "'{tenant}', 'admin', 'active', 1001",
    ),
];

/// On PostgreSQL a generic plan follows the tables' statistics: a tenant of 5,000 members, 10 of them
/// admins, beside the harness's own, analysed.
async fn seed_a_big_tenant(h: &Harness) -> String {
    let (tenant, _) = h.owned_tenant("Big", "big-owner").await;
    let users = "INSERT INTO users (id, clerk_user_id, email, status, created_at, updated_at, email_verified) \
                 SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'plans|' || g, \
                 'u' || lpad(g::text, 5, '0') || '@plans.example', 'active', now(), now(), true \
                 FROM generate_series(1, 5000) g";
    let members = "INSERT INTO tenant_memberships (id, tenant_id, user_id, role, created_at, user_email) \
                   SELECT ('00000000-0001-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, $1::uuid, \
                   ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, \
                   CASE WHEN g % 500 = 0 THEN 'admin' ELSE 'member' END, now(), \
                   'u' || lpad(g::text, 5, '0') || '@plans.example' FROM generate_series(1, 5000) g";
    let Pool::Postgres(pool, _) = h.db.pool() else { unreachable!("PostgreSQL only") };
    sqlx::query(users).execute(pool).await.unwrap();
    sqlx::query(members).bind(&tenant).execute(pool).await.unwrap();
    sqlx::query("ANALYZE users, tenant_memberships").execute(pool).await.unwrap();
    tenant
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_filter_is_sought_in_an_index_in_the_lists_order() {
    each_backend(async |h| {
        let tenant = match h.db.backend() {
            Backend::Postgres => seed_a_big_tenant(h).await,
            Backend::Sqlite => String::new(),
        };
        for (what, sql, types, arguments) in ROLE_FILTERED {
            if what == "count with a status" && h.db.backend() == Backend::Postgres {
                continue;
            }
            let arguments = arguments.replace("{tenant}", &tenant);
            match h.db.pool() {
                Pool::Sqlite(pool, _) => {
                    let explain = sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}"));
                    let mut query = sqlx::query_as::<_, (i64, i64, i64, String)>(explain);
                    for argument in arguments.split(", ") {
                        query = query.bind(argument.trim_matches('\''));
                    }
                    let plan: Vec<String> =
                        query.fetch_all(pool).await.unwrap().into_iter().map(|(_, _, _, detail)| detail).collect();
                    let memberships = plan.iter().find(|step| step.contains(" m USING")).map(String::as_str);
                    assert!(
                        memberships.is_some_and(|step| step.contains("role=?")),
                        "{what}: the memberships are not sought by role: {plan:?}"
                    );
                    assert!(!plan.iter().any(|step| step.contains("TEMP B-TREE")), "{what}: sorted: {plan:?}");
                }
                Pool::Postgres(pool, _) => {
                    use sqlx::Executor;
                    let mut c = pool.acquire().await.unwrap();
                    // For tables this small reading them whole would do as well: with sequential scans off,
                    // the plan shows what the statement lets an index seek.
                    c.execute("SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off").await.unwrap();
                    c.execute(sqlx::AssertSqlSafe(format!("PREPARE role_filtered ({types}) AS {sql}"))).await.unwrap();
                    let plan: Vec<String> =
                        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("EXPLAIN EXECUTE role_filtered ({arguments})")))
                            .fetch_all(&mut *c)
                            .await
                            .unwrap();
                    c.execute("DEALLOCATE role_filtered").await.unwrap();
                    c.execute("RESET plan_cache_mode; RESET enable_seqscan").await.unwrap();
                    let sought = plan.iter().any(|line| line.contains("Index Cond") && line.contains("role"));
                    assert!(sought, "{what}: the memberships are not sought by role:\n{}", plan.join("\n"));
                    assert!(!plan.iter().any(|line| line.contains("Sort")), "{what}: sorted:\n{}", plan.join("\n"));
                }
            }
        }
    })
    .await;
}

/// A SQLite database analysed before the role's index came has statistics for the other indexes of the
/// table and none for the new one, which SQLite then takes for very selective: the list of every member
/// went through it and sorted the whole tenant (0.92 s a page on the benchmark's million-member tenant;
/// SQLite 3.40, the Python host's, on the table's indexes alone at 2,000 members). The migration analyses
/// the table again: after it, every index of the table has statistics, and every member is listed through
/// the e-mail index.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_analysed_before_the_roles_index_has_statistics_for_it_after() {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    let file = std::env::temp_dir().join(format!("aos-plans-{}.db", uuid::Uuid::new_v4()));
    let options = SqliteConnectOptions::new().filename(&file).create_if_missing(true).foreign_keys(false);
    let before = SqlitePoolOptions::new().max_connections(1).connect_with(options).await.unwrap();
    let migrations = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    let migrator = sqlx::migrate::Migrator::new(migrations).await.unwrap();
    migrator.run_to(19, &before).await.unwrap();
    // A tenant of 2,000 members and one of 10 (no tenant or user rows: foreign keys are off for the seeding).
    sqlx::query(
        "WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < 2010) \
         INSERT INTO tenant_memberships (id, tenant_id, user_id, role, created_at, user_email) \
         SELECT 'm' || g, CASE WHEN g <= 10 THEN 'small' ELSE 'big' END, 'u' || g, 'member', 0, \
         printf('u%05d@plans.example', g) FROM s",
    )
    .execute(&before)
    .await
    .unwrap();
    sqlx::query("ANALYZE").execute(&before).await.unwrap();
    before.close().await;

    let db = account_host::Database::connect(&format!("sqlite:{}", file.display())).await.unwrap();
    db.migrate().await.unwrap();
    let Pool::Sqlite(pool, _) = db.pool() else { unreachable!("SQLite") };
    let unanalysed: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tenant_memberships' \
         AND name NOT IN (SELECT idx FROM sqlite_stat1 WHERE tbl = 'tenant_memberships')",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let explain = sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {}", statements::FETCH_USERS_FIRST_PAGE));
    let plan: Vec<String> = sqlx::query_as::<_, (i64, i64, i64, String)>(explain)
        .bind("big")
        .bind(None::<String>)
        .bind(None::<String>)
        .bind(51_i64)
        .fetch_all(pool)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, _, _, detail)| detail)
        .collect();
    db.close().await;
    let _ = std::fs::remove_file(&file);
    assert_eq!(unanalysed, Vec::<String>::new(), "indexes without statistics in an analysed table");
    assert!(
        plan.iter().any(|step| step.contains("ix_tenant_memberships_email")),
        "every member is not read in e-mail order: {plan:?}"
    );
    assert!(!plan.iter().any(|step| step.contains("TEMP B-TREE")), "the tenant's members are sorted: {plan:?}");
}
