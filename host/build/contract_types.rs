//! `account-engine.types.json`: the types of every function the component imports and exports — exactly
//! those, read from the built component itself (of `wasi:random` it imports only `get-random-bytes`) —
//! what a host without runtime type information (JavaScript through jco) needs to convert the engine's
//! JSON convention into component values and back, so that it converts by type, not by guess.
//!
//! Types are written out in full (WIT types are never recursive): `"string"`, `"bool"`, `"u32"`, … and
//! `{"list": T}`, `{"option": T}`, `{"result": {"ok": T|null, "err": T|null}}`, `{"tuple": [T]}`,
//! `{"record": [[name, T]]}`, `{"variant": [[name, T|null]]}`, `{"enum": [name]}`, `{"flags": [name]}`.

use anyhow::{Context, bail};
use serde_json::{Value, json};
use wit_parser::{Resolve, Type, TypeDefKind, WorldItem};

/// The JSON description of the imports and exports of `component`.
pub fn describe(component: &[u8]) -> anyhow::Result<Value> {
    let (resolve, world) = match wit_component::decode(component).context("decoding the component's types")? {
        wit_component::DecodedWasm::Component(resolve, world) => (resolve, world),
        wit_component::DecodedWasm::WitPackage(..) => bail!("not a component"),
    };
    let mut sides = Vec::new();
    for items in [&resolve.worlds[world].imports, &resolve.worlds[world].exports] {
        let mut side = serde_json::Map::new();
        for (key, item) in items {
            let WorldItem::Interface { id, .. } = item else { continue };
            let name = resolve.name_world_key(key);
            let mut functions = serde_json::Map::new();
            for (fname, f) in &resolve.interfaces[*id].functions {
                let params: Vec<Value> = f
                    .params
                    .iter()
                    .map(|p| Ok(json!([p.name, ty(&resolve, &p.ty)?])))
                    .collect::<anyhow::Result<_>>()?;
                let result = f.result.as_ref().map(|t| ty(&resolve, t)).transpose()?;
                functions.insert(fname.clone(), json!({ "params": params, "result": result }));
            }
            side.insert(name, Value::Object(functions));
        }
        sides.push(Value::Object(side));
    }
    let exports = sides.pop().expect("two sides");
    let imports = sides.pop().expect("two sides");
    let package = resolve
        .packages
        .iter()
        .map(|(_, p)| p.name.to_string())
        .find(|n| n.starts_with("aos:accounts@"))
        .context("the component names the aos:accounts package")?;
    Ok(json!({ "package": package, "imports": imports, "exports": exports }))
}

pub fn ty(resolve: &Resolve, t: &Type) -> anyhow::Result<Value> {
    let simple = |s: &str| Value::String(s.into());
    Ok(match t {
        Type::Bool => simple("bool"),
        Type::U8 => simple("u8"),
        Type::U16 => simple("u16"),
        Type::U32 => simple("u32"),
        Type::U64 => simple("u64"),
        Type::S8 => simple("s8"),
        Type::S16 => simple("s16"),
        Type::S32 => simple("s32"),
        Type::S64 => simple("s64"),
        Type::F32 => simple("f32"),
        Type::F64 => simple("f64"),
        Type::Char => simple("char"),
        Type::String => simple("string"),
        Type::ErrorContext => bail!("error-context is not part of this contract"),
        Type::Id(id) => match &resolve.types[*id].kind {
            TypeDefKind::Type(inner) => ty(resolve, inner)?,
            TypeDefKind::Record(r) => {
                json!({ "record": r.fields.iter().map(|f| Ok(json!([f.name, ty(resolve, &f.ty)?]))).collect::<anyhow::Result<Vec<_>>>()? })
            }
            TypeDefKind::Variant(v) => {
                json!({ "variant": v.cases.iter().map(|c| Ok(json!([c.name, c.ty.as_ref().map(|t| ty(resolve, t)).transpose()?]))).collect::<anyhow::Result<Vec<_>>>()? })
            }
            TypeDefKind::Enum(e) => json!({ "enum": e.cases.iter().map(|c| c.name.clone()).collect::<Vec<_>>() }),
            TypeDefKind::Flags(f) => json!({ "flags": f.flags.iter().map(|c| c.name.clone()).collect::<Vec<_>>() }),
            TypeDefKind::Option(inner) => json!({ "option": ty(resolve, inner)? }),
            TypeDefKind::Result(r) => json!({ "result": {
                "ok": r.ok.as_ref().map(|t| ty(resolve, t)).transpose()?,
                "err": r.err.as_ref().map(|t| ty(resolve, t)).transpose()?,
            } }),
            TypeDefKind::List(inner) => json!({ "list": ty(resolve, inner)? }),
            TypeDefKind::Tuple(t) => {
                json!({ "tuple": t.types.iter().map(|t| ty(resolve, t)).collect::<anyhow::Result<Vec<_>>>()? })
            }
            other => bail!("{} is not part of this contract", other.as_str()),
        },
    })
}
