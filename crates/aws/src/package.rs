//! Lambda packaging: not implemented yet.

/// A built deployment package.
#[derive(Debug, Clone)]
pub struct Package {
    /// The zip's bytes.
    pub zip: Vec<u8>,
    /// Base64 of the zip's SHA-256, as Lambda reports `CodeSha256`.
    pub sha256: String,
}
