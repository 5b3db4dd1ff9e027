//! Input validation shared by the operations: every refusal is an `invalid-argument` that names the field.

use crate::aos::accounts::types::PageRequest;
use crate::error::{Result, invalid};

/// The most items one page may hold.
pub const MAX_PAGE: u32 = 1000;

/// A list's total counts at most this many items, so that a page costs the same on a tenant of any size;
/// beyond it the list says "more than 1,000" (`total-exact` false).
pub const TOTAL_UP_TO: u64 = 1000;

/// How far a list asks the driver to count: one more than [`TOTAL_UP_TO`], which tells "exactly 1,000"
/// from "more".
pub const TOTAL_COUNT_UP_TO: u64 = TOTAL_UP_TO + 1;

/// A list's `total` and `total-exact` from a count that stopped at [`TOTAL_COUNT_UP_TO`].
pub fn total(counted: u64) -> (u64, bool) {
    (counted.min(TOTAL_UP_TO), counted <= TOTAL_UP_TO)
}

/// How many rows match in all when the first page already holds every one of them (it was asked from the
/// start and has no next page): its own length, read in the same snapshot as a count would be. `None`
/// otherwise: the caller counts.
pub fn whole_list(request: &PageRequest, has_next: bool, rows: usize) -> Option<u64> {
    (request.after.is_none() && !has_next).then_some(rows as u64)
}

/// A required text of `min..=max` characters, trimmed.
pub fn text(field: &str, value: &str, min: usize, max: usize) -> Result<String> {
    let value = value.trim();
    let len = value.chars().count();
    if len < min {
        return Err(invalid(format!("{field} must not be empty")));
    }
    if len > max {
        return Err(invalid(format!("{field} must be at most {max} characters")));
    }
    if value.chars().any(|c| c == '\0') {
        return Err(invalid(format!("{field} must not contain NUL")));
    }
    Ok(value.to_string())
}

/// An optional text of at most `max` characters, trimmed; empty means none.
pub fn optional_text(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => text(field, v, 1, max).map(Some),
    }
}

/// An e-mail address, lower-cased: one `@` with something on both sides, no spaces, at most 255.
pub fn email(value: &str) -> Result<String> {
    // At most 255 characters as given, white space around it included (the whole text is bounded, as the
    // API's document says), and as kept: lower-casing may lengthen a text (`İ` becomes two characters).
    let within =
        |s: &str| if s.chars().count() > 255 { Err(invalid("email must be at most 255 characters")) } else { Ok(()) };
    within(value)?;
    let value = text("email", value, 1, 255)?.to_lowercase();
    within(&value)?;
    let mut parts = value.split('@');
    let (local, domain) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let well_formed = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && parts.next().is_none()
        && !value.chars().any(char::is_whitespace);
    if !well_formed {
        return Err(invalid("email is not a valid e-mail address"));
    }
    Ok(value)
}

/// A tenant slug: 1..=100 of `a-z`, `0-9` and `-`, starting with a letter or digit.
pub fn slug(value: &str) -> Result<String> {
    let ok = !value.is_empty()
        && value.len() <= 100
        && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-');
    if !ok {
        return Err(invalid("slug must be 1 to 100 characters of a-z, 0-9 and '-', not starting with '-'"));
    }
    Ok(value.to_string())
}

/// A slug made from a display name: lowercase ASCII letters and digits, runs of anything else as one `-`.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
        if slug.len() >= 80 {
            break;
        }
    }
    let slug = slug.trim_matches('-').to_string();
    if slug.is_empty() { "project".to_string() } else { slug }
}

/// JSON text that must be an object; returns it parsed.
pub fn json_object(field: &str, value: &str) -> Result<serde_json::Map<String, serde_json::Value>> {
    match json(field, value)? {
        serde_json::Value::Object(map) => Ok(map),
        _ => Err(invalid(format!("{field} must be a JSON object"))),
    }
}

