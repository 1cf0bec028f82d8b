//! Manifests as YAML, for `storeplane render` and the golden tests: one document per
//! object, in apply order, byte-for-byte the same for the same inputs (maps are sorted).

use crate::{RenderError, Resource, StoreResources};

/// A multi-document YAML stream (`---` between documents) of `resources` in apply order.
pub fn to_yaml(resources: &StoreResources) -> Result<String, RenderError> {
    objects_to_yaml(&resources.ordered())
}

/// [`to_yaml`] for any list of objects, in the order given.
pub fn objects_to_yaml(objects: &[Resource]) -> Result<String, RenderError> {
    let mut out = String::new();
    for object in objects {
        out.push_str("---\n");
        let document = serde_saphyr::to_string(object).map_err(|source| RenderError {
            object: object.reference(),
            source,
        })?;
        out.push_str(&document);
        if !document.ends_with('\n') {
            out.push('\n');
        }
    }
    Ok(out)
}
