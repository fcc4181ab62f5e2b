//! QLP delivery adapter `__NAME__`: hands an artifact over.
//!
//! A real adapter declares the capabilities it needs in `describe()` (e.g.
//! `Capability::Http("api.example.com".into())`) and the operator grants
//! them in the tiers file.

use qlp_sdk::PluginKind;
use qlp_sdk::delivery::{Artifact, Delivery, DeliveryTarget, PluginError, PluginInfo, Receipt};

pub struct __TYPE__;

impl Delivery for __TYPE__ {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "__NAME__".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Delivery,
            description: "Acknowledges an artifact without sending it anywhere.".into(),
            capabilities: vec![],
        }
    }

    fn deliver(artifact: Artifact, target: DeliveryTarget) -> Result<Receipt, PluginError> {
        receipt(&artifact, &target)
    }
}

/// The receipt: replace with the delivery itself.
pub fn receipt(artifact: &Artifact, target: &DeliveryTarget) -> Result<Receipt, PluginError> {
    if target.destination.is_empty() {
        return Err(PluginError {
            code: "NO_DESTINATION".into(),
            message: "the delivery target names no destination".into(),
        });
    }
    Ok(Receipt {
        location: format!("{}/{}", target.destination, artifact.file_name),
        details: vec![("bytes".into(), artifact.bytes.len().to_string())],
    })
}

qlp_sdk::export_delivery!(__TYPE__);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_receipt_names_where_the_artifact_went() {
        let artifact = Artifact {
            media_type: "text/plain".into(),
            file_name: "a.txt".into(),
            bytes: b"hi".to_vec(),
        };
        let target = DeliveryTarget { destination: "out".into(), options: vec![] };
        assert_eq!(receipt(&artifact, &target).unwrap().location, "out/a.txt");
        let nowhere = DeliveryTarget { destination: String::new(), options: vec![] };
        assert_eq!(receipt(&artifact, &nowhere).unwrap_err().code, "NO_DESTINATION");
        assert_eq!(__TYPE__::describe().name, "__NAME__");
    }
}
