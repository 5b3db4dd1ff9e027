//! The wasmtime side of the runtime: the embedded components, the engine's configuration (pooling
//! allocator, bounds checks, epoch deadline), compiling or loading a component, and reading a component's
//! shape.

use wasmtime::component::Component;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::cache::{CacheConfig, ComponentCache};
use crate::runtime::RuntimeConfig;

/// The engine component, built from `guest/` by the build script: the one published
/// ([`write_contract`]), for any host, including one that calls an instance again.
pub static ACCOUNT_ENGINE_COMPONENT: &[u8] = include_bytes!(env!("ACCOUNT_ENGINE_COMPONENT"));

/// The engine as the runtime instantiates it, one component per interface it exports (`accounts`,
/// `tenants`, …): the published component's core module with only that interface's functions exported,
/// without the post-return functions that free a call's results for an instance's next call (the
/// instance's memory goes with it instead), and without the functions and imports nothing left reaches.
/// Instantiating a component wires each driver function its core module imports, so a call's instance
/// wires only what its interface can call (`host/build/one_call.rs`). Calling such an instance again
/// works, but keeps the earlier calls' results in its memory.
pub static ACCOUNT_ENGINE_INTERFACE_COMPONENTS: &[(&str, &[u8])] =
    include!(concat!(env!("OUT_DIR"), "/interface_components.rs"));

include!(concat!(env!("OUT_DIR"), "/contract_wit.rs"));

/// Writes the engine component (`account-engine.wasm`), its contract (`wit/`, documented) and the types of
/// its functions (`account-engine.types.json`) into `dir`: what a host in another language needs, from the
/// binary alone.
pub fn write_contract(dir: &std::path::Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut written = vec![dir.join("account-engine.wasm"), dir.join("account-engine.types.json")];
    std::fs::create_dir_all(dir)?;
    write_whole(&written[0], ACCOUNT_ENGINE_COMPONENT)?;
    write_whole(&written[1], CONTRACT_TYPES_JSON.as_bytes())?;
    for (name, text) in CONTRACT_WIT {
        let path = dir.join("wit").join(name);
        std::fs::create_dir_all(path.parent().unwrap_or(dir))?;
        write_whole(&path, text.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

/// Writes a file so that a reader sees the old content or the new one, never a part: into a file of its
/// own beside it, renamed over it (two publishers of one directory race harmlessly).
fn write_whole(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(format!(".{}.partial", uuid::Uuid::new_v4().simple()));
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, path)
}

/// A deliberately misbehaving component (from `tests/rogue-guest`), embedded only when the test suite asks
/// for it (feature `rogue-guest`): the library an embedder builds does not carry it.
#[cfg(feature = "rogue-guest")]
#[doc(hidden)]
pub static ROGUE_GUEST_COMPONENT: &[u8] = include_bytes!(env!("ROGUE_GUEST_COMPONENT"));

/// Where the test suite's tenant policies were built (`<name>.wasm`: the examples and the hostile ones);
/// only with feature `rogue-guest`.
#[cfg(feature = "rogue-guest")]
#[doc(hidden)]
pub const TEST_POLICIES_DIR: &str = env!("TEST_POLICIES_DIR");

/// Linear memory kept mapped in a pooled slot between calls (where PAGEMAP_SCAN is available).
const KEEP_RESIDENT_BYTES: usize = 2 << 20;

pub(crate) fn engine(config: &RuntimeConfig) -> anyhow::Result<Engine> {
    // A call touches a few hundred KiB of its instance's memory. Resetting a slot by rewriting only the
    // pages it touched (found with PAGEMAP_SCAN, Linux 6.7+) instead of unmapping them spares the next
    // call the page faults of mapping them in again. Without PAGEMAP_SCAN, keeping memory resident means
    // rewriting all of it on every call, so the slot is unmapped as before.
    match Engine::new(&wasm_config(config, true)) {
        Ok(engine) => Ok(engine),
        Err(e) => {
            tracing::debug!(error = %e, "PAGEMAP_SCAN is not available; pooled memory is reset by unmapping");
            Ok(Engine::new(&wasm_config(config, false))?)
        }
    }
}

fn wasm_config(config: &RuntimeConfig, pagemap_scan: bool) -> Config {
    let mut pool = PoolingAllocationConfig::new();
    // The engine's calls have their own slots (admission hands out no more than that); an embedder's
    // components have theirs, so that they never take an admitted call's.
    let instances = config.max_concurrent_calls + config.embedder_instances;
    pool.total_component_instances(instances)
        // The component is one core module with one memory, plus the small adapter modules
        // wit-component adds.
        .total_core_instances(instances * 4)
        .total_memories(instances)
        .total_tables(instances * 2)
        .total_stacks(instances)
        .max_memory_size(config.max_memory_bytes)
        .max_unused_warm_slots(config.max_concurrent_calls.min(64));
    if pagemap_scan {
        pool.pagemap_scan(wasmtime::Enabled::Yes)
            .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
            .table_keep_resident(64 << 10);
    }
    let mut wasm = Config::new();
    wasm.wasm_component_model(true)
        // Explicit bounds checks instead of guard pages and signal handlers. With guard pages, every
        // call's first `memory.grow` (Rust's allocator takes all its memory that way) cost an `mprotect`
        // to grow and another to shrink the slot back for the next instance; without them a slot stays
        // mapped, and a call's fixed cost fell from 25 to 14 µs. Guest code runs a little slower; it is a
        // small part of a call next to the database.
        .memory_guard_size(0)
        .memory_reservation(config.max_memory_bytes as u64)
        .signals_based_traps(false)
        .epoch_interruption(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    wasm
}

/// Compiles a component, or loads it from a configured cache (see [`crate::cache`]).
pub fn load_component(engine: &Engine, wasm: &[u8], cache: Option<&CacheConfig>) -> anyhow::Result<Component> {
    match cache {
        None => Ok(Component::new(engine, wasm)?),
        Some(config) => ComponentCache::open(config)?.load_or_compile(engine, wasm),
    }
}

/// One interface a component imports or exports, with the functions in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceShape {
    /// The interface's name, e.g. `aos:accounts/tenants@0.5.0`.
    pub name: String,
    /// Its functions' names.
    pub functions: Vec<String>,
}

/// The interfaces the engine component imports and exports, as the component itself declares them.
pub fn component_shape(engine: &Engine, wasm: &[u8]) -> anyhow::Result<(Vec<InterfaceShape>, Vec<InterfaceShape>)> {
    use wasmtime::component::types::{ComponentExtern, ComponentItem};
    let component = Component::new(engine, wasm)?;
    let ty = component.component_type();
    let shape = |name: &str, item: ComponentExtern<'_>| {
        let functions = match item.ty {
            ComponentItem::ComponentInstance(instance) => instance
                .exports(engine)
                .filter(|(_, e)| matches!(e.ty, ComponentItem::ComponentFunc(_)))
                .map(|(n, _)| n.to_string())
                .collect(),
            _ => Vec::new(),
        };
        InterfaceShape { name: name.to_string(), functions }
    };
    let imports = ty.imports(engine).map(|(n, e)| shape(n, e)).collect();
    let exports = ty.exports(engine).map(|(n, e)| shape(n, e)).collect();
    Ok((imports, exports))
}
