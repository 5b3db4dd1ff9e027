//! The components the runtime instantiates: one per interface the engine exports, each made from the
//! engine's core module with only that interface's functions exported, without post-returns, and without
//! the functions and imports nothing left reaches.
//!
//! Why: instantiating a component wires every function its core module imports (a function reference
//! for the main module's import from wit-component's shim, and a trampoline for each lowered host
//! function the fixup module puts in the shim's table). The whole engine imports 74 functions (70 driver
//! functions, 3 of the policy gate, 1 of `wasi:random`); a call of `memory-pins` reaches 11 of them. The published component (`account-engine.wasm`)
//! stays whole: a host in another language loads one component and calls it again and again.
//!
//! Post-returns (`cabi_post_*`, which free a call's results for the instance's next call) go too: the
//! runtime makes one call per instance, and the results go with the instance's memory.

use std::path::Path;

use anyhow::Context;
use wasm_encoder::reencode::{Error, Reencode, utils};
use wit_parser::{InterfaceId, Resolve, WorldId, WorldItem, WorldKey};

/// The world of `wit/` the engine implements.
const WORLD: &str = "account-engine";

/// The runtime's components: for each interface the contract's world exports, its name (e.g.
/// `memory-pins`) and its component, cut from the engine's `core` module against the contract in `wit`.
pub fn interface_components(core: &[u8], wit: &Path) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut resolve = Resolve::default();
    let (package, _) = resolve.push_dir(wit)?;
    let whole = resolve.select_world(&[package], Some(WORLD))?;
    let graph = CallGraph::of(core).context("walking the engine's calls")?;
    let interfaces: Vec<InterfaceId> = resolve.worlds[whole]
        .exports
        .iter()
        .filter_map(|(key, item)| match (key, item) {
            (WorldKey::Interface(id), WorldItem::Interface { .. }) => Some(*id),
            _ => None,
        })
        .collect();
    let mut components = Vec::with_capacity(interfaces.len());
    for interface in interfaces {
        let name = resolve.interfaces[interface].name.clone().context("an exported interface has a name")?;
        // Core exports of the interface's functions are named `<its id>#<function>`, e.g.
        // `aos:accounts/memory-pins@0.5.0#upsert-pin`.
        let id = resolve.id_of(interface).context("an exported interface belongs to a package")?;
        let exported = |export: &str| exported_by_part(export, &id);
        let kept = graph.reachable(&exported)?;
        let mut module = prune(core, &kept, &exported).with_context(|| format!("pruning the module of {name}"))?;
        let world = world_of_interface(&mut resolve, whole, interface, &name);
        wit_component::embed_component_metadata(&mut module, &resolve, world, wit_component::StringEncoding::UTF8)?;
        let component = wit_component::ComponentEncoder::default()
            .module(&module)?
            .validate(true)
            .encode()
            .with_context(|| format!("encoding the component of {name}"))?;
        components.push((name, component));
    }
    Ok(components)
}

/// Whether the core export `name` stays in the part of the interface `id`: its own functions, and whatever
/// belongs to no interface (the memory, `cabi_realloc`); never a post-return.
fn exported_by_part(name: &str, id: &str) -> bool {
    if name.starts_with("cabi_post_") {
        return false;
    }
    match name.split_once('#') {
        Some((owner, _)) => owner == id,
        None => true,
    }
}

/// Who calls or references whom in a core module, read once for all the parts.
struct CallGraph {
    /// How many functions the module imports (they come first in its index space).
    imported: usize,
    /// The exported functions, by export name.
    exports: Vec<(String, u32)>,
    /// Functions reachable whatever is exported: the start function, element segments' and global
    /// initialisers' references.
    always: Vec<u32>,
    /// For each defined function, the functions its code calls or references.
    callees: Vec<Vec<u32>>,
}

