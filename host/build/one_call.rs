//! The components the runtime instantiates: one per interface the engine exports, each made from the
//! engine's core module with only that interface's functions exported, without post-returns, and without
//! the functions and imports nothing left reaches.
//!
//! Why: instantiating a component wires every function its core module imports (a function reference
//! for the main module's import from wit-component's shim, and a trampoline for each lowered host
//! function the fixup module puts in the shim's table). The whole engine imports 74 driver functions;
//! a call of `memory-pins` reaches a fraction of them. The published component (`account-engine.wasm`)
//! stays whole: a host in another language loads one component and calls it again and again.
//!
//! Post-returns (`cabi_post_*`, which free a call's results for the instance's next call) go too: the
//! runtime makes one call per instance, and the results go with the instance's memory.

use std::path::Path;

use anyhow::Context;
use wasm_encoder::reencode::{Error, Reencode, utils};
use wit_parser::{Resolve, WorldItem, WorldKey};

/// The world of `wit/` the engine implements.
const WORLD: &str = "account-engine";

/// The runtime's component of `interface` (e.g. `memory-pins`) of `package` (`aos:accounts`), from the
/// engine's `core` module and the contract in `wit`.
pub fn component_of_interface(core: &[u8], wit: &Path, package: &str, interface: &str) -> anyhow::Result<Vec<u8>> {
    let exported = |name: &str| exported_by_part(name, package, interface);
    let kept = reachable(core, &exported).with_context(|| format!("walking the calls of {interface}"))?;
    let mut module = prune(core, &kept, &exported).with_context(|| format!("pruning the module of {interface}"))?;
    let (resolve, world) = world_of_interface(wit, interface)?;
    wit_component::embed_component_metadata(&mut module, &resolve, world, wit_component::StringEncoding::UTF8)?;
    wit_component::ComponentEncoder::default()
        .module(&module)?
        .validate(true)
        .encode()
        .with_context(|| format!("encoding the component of {interface}"))
}

/// Whether the core export `name` stays in the part of `interface`: its own functions, and whatever
/// belongs to no interface (the memory, `cabi_realloc`); never a post-return.
fn exported_by_part(name: &str, package: &str, interface: &str) -> bool {
    if name.starts_with("cabi_post_") {
        return false;
    }
    match name.split_once('#') {
        // `aos:accounts/memory-pins@0.5.0#upsert-pin`
        Some((owner, _)) => owner
            .strip_prefix(package)
            .and_then(|o| o.strip_prefix('/'))
            .and_then(|o| o.strip_prefix(interface))
            .is_some_and(|rest| rest.starts_with('@')),
        None => true,
    }
}

/// Which functions (imported, then defined, in the module's index space) the kept exports reach: through
/// calls and references from code, the start function, element segments and global initialisers.
fn reachable(core: &[u8], exported: &dyn Fn(&str) -> bool) -> anyhow::Result<Vec<bool>> {
    use wasmparser::{ElementItems, ExternalKind, Operator, Payload, TypeRef};
    let mut imported = 0usize;
    let mut defined = 0usize;
    let mut roots = Vec::new();
    let mut callees: Vec<Vec<u32>> = Vec::new();
    let referenced = |expr: &wasmparser::ConstExpr<'_>, roots: &mut Vec<u32>| -> anyhow::Result<()> {
        let mut ops = expr.get_operators_reader();
        while !ops.eof() {
            if let Operator::RefFunc { function_index } = ops.read()? {
                roots.push(function_index);
            }
        }
        Ok(())
    };
    for payload in wasmparser::Parser::new(0).parse_all(core) {
        match payload? {
            Payload::ImportSection(section) => {
                for import in section.into_imports() {
                    if matches!(import?.ty, TypeRef::Func(_) | TypeRef::FuncExact(_)) {
                        imported += 1;
                    }
                }
            }
            Payload::FunctionSection(section) => defined = section.count() as usize,
            Payload::ExportSection(section) => {
                for export in section {
                    let export = export?;
                    if matches!(export.kind, ExternalKind::Func | ExternalKind::FuncExact) && exported(export.name) {
                        roots.push(export.index);
                    }
                }
            }
            Payload::StartSection { func, .. } => roots.push(func),
            Payload::ElementSection(section) => {
                for element in section {
                    match element?.items {
                        ElementItems::Functions(functions) => {
                            for function in functions {
                                roots.push(function?);
                            }
                        }
                        ElementItems::Expressions(_, exprs) => {
                            for expr in exprs {
                                referenced(&expr?, &mut roots)?;
                            }
                        }
                    }
                }
            }
            Payload::GlobalSection(section) => {
                for global in section {
                    referenced(&global?.init_expr, &mut roots)?;
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
                callees.push(called);
            }
            _ => {}
        }
    }
    anyhow::ensure!(callees.len() == defined, "{} bodies for {defined} functions", callees.len());
    let mut kept = vec![false; imported + defined];
    while let Some(function) = roots.pop() {
        let index = function as usize;
        anyhow::ensure!(index < kept.len(), "function {function} is out of range");
        if std::mem::replace(&mut kept[index], true) {
            continue;
        }
        if let Some(called) = index.checked_sub(imported).map(|defined| &callees[defined]) {
            roots.extend(called);
        }
    }
    Ok(kept)
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

/// The contract's world with only `interface` among its exports (its imports as they are: wit-component
/// imports only what the module uses).
fn world_of_interface(wit: &Path, interface: &str) -> anyhow::Result<(Resolve, wit_parser::WorldId)> {
    let mut resolve = Resolve::default();
    let (package, _) = resolve.push_dir(wit)?;
    let whole = resolve.select_world(&[package], Some(WORLD))?;
    let mut part = resolve.worlds[whole].clone();
    part.name = format!("{}-{interface}", part.name);
    part.exports.retain(|key, item| {
        matches!((key, item), (WorldKey::Interface(id), WorldItem::Interface { .. })
            if resolve.interfaces[*id].name.as_deref() == Some(interface))
    });
    anyhow::ensure!(part.exports.len() == 1, "the contract exports no interface {interface}");
    let name = part.name.clone();
    let id = resolve.worlds.alloc(part);
    resolve.packages[package].worlds.insert(name, id);
    Ok((resolve, id))
}

/// The interfaces the contract's world exports, by name.
pub fn exported_interfaces(wit: &Path) -> anyhow::Result<Vec<String>> {
    let mut resolve = Resolve::default();
    let (package, _) = resolve.push_dir(wit)?;
    let world = resolve.select_world(&[package], Some(WORLD))?;
    Ok(resolve.worlds[world]
        .exports
        .keys()
        .filter_map(|key| match key {
            WorldKey::Interface(id) => resolve.interfaces[*id].name.clone(),
            WorldKey::Name(_) => None,
        })
        .collect())
}
