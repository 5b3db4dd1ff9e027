//! Time in the contract is microseconds since the Unix epoch, UTC. Calendar questions (which UTC day or
//! month a time falls in) are answered here with chrono.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::aos::accounts::types::Timestamp;

pub const SECOND: i64 = 1_000_000;
pub const DAY: i64 = 86_400 * SECOND;

fn to_datetime(ts: Timestamp) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(ts).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

pub fn utc_date(ts: Timestamp) -> NaiveDate {
    to_datetime(ts).date_naive()
}

/// (year, month) of the UTC month holding `ts`.
pub fn utc_month(ts: Timestamp) -> (i32, u32) {
    let d = utc_date(ts);
    (d.year(), d.month())
}

/// 00:00:00 UTC on the first day of the month holding `ts`.
pub fn month_start(ts: Timestamp) -> Timestamp {
    let d = utc_date(ts);
    NaiveDate::from_ymd_opt(d.year(), d.month(), 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_micros())
        .unwrap_or(ts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::at;

    #[test]
    fn the_utc_day_and_month_of_a_time() {
        let last_micro_of_leap_day = at(2024, 2, 29, 23, 59, 59) + 999_999;
        assert_eq!(utc_date(last_micro_of_leap_day), NaiveDate::from_ymd_opt(2024, 2, 29).unwrap());
        assert_eq!(utc_month(last_micro_of_leap_day), (2024, 2));
        assert_eq!(utc_month(last_micro_of_leap_day + 1), (2024, 3));
        assert_eq!(at(2024, 3, 2, 0, 0, 0) - at(2024, 3, 1, 0, 0, 0), DAY);
    }

    #[test]
    fn a_month_starts_at_midnight_utc_on_its_first_day() {
        assert_eq!(month_start(at(2024, 2, 29, 23, 59, 59)), at(2024, 2, 1, 0, 0, 0));
        assert_eq!(month_start(at(2025, 1, 1, 0, 0, 0)), at(2025, 1, 1, 0, 0, 0));
        assert_eq!(month_start(-1), at(1969, 12, 1, 0, 0, 0), "before the epoch too");
    }
}
