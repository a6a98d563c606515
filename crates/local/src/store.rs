//! Durable state in an embedded database (redb).
//!
//! Every resource is one JSON document under a key `account/region/service/kind/id` (IAM,
//! being global, uses the region `global`). Writes happen in transactions that are committed
//! (fsynced) before the response is sent, so an acknowledged write survives `kill -9`.
//! Large binary payloads (Lambda zips) live in a separate table.

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::Path;

const ITEMS: TableDefinition<&str, &[u8]> = TableDefinition::new("items");
const BLOBS: TableDefinition<&str, &[u8]> = TableDefinition::new("blobs");

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] redb::Error),
    /// A stored document did not decode (a bug, or a data dir from another version).
    #[error("stored value `{key}` is corrupt: {source}")]
    Corrupt {
        /// Its key.
        key: String,
        /// Why.
        source: serde_json::Error,
    },
}

macro_rules! db_err {
    ($e:expr) => {
        $e.map_err(|e| StoreError::Db(e.into()))
    };
}

/// The database.
pub struct Store {
    db: Database,
}

impl Store {
    /// Opens (or creates) `dir/state.redb`, or an in-memory store when `dir` is `None`.
    ///
    /// # Errors
    /// The database cannot be opened (e.g. another process holds it).
    pub fn open(dir: Option<&Path>) -> Result<Store, StoreError> {
        let db = match dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| StoreError::Db(redb::StorageError::Io(e).into()))?;
                db_err!(Database::create(dir.join("state.redb")))?
            }
            None => db_err!(Database::builder().create_with_backend(redb::backends::InMemoryBackend::new()))?,
        };
        // Create the tables up front so read transactions never see them missing.
        let txn = db_err!(db.begin_write())?;
        db_err!(txn.open_table(ITEMS))?;
        db_err!(txn.open_table(BLOBS))?;
        db_err!(txn.commit())?;
        Ok(Store { db })
    }

    /// Runs `f` in a write transaction, committed durably when `f` returns `Ok`; on `Err`
    /// nothing is written.
    ///
    /// # Errors
    /// `f`'s error, or a storage failure converted into `E`.
    pub fn write<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut Txn<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let txn = db_err!(self.db.begin_write())?;
        let result = {
            let items = db_err!(txn.open_table(ITEMS))?;
            let blobs = db_err!(txn.open_table(BLOBS))?;
            let mut t = Txn {
                items: Tables::Write(items),
                blobs: BlobTables::Write(blobs),
            };
            f(&mut t)
        };
        match result {
            Ok(v) => {
                db_err!(txn.commit())?;
                Ok(v)
            }
            Err(e) => {
                db_err!(txn.abort())?;
                Err(e)
            }
        }
    }

    /// Runs `f` on a consistent snapshot.
    ///
    /// # Errors
    /// `f`'s error, or a storage failure converted into `E`.
    pub fn read<T, E: From<StoreError>>(&self, f: impl FnOnce(&mut Txn<'_>) -> Result<T, E>) -> Result<T, E> {
        let txn = db_err!(self.db.begin_read())?;
        let items = db_err!(txn.open_table(ITEMS))?;
        let blobs = db_err!(txn.open_table(BLOBS))?;
        let mut t = Txn {
            items: Tables::Read(items),
            blobs: BlobTables::Read(blobs),
        };
        f(&mut t)
    }
}

enum Tables<'t> {
    Write(redb::Table<'t, &'static str, &'static [u8]>),
    Read(redb::ReadOnlyTable<&'static str, &'static [u8]>),
}

enum BlobTables<'t> {
    Write(redb::Table<'t, &'static str, &'static [u8]>),
    Read(redb::ReadOnlyTable<&'static str, &'static [u8]>),
}

/// A transaction: typed access to documents and blobs.
pub struct Txn<'t> {
    items: Tables<'t>,
    blobs: BlobTables<'t>,
}

fn decode<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt {
        key: key.to_owned(),
        source,
    })
}

/// The end of a prefix range: the prefix with its last byte incremented.
fn prefix_end(prefix: &str) -> String {
    // Keys are ASCII paths; `\u{10FFFF}` sorts after every character we use.
    format!("{prefix}\u{10FFFF}")
}

