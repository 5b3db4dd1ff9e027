//! `api-model.json` (in `OUT_DIR`): the engine's operations as the contract's source declares them — each
//! exported function with its documentation, its parameters and result, record fields with theirs, and
//! the contract's named scalar types kept (`id`, `json`, `timestamp`, `cursor`: the component's own
//! types erase them). The server's OpenAPI document is made from it (`src/server/openapi.rs`).
//!
//! Types as in `contract_types.rs`, and `{"alias": name, "of": T}` for a named scalar, and record fields
//! as `[name, T, docs]`.

use anyhow::Context;
use serde_json::{Value, json};
use wit_parser::{Resolve, Type, TypeDefKind, WorldItem};

/// The named scalar types of the contract (`wit/types.wit`) that say more than their representation.
const ALIASES: [&str; 4] = ["id", "json", "timestamp", "cursor"];

/// `{interface: {function: {"docs", "params": [[name, T]], "result": T}}}` of the world's exports.
pub fn describe(wit: &std::path::Path, world: &str) -> anyhow::Result<Value> {
    let mut resolve = Resolve::new();
    let (package, _) = resolve.push_dir(wit).context("parsing wit/")?;
    let world = resolve.select_world(&[package], Some(world))?;
    let mut interfaces = serde_json::Map::new();
    for item in resolve.worlds[world].exports.values() {
        let WorldItem::Interface { id, .. } = item else { continue };
        let interface = &resolve.interfaces[*id];
        let name = interface.name.clone().context("exported interfaces are named")?;
        let mut functions = serde_json::Map::new();
        for (fname, f) in &interface.functions {
            let params: Vec<Value> =
                f.params.iter().map(|p| Ok(json!([p.name, ty(&resolve, &p.ty)?]))).collect::<anyhow::Result<_>>()?;
            let result = f.result.as_ref().map(|t| ty(&resolve, t)).transpose()?;
            functions.insert(
                fname.clone(),
                json!({ "docs": f.docs.contents.clone().unwrap_or_default(), "params": params, "result": result }),
            );
        }
        interfaces.insert(name, Value::Object(functions));
    }
    Ok(Value::Object(interfaces))
}

fn ty(resolve: &Resolve, t: &Type) -> anyhow::Result<Value> {
    let Type::Id(id) = t else { return super::contract_types::ty(resolve, t) };
    let def = &resolve.types[*id];
    Ok(match &def.kind {
        TypeDefKind::Type(inner) => match def.name.as_deref() {
            Some(name) if ALIASES.contains(&name) => json!({ "alias": name, "of": ty(resolve, inner)? }),
            _ => ty(resolve, inner)?,
        },
        TypeDefKind::Record(r) => json!({ "record": r.fields.iter().map(|f| {
            Ok(json!([f.name, ty(resolve, &f.ty)?, f.docs.contents.clone().unwrap_or_default()]))
        }).collect::<anyhow::Result<Vec<_>>>()? }),
        TypeDefKind::Option(inner) => json!({ "option": ty(resolve, inner)? }),
        TypeDefKind::List(inner) => json!({ "list": ty(resolve, inner)? }),
        TypeDefKind::Result(r) => json!({ "result": {
            "ok": r.ok.as_ref().map(|t| ty(resolve, t)).transpose()?,
            "err": r.err.as_ref().map(|t| ty(resolve, t)).transpose()?,
        } }),
        TypeDefKind::Tuple(t) => {
            json!({ "tuple": t.types.iter().map(|t| ty(resolve, t)).collect::<anyhow::Result<Vec<_>>>()? })
        }
        TypeDefKind::Variant(v) => {
            json!({ "variant": v.cases.iter().map(|c| Ok(json!([c.name, c.ty.as_ref().map(|t| ty(resolve, t)).transpose()?]))).collect::<anyhow::Result<Vec<_>>>()? })
        }
        _ => super::contract_types::ty(resolve, t)?,
    })
}
