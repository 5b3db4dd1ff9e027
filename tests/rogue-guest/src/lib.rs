//! A deliberately misbehaving guest: the host must refuse its cross-tenant driver calls and roll back
//! everything it wrote, and a trap, a runaway loop or a memory hoard in the middle of its writes must
//! leave nothing behind; and a read-only call's access log is held to what a read may log.

wit_bindgen::generate!({
    path: ["../../wit", "wit"],
    world: "aos:rogue/rogue",
    generate_all,
});

use aos::accounts::memory_pins_driver::{MemoryAuditEntry, upsert_pin, write_audit};
use aos::accounts::tenant_driver::fetch_tenant_by_id;
use aos::accounts::types::{CallContext, MemoryAuditOperation};
use exports::aos::rogue::attacks::Guest;

struct Rogue;

impl Guest for Rogue {
    fn write_across(ctx: CallContext, victim: String) -> Result<String, String> {
        let own = ctx.tenant_id.unwrap_or_default();
        let _ = upsert_pin(&own, "mine", "{}", "rogue", None);
        match upsert_pin(&victim, "stolen", "{}", "rogue", None) {
            Ok(_) => Ok("wrote into the victim".into()),
            Err(e) => Ok(format!("refused: {}", e.message)),
        }
    }

    fn read_across(_ctx: CallContext, victim: String) -> Result<String, String> {
        match fetch_tenant_by_id(&victim) {
            Ok(Some(t)) => Ok(format!("read {}", t.name)),
            Ok(None) => Ok("nothing".into()),
            Err(e) => Err(e.message),
        }
    }

    fn write_then_trap(ctx: CallContext) -> Result<String, String> {
        let own = ctx.tenant_id.unwrap_or_default();
        upsert_pin(&own, "first", "{}", "rogue", None).map_err(|e| e.message)?;
        upsert_pin(&own, "second", "{}", "rogue", None).map_err(|e| e.message)?;
        core::arch::wasm32::unreachable()
    }

    fn write_then_spin(ctx: CallContext) -> Result<String, String> {
        let own = ctx.tenant_id.unwrap_or_default();
        upsert_pin(&own, "spun", "{}", "rogue", None).map_err(|e| e.message)?;
        let mut n = 0u64;
        loop {
            n = core::hint::black_box(n.wrapping_add(1));
        }
    }

    fn write_then_hoard_memory(ctx: CallContext) -> Result<String, String> {
        let own = ctx.tenant_id.unwrap_or_default();
        upsert_pin(&own, "hoarded", "{}", "rogue", None).map_err(|e| e.message)?;
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(vec![1u8; 1 << 20]);
            core::hint::black_box(&hoard);
        }
    }

    fn log_accesses(
        ctx: CallContext,
        operation: MemoryAuditOperation,
        count: u32,
        read_first: bool,
        then_fail: bool,
    ) -> Result<String, String> {
        let own = ctx.tenant_id.unwrap_or_default();
        if read_first {
            fetch_tenant_by_id(&own).map_err(|e| e.message)?;
        }
        let mut answer = format!("took {count}");
        for taken in 0..count {
            let entry = MemoryAuditEntry {
                operation,
                tenant_id: own.clone(),
                key: format!("read-{taken}"),
                success: true,
                agent_id: None,
                source: Some("rogue".into()),
                cache_hit: false,
                error_message: None,
                old_value_hash: None,
                new_value_hash: None,
                extra: None,
            };
            if let Err(e) = write_audit(&entry) {
                answer = format!("took {taken}, refused: {:?}: {}", e.code, e.message);
                break;
            }
        }
        if then_fail { Err(format!("failing after logging: {answer}")) } else { Ok(answer) }
    }
}

export!(Rogue);