impl Txn<'_> {
    /// The document at `key`.
    ///
    /// # Errors
    /// Storage failure or a corrupt document.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        let guard = match &self.items {
            Tables::Write(t) => db_err!(t.get(key))?,
            Tables::Read(t) => db_err!(t.get(key))?,
        };
        guard.map(|g| decode(key, g.value())).transpose()
    }

    /// Whether `key` exists.
    ///
    /// # Errors
    /// Storage failure.
    pub fn contains(&self, key: &str) -> Result<bool, StoreError> {
        Ok(match &self.items {
            Tables::Write(t) => db_err!(t.get(key))?.is_some(),
            Tables::Read(t) => db_err!(t.get(key))?.is_some(),
        })
    }

    /// Stores `value` at `key`. Panics never; in a read transaction it is a storage error.
    ///
    /// # Errors
    /// Storage failure, or called on a read transaction.
    pub fn put<T: Serialize>(&mut self, key: &str, value: &T) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(value).map_err(|source| StoreError::Corrupt {
            key: key.to_owned(),
            source,
        })?;
        match &mut self.items {
            Tables::Write(t) => {
                db_err!(t.insert(key, bytes.as_slice()))?;
                Ok(())
            }
            Tables::Read(_) => Err(read_only()),
        }
    }

    /// Deletes `key`; whether it existed.
    ///
    /// # Errors
    /// Storage failure, or called on a read transaction.
    pub fn delete(&mut self, key: &str) -> Result<bool, StoreError> {
        match &mut self.items {
            Tables::Write(t) => Ok(db_err!(t.remove(key))?.is_some()),
            Tables::Read(_) => Err(read_only()),
        }
    }

    /// Every document whose key starts with `prefix`, in key order.
    ///
    /// # Errors
    /// Storage failure or a corrupt document.
    pub fn list<T: DeserializeOwned>(&self, prefix: &str) -> Result<Vec<(String, T)>, StoreError> {
        let end = prefix_end(prefix);
        let range = match &self.items {
            Tables::Write(t) => db_err!(t.range::<&str>(prefix..end.as_str()))?,
            Tables::Read(t) => db_err!(t.range::<&str>(prefix..end.as_str()))?,
        };
        let mut out = Vec::new();
        for entry in range {
            let (k, v) = db_err!(entry)?;
            out.push((k.value().to_owned(), decode(k.value(), v.value())?));
        }
        Ok(out)
    }

    /// Every key starting with `prefix`.
    ///
    /// # Errors
    /// Storage failure.
    pub fn keys(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let end = prefix_end(prefix);
        let range = match &self.items {
            Tables::Write(t) => db_err!(t.range::<&str>(prefix..end.as_str()))?,
            Tables::Read(t) => db_err!(t.range::<&str>(prefix..end.as_str()))?,
        };
        let mut out = Vec::new();
        for entry in range {
            let (k, _) = db_err!(entry)?;
            out.push(k.value().to_owned());
        }
        Ok(out)
    }

    /// Stores a blob.
    ///
    /// # Errors
    /// Storage failure, or called on a read transaction.
    pub fn put_blob(&mut self, key: &str, bytes: &[u8]) -> Result<(), StoreError> {
        match &mut self.blobs {
            BlobTables::Write(t) => {
                db_err!(t.insert(key, bytes))?;
                Ok(())
            }
            BlobTables::Read(_) => Err(read_only()),
        }
    }

    /// A blob.
    ///
    /// # Errors
    /// Storage failure.
    pub fn get_blob(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let guard = match &self.blobs {
            BlobTables::Write(t) => db_err!(t.get(key))?,
            BlobTables::Read(t) => db_err!(t.get(key))?,
        };
        Ok(guard.map(|g| g.value().to_vec()))
    }

    /// Deletes a blob.
    ///
    /// # Errors
    /// Storage failure, or called on a read transaction.
    pub fn delete_blob(&mut self, key: &str) -> Result<(), StoreError> {
        match &mut self.blobs {
            BlobTables::Write(t) => {
                db_err!(t.remove(key))?;
                Ok(())
            }
            BlobTables::Read(_) => Err(read_only()),
        }
    }
}

fn read_only() -> StoreError {
    StoreError::Db(redb::Error::Io(std::io::Error::other(
        "write in a read transaction",
    )))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn documents_round_trip_and_list_by_prefix() {
        let store = Store::open(None).unwrap();
        store
            .write(|t| {
                t.put("a/x/1", &serde_json::json!({"n": 1}))?;
                t.put("a/x/2", &serde_json::json!({"n": 2}))?;
                t.put("a/y/1", &serde_json::json!({"n": 3}))?;
                Ok::<_, StoreError>(())
            })
            .unwrap();
        let listed: Vec<(String, serde_json::Value)> = store.read(|t| t.list("a/x/")).unwrap();
        assert_eq!(listed.len(), 2);
        let failed: Result<(), StoreError> = store.write(|t| {
            t.put("a/x/3", &1)?;
            Err(read_only())
        });
        assert!(failed.is_err());
        assert!(
            !store.read(|t| t.contains("a/x/3")).unwrap(),
            "aborted writes leave nothing"
        );
    }

    #[test]
    fn state_survives_reopen() {
        let dir = std::env::temp_dir().join(format!("ps-store-{}", uuid::Uuid::new_v4()));
        {
            let store = Store::open(Some(&dir)).unwrap();
            store.write(|t| t.put("k", &42)).unwrap();
        }
        let store = Store::open(Some(&dir)).unwrap();
        assert_eq!(store.read(|t| t.get::<i32>("k")).unwrap(), Some(42));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