impl CallGraph {
    fn of(core: &[u8]) -> anyhow::Result<Self> {
        use wasmparser::{ElementItems, ExternalKind, Operator, Payload, TypeRef};
        let mut graph = CallGraph { imported: 0, exports: Vec::new(), always: Vec::new(), callees: Vec::new() };
        let mut defined = 0usize;
        let referenced = |expr: &wasmparser::ConstExpr<'_>, always: &mut Vec<u32>| -> anyhow::Result<()> {
            let mut ops = expr.get_operators_reader();
            while !ops.eof() {
                if let Operator::RefFunc { function_index } = ops.read()? {
                    always.push(function_index);
                }
            }
            Ok(())
        };
        for payload in wasmparser::Parser::new(0).parse_all(core) {
            match payload? {
                Payload::ImportSection(section) => {
                    for import in section.into_imports() {
                        if matches!(import?.ty, TypeRef::Func(_) | TypeRef::FuncExact(_)) {
                            graph.imported += 1;
                        }
                    }
                }
                Payload::FunctionSection(section) => defined = section.count() as usize,
                Payload::ExportSection(section) => {
                    for export in section {
                        let export = export?;
                        if matches!(export.kind, ExternalKind::Func | ExternalKind::FuncExact) {
                            graph.exports.push((export.name.to_string(), export.index));
                        }
                    }
                }
                Payload::StartSection { func, .. } => graph.always.push(func),
                Payload::ElementSection(section) => {
                    for element in section {
                        match element?.items {
                            ElementItems::Functions(functions) => {
                                for function in functions {
                                    graph.always.push(function?);
                                }
                            }
                            ElementItems::Expressions(_, exprs) => {
                                for expr in exprs {
                                    referenced(&expr?, &mut graph.always)?;
                                }
                            }
                        }
                    }
                }
                Payload::GlobalSection(section) => {
                    for global in section {
                        referenced(&global?.init_expr, &mut graph.always)?;
                    }
                }
                Payload::CodeSectionEntry(body) => {
                    let mut called = Vec::new();
                    let mut ops = body.get_operators_reader()?;
                    while !ops.eof() {
                        match ops.read()? {
                            Operator::Call { function_index }
                            | Operator::ReturnCall { function_index }
                            | Operator::RefFunc { function_index } => called.push(function_index),
                            _ => {}
                        }
                    }
                    graph.callees.push(called);
                }
                _ => {}
            }
        }
        anyhow::ensure!(graph.callees.len() == defined, "{} bodies for {defined} functions", graph.callees.len());
        Ok(graph)
    }

    /// Which functions (imported, then defined, in the module's index space) the `exported` exports reach.
    fn reachable(&self, exported: &dyn Fn(&str) -> bool) -> anyhow::Result<Vec<bool>> {
        let mut roots = self.always.clone();
        roots.extend(self.exports.iter().filter(|(name, _)| exported(name)).map(|(_, index)| *index));
        let mut kept = vec![false; self.imported + self.callees.len()];
        while let Some(function) = roots.pop() {
            let index = function as usize;
            anyhow::ensure!(index < kept.len(), "function {function} is out of range");
            if std::mem::replace(&mut kept[index], true) {
                continue;
            }
            if let Some(called) = index.checked_sub(self.imported).map(|defined| &self.callees[defined]) {
                roots.extend(called);
            }
        }
        Ok(kept)
    }
}

/// `core` with only the `kept` functions and the `exported` exports; the world it implements (its
/// `component-type` section) is left out, for the caller to embed the part's own.
fn prune(core: &[u8], kept: &[bool], exported: &dyn Fn(&str) -> bool) -> anyhow::Result<Vec<u8>> {
    let mut new_index = Vec::with_capacity(kept.len());
    let mut next = 0u32;
    for &keep in kept {
        new_index.push(keep.then(|| {
            next += 1;
            next - 1
        }));
    }
    let mut pruner = Pruner { new_index, exported, imported: 0 };
    let mut module = wasm_encoder::Module::new();
    pruner.parse_core_module(&mut module, wasmparser::Parser::new(0), core).map_err(|e| anyhow::anyhow!("{e}"))?;
    // Validated with the component it goes into.
    Ok(module.finish())
}

/// Re-encodes a module without the functions and exports a part leaves out, renumbering the functions.
struct Pruner<'a> {
    /// Each function's index in the pruned module, or none if it goes.
    new_index: Vec<Option<u32>>,
    exported: &'a dyn Fn(&str) -> bool,
    /// How many functions the module imports (counted while its import section is re-encoded).
    imported: usize,
}

