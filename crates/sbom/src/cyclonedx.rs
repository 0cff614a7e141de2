//! CycloneDX 1.5 JSON (<https://cyclonedx.org/docs/1.5/json/>).

use serde_json::{json, Value};

use crate::license::Part;
use crate::{location, source_kind, Doc};

const IMAGE_REF: &str = "image";
const OS_REF: &str = "operating-system";

pub(crate) fn document(doc: &Doc<'_>) -> Value {
    let subject = doc.subject;
    let mut image = json!({
        "type": "container",
        "bom-ref": IMAGE_REF,
        "name": subject.repository,
        "purl": doc.image_purl,
    });
    if !doc.image_version().is_empty() {
        image["version"] = json!(doc.image_version());
    }
    if let Some(hex) = subject.digest.strip_prefix("sha256:") {
        if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            image["hashes"] = json!([{"alg": "SHA-256", "content": hex}]);
        }
    }

    let mut components = Vec::with_capacity(doc.packages.len() + 1);
    let mut refs = Vec::with_capacity(doc.packages.len() + 1);
    if let Some(os) = &doc.catalog.os {
        let mut c = json!({
            "type": "operating-system",
            "bom-ref": OS_REF,
            "name": os.id,
        });
        if let Some(v) = &os.version_id {
            c["version"] = json!(v);
        }
        if let Some(d) = os.pretty_name.as_ref().or(os.name.as_ref()) {
            c["description"] = json!(d);
        }
        components.push(c);
        refs.push(OS_REF.to_owned());
    }
    for e in &doc.packages {
        let p = e.package;
        let mut properties = vec![
            json!({"name": "berth:package:location", "value": location(p)}),
            json!({"name": "berth:package:type", "value": source_kind(p)}),
            json!({"name": "berth:package:ecosystem", "value": p.ecosystem.as_osv()}),
        ];
        if let Some(src) = p.source_name.as_deref() {
            properties.push(json!({"name": "berth:package:sourceName", "value": src}));
        }
        if let Some(v) = p.source_version.as_deref() {
            properties.push(json!({"name": "berth:package:sourceVersion", "value": v}));
        }
        let mut c = json!({
            "type": "library",
            "bom-ref": e.id,
            "name": p.name,
            "version": p.version,
            "purl": e.purl,
        });
        if let Some(l) = licenses(&e.licenses) {
            c["licenses"] = l;
        }
        c["properties"] = json!(properties);
        components.push(c);
        refs.push(e.id.clone());
    }

    let mut dependencies = vec![json!({"ref": IMAGE_REF, "dependsOn": refs})];
    dependencies.extend(refs.iter().map(|r| json!({"ref": r})));

    json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.5.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": format!("urn:uuid:{}", doc.uuid("cyclonedx")),
        "version": 1,
        "metadata": {
            "timestamp": doc.created,
            "tools": {
                "components": [{
                    "type": "application",
                    "name": doc.tool.name,
                    "version": doc.tool.version,
                }],
            },
            "component": image,
        },
        "components": components,
        "dependencies": dependencies,
    })
}

/// A component's `licenses`: one `{"expression"}` when a declaration is a compound SPDX
/// expression and every declaration is SPDX (joined with `AND`); else one `{"license"}` per
/// declaration, `id` for a listed id, `name` (the text as declared) otherwise.
fn licenses(parts: &[Part]) -> Option<Value> {
    if parts.is_empty() {
        return None;
    }
    let compound = parts
        .iter()
        .any(|p| matches!(p, Part::Spdx { single: false, .. }));
    let all_spdx = parts.iter().all(|p| matches!(p, Part::Spdx { .. }));
    if compound && all_spdx {
        let expr: Vec<String> = parts
            .iter()
            .map(|p| match p {
                Part::Spdx { expr, single } if *single || parts.len() == 1 => expr.clone(),
                Part::Spdx { expr, .. } | Part::Other(expr) => format!("({expr})"),
            })
            .collect();
        return Some(json!([{"expression": expr.join(" AND ")}]));
    }
    Some(Value::Array(
        parts
            .iter()
            .map(|p| match p {
                Part::Spdx { expr, single: true } => json!({"license": {"id": expr}}),
                Part::Spdx { expr, .. } | Part::Other(expr) => {
                    json!({"license": {"name": expr}})
                }
            })
            .collect(),
    ))
}
