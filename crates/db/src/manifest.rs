//! Revision manifests at rest: zlib-compressed YAML. Rendered manifests are large and
//! repetitive (labels, security contexts), so they shrink several-fold; zlib's checksum
//! makes a damaged manifest a `Corrupt` error instead of wrong objects.

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;

use crate::DbError;
use crate::rows::corrupt;

/// Compresses a manifest for storage.
pub(crate) fn compress(manifest: &str) -> Vec<u8> {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(manifest.as_bytes());
    encoder.finish().unwrap_or_default()
}

/// The manifest text from its stored form.
pub(crate) fn decompress(stored: &[u8]) -> Result<String, DbError> {
    let mut text = String::new();
    ZlibDecoder::new(stored)
        .read_to_string(&mut text)
        .map_err(|e| corrupt("revision manifest", e))?;
    Ok(text)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_comes_back_exactly_and_several_times_smaller() {
        let manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels:\n    app.kubernetes.io/managed-by: storeplane\n---\n".repeat(40);
        let stored = compress(&manifest);
        assert_eq!(decompress(&stored).unwrap(), manifest);
        assert!(stored.len() * 5 < manifest.len(), "{} bytes", stored.len());
    }

    #[test]
    fn a_damaged_manifest_is_reported_as_corrupt() {
        let mut stored = compress("kind: Namespace\n");
        let last = stored.len() - 1;
        stored[last] ^= 0xff;
        let err = decompress(&stored).unwrap_err();
        assert!(
            err.to_string().starts_with("corrupt revision manifest row"),
            "{err}"
        );
    }
}
