//! Reading a function's deployment package: a zip whose entries are stored or deflated
//! (the `zip` crate reads it and checks each entry's CRC-32), written below a directory with
//! their Unix permissions; names that would escape it are refused.

use std::io::Read as _;
use std::path::{Path, PathBuf};

/// Why a package cannot be unpacked.
#[derive(Debug, thiserror::Error)]
pub enum ZipError {
    /// Not a zip we can read.
    #[error("{0}")]
    Format(String),
    /// Writing the files failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

fn format(message: impl Into<String>) -> ZipError {
    ZipError::Format(message.into())
}

/// Lambda's limit on a function's unzipped code: an entry claiming more is refused before
/// it is inflated.
const MAX_UNZIPPED: u64 = 250 * 1024 * 1024;

/// Unpacks `zip` into `dir` (which must exist).
///
/// # Errors
/// A malformed or unsupported zip, an entry escaping `dir`, or a write failure.
pub fn unpack(zip: &[u8], dir: &Path) -> Result<(), ZipError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip))
        .map_err(|e| format(format!("not a readable zip: {e}")))?;
    let mut total = 0_u64;
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| format(format!("entry {index}: {e}")))?;
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        let path: PathBuf = entry
            .enclosed_name()
            .map(|relative| dir.join(relative))
            .ok_or_else(|| format(format!("entry {name} escapes the package")))?;
        let io = |source| ZipError::Io {
            path: path.display().to_string(),
            source,
        };
        if entry.is_dir() {
            std::fs::create_dir_all(&path).map_err(io)?;
            continue;
        }
        total = total.saturating_add(entry.size());
        if total > MAX_UNZIPPED {
            return Err(format("the package unzips to more than Lambda's 250 MB"));
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let mut data = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or_default());
        // Reading to the end checks the size and the CRC-32 the zip recorded.
        entry
            .read_to_end(&mut data)
            .map_err(|e| format(format!("{name}: {e}")))?;
        std::fs::write(&path, data).map_err(io)?;
        set_mode(&path, entry.unix_mode()).map_err(io)?;
    }
    Ok(())
}

/// Keeps the permission bits the zip recorded (so `bootstrap` stays executable).
#[cfg(unix)]
fn set_mode(path: &Path, mode: Option<u32>) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    match mode {
        Some(m) if m & 0o777 != 0 => {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(m & 0o777))
        }
        _ => Ok(()),
    }
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: Option<u32>) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::io::Write as _;

    /// A zip of `(name, deflated, bytes)` entries, made on Unix with mode 0755.
    fn zip_of(files: &[(&str, bool, &[u8])]) -> Vec<u8> {
        use zip::write::SimpleFileOptions;
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, deflated, bytes) in files {
            let method = if *deflated {
                zip::CompressionMethod::Deflated
            } else {
                zip::CompressionMethod::Stored
            };
            let options = SimpleFileOptions::default()
                .compression_method(method)
                .unix_permissions(0o755);
            w.start_file(*name, options).unwrap();
            w.write_all(bytes).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ps-zip-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn stored_and_deflated_entries_unpack_with_their_modes() {
        let text: &[u8] = b"hello hello hello hello, deflated";
        let zip = zip_of(&[("bootstrap", false, b"#!/bin/sh\n"), ("lib/data.txt", true, text)]);
        let dir = temp_dir();
        unpack(&zip, &dir).unwrap();
        assert_eq!(std::fs::read(dir.join("bootstrap")).unwrap(), b"#!/bin/sh\n");
        assert_eq!(std::fs::read(dir.join("lib/data.txt")).unwrap(), text);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.join("bootstrap"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o755);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn corrupt_escaping_and_unsupported_entries_are_refused() {
        let dir = temp_dir();
        let bad_crc = {
            let mut z = zip_of(&[("a", false, b"abc")]);
            let at = z.windows(3).position(|w| w == b"abc").unwrap();
            z[at] = b'X';
            z
        };
        assert!(
            matches!(unpack(&bad_crc, &dir), Err(ZipError::Format(m)) if m.contains("CRC") || m.contains("checksum"))
        );
        let escaping = zip_of(&[("../evil", false, b"x")]);
        assert!(matches!(unpack(&escaping, &dir), Err(ZipError::Format(m)) if m.contains("escapes")));
        assert!(!dir.join("../evil").exists());
        // Method 12 (bzip2), which Lambda's own unzip would take but we do not: patched into
        // the local and central headers of a stored entry.
        let bzip = {
            let mut z = zip_of(&[("a", false, b"x")]);
            for signature in [&b"PK\x03\x04"[..], &b"PK\x01\x02"[..]] {
                let at = z.windows(4).position(|w| w == signature).unwrap();
                let method_at = if signature[2] == 3 { at + 8 } else { at + 10 };
                z[method_at] = 12;
            }
            z
        };
        assert!(unpack(&bzip, &dir).is_err());
        assert!(unpack(b"PK\x03\x04 not really", &dir).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
