//! Just enough of the Kubernetes protobuf encoding for kubectl's typed generators.
//!
//! `kubectl create namespace|configmap|secret|serviceaccount` send
//! `application/vnd.kubernetes.protobuf`: the `k8s\0` magic, then a `runtime.Unknown`
//! envelope (type meta, raw object). This decodes those four kinds' metadata and data
//! into JSON, and the specs of the TokenRequests and access reviews `kubectl create
//! token` and `kubectl auth can-i` send; every other kind is refused with 415 and a hint
//! to send JSON or YAML.
//! Field numbers are from k8s.io/api's generated.proto.

use serde_json::{Map, Value, json};

use crate::error::ApiError;

enum Wire<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

fn malformed() -> ApiError {
    ApiError::BadRequest("failed to decode protobuf body".into())
}

fn unsupported(kind: &str) -> ApiError {
    ApiError::UnsupportedMediaType(format!(
        "kube-sim (a test double) decodes protobuf only for Namespace, ConfigMap, Secret and \
         ServiceAccount, not {kind}; send JSON or YAML, for example with kubectl apply -f"
    ))
}

fn varint(buf: &[u8], pos: &mut usize) -> Result<u64, ApiError> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *buf.get(*pos).ok_or_else(malformed)?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(malformed())
}

/// The fields of one message, in order.
fn fields(buf: &[u8]) -> Result<Vec<(u64, Wire<'_>)>, ApiError> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let key = varint(buf, &mut pos)?;
        let wire = match key & 7 {
            0 => Wire::Varint(varint(buf, &mut pos)?),
            2 => {
                let len = usize::try_from(varint(buf, &mut pos)?).map_err(|_| malformed())?;
                let end = pos.checked_add(len).filter(|e| *e <= buf.len());
                let bytes = &buf[pos..end.ok_or_else(malformed)?];
                pos += len;
                Wire::Bytes(bytes)
            }
            1 => {
                pos += 8;
                continue;
            }
            5 => {
                pos += 4;
                continue;
            }
            _ => return Err(malformed()),
        };
        out.push((key >> 3, wire));
    }
    Ok(out)
}

fn text(bytes: &[u8]) -> Result<String, ApiError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| malformed())
}

/// A `map<string, string>` (or bytes, base64-encoded as JSON carries them) entry.
fn map_entry(bytes: &[u8], base64_values: bool) -> Result<(String, Value), ApiError> {
    let (mut key, mut value) = (String::new(), Value::String(String::new()));
    for (field, wire) in fields(bytes)? {
        match (field, wire) {
            (1, Wire::Bytes(b)) => key = text(b)?,
            (2, Wire::Bytes(b)) if base64_values => value = json!(base64(b)),
            (2, Wire::Bytes(b)) => value = json!(text(b)?),
            _ => {}
        }
    }
    Ok((key, value))
}

fn object_meta(bytes: &[u8]) -> Result<Value, ApiError> {
    let mut meta = Map::new();
    let (mut labels, mut annotations, mut finalizers) = (Map::new(), Map::new(), Vec::new());
    for (field, wire) in fields(bytes)? {
        let Wire::Bytes(b) = wire else { continue };
        match field {
            1 => drop(meta.insert("name".into(), json!(text(b)?))),
            2 => drop(meta.insert("generateName".into(), json!(text(b)?))),
            3 => drop(meta.insert("namespace".into(), json!(text(b)?))),
            11 => {
                let (k, v) = map_entry(b, false)?;
                labels.insert(k, v);
            }
            12 => {
                let (k, v) = map_entry(b, false)?;
                annotations.insert(k, v);
            }
            14 => finalizers.push(json!(text(b)?)),
            _ => {}
        }
    }
    for (name, value) in [("labels", labels), ("annotations", annotations)] {
        if !value.is_empty() {
            meta.insert(name.into(), Value::Object(value));
        }
    }
    if !finalizers.is_empty() {
        meta.insert("finalizers".into(), Value::Array(finalizers));
    }
    Ok(Value::Object(meta))
}

/// Decodes a protobuf request body into the JSON object it encodes.
pub fn decode(body: &[u8]) -> Result<Value, ApiError> {
    let envelope = body.strip_prefix(b"k8s\0").ok_or_else(malformed)?;
    let (mut api_version, mut kind, mut raw) = (String::new(), String::new(), &[][..]);
    for (field, wire) in fields(envelope)? {
        match (field, wire) {
            (1, Wire::Bytes(type_meta)) => {
                for (f, w) in fields(type_meta)? {
                    match (f, w) {
                        (1, Wire::Bytes(b)) => api_version = text(b)?,
                        (2, Wire::Bytes(b)) => kind = text(b)?,
                        _ => {}
                    }
                }
            }
            (2, Wire::Bytes(b)) => raw = b,
            _ => {}
        }
    }
    if matches!(
        kind.as_str(),
        "TokenRequest" | "SelfSubjectAccessReview" | "SubjectAccessReview"
    ) {
        return request_object(&api_version, &kind, raw);
    }
    if !matches!(
        kind.as_str(),
        "Namespace" | "ConfigMap" | "Secret" | "ServiceAccount"
    ) {
        return Err(unsupported(&kind));
    }
    let mut object = Map::new();
    object.insert("apiVersion".into(), json!(api_version));
    object.insert("kind".into(), json!(kind.clone()));
    let (mut data, mut string_data) = (Map::new(), Map::new());
    for (field, wire) in fields(raw)? {
        match (kind.as_str(), field, wire) {
            (_, 1, Wire::Bytes(b)) => drop(object.insert("metadata".into(), object_meta(b)?)),
            ("ConfigMap", 2, Wire::Bytes(b)) => {
                let (k, v) = map_entry(b, false)?;
                data.insert(k, v);
            }
            ("Secret", 2, Wire::Bytes(b)) => {
                let (k, v) = map_entry(b, true)?;
                data.insert(k, v);
            }
            ("Secret", 3, Wire::Bytes(b)) => drop(object.insert("type".into(), json!(text(b)?))),
            ("Secret", 4, Wire::Bytes(b)) => {
                let (k, v) = map_entry(b, false)?;
                string_data.insert(k, v);
            }
            ("ConfigMap", 4, Wire::Varint(v)) | ("Secret", 5, Wire::Varint(v)) => {
                drop(object.insert("immutable".into(), json!(v != 0)))
            }
            _ => {}
        }
    }
    if !data.is_empty() {
        object.insert("data".into(), Value::Object(data));
    }
    if !string_data.is_empty() {
        object.insert("stringData".into(), Value::Object(string_data));
    }
    Ok(Value::Object(object))
}