impl Pruner<'_> {
    fn kept(&self, function: usize) -> bool {
        self.new_index.get(function).copied().flatten().is_some()
    }

    /// `map` without the functions that go, renumbered.
    fn function_names(&mut self, map: wasmparser::NameMap<'_>) -> Result<wasm_encoder::NameMap, Error<String>> {
        let mut names = wasm_encoder::NameMap::new();
        for naming in map {
            let naming = naming?;
            if self.kept(naming.index as usize) {
                names.append(self.function_index(naming.index)?, naming.name);
            }
        }
        Ok(names)
    }

    /// `map` (names within each function) without the functions that go, renumbered.
    fn names_in_functions(
        &mut self,
        map: wasmparser::IndirectNameMap<'_>,
    ) -> Result<wasm_encoder::IndirectNameMap, Error<String>> {
        let mut names = wasm_encoder::IndirectNameMap::new();
        for naming in map {
            let naming = naming?;
            if self.kept(naming.index as usize) {
                let inner = utils::name_map(naming.names, Ok)?;
                names.append(self.function_index(naming.index)?, &inner);
            }
        }
        Ok(names)
    }
}

impl Reencode for Pruner<'_> {
    type Error = String;

    fn function_index(&mut self, function: u32) -> Result<u32, Error<String>> {
        self.new_index
            .get(function as usize)
            .copied()
            .flatten()
            .ok_or_else(|| Error::UserError(format!("function {function} was pruned but is still referenced")))
    }

    fn parse_import_section(
        &mut self,
        imports: &mut wasm_encoder::ImportSection,
        section: wasmparser::ImportSectionReader<'_>,
    ) -> Result<(), Error<String>> {
        for import in section.into_imports() {
            let import = import?;
            if matches!(import.ty, wasmparser::TypeRef::Func(_) | wasmparser::TypeRef::FuncExact(_)) {
                let index = self.imported;
                self.imported += 1;
                if !self.kept(index) {
                    continue;
                }
            }
            imports.import(import.module, import.name, self.entity_type(import.ty)?);
        }
        Ok(())
    }

    fn parse_function_section(
        &mut self,
        functions: &mut wasm_encoder::FunctionSection,
        section: wasmparser::FunctionSectionReader<'_>,
    ) -> Result<(), Error<String>> {
        for (defined, ty) in section.into_iter().enumerate() {
            let ty = ty?;
            if self.kept(self.imported + defined) {
                functions.function(self.type_index(ty)?);
            }
        }
        Ok(())
    }

    fn parse_code_section(
        &mut self,
        code: &mut wasm_encoder::CodeSection,
        section: wasmparser::CodeSectionReader<'_>,
    ) -> Result<(), Error<String>> {
        for (defined, body) in section.into_iter().enumerate() {
            let body = body?;
            if self.kept(self.imported + defined) {
                self.parse_function_body(code, body)?;
            }
        }
        Ok(())
    }

    fn parse_export(
        &mut self,
        exports: &mut wasm_encoder::ExportSection,
        export: wasmparser::Export<'_>,
    ) -> Result<(), Error<String>> {
        let function = matches!(export.kind, wasmparser::ExternalKind::Func | wasmparser::ExternalKind::FuncExact);
        if !function || (self.exported)(export.name) {
            utils::parse_export(self, exports, export)?;
        }
        Ok(())
    }

    fn parse_custom_section(
        &mut self,
        module: &mut wasm_encoder::Module,
        section: wasmparser::CustomSectionReader<'_>,
    ) -> Result<(), Error<String>> {
        // The world the whole module implements; the part embeds its own.
        if section.name().starts_with("component-type") {
            return Ok(());
        }
        utils::parse_custom_section(self, module, section)
    }

    fn parse_custom_name_subsection(
        &mut self,
        names: &mut wasm_encoder::NameSection,
        section: wasmparser::Name<'_>,
    ) -> Result<(), Error<String>> {
        match section {
            wasmparser::Name::Function(map) => names.functions(&self.function_names(map)?),
            wasmparser::Name::Local(map) => names.locals(&self.names_in_functions(map)?),
            wasmparser::Name::Label(map) => names.labels(&self.names_in_functions(map)?),
            other => return utils::parse_custom_name_subsection(self, names, other),
        }
        Ok(())
    }
}

/// A world in `resolve` like the contract's `whole` world, with `interface` (named `name`) its one export
/// (its imports as they are: wit-component imports only what the module uses).
fn world_of_interface(resolve: &mut Resolve, whole: WorldId, interface: InterfaceId, name: &str) -> WorldId {
    let mut part = resolve.worlds[whole].clone();
    part.name = format!("{}-{name}", part.name);
    part.exports.retain(|key, _| *key == WorldKey::Interface(interface));
    let package = part.package.expect("the contract's world belongs to its package");
    let world_name = part.name.clone();
    let id = resolve.worlds.alloc(part);
    resolve.packages[package].worlds.insert(world_name, id);
    id
}