/// JSON text, parsed. A string in it (a key or a value) must not hold NUL (`\u0000`), which
/// PostgreSQL's `jsonb` cannot keep: every backend takes the same values.
fn json(field: &str, value: &str) -> Result<serde_json::Value> {
    fn holds_nul(value: &serde_json::Value) -> bool {
        match value {
            serde_json::Value::String(s) => s.contains('\0'),
            serde_json::Value::Array(items) => items.iter().any(holds_nul),
            serde_json::Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
            _ => false,
        }
    }
    // serde_json refuses nesting deeper than 128, so the walk is bounded.
    let parsed = serde_json::from_str(value).map_err(|_| invalid(format!("{field} is not valid JSON")))?;
    if holds_nul(&parsed) {
        return Err(invalid(format!("{field} must not hold NUL (\\u0000) in its strings")));
    }
    Ok(parsed)
}

/// JSON text of an object, returned in its canonical form (compact, keys sorted), which must be at most
/// `max_bytes`: what is kept and counted is the canonical form, not the text as sent.
pub fn canonical_object(field: &str, value: &str, max_bytes: usize) -> Result<String> {
    let too_large = || invalid(format!("{field} must be at most {max_bytes} bytes serialised"));
    // Refuse absurd input before parsing it; the canonical form is checked exactly below.
    if value.len() > 4 * max_bytes {
        return Err(too_large());
    }
    let canonical = serde_json::Value::Object(json_object(field, value)?).to_string();
    if canonical.len() > max_bytes {
        return Err(too_large());
    }
    Ok(canonical)
}

