//! The SQL catalogue, compiled in: every statement the drivers and [`crate::identity`] run, read from
//! `hosts/sql/*.sql` (shared with the Python and JavaScript hosts; format in `hosts/sql/README.md`) by
//! `build.rs` into constants, so that sqlx still gets `&'static str`.
//!
//! One module per catalogue file (`tenant-driver.sql` → [`tenant_driver`]), one constant per statement
//! (`fetch-tenant-by-slug` → `FETCH_TENANT_BY_SLUG`) with its `{{fragments}}` expanded; a statement with
//! per-backend blocks has `…_SQLITE` and `…_POSTGRES`. [`ALL`] lists them all by address. To change SQL,
//! edit the `.sql` file: the build checks it.

include!(concat!(env!("OUT_DIR"), "/sql_catalogue.rs"));

#[cfg(test)]
mod tests {
    use super::ALL;

    #[test]
    fn every_statement_has_text_and_no_fragment_left() {
        assert!(!ALL.is_empty());
        for (address, sql) in ALL {
            assert!(!sql.trim().is_empty(), "{address} is empty");
            assert!(!sql.contains("{{") && !sql.contains("}}"), "{address} has an unexpanded fragment: {sql}");
        }
    }

    #[test]
    fn addresses_are_unique() {
        let mut addresses: Vec<&str> = ALL.iter().map(|(address, _)| *address).collect();
        addresses.sort_unstable();
        addresses.dedup();
        assert_eq!(addresses.len(), ALL.len());
    }
}
