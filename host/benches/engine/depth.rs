//! Scale: one tenant with 1,000,000 members and 1,000,000 pins, listed a page at a time at increasing
//! depth. With keyset cursors a page costs the same at any position; the original's `LIMIT/OFFSET`
//! is measured beside it on the same rows to show what the cursor saves.
//!
//! The seeded tenant is kept (slug `bench-depth-1m`) and reused by later runs on the same database.

use futures_util::TryFutureExt;
use std::time::Duration;

use account_host::Caller;
use account_host::bindings::accounts_facade_driver::Host as Facade;
use account_host::bindings::{PageRequest, Role};
use account_host::db::codec::Id;
use account_host::db::cursor;
use account_host::on_pool;

use crate::setup::{Backend, commit, median, timed, user_email, user_id};

pub const ROWS: u64 = 1_000_000;
const PAGE: u32 = 50;
const SLUG: &str = "bench-depth-1m";
/// Positions (rows before the page) at which a page is read.
pub const POSITIONS: [u64; 5] = [0, 10_000, 100_000, 500_000, ROWS - 100];
const REPEATS: usize = 7;

pub struct DepthRow {
    pub backend: &'static str,
    pub list: &'static str,
    pub position: u64,
    /// The whole engine operation (cursor page, total, lifecycle gate) through the component.
    pub engine: Duration,
    /// The page query alone, with the cursor.
    pub cursor_query: Duration,
    /// The original's page query, `LIMIT 50 OFFSET position`.
    pub offset_query: Duration,
}

/// The seeded tenant and the batch of its users, seeding them first when this database has none.
pub async fn fixture(b: &Backend) -> (String, String) {
    let found: Option<(Id, Option<String>)> =
        on_pool!(&b.db, |p| sqlx::query_as("SELECT id, description FROM tenants WHERE slug = $1")
            .bind(SLUG)
            .fetch_optional(p))
        .unwrap();
    match found {
        Some((id, Some(batch))) => return (id.to_string(), batch),
        // A seeding that did not finish: start again.
        Some((id, None)) => {
            on_pool!(&b.db, |p| sqlx::query("DELETE FROM tenants WHERE id = $1").bind(&id).execute(p).map_ok(drop))
                .unwrap();
        }
        None => {}
    }
    let started = std::time::Instant::now();
    let batch = crate::setup::batch();
    let tenant = b.tenant("depth").await;
    b.seed_users(&batch, ROWS, Some(&tenant)).await;
    b.seed_pins(&tenant, ROWS).await;
    b.analyze().await;
    let t = Id::parse(&tenant).unwrap();
    on_pool!(&b.db, |p| sqlx::query("UPDATE tenants SET slug = $2, description = $3 WHERE id = $1")
        .bind(&t)
        .bind(SLUG)
        .bind(&batch)
        .execute(p)
        .map_ok(drop))
    .unwrap();
    println!(
        "(seeded {ROWS} members and {ROWS} pins on {} in {:.0} s; later runs reuse them)",
        b.name,
        started.elapsed().as_secs_f64()
    );
    (tenant, batch)
}

