//! Deployment packages, stored once per content.
//!
//! A workshop fleet deploys the same forwarder to every attendee's account, so fifty
//! `CreateFunction`s carry the same zip. Each distinct zip is stored once, as the blob
//! `lambda/code/<hex SHA-256>`, beside a count of the functions that use it (the blob
//! `lambda/code/<hex>/refs`, a little-endian `u64`); the last function to let go deletes both.
//! The executor unpacks by the same digest, so it unpacks each zip once, too. Sharing is
//! safe because a function never writes its code: AWS mounts `/var/task` read-only.
//!
//! A function stored before this scheme names a blob of its own (no counter); releasing it
//! deletes it, as before.

use crate::store::{StoreError, Txn};

/// Where code blobs live in the blob table.
const PREFIX: &str = "lambda/code/";

/// A zip about to be stored, with the digests Lambda reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Code {
    /// The blob key: `lambda/code/<hex SHA-256>`.
    pub blob: String,
    /// `CodeSha256`: base64 of the SHA-256, as Lambda reports it.
    pub sha256: String,
    /// `CodeSize`: the zip's length in bytes.
    pub size: usize,
}

impl Code {
    /// Digests `zip`. Done before the write transaction: hashing a 50 MB zip there would hold
    /// every other writer up.
    pub(super) fn of(zip: &[u8]) -> Code {
        use base64::Engine as _;
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(zip);
        Code {
            blob: format!("{PREFIX}{}", hex(&digest)),
            sha256: base64::engine::general_purpose::STANDARD.encode(digest),
            size: zip.len(),
        }
    }
}

/// The hex digest a `CodeSha256` names, for naming the unpacked copy; `None` if it is not
/// base64 of 32 bytes.
pub(crate) fn hex_of_code_sha256(code_sha256: &str) -> Option<String> {
    use base64::Engine as _;
    let digest = base64::engine::general_purpose::STANDARD
        .decode(code_sha256)
        .ok()
        .filter(|d| d.len() == 32)?;
    Some(hex(&digest))
}

/// Whether a zip with this hex digest is still used by some function.
///
/// # Errors
/// Storage failure.
pub(crate) fn is_in_use(t: &Txn<'_>, hex_digest: &str) -> Result<bool, StoreError> {
    Ok(t.get_blob(&refs_key(&format!("{PREFIX}{hex_digest}")))?.is_some())
}

/// The zip of function `name` in `account`/`region`, for the `Code.Location` URL that
/// `GetFunction` gives (AWS's is a presigned S3 URL): `None` when the function is gone or its
/// code is no longer the `CodeSha256` the URL names.
///
/// # Errors
/// Storage failure.
pub(crate) fn download(
    t: &Txn<'_>,
    account: &str,
    region: &str,
    name: &str,
    code_sha256: &str,
) -> Result<Option<Vec<u8>>, StoreError> {
    let key = format!(
        "{account}/{region}/lambda/function/{}",
        crate::services::escape_id(name)
    );
    let Some(doc) = t.get::<serde_json::Value>(&key)? else {
        return Ok(None);
    };
    let field = |f: &str| doc.get(f).and_then(serde_json::Value::as_str).unwrap_or_default();
    if field("CodeSha256") != code_sha256 {
        return Ok(None);
    }
    t.get_blob(field("_code_blob"))
}

/// Stores `zip` unless it is stored already, and counts one more function using it.
///
/// # Errors
/// Storage failure.
pub(super) fn retain(t: &mut Txn<'_>, code: &Code, zip: &[u8]) -> Result<(), StoreError> {
    let count = refs(t, &code.blob)?;
    if count == 0 {
        t.put_blob(&code.blob, zip)?;
    }
    t.put_blob(&refs_key(&code.blob), &(count + 1).to_le_bytes())
}

/// One function fewer uses the blob `blob`; the last one deletes it.
///
/// # Errors
/// Storage failure.
pub(super) fn release(t: &mut Txn<'_>, blob: &str) -> Result<(), StoreError> {
    if blob.is_empty() {
        return Ok(());
    }
    match refs(t, blob)? {
        0 | 1 => {
            t.delete_blob(blob)?;
            t.delete_blob(&refs_key(blob))
        }
        n => t.put_blob(&refs_key(blob), &(n - 1).to_le_bytes()),
    }
}

fn refs_key(blob: &str) -> String {
    format!("{blob}/refs")
}

/// How many functions use `blob`; 0 when it is not counted (absent, or stored before counts).
fn refs(t: &Txn<'_>, blob: &str) -> Result<u64, StoreError> {
    Ok(t.get_blob(&refs_key(blob))?
        .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
        .map_or(0, u64::from_le_bytes))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::store::Store;

    #[test]
    fn one_copy_per_content_deleted_with_its_last_function() {
        let store = Store::open(None).unwrap();
        let zip = b"PK\x03\x04 the same package".to_vec();
        let code = Code::of(&zip);
        assert_eq!(code.size, zip.len());
        assert_eq!(
            hex_of_code_sha256(&code.sha256).unwrap(),
            code.blob.trim_start_matches(PREFIX)
        );
        let hex = hex_of_code_sha256(&code.sha256).unwrap();

        store.write(|t| retain(t, &code, &zip)).unwrap();
        store.write(|t| retain(t, &code, &zip)).unwrap();
        assert!(store.read(|t| is_in_use(t, &hex)).unwrap());

        store.write(|t| release(t, &code.blob)).unwrap();
        assert_eq!(store.read(|t| t.get_blob(&code.blob)).unwrap(), Some(zip));
        store.write(|t| release(t, &code.blob)).unwrap();
        assert_eq!(store.read(|t| t.get_blob(&code.blob)).unwrap(), None);
        assert!(!store.read(|t| is_in_use(t, &hex)).unwrap());
    }

    #[test]
    fn a_blob_stored_before_counts_is_deleted_on_release() {
        let store = Store::open(None).unwrap();
        store
            .write(|t| t.put_blob("000000000000/us-east-1/lambda/code/f", b"PK"))
            .unwrap();
        store
            .write(|t| release(t, "000000000000/us-east-1/lambda/code/f"))
            .unwrap();
        assert_eq!(
            store
                .read(|t| t.get_blob("000000000000/us-east-1/lambda/code/f"))
                .unwrap(),
            None
        );
    }
}
