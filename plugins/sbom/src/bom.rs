//! The CycloneDX 1.5 JSON document
//! (<https://cyclonedx.org/docs/1.5/json/>) and how it is kept
//! reproducible: every object is a struct serialized in its fields' order,
//! components are sorted by `bom-ref` and their properties by name and
//! value, nothing depends on time, and the serial number is derived from
//! the content ([`serial_number`]).
//!
//! ```json
//! {
//!   "$schema": "http://cyclonedx.org/schema/bom-1.5.schema.json",
//!   "bomFormat": "CycloneDX", "specVersion": "1.5",
//!   "serialNumber": "urn:uuid:…", "version": 1,
//!   "metadata": { "lifecycles": [{ "phase": "pre-build" }],
//!                 "tools": { "components": [{ "type": "application", "name": "qlp/sbom", "version": "…" }] },
//!                 "component": { "type": "application", "bom-ref": "capsule:<name>", "name": "<name>" } },
//!   "components": [{ "type": "library", "bom-ref": "pkg:…", "name": "…", "version": "…",
//!                    "scope": "required", "purl": "pkg:…", "properties": [{ "name": "qlp:manifest", "value": "…" }] }],
//!   "dependencies": [{ "ref": "capsule:<name>", "dependsOn": ["pkg:…"] }]
//! }
//! ```
//!
//! The lifecycle is `pre-build`: the document describes what the sources
//! declare, before anything is resolved or installed.

use std::collections::{BTreeMap, BTreeSet};

use qlp_manifests::Kind;
use serde::Serialize;

use crate::Declared;
use crate::purl;

/// The JSON schema the document follows.
pub const SCHEMA: &str = "http://cyclonedx.org/schema/bom-1.5.schema.json";

/// The CycloneDX version written.
pub const SPEC_VERSION: &str = "1.5";

/// Property: a manifest that declares the component.
pub const PROPERTY_MANIFEST: &str = "qlp:manifest";
/// Property: a requirement as written when it is not an exact pin.
pub const PROPERTY_DECLARED_RANGE: &str = "qlp:declared-range";
/// Property: the lock file the version comes from.
pub const PROPERTY_LOCK: &str = "qlp:lock";

/// What [`PROPERTY_DECLARED_RANGE`] says when no requirement is written.
pub const ANY_VERSION: &str = "*";

/// Prefix of the capsule's `bom-ref`; no purl starts with it.
pub const CAPSULE_REF_PREFIX: &str = "capsule:";

#[derive(Serialize)]
struct Bom<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    #[serde(rename = "bomFormat")]
    bom_format: &'static str,
    #[serde(rename = "specVersion")]
    spec_version: &'static str,
    #[serde(rename = "serialNumber", skip_serializing_if = "Option::is_none")]
    serial_number: Option<String>,
    version: u32,
    metadata: Metadata<'a>,
    components: &'a [Component],
    dependencies: [DependencyEntry; 1],
}

#[derive(Serialize)]
struct Metadata<'a> {
    lifecycles: [Lifecycle; 1],
    tools: Tools,
    component: &'a Component,
}

#[derive(Serialize)]
struct Lifecycle {
    phase: &'static str,
}

#[derive(Serialize)]
struct Tools {
    components: [Component; 1],
}

/// One component: the capsule, the tool or a dependency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Component {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(rename = "bom-ref", skip_serializing_if = "Option::is_none")]
    pub bom_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub properties: BTreeSet<Property>,
}

/// A name-value pair; ordered by name, then value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Property {
    pub name: &'static str,
    pub value: String,
}

#[derive(Serialize)]
struct DependencyEntry {
    #[serde(rename = "ref")]
    reference: String,
    #[serde(rename = "dependsOn")]
    depends_on: Vec<String>,
}

/// The components of the declarations, one per `bom-ref` (the purl),
/// sorted by it; and the `bom-ref`s of the direct ones.
pub fn components(declared: &[Declared]) -> (Vec<Component>, BTreeSet<String>) {
    let mut by_ref: BTreeMap<String, Component> = BTreeMap::new();
    let mut direct = BTreeSet::new();
    for d in declared {
        let dep = &d.dependency;
        let id = purl::identity(dep.ecosystem, &dep.name, d.version.as_deref());
        let required = matches!(dep.kind, Kind::Normal | Kind::Build | Kind::Indirect);
        let component = by_ref.entry(id.purl.clone()).or_insert_with(|| Component {
            kind: "library",
            bom_ref: Some(id.purl.clone()),
            group: id.group,
            name: id.name,
            version: d.version.clone(),
            scope: Some("optional"),
            purl: Some(id.purl.clone()),
            properties: BTreeSet::new(),
        });
        if required {
            component.scope = Some("required");
        }
        component.properties.insert(Property {
            name: PROPERTY_MANIFEST,
            value: d.manifest.clone(),
        });
        if !d.pinned {
            component.properties.insert(Property {
                name: PROPERTY_DECLARED_RANGE,
                value: dep.spec.clone().unwrap_or_else(|| ANY_VERSION.into()),
            });
        }
        if let Some(lock) = &d.lock {
            component.properties.insert(Property {
                name: PROPERTY_LOCK,
                value: lock.clone(),
            });
        }
        if dep.kind != Kind::Indirect {
            direct.insert(id.purl);
        }
    }
    (by_ref.into_values().collect(), direct)
}

/// The document for the capsule `name` (already sanitized) and its
/// declarations, pretty-printed with a final newline.
pub fn document(name: &str, declared: &[Declared]) -> Vec<u8> {
    let (components, direct) = components(declared);
    let capsule_ref = format!("{CAPSULE_REF_PREFIX}{name}");
    let capsule = Component {
        kind: "application",
        bom_ref: Some(capsule_ref.clone()),
        group: None,
        name: name.to_string(),
        version: None,
        scope: None,
        purl: None,
        properties: BTreeSet::new(),
    };
    let mut bom = Bom {
        schema: SCHEMA,
        bom_format: "CycloneDX",
        spec_version: SPEC_VERSION,
        serial_number: None,
        version: 1,
        metadata: Metadata {
            lifecycles: [Lifecycle { phase: "pre-build" }],
            tools: Tools {
                components: [Component {
                    kind: "application",
                    bom_ref: None,
                    group: None,
                    name: crate::PLUGIN_NAME.into(),
                    version: Some(crate::PLUGIN_VERSION.into()),
                    scope: None,
                    purl: None,
                    properties: BTreeSet::new(),
                }],
            },
            component: &capsule,
        },
        components: &components,
        dependencies: [DependencyEntry {
            reference: capsule_ref,
            depends_on: direct.into_iter().collect(),
        }],
    };
    bom.serial_number = Some(serial_number(&render(&bom)));
    render(&bom)
}

/// The document's bytes. Serializing plain structs of strings cannot
/// fail.
fn render(bom: &Bom<'_>) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(bom).expect("plain structs serialize");
    bytes.push(b'\n');
    bytes
}

/// `urn:uuid:` and a UUID made of the first 16 bytes of the blake3 of
/// `content` (the document without its serial number), with the version
/// nibble set to 5 and the RFC 4122 variant bits: the layout of a
/// name-based version-5 UUID, whose hash here is blake3 instead of SHA-1.
/// CycloneDX 1.5's schema accepts versions 1 to 5 only, so version 8
/// (custom hash) is not used. The same document always gets the same
/// serial number; a different one, a different number.
pub fn serial_number(content: &[u8]) -> String {
    let hash = blake3::hash(content);
    let mut b = [0u8; 16];
    b.copy_from_slice(&hash.as_bytes()[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}
