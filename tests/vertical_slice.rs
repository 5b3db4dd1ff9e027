//! The walking skeleton: a tenant created through the component is read back through it, on every
//! backend.

use account_host::bindings::{ErrorCode, OnboardingState, Plan, TenantStatus};
use suite::{each_backend, expect_code, operator};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_a_tenant_and_read_it_back() {
    each_backend(async |h| {
        let created = h.tenant("acme").await;
        assert_eq!(created.slug, "acme");
        assert_eq!(created.plan, Plan::Free);
        assert_eq!(created.status, TenantStatus::Active);
        assert_eq!(created.onboarding_state, OnboardingState::Created);
        assert_eq!(created.quotas.max_api_keys, 5);
        assert_eq!(created.created_at, suite::T0);

        let read = h.runtime.tenants().get_tenant(&operator(Some(&created.id))).await.expect("get tenant");
        assert_eq!(read.id, created.id);
        assert_eq!(read.name, "Tenant acme");
        assert_eq!(read.quotas.max_tokens_per_month, 1_000_000);

        // The creation is audited in the same transaction.
        let audited = h
            .count(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'create_tenant' AND resource_id = '{}'",
                created.id
            ))
            .await;
        assert_eq!(audited, 1);

        // A second tenant with the same slug is a conflict and writes nothing.
        let again = h
            .runtime
            .tenants()
            .create_tenant(
                &operator(None),
                &account_host::bindings::tenants::NewTenant {
                    name: "Other".into(),
                    slug: "acme".into(),
                    plan: Plan::Pro,
                    external_org_id: None,
                    billing_email: None,
                },
            )
            .await;
        expect_code(again, ErrorCode::Conflict);
        assert_eq!(h.count("SELECT COUNT(*) FROM tenants").await, 1);
        assert_eq!(h.count("SELECT COUNT(*) FROM audit_log").await, 1);
    })
    .await;
}