/// Any JSON text, at most `max` bytes.
pub fn json_text(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>> {
    let Some(value) = value else { return Ok(None) };
    if value.len() > max {
        return Err(invalid(format!("{field} must be at most {max} bytes")));
    }
    json(field, value)?;
    Ok(Some(value.to_string()))
}

/// A page request within bounds.
pub fn page(page: &PageRequest) -> Result<PageRequest> {
    if page.limit == 0 || page.limit > MAX_PAGE {
        return Err(invalid(format!("limit must be between 1 and {MAX_PAGE}")));
    }
    if page.after.as_ref().is_some_and(|c| c.is_empty() || c.len() > 1024) {
        return Err(invalid("after is not a valid cursor"));
    }
    Ok(page.clone())
}

/// A whole number within `min..=max`.
pub fn range<T: PartialOrd + core::fmt::Display + Copy>(field: &str, value: T, min: T, max: T) -> Result<T> {
    if value < min || value > max {
        return Err(invalid(format!("{field} must be between {min} and {max}")));
    }
    Ok(value)
}

/// A list of short labels (scopes, worker ids): at most `max_items`, each 1..=100 characters.
pub fn labels(field: &str, values: &[String], max_items: usize) -> Result<Vec<String>> {
    if values.len() > max_items {
        return Err(invalid(format!("{field} may hold at most {max_items} entries")));
    }
    values.iter().map(|v| text(field, v, 1, 100)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message<T>(result: Result<T>) -> String {
        result.err().expect("refused").message
    }

    #[test]
    fn text_is_trimmed_and_bounded_in_characters() {
        assert_eq!(text("name", "  Acme  ", 1, 200).ok().as_deref(), Some("Acme"));
        assert_eq!(text("name", "éééé", 1, 4).ok().as_deref(), Some("éééé"), "characters, not bytes");
        assert_eq!(message(text("name", "   ", 1, 200)), "name must not be empty");
        assert_eq!(message(text("name", "abcde", 1, 4)), "name must be at most 4 characters");
        assert_eq!(message(text("name", "a\0b", 1, 4)), "name must not contain NUL");
        assert_eq!(optional_text("note", Some("  "), 10).ok(), Some(None));
        assert_eq!(optional_text("note", None, 10).ok(), Some(None));
    }

    #[test]
    fn e_mail_addresses_are_lower_cased_and_well_formed() {
        assert_eq!(email(" Ann@Example.COM ").ok().as_deref(), Some("ann@example.com"));
        for bad in
            ["ann", "ann@example", "@example.com", "ann@.example.com", "ann@example.com.", "a@b@c.de", "a n@b.de"]
        {
            assert_eq!(message(email(bad)), "email is not a valid e-mail address", "{bad}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(message(email(&long)), "email must be at most 255 characters");
    }

    #[test]
    fn slugs_are_lowercase_digits_and_dashes() {
        for good in ["acme", "acme-2", "0day"] {
            assert_eq!(slug(good).ok().as_deref(), Some(good));
        }
        for bad in ["", "-acme", "Acme", "acme_co", "ac me", &"a".repeat(101)] {
            assert!(slug(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_name_becomes_a_valid_slug() {
        assert_eq!(slugify("Hello, World!"), "hello-world");
        assert_eq!(slugify("  --Über Café--  "), "ber-caf");
        assert_eq!(slugify("!!!"), "project");
        let long = slugify(&"word ".repeat(40));
        assert!(long.len() <= 80 && !long.ends_with('-'), "{long}");
        for name in ["Hello, World!", "!!!", "  --Über Café--  ", &"word ".repeat(40)] {
            assert!(slug(&slugify(name)).is_ok(), "{name}");
        }
    }

    #[test]
    fn json_objects_are_kept_canonical_and_bounded() {
        assert_eq!(
            canonical_object("value", r#"{ "b": 1, "a": [true, null] }"#, 100).ok().as_deref(),
            Some(r#"{"a":[true,null],"b":1}"#)
        );
        assert_eq!(message(canonical_object("value", "[1]", 100)), "value must be a JSON object");
        assert_eq!(message(canonical_object("value", "{", 100)), "value is not valid JSON");
        assert!(message(canonical_object("value", r#"{"a":"\u0000"}"#, 100)).contains("must not hold NUL"));
        // The canonical form is what counts: white space sent does not.
        assert!(canonical_object("value", &format!("{{{}\"a\":1}}", " ".repeat(20)), 8).is_ok());
        assert_eq!(message(canonical_object("value", r#"{"a":12345}"#, 8)), "value must be at most 8 bytes serialised");
    }

    #[test]
    fn pages_ranges_and_labels_are_bounded() {
        assert!(page(&PageRequest { limit: MAX_PAGE, after: Some("c".into()) }).is_ok());
        assert!(page(&PageRequest { limit: 0, after: None }).is_err());
        assert!(page(&PageRequest { limit: MAX_PAGE + 1, after: None }).is_err());
    }

    #[test]
    fn a_first_page_without_a_next_one_is_the_whole_list() {
        let first = PageRequest { limit: 50, after: None };
        let later = PageRequest { limit: 50, after: Some("c".into()) };
        assert_eq!(whole_list(&first, false, 7), Some(7));
        assert_eq!(whole_list(&first, true, 50), None, "more follow: count them");
        assert_eq!(whole_list(&later, false, 7), None, "the rows before the cursor are not in it");
    }

    #[test]
    fn totals_stop_at_a_thousand_and_say_so() {
        assert_eq!(total(0), (0, true));
        assert_eq!(total(TOTAL_UP_TO), (TOTAL_UP_TO, true), "exactly 1,000 is exact");
        assert_eq!(total(TOTAL_COUNT_UP_TO), (TOTAL_UP_TO, false), "1,001 counted: more than 1,000");
        assert_eq!(total(u64::MAX), (TOTAL_UP_TO, false), "a driver that counted further still says more");
        assert_eq!(
            message(page(&PageRequest { limit: 10, after: Some(String::new()) })),
            "after is not a valid cursor"
        );
        assert_eq!(message(range("limit", 101, 1, 100)), "limit must be between 1 and 100");
        assert_eq!(range("limit", 100, 1, 100).ok(), Some(100));
        let three = ["a".to_string(), "b".to_string(), "c".to_string()];
        assert_eq!(message(labels("permissions", &three, 2)), "permissions may hold at most 2 entries");
    }
}
