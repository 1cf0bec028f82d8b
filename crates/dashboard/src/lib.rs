//! The web dashboard, embedded: the production build of `dashboard/` (committed under
//! `dashboard/dist`) compiled into the binary, so `storeplane serve` needs no files beside
//! it. This crate knows files, their content types and how long browsers may cache them;
//! serving them over HTTP is the API crate's business.

use std::borrow::Cow;

use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../../dashboard/dist"]
struct Dist;

/// One file of the dashboard.
#[derive(Debug, Clone)]
pub struct Asset {
    pub body: Cow<'static, [u8]>,
    pub content_type: &'static str,
    pub cache_control: &'static str,
    /// A strong validator of the content (its SHA-256, hex).
    pub etag: String,
}

/// Files under `assets/` carry a content hash in their name: a new build gets new names,
/// so browsers may keep them for good.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Everything else (`index.html` above all) is revalidated on every load, so a new build
/// is picked up at once.
const REVALIDATE: &str = "no-cache";

/// The file at `path` (relative, without a leading `/`), if the build has one.
pub fn asset(path: &str) -> Option<Asset> {
    let file = Dist::get(path)?;
    let cache_control = if path.starts_with("assets/") {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    Some(Asset {
        etag: hex(&file.metadata.sha256_hash()),
        body: file.data,
        content_type: content_type(path),
        cache_control,
    })
}

/// The dashboard's entry page, served for `/` and for every client-side route.
pub fn index() -> Option<Asset> {
    asset("index.html")
}

/// The content type of `path`, from its extension: the few kinds a Vite build emits.
pub fn content_type(path: &str) -> &'static str {
    let extension = path.rsplit_once('.').map_or("", |(_, ext)| ext);
    match extension {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" => "text/plain; charset=utf-8",
        "webmanifest" => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_page_is_embedded_and_revalidated() {
        let index = index().expect("dashboard/dist/index.html is embedded");
        assert_eq!(index.content_type, "text/html; charset=utf-8");
        assert_eq!(index.cache_control, "no-cache");
        assert!(String::from_utf8_lossy(&index.body).contains("<div id=\"root\">"));
    }

    #[test]
    fn hashed_assets_are_cached_for_good() {
        let script = Dist::iter()
            .find(|p| p.starts_with("assets/") && p.ends_with(".js"))
            .expect("the build has a script");
        let asset = asset(&script).unwrap();
        assert_eq!(asset.cache_control, IMMUTABLE);
        assert_eq!(asset.content_type, "text/javascript; charset=utf-8");
        assert_eq!(asset.etag.len(), 64);
    }

    #[test]
    fn a_missing_file_is_none() {
        assert!(asset("assets/nope.js").is_none());
        assert!(asset("../Cargo.toml").is_none());
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(content_type("favicon.svg"), "image/svg+xml");
        assert_eq!(content_type("assets/index.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("LICENSE"), "application/octet-stream");
    }
}
