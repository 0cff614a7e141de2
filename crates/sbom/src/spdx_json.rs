//! SPDX 2.3 JSON (<https://spdx.github.io/spdx-spec/v2.3/>).

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use crate::license::{license_ref_base, Part};
use crate::{location, source_kind, Doc};

const NOASSERTION: &str = "NOASSERTION";
const IMAGE_ID: &str = "SPDXRef-Image";
const OS_ID: &str = "SPDXRef-OperatingSystem";

/// SPDX's `created`: `YYYY-MM-DDThh:mm:ssZ`, no fraction of a second.
fn spdx_time(created: &str) -> String {
    match (created.find('.'), created.strip_suffix('Z')) {
        (Some(dot), Some(_)) if dot >= 19 => format!("{}Z", &created[..dot]),
        _ => created.to_owned(),
    }
}

pub(crate) fn document(doc: &Doc<'_>) -> Value {
    let subject = doc.subject;
    let name = if subject.tag.is_some() && !subject.digest.is_empty() {
        format!("{}:{}", subject.repository, subject.tag.unwrap_or(""))
    } else if subject.digest.is_empty() {
        subject.repository.to_owned()
    } else {
        format!("{}@{}", subject.repository, subject.digest)
    };
    let host = if subject.registry_host.is_empty() {
        "berth.invalid"
    } else {
        subject.registry_host
    };
    let namespace = format!(
        "https://{host}/spdx/{}-{}",
        crate::id_chars(subject.repository),
        doc.uuid("spdx")
    );

    // The LicenseRef- of every declaration that is not an SPDX expression: one per distinct
    // text, ids made unique by a suffix.
    let mut refs: HashMap<&str, String> = HashMap::new();
    let mut extracted: Vec<Value> = Vec::new();
    let mut ref_ids = std::collections::HashSet::new();
    for e in &doc.packages {
        for part in &e.licenses {
            if let Part::Other(text) = part {
                if refs.contains_key(text.as_str()) {
                    continue;
                }
                let base = license_ref_base(text);
                let mut id = base.clone();
                let mut n = 1;
                while !ref_ids.insert(id.clone()) {
                    n += 1;
                    id = format!("{base}-{n}");
                }
                extracted.push(json!({
                    "licenseId": id,
                    "name": text,
                    "extractedText": text,
                    "comment": "declared by the package's metadata; not an SPDX license expression",
                }));
                refs.insert(text, id);
            }
        }
    }

    let mut packages = Vec::with_capacity(doc.packages.len() + 2);
    let mut image = json!({
        "SPDXID": IMAGE_ID,
        "name": subject.repository,
        "downloadLocation": NOASSERTION,
        "filesAnalyzed": false,
        "licenseConcluded": NOASSERTION,
        "licenseDeclared": NOASSERTION,
        "copyrightText": NOASSERTION,
        "supplier": NOASSERTION,
        "primaryPackagePurpose": "CONTAINER",
        "externalRefs": [{
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceType": "purl",
            "referenceLocator": doc.image_purl,
        }],
    });
    if !doc.image_version().is_empty() {
        image["versionInfo"] = json!(doc.image_version());
    }
    if !subject.digest.is_empty() {
        if let Some(hex) = subject.digest.strip_prefix("sha256:") {
            // The manifest's digest is a checksum of the package's (the image's) content.
            if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                image["checksums"] = json!([{"algorithm": "SHA256", "checksumValue": hex}]);
            }
        }
    }
    packages.push(image);
    let mut relationships = vec![json!({
        "spdxElementId": "SPDXRef-DOCUMENT",
        "relationshipType": "DESCRIBES",
        "relatedSpdxElement": IMAGE_ID,
    })];

    if let Some(os) = &doc.catalog.os {
        let mut p = json!({
            "SPDXID": OS_ID,
            "name": os.id,
            "downloadLocation": NOASSERTION,
            "filesAnalyzed": false,
            "licenseConcluded": NOASSERTION,
            "licenseDeclared": NOASSERTION,
            "copyrightText": NOASSERTION,
            "supplier": NOASSERTION,
            "primaryPackagePurpose": "OPERATING-SYSTEM",
        });
        if let Some(v) = &os.version_id {
            p["versionInfo"] = json!(v);
        }
        if let Some(d) = os.pretty_name.as_ref().or(os.name.as_ref()) {
            p["description"] = json!(d);
        }
        packages.push(p);
        relationships.push(json!({
            "spdxElementId": IMAGE_ID,
            "relationshipType": "CONTAINS",
            "relatedSpdxElement": OS_ID,
        }));
    }

    for e in &doc.packages {
        let p = e.package;
        let id = format!("SPDXRef-Package-{}", e.id);
        let mut obj = Map::new();
        obj.insert("SPDXID".into(), json!(id));
        obj.insert("name".into(), json!(p.name));
        obj.insert("versionInfo".into(), json!(p.version));
        obj.insert("supplier".into(), json!(NOASSERTION));
        obj.insert("downloadLocation".into(), json!(NOASSERTION));
        obj.insert("filesAnalyzed".into(), json!(false));
        obj.insert("licenseConcluded".into(), json!(NOASSERTION));
        obj.insert(
            "licenseDeclared".into(),
            json!(declared(&e.licenses, &refs)),
        );
        obj.insert("copyrightText".into(), json!(NOASSERTION));
        obj.insert(
            "sourceInfo".into(),
            json!(format!(
                "acquired package info from {} file: {}",
                source_kind(p),
                location(p)
            )),
        );
        if let Some(src) = p.source_name.as_deref().filter(|s| *s != p.name) {
            obj.insert("comment".into(), json!(format!("source package: {src}")));
        }
        obj.insert(
            "externalRefs".into(),
            json!([{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": e.purl,
            }]),
        );
        packages.push(Value::Object(obj));
        relationships.push(json!({
            "spdxElementId": IMAGE_ID,
            "relationshipType": "CONTAINS",
            "relatedSpdxElement": id,
        }));
    }

    let mut out = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": name,
        "documentNamespace": namespace,
        "creationInfo": {
            "created": spdx_time(doc.created),
            "creators": [format!("Tool: {}-{}", doc.tool.name, doc.tool.version)],
            "licenseListVersion": license_list_version(),
        },
        "packages": packages,
        "relationships": relationships,
    });
    if !extracted.is_empty() {
        out["hasExtractedLicensingInfos"] = json!(extracted);
    }
    out
}

/// The SPDX licence list the ids were checked against, `major.minor`.
fn license_list_version() -> String {
    let v = spdx::identifiers::VERSION;
    v.splitn(3, '.').take(2).collect::<Vec<_>>().join(".")
}

/// `licenseDeclared`: the parts joined with `AND` (compound parts in parentheses), a
/// `LicenseRef-` for each part that is not SPDX; `NOASSERTION` when nothing is declared.
fn declared(parts: &[Part], refs: &HashMap<&str, String>) -> String {
    if parts.is_empty() {
        return NOASSERTION.to_owned();
    }
    let terms: Vec<String> = parts
        .iter()
        .map(|part| match part {
            Part::Spdx { expr, single } => {
                if *single || parts.len() == 1 {
                    expr.clone()
                } else {
                    format!("({expr})")
                }
            }
            Part::Other(text) => refs[text.as_str()].clone(),
        })
        .collect();
    terms.join(" AND ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_without_fraction() {
        assert_eq!(
            spdx_time("2026-11-28T12:00:00.123Z"),
            "2026-11-28T12:00:00Z"
        );
        assert_eq!(spdx_time("2026-11-28T12:00:00Z"), "2026-11-28T12:00:00Z");
    }
}
