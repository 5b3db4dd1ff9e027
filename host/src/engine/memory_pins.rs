//! Typed calls of the `memory-pins` interface (one sandboxed instance and one transaction each).

use crate::bindings::memory_pins;
use crate::bindings::{AccessFilter, AccessPage, EngineError, PageRequest};
use crate::call::CallState;
use crate::contract::operations::memory_pins as op;
use crate::drivers::DriverView;
use crate::runtime::{Caller, Runtime};

/// The `memory-pins` interface of a runtime's engine.
pub struct MemoryPins<'a, T: 'static = CallState>(pub(crate) &'a Runtime<T>);

impl<T: DriverView> MemoryPins<'_, T> {
    /// Creates or replaces a pin. `source` defaults to `api` (at most 64 characters).
    /// (`memory-pins.upsert-pin`)
    pub async fn upsert_pin(
        &self,
        caller: &Caller,
        key: &str,
        value: &str,
        source: Option<&str>,
        ttl_seconds: Option<u32>,
    ) -> Result<memory_pins::Pin, EngineError> {
        self.0
            .run(caller, &op::UPSERT_PIN, |mut a| {
                Box::pin(async move {
                    a.call(memory_pins::Guest::func_upsert_pin, (a.ctx, key, &value.to_string(), source, ttl_seconds))
                        .await
                })
            })
            .await
    }

    /// The pin, or none when absent or expired.
    /// (`memory-pins.get-pin`)
    pub async fn get_pin(&self, caller: &Caller, key: &str) -> Result<Option<memory_pins::Pin>, EngineError> {
        self.0
            .run(caller, &op::GET_PIN, |mut a| {
                Box::pin(async move { a.call(memory_pins::Guest::func_get_pin, (a.ctx, key)).await })
            })
            .await
    }

    /// Pins newest first whose key starts with `prefix` (matched literally).
    /// (`memory-pins.list-pins`)
    pub async fn list_pins(
        &self,
        caller: &Caller,
        prefix: Option<&str>,
        include_expired: bool,
        page: &PageRequest,
    ) -> Result<memory_pins::PinList, EngineError> {
        self.0
            .run(caller, &op::LIST_PINS, |mut a| {
                Box::pin(async move {
                    a.call(memory_pins::Guest::func_list_pins, (a.ctx, prefix, include_expired, page)).await
                })
            })
            .await
    }

    /// Whether a pin was deleted.
    /// (`memory-pins.delete-pin`)
    pub async fn delete_pin(&self, caller: &Caller, key: &str) -> Result<bool, EngineError> {
        self.0
            .run(caller, &op::DELETE_PIN, |mut a| {
                Box::pin(async move { a.call(memory_pins::Guest::func_delete_pin, (a.ctx, key)).await })
            })
            .await
    }

    /// Deletes the tenant's expired pins; without a tenant in the context (operators and the system
    /// only), every tenant's.
    /// (`memory-pins.cleanup-expired`)
    pub async fn cleanup_expired(&self, caller: &Caller) -> Result<memory_pins::CleanupResult, EngineError> {
        self.0
            .run(caller, &op::CLEANUP_EXPIRED, |mut a| {
                Box::pin(async move { a.call(memory_pins::Guest::func_cleanup_expired, (a.ctx,)).await })
            })
            .await
    }

    /// The tenant's memory access log, newest first (admins, owners, keys with `memory_pin:admin`, operators).
    pub async fn list_access_log(
        &self,
        caller: &Caller,
        filter: Option<&AccessFilter>,
        page: &PageRequest,
    ) -> Result<AccessPage, EngineError> {
        self.0
            .run(caller, &op::LIST_ACCESS_LOG, |mut a| {
                Box::pin(async move { a.call(memory_pins::Guest::func_list_access_log, (a.ctx, filter, page)).await })
            })
            .await
    }
}
