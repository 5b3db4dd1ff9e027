//! Typed calls of the `memory-pins` interface (one sandboxed instance and one transaction each).

use crate::bindings::memory_pins;
use crate::bindings::{AccessFilter, AccessPage, EngineError, PageRequest};
use crate::engine_call;
use crate::runtime::{Caller, Runtime};

pub struct MemoryPins<'a>(pub(crate) &'a Runtime);

impl MemoryPins<'_> {
    pub async fn upsert_pin(
        &self,
        caller: &Caller,
        key: &str,
        value: &str,
        source: Option<&str>,
        ttl_seconds: Option<u32>,
    ) -> Result<memory_pins::Pin, EngineError> {
        engine_call!(self.0, caller, memory_pins, "upsert-pin", |guest, store, ctx| guest.call_upsert_pin(
            store,
            &ctx,
            key,
            &value.to_string(),
            source,
            ttl_seconds
        ))
    }

    pub async fn get_pin(&self, caller: &Caller, key: &str) -> Result<Option<memory_pins::Pin>, EngineError> {
        engine_call!(self.0, caller, memory_pins, "get-pin", |guest, store, ctx| guest.call_get_pin(store, &ctx, key))
    }

    pub async fn list_pins(
        &self,
        caller: &Caller,
        prefix: Option<&str>,
        include_expired: bool,
        page: &PageRequest,
    ) -> Result<memory_pins::PinList, EngineError> {
        engine_call!(self.0, caller, memory_pins, "list-pins", |guest, store, ctx| guest.call_list_pins(
            store,
            &ctx,
            prefix,
            include_expired,
            page
        ))
    }

    pub async fn delete_pin(&self, caller: &Caller, key: &str) -> Result<bool, EngineError> {
        engine_call!(self.0, caller, memory_pins, "delete-pin", |guest, store, ctx| guest
            .call_delete_pin(store, &ctx, key))
    }

    pub async fn cleanup_expired(&self, caller: &Caller) -> Result<memory_pins::CleanupResult, EngineError> {
        engine_call!(self.0, caller, memory_pins, "cleanup-expired", |guest, store, ctx| guest
            .call_cleanup_expired(store, &ctx))
    }

    /// The tenant's memory access log, newest first (admins, owners, keys with `memory_pin:admin`, operators).
    pub async fn list_access_log(
        &self,
        caller: &Caller,
        filter: Option<&AccessFilter>,
        page: &PageRequest,
    ) -> Result<AccessPage, EngineError> {
        engine_call!(self.0, caller, memory_pins, "list-access-log", |guest, store, ctx| guest
            .call_list_access_log(store, &ctx, filter, page))
    }
}
