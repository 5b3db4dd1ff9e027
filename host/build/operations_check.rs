//! The build's check that the contract's exports and the description of every operation
//! (`guest/src/operations.rs`) name the same operations, each once. An operation exported without a
//! description (or described but not exported) fails the build with a message that names it.

/// Checks `exports` (interface, function) of the contract against `described` (interface, name).
pub fn check(exports: &[(String, String)], described: &[(&str, &str)]) -> Result<(), String> {
    let mut problems = Vec::new();
    for (interface, function) in exports {
        match described.iter().filter(|(i, n)| i == interface && n == function).count() {
            0 => problems.push(format!(
                "the contract exports {interface}.{function}, which guest/src/operations.rs does not describe: \
                 add an entry saying whether it writes (`Effect`) and who may call it (`Access`, with its permission)"
            )),
            1 => {}
            n => problems.push(format!("guest/src/operations.rs describes {interface}.{function} {n} times")),
        }
    }
    for (interface, name) in described {
        if !exports.iter().any(|(i, f)| i == interface && f == name) {
            problems.push(format!(
                "guest/src/operations.rs describes {interface}.{name}, which the contract does not export"
            ));
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("\n")) }
}

#[cfg(test)]
mod tests {
    use super::check;

    fn exports(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(i, f)| (i.to_string(), f.to_string())).collect()
    }

    #[test]
    fn an_exported_operation_without_a_description_is_named() {
        let exported = exports(&[("tenants", "get-tenant"), ("tenants", "rename-tenant")]);
        let error = check(&exported, &[("tenants", "get-tenant")]).unwrap_err();
        assert!(error.contains("exports tenants.rename-tenant"), "{error}");
        assert!(error.contains("does not describe"), "{error}");
        assert!(!error.contains("get-tenant,"), "{error}");
    }

    #[test]
    fn a_description_of_no_export_and_a_second_description_are_named() {
        let exported = exports(&[("tenants", "get-tenant")]);
        let error =
            check(&exported, &[("tenants", "get-tenant"), ("tenants", "get-tenant"), ("tenants", "gone")]).unwrap_err();
        assert!(error.contains("describes tenants.get-tenant 2 times"), "{error}");
        assert!(error.contains("describes tenants.gone, which the contract does not export"), "{error}");
    }

    #[test]
    fn matching_lists_pass() {
        let exported = exports(&[("tenants", "get-tenant"), ("accounts", "list-users")]);
        assert_eq!(check(&exported, &[("accounts", "list-users"), ("tenants", "get-tenant")]), Ok(()));
    }
}
