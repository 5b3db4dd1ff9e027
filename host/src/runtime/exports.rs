//! Where the engine's functions sit in its components (one per interface,
//! [`crate::runtime::ACCOUNT_ENGINE_INTERFACE_COMPONENTS`]), looked up once when the runtime starts (a
//! missing export fails there, not in a call): each operation's component and function, the typed indices
//! of each interface, and every function with its parameter and result types for JSON calls.

use std::collections::HashMap;

use wasmtime::Engine;
use wasmtime::component::types::{ComponentFunc, ComponentItem};
use wasmtime::component::{Component, ComponentExportIndex, InstancePre, Type};

use crate::bindings::{accounts, lifecycle, memory_pins, onboarding, policies, tenants};
use crate::contract::{Operation, operations};

/// The WIT package of the engine interfaces.
pub const PACKAGE: &str = "aos:accounts";
/// The contract's version, as `wit/world.wit` declares it.
pub const VERSION: &str = env!("AOS_CONTRACT_VERSION");

/// The runtime's components: each interface's name and its component, ready to instantiate.
pub(crate) type Parts<T> = Vec<(&'static str, InstancePre<T>)>;

/// Where each operation's function sits, and the typed indices of each engine interface's functions, each
/// in its interface's component (an index found in one component is not found in an instance of
/// another). An engine call looks up and type-checks only its operation's function
/// ([`crate::runtime::Attempt::call`]): loading an interface type-checks every function of it, 4 µs a
/// call for `accounts`' 19.
pub struct Exports {
    /// Each operation's component (its place in [`Parts`]) and function, by (interface, function) as
    /// [`operations::ALL`] names them.
    operations: HashMap<(&'static str, &'static str), (usize, ComponentExportIndex)>,
    /// `accounts`.
    pub accounts: accounts::GuestIndices,
    /// `tenants`.
    pub tenants: tenants::GuestIndices,
    /// `memory-pins`.
    pub memory_pins: memory_pins::GuestIndices,
    /// `onboarding`.
    pub onboarding: onboarding::GuestIndices,
    /// `lifecycle`.
    pub lifecycle: lifecycle::GuestIndices,
    /// `policies`.
    pub policies: policies::GuestIndices,
    /// Every exported function, with its types (for calls by name with JSON values).
    pub functions: Vec<ExportedFunction>,
}

impl Exports {
    pub(crate) fn new<T: 'static>(engine: &Engine, parts: &Parts<T>) -> anyhow::Result<Self> {
        let mut functions = Vec::new();
        for (part, (_, pre)) in parts.iter().enumerate() {
            functions.extend(exported_functions(engine, pre.component(), part));
        }
        let mut by_operation = HashMap::new();
        for op in operations::ALL {
            let function = functions.iter().find(|f| f.interface == op.interface && f.name == op.name);
            let Some(function) = function else {
                anyhow::bail!("the component does not export {}.{}", op.interface, op.name);
            };
            by_operation.insert((op.interface, op.name), (function.part, function.index));
        }
        let pre_of = |interface: &str| match parts.iter().find(|(name, _)| *name == interface) {
            Some((_, pre)) => Ok(pre),
            None => Err(anyhow::anyhow!("the engine has no component of {interface}")),
        };
        Ok(Exports {
            operations: by_operation,
            accounts: accounts::GuestIndices::new(pre_of("accounts")?)?,
            tenants: tenants::GuestIndices::new(pre_of("tenants")?)?,
            memory_pins: memory_pins::GuestIndices::new(pre_of("memory-pins")?)?,
            onboarding: onboarding::GuestIndices::new(pre_of("onboarding")?)?,
            lifecycle: lifecycle::GuestIndices::new(pre_of("lifecycle")?)?,
            policies: policies::GuestIndices::new(pre_of("policies")?)?,
            functions,
        })
    }

    /// Where `operation`'s function sits: its component's place in [`Parts`], and the function in it
    /// (every operation has one: [`Exports::new`] checked).
    pub(crate) fn function_of(&self, operation: &Operation) -> (usize, ComponentExportIndex) {
        self.operations[&(operation.interface, operation.name)]
    }
}

/// One function of an engine interface, as the component declares it.
#[derive(Clone)]
pub struct ExportedFunction {
    /// The interface, e.g. `memory-pins`.
    pub interface: String,
    /// The function, e.g. `upsert-pin`.
    pub name: String,
    /// The parameters after the call context.
    pub params: Vec<(String, Type)>,
    /// The `ok` type of the result (none for `result<_, engine-error>`).
    pub ok: Option<Type>,
    /// Where the function sits in its interface's component (looked up once, not by name on every call).
    pub(crate) index: ComponentExportIndex,
    /// Its interface's component: its place in [`Parts`].
    pub(crate) part: usize,
}

impl ExportedFunction {
    /// Where the function sits in its interface's component (for an embedder's own lookups in an instance
    /// of that component: [`crate::Runtime::component_of`]).
    pub fn index(&self) -> ComponentExportIndex {
        self.index
    }
}

fn exported_functions(engine: &Engine, component: &Component, part: usize) -> Vec<ExportedFunction> {
    let ty = component.component_type();
    let mut functions = Vec::new();
    for (name, export) in ty.exports(engine) {
        let Some(interface) =
            name.strip_prefix(&format!("{PACKAGE}/")).and_then(|n| n.strip_suffix(&format!("@{VERSION}")))
        else {
            continue;
        };
        let ComponentItem::ComponentInstance(instance) = export.ty else { continue };
        let Some(interface_index) = component.get_export_index(None, name) else { continue };
        for (function, item) in instance.exports(engine) {
            if let (ComponentItem::ComponentFunc(func), Some(index)) =
                (item.ty, component.get_export_index(Some(&interface_index), function))
            {
                functions.push(exported_function(interface, function, &func, index, part));
            }
        }
    }
    functions
}

fn exported_function(
    interface: &str,
    name: &str,
    func: &ComponentFunc,
    index: ComponentExportIndex,
    part: usize,
) -> ExportedFunction {
    let params = func.params().skip(1).map(|(n, t)| (n.to_string(), t)).collect();
    let ok = func.results().next().and_then(|r| match r {
        Type::Result(r) => r.ok(),
        _ => None,
    });
    ExportedFunction { interface: interface.to_string(), name: name.to_string(), params, ok, index, part }
}
