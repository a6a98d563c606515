//! Reading a function's deployment package: a zip whose entries are stored or deflated.
//! Entries are found through the central directory (local headers may leave sizes to a data
//! descriptor), checked against their CRC-32, and written below a directory with their Unix
//! permissions; names that would escape it are refused.

use super::inflate::{crc32, inflate};
use std::path::{Component, Path, PathBuf};

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

/// One entry of the central directory.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    name: String,
    method: u16,
    crc: u32,
    compressed_size: usize,
    size: usize,
    local_header: usize,
    /// Unix mode bits, when the zip was made on Unix.
    mode: Option<u32>,
}

fn u16_at(data: &[u8], at: usize) -> Result<u16, ZipError> {
    data.get(at..at + 2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .ok_or_else(|| format("truncated zip"))
}

fn u32_at(data: &[u8], at: usize) -> Result<u32, ZipError> {
    data.get(at..at + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| format("truncated zip"))
}

fn usize_at(data: &[u8], at: usize) -> Result<usize, ZipError> {
    let v = u32_at(data, at)?;
    if v == u32::MAX {
        return Err(format("ZIP64 archives are not supported"));
    }
    usize::try_from(v).map_err(|_| format("size out of range"))
}

/// The central directory's entries.
fn entries(zip: &[u8]) -> Result<Vec<Entry>, ZipError> {
    // The end record is the last `PK\x05\x06`, within the last 64 KiB + 22 bytes (comment).
    let earliest = zip.len().saturating_sub(22 + 65_535);
    let end = (earliest..zip.len().saturating_sub(21))
        .rev()
        .find(|&i| zip[i..].starts_with(b"PK\x05\x06"))
        .ok_or_else(|| format("no end of central directory record"))?;
    let count = usize::from(u16_at(zip, end + 10)?);
    let mut at = usize_at(zip, end + 16)?;
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        if u32_at(zip, at)? != 0x0201_4b50 {
            return Err(format("bad central directory entry"));
        }
        let made_by_unix = u16_at(zip, at + 4)? >> 8 == 3;
        let name_len = usize::from(u16_at(zip, at + 28)?);
        let extra_len = usize::from(u16_at(zip, at + 30)?);
        let comment_len = usize::from(u16_at(zip, at + 32)?);
        let name = zip
            .get(at + 46..at + 46 + name_len)
            .ok_or_else(|| format("truncated zip"))?;
        let external = u32_at(zip, at + 38)?;
        out.push(Entry {
            name: String::from_utf8_lossy(name).into_owned(),
            method: u16_at(zip, at + 10)?,
            crc: u32_at(zip, at + 16)?,
            compressed_size: usize_at(zip, at + 20)?,
            size: usize_at(zip, at + 24)?,
            local_header: usize_at(zip, at + 42)?,
            mode: (made_by_unix && external >> 16 != 0).then_some(external >> 16),
        });
        at += 46 + name_len + extra_len + comment_len;
    }
    Ok(out)
}

/// An entry's bytes, decompressed and checked.
fn contents(zip: &[u8], entry: &Entry) -> Result<Vec<u8>, ZipError> {
    let at = entry.local_header;
    if u32_at(zip, at)? != 0x0403_4b50 {
        return Err(format(format!("bad local header for {}", entry.name)));
    }
    let start = at + 30 + usize::from(u16_at(zip, at + 26)?) + usize::from(u16_at(zip, at + 28)?);
    let raw = zip
        .get(start..start + entry.compressed_size)
        .ok_or_else(|| format(format!("{} runs past the end of the zip", entry.name)))?;
    let data = match entry.method {
        0 => raw.to_vec(),
        8 => inflate(raw, entry.size).map_err(|e| format(format!("{}: {e}", entry.name)))?,
        m => {
            return Err(format(format!(
                "{}: compression method {m} is not supported (only stored and deflated)",
                entry.name
            )));
        }
    };
    if data.len() != entry.size || crc32(&data) != entry.crc {
        return Err(format(format!("{}: CRC or size mismatch", entry.name)));
    }
    Ok(data)
}

/// Where `name` goes below `dir`, unless it would land outside it.
fn target(dir: &Path, name: &str) -> Option<PathBuf> {
    let relative = Path::new(name);
    relative
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        .then(|| dir.join(relative))
}

