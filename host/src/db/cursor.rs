//! Keyset cursors: a page ends at its last row's sort key and id, and the next page starts strictly after
//! them, so a page costs the same at any depth. Cursors are opaque to clients (URL-safe base64 of
//! `key|id`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::bindings::{DriverError, DriverErrorCode, PageRequest};

/// The position after which a page starts.
pub struct After {
    /// The last row's sort key, as text (for a time-ordered list, microseconds: see [`time_key`]).
    pub key: String,
    /// The last row's id, which breaks ties between rows with the same key.
    pub id: String,
}

/// The opaque cursor of the position after the row with this sort key and id.
pub fn encode(key: &str, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{key}|{id}"))
}

fn bad_cursor() -> DriverError {
    DriverError { code: DriverErrorCode::Invalid, message: "the cursor is not valid for this list".into() }
}

/// Decodes a page's `after`, if any.
pub fn decode(page: &PageRequest) -> Result<Option<After>, DriverError> {
    let Some(cursor) = &page.after else { return Ok(None) };
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad_cursor())?;
    let text = String::from_utf8(bytes).map_err(|_| bad_cursor())?;
    let (key, id) = text.rsplit_once('|').ok_or_else(bad_cursor)?;
    Ok(Some(After { key: key.to_string(), id: id.to_string() }))
}

/// The key of a cursor over a time-ordered list, as microseconds.
pub fn time_key(after: &After) -> Result<i64, DriverError> {
    after.key.parse().map_err(|_| bad_cursor())
}

/// The id of a cursor over a list whose rows have integer ids.
pub fn integer_id(after: &After) -> Result<i64, DriverError> {
    after.id.parse().map_err(|_| bad_cursor())
}

/// A keyset-paged list's statement for `page` and the position it starts after: the first page's
/// statement and none, or the next page's and the cursor's position as `position` reads it. The next
/// page's statement is the first page's with the position as its last two parameters
/// (`hosts/sql/README.md`), so a driver binds the list's parameters once and the position when there is
/// one.
pub fn twin<P>(
    page: &PageRequest,
    first: &'static str,
    next: &'static str,
    position: impl FnOnce(&After) -> Result<P, DriverError>,
) -> Result<(&'static str, Option<P>), DriverError> {
    match decode(page)? {
        None => Ok((first, None)),
        Some(after) => Ok((next, Some(position(&after)?))),
    }
}

/// The position of a time-ordered list whose rows have uuid ids.
pub fn time_and_id(after: &After) -> Result<(crate::db::codec::Ts, crate::db::codec::Id), DriverError> {
    Ok((crate::db::codec::Ts(time_key(after)?), crate::db::codec::Id::parse(&after.id)?))
}

/// The position of a time-ordered list whose rows have integer ids.
pub fn time_and_integer_id(after: &After) -> Result<(crate::db::codec::Ts, i64), DriverError> {
    Ok((crate::db::codec::Ts(time_key(after)?), integer_id(after)?))
}

/// The most items one page may hold (the engine's `validate::MAX_PAGE`).
pub const MAX_PAGE: u32 = 1000;

/// The `LIMIT` of a bounded count's sub-select (`SELECT COUNT(*) FROM (SELECT 1 … LIMIT n)`): the bound
/// the caller asked for, saturated to what SQL can bind.
pub fn count_limit(up_to: u64) -> i64 {
    i64::try_from(up_to).unwrap_or(i64::MAX)
}

/// The limit of a page within 1..=[`MAX_PAGE`], plus one row to learn whether another page follows.
pub fn fetch_limit(page: &PageRequest) -> Result<i64, DriverError> {
    if page.limit == 0 || page.limit > MAX_PAGE {
        return Err(DriverError {
            code: DriverErrorCode::Invalid,
            message: format!("limit must be between 1 and {MAX_PAGE}"),
        });
    }
    Ok(i64::from(page.limit) + 1)
}

/// The most bytes of row data one page carries. Rows are read one at a time from the database and the
/// page ends before the row that would pass this (a page always holds at least one row), so a list of
/// large values (pins of 1 MiB, runs with three JSON documents) costs bounded host memory, not
/// `limit` × the largest row.
pub const PAGE_BYTES: usize = 4 << 20;

/// The rows of a page read under [`PAGE_BYTES`].
pub struct Bounded<T> {
    /// The rows read, in order; at least one unless the result was empty.
    pub rows: Vec<T>,
    /// The page was cut by its byte budget before it reached its limit.
    pub cut: bool,
}

impl<T> Bounded<T> {
    /// Cuts the extra row off and returns the cursor of the next page, if there is one.
    pub fn finish(&mut self, page: &PageRequest, key_of: impl Fn(&T) -> (String, String)) -> Option<String> {
        if self.cut {
            return after_last(&self.rows, key_of);
        }
        finish(&mut self.rows, page, key_of)
    }
}

/// Reads a page's rows from `rows` until the stream ends or the next row would take the page past
/// [`PAGE_BYTES`]; the rest of the result is never read into memory.
pub async fn collect_bounded<'a, T>(
    mut rows: futures_util::stream::BoxStream<'a, Result<T, sqlx::Error>>,
    size: impl Fn(&T) -> usize,
) -> Result<Bounded<T>, sqlx::Error> {
    use futures_util::TryStreamExt;
    let mut page = Bounded { rows: Vec::new(), cut: false };
    let mut bytes = 0usize;
    while let Some(row) = rows.try_next().await? {
        bytes = bytes.saturating_add(size(&row));
        if bytes > PAGE_BYTES && !page.rows.is_empty() {
            page.cut = true;
            break;
        }
        page.rows.push(row);
    }
    Ok(page)
}

/// Cuts the extra row off and returns the cursor of the next page, if there is one.
pub fn finish<T>(rows: &mut Vec<T>, page: &PageRequest, key_of: impl Fn(&T) -> (String, String)) -> Option<String> {
    if rows.len() as u64 > u64::from(page.limit) {
        rows.truncate(page.limit as usize);
        after_last(rows, key_of)
    } else {
        None
    }
}

/// The cursor of the page that starts after the last of `rows`.
fn after_last<T>(rows: &[T], key_of: impl Fn(&T) -> (String, String)) -> Option<String> {
    rows.last().map(|last| {
        let (key, id) = key_of(last);
        encode(&key, &id)
    })
}