/// `kubectl create token` and `kubectl auth can-i` send these: a TokenRequest's spec, or
/// an access review's spec (which request, and for a SubjectAccessReview whose).
fn request_object(api_version: &str, kind: &str, raw: &[u8]) -> Result<Value, ApiError> {
    let mut spec = Map::new();
    for (field, wire) in fields(raw)? {
        let (2, Wire::Bytes(b)) = (field, wire) else {
            continue;
        };
        for (f, w) in fields(b)? {
            match (kind, f, w) {
                ("TokenRequest", 1, Wire::Bytes(b)) => {
                    let audiences = spec.entry("audiences").or_insert_with(|| json!([]));
                    if let Value::Array(list) = audiences {
                        list.push(json!(text(b)?));
                    }
                }
                ("TokenRequest", 4, Wire::Varint(v)) => {
                    drop(spec.insert("expirationSeconds".into(), json!(v)))
                }
                ("TokenRequest", _, _) => {}
                (_, 1, Wire::Bytes(b)) => {
                    let names = [
                        "namespace",
                        "verb",
                        "group",
                        "version",
                        "resource",
                        "subresource",
                        "name",
                    ];
                    spec.insert("resourceAttributes".into(), strings(b, &names)?);
                }
                (_, 2, Wire::Bytes(b)) => {
                    let attributes = strings(b, &["path", "verb"])?;
                    spec.insert("nonResourceAttributes".into(), attributes);
                }
                ("SubjectAccessReview", 3, Wire::Bytes(b)) => {
                    drop(spec.insert("user".into(), json!(text(b)?)))
                }
                ("SubjectAccessReview", 4, Wire::Bytes(b)) => {
                    let groups = spec.entry("groups").or_insert_with(|| json!([]));
                    if let Value::Array(list) = groups {
                        list.push(json!(text(b)?));
                    }
                }
                ("SubjectAccessReview", 6, Wire::Bytes(b)) => {
                    drop(spec.insert("uid".into(), json!(text(b)?)))
                }
                _ => {}
            }
        }
    }
    Ok(json!({"apiVersion": api_version, "kind": kind, "spec": spec}))
}

/// A message of string fields numbered 1, 2, ... in the order of `names`.
fn strings(bytes: &[u8], names: &[&str]) -> Result<Value, ApiError> {
    let mut object = Map::new();
    for (field, wire) in fields(bytes)? {
        let name = usize::try_from(field)
            .ok()
            .and_then(|f| f.checked_sub(1))
            .and_then(|i| names.get(i));
        if let (Some(name), Wire::Bytes(b)) = (name, wire) {
            object.insert((*name).to_string(), json!(text(b)?));
        }
    }
    Ok(Value::Object(object))
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(number: u8, bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![(number << 3) | 2, bytes.len() as u8];
        out.extend_from_slice(bytes);
        out
    }

    fn namespace_body(name: &str) -> Vec<u8> {
        let type_meta = [field(1, b"v1"), field(2, b"Namespace")].concat();
        let label = [field(1, b"tier"), field(2, b"gold")].concat();
        let meta = [field(1, name.as_bytes()), field(11, &label)].concat();
        let raw = field(1, &meta);
        [b"k8s\0".to_vec(), field(1, &type_meta), field(2, &raw)].concat()
    }

    #[test]
    fn a_namespace_from_kubectl_create_decodes() {
        let object = decode(&namespace_body("shop")).expect("decodes");
        assert_eq!(object["kind"], "Namespace");
        assert_eq!(object["metadata"]["name"], "shop");
        assert_eq!(object["metadata"]["labels"]["tier"], "gold");
    }

    #[test]
    fn truncated_bodies_are_bad_requests() {
        let body = namespace_body("shop");
        let error = decode(&body[..body.len() - 3]).expect_err("truncated");
        assert_eq!(error.code(), 400);
    }

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(base64(b"hello"), "aGVsbG8=");
        assert_eq!(base64(b"hi"), "aGk=");
        assert_eq!(base64(b"abc"), "YWJj");
    }
}