/// Unpacks `zip` into `dir` (which must exist).
///
/// # Errors
/// A malformed or unsupported zip, an entry escaping `dir`, or a write failure.
pub fn unpack(zip: &[u8], dir: &Path) -> Result<(), ZipError> {
    for entry in entries(zip)? {
        let path = target(dir, &entry.name)
            .ok_or_else(|| format(format!("entry {} escapes the package", entry.name)))?;
        let io = |source| ZipError::Io {
            path: path.display().to_string(),
            source,
        };
        if entry.name.ends_with('/') {
            std::fs::create_dir_all(&path).map_err(io)?;
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::fs::write(&path, contents(zip, &entry)?).map_err(io)?;
        set_mode(&path, entry.mode).map_err(io)?;
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

    /// A zip of `(name, method, stored bytes, original bytes)` entries, made on Unix.
    fn zip_of(files: &[(&str, u16, &[u8], &[u8])]) -> Vec<u8> {
        let mut z = Vec::new();
        let mut central = Vec::new();
        for (name, method, stored, original) in files {
            let offset = u32::try_from(z.len()).unwrap();
            let crc = crc32(original);
            let (csize, size) = (
                u32::try_from(stored.len()).unwrap(),
                u32::try_from(original.len()).unwrap(),
            );
            let name_len = u16::try_from(name.len()).unwrap();
            z.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
            z.extend_from_slice(&[20, 0, 0, 0]);
            z.extend_from_slice(&method.to_le_bytes());
            z.extend_from_slice(&[0, 0, 0, 0]);
            for v in [crc, csize, size] {
                z.extend_from_slice(&v.to_le_bytes());
            }
            z.extend_from_slice(&name_len.to_le_bytes());
            z.extend_from_slice(&0u16.to_le_bytes());
            z.extend_from_slice(name.as_bytes());
            z.extend_from_slice(stored);
            central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            central.extend_from_slice(&[20, 3, 20, 0, 0, 0]);
            central.extend_from_slice(&method.to_le_bytes());
            central.extend_from_slice(&[0, 0, 0, 0]);
            for v in [crc, csize, size] {
                central.extend_from_slice(&v.to_le_bytes());
            }
            central.extend_from_slice(&name_len.to_le_bytes());
            central.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
            central.extend_from_slice(&(0o100_755u32 << 16).to_le_bytes());
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
        }
        let central_at = u32::try_from(z.len()).unwrap();
        let count = u16::try_from(files.len()).unwrap();
        z.extend_from_slice(&central);
        z.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        z.extend_from_slice(&[0, 0, 0, 0]);
        z.extend_from_slice(&count.to_le_bytes());
        z.extend_from_slice(&count.to_le_bytes());
        z.extend_from_slice(&u32::try_from(central.len()).unwrap().to_le_bytes());
        z.extend_from_slice(&central_at.to_le_bytes());
        z.extend_from_slice(&0u16.to_le_bytes());
        z
    }

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ps-zip-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn stored_and_deflated_entries_unpack_with_their_modes() {
        // "hello hello hello hello, fixed huffman", deflated by zlib with fixed codes.
        let deflated: &[u8] = &[
            203, 72, 205, 201, 201, 87, 200, 64, 39, 117, 20, 210, 50, 43, 82, 83, 20, 50, 74, 211, 210, 114,
            19, 243, 0,
        ];
        let text: &[u8] = b"hello hello hello hello, fixed huffman";
        let zip = zip_of(&[
            ("bootstrap", 0, b"#!/bin/sh\n", b"#!/bin/sh\n"),
            ("lib/data.txt", 8, deflated, text),
        ]);
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
            let mut z = zip_of(&[("a", 0, b"abc", b"abc")]);
            z[30 + 1] = b'X'; // the stored data, after the 30-byte header and the 1-byte name
            z
        };
        assert!(matches!(unpack(&bad_crc, &dir), Err(ZipError::Format(m)) if m.contains("CRC")));
        let escaping = zip_of(&[("../evil", 0, b"x", b"x")]);
        assert!(matches!(unpack(&escaping, &dir), Err(ZipError::Format(m)) if m.contains("escapes")));
        let bzip = zip_of(&[("a", 12, b"x", b"x")]);
        assert!(matches!(unpack(&bzip, &dir), Err(ZipError::Format(m)) if m.contains("method 12")));
        assert!(unpack(b"PK\x03\x04 not really", &dir).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