pub async fn depth(b: &Backend) -> Vec<DepthRow> {
    let (tenant, batch) = fixture(b).await;
    let t = Id::parse(&tenant).unwrap();
    let sys = Caller::system(Some(&tenant));
    let mut rows = Vec::new();
    for position in POSITIONS {
        // Members are in e-mail order, which is seeding order: the page at `position` follows user `position`.
        let after = (position > 0)
            .then(|| cursor::encode(&user_email(&batch, position as i64), &user_id(&batch, position as i64)));
        let page = PageRequest { limit: PAGE, after };
        let engine = repeat(async || {
            let list = b.runtime.accounts().list_users(&sys, None, None, &page).await.unwrap();
            assert_eq!(list.items.len(), PAGE as usize);
            assert_eq!(list.items[0].email, user_email(&batch, position as i64 + 1));
        })
        .await;
        let cursor_query = repeat(async || {
            let mut s = b.native(&tenant);
            let list = Facade::fetch_users(&mut s, tenant.clone(), None, None, page.clone()).await.unwrap();
            assert_eq!(list.items.len(), PAGE as usize);
            commit(s).await;
        })
        .await;
        let offset_query = repeat(async || {
            let sql = concat!(
                "SELECT u.id FROM tenant_memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant_id = $1 ",
                "ORDER BY m.user_email, m.user_id LIMIT $2 OFFSET $3"
            );
            let ids: Vec<(Id,)> = on_pool!(&b.db, |p| sqlx::query_as(sql)
                .bind(&t)
                .bind(i64::from(PAGE))
                .bind(position as i64)
                .fetch_all(p))
            .unwrap();
            assert_eq!(ids.len(), PAGE as usize);
        })
        .await;
        rows.push(DepthRow { backend: b.name, list: "members", position, engine, cursor_query, offset_query });
    }
    // A role none of the million members has: its first page and its count, which a filter no index could
    // seek made walk every member.
    let none_of_them = PageRequest { limit: PAGE, after: None };
    let engine = repeat(async || {
        let list = b.runtime.accounts().list_users(&sys, Some(Role::Admin), None, &none_of_them).await.unwrap();
        assert_eq!((list.items.len(), list.total), (0, 0));
    })
    .await;
    let cursor_query = repeat(async || {
        let mut s = b.native(&tenant);
        let list = Facade::fetch_users(&mut s, tenant.clone(), Some(Role::Admin), None, none_of_them.clone()).await;
        assert!(list.unwrap().items.is_empty());
        commit(s).await;
    })
    .await;
    let offset_query = repeat(async || {
        let sql = concat!(
            "SELECT u.id FROM tenant_memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant_id = $1 ",
            "AND m.role = 'admin' ORDER BY m.user_email, m.user_id LIMIT $2 OFFSET 0"
        );
        let ids: Vec<(Id,)> =
            on_pool!(&b.db, |p| sqlx::query_as(sql).bind(&t).bind(i64::from(PAGE)).fetch_all(p)).unwrap();
        assert!(ids.is_empty());
    })
    .await;
    rows.push(DepthRow {
        backend: b.name,
        list: "members, a role none has",
        position: 0,
        engine,
        cursor_query,
        offset_query,
    });
    for position in POSITIONS {
        // Pins are newest first; pin `g` was created at the seeding time + g µs.
        let after = match position {
            0 => None,
            p => {
                let key = format!("p{:07}", ROWS - p + 1);
                let (id, at): (i64, account_host::db::codec::Ts) = on_pool!(&b.db, |c| sqlx::query_as(
                    "SELECT id, created_at FROM memory_pins WHERE tenant_id = $1 AND key = $2"
                )
                .bind(&t)
                .bind(&key)
                .fetch_one(c))
                .unwrap();
                Some(cursor::encode(&at.0.to_string(), &id.to_string()))
            }
        };
        let page = PageRequest { limit: PAGE, after };
        let engine = repeat(async || {
            let list = b.runtime.memory_pins().list_pins(&sys, None, false, &page).await.unwrap();
            assert_eq!(list.items.len(), PAGE as usize);
            assert_eq!(list.items[0].key, format!("p{:07}", ROWS - position));
        })
        .await;
        let cursor_query = repeat(async || {
            let mut s = b.native(&tenant);
            let list = account_host::bindings::memory_pins_driver::Host::list_pins(
                &mut s,
                tenant.clone(),
                None,
                false,
                page.clone(),
                crate::setup::TOTAL_COUNT_UP_TO,
            )
            .await
            .unwrap();
            assert_eq!(list.items.len(), PAGE as usize);
            commit(s).await;
        })
        .await;
        let offset_query = repeat(async || {
            let sql =
                "SELECT id FROM memory_pins WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3";
            let ids: Vec<(i64,)> = on_pool!(&b.db, |p| sqlx::query_as(sql)
                .bind(&t)
                .bind(i64::from(PAGE))
                .bind(position as i64)
                .fetch_all(p))
            .unwrap();
            assert_eq!(ids.len(), PAGE as usize);
        })
        .await;
        rows.push(DepthRow { backend: b.name, list: "pins", position, engine, cursor_query, offset_query });
    }
    rows
}

async fn repeat(mut f: impl AsyncFnMut()) -> Duration {
    f().await;
    let mut times = Vec::with_capacity(REPEATS);
    for _ in 0..REPEATS {
        times.push(timed(f()).await);
    }
    median(times)
}
