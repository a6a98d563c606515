//! Durable state in an embedded database (redb).
//!
//! Every resource is one JSON document under a key `account/region/service/kind/id` (IAM,
//! being global, uses the region `global`). Large binary payloads (Lambda zips) live in a
//! separate table.
//!
//! Every write is durable (fsynced) before [`Store::write`] returns, so an acknowledged write
//! survives `kill -9`. One fsync per write would cap the runtime at the disk's fsync rate
//! (≈2,000/s here), so writes use *group commit*: each transaction commits without syncing
//! (cheap, and visible to readers at once), then waits until a durable commit covers it. One
//! waiter at a time performs that durable commit, on behalf of everybody who committed before
//! it started; the others find their write already covered when they get their turn.
//!
//! Hot paths whose writes cannot fail for a reason of their own (PutEvents appending validated
//! events) go further with [`Store::write_batched`]: jobs queued by concurrent callers run in
//! *one* transaction, committed durably once by whichever caller leads the batch.

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};

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
    /// How many non-durable commits have completed (a commit's number is taken after it).
    committed: AtomicU64,
    /// Every commit numbered up to this is durable.
    durable: AtomicU64,
    /// Held by the one waiter performing a durable commit.
    syncing: Mutex<()>,
    /// Jobs waiting for a batched transaction.
    batch: Mutex<BatchQueue>,
}

/// A job of [`Store::write_batched`], type-erased: it keeps its own result.
type Job = Box<dyn FnOnce(&mut Txn<'_>) + Send>;

#[derive(Default)]
struct BatchQueue {
    jobs: Vec<(Job, mpsc::Sender<Turn>)>,
    /// Whether some caller is running (or about to run) a batch.
    leading: bool,
}

/// What a queued caller is told.
enum Turn {
    /// Your job ran and the batch was committed (or failed to be, with this message).
    Done(Result<(), String>),
    /// Your job is still queued: lead the next batch.
    Lead,
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
        Ok(Store {
            db,
            committed: AtomicU64::new(0),
            durable: AtomicU64::new(0),
            syncing: Mutex::new(()),
            batch: Mutex::new(BatchQueue::default()),
        })
    }

    /// Like [`Store::write`] but returns without waiting for the disk: the write becomes durable
    /// with the next durable commit (any other write). For data nobody was promised, such as a
    /// function's log lines (CloudWatch delivers those asynchronously too).
    ///
    /// # Errors
    /// `f`'s error, or a storage failure converted into `E`.
    pub fn write_unsynced<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut Txn<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        self.commit_unsynced(f).map(|(value, _)| value)
    }

    /// Runs `f` and commits without syncing; the commit's number for [`Store::make_durable`].
    fn commit_unsynced<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut Txn<'_>) -> Result<T, E>,
    ) -> Result<(T, u64), E> {
        let mut txn = db_err!(self.db.begin_write())?;
        db_err!(txn.set_durability(redb::Durability::None))?;
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
                Ok((v, self.committed.fetch_add(1, Ordering::AcqRel) + 1))
            }
            Err(e) => {
                db_err!(txn.abort())?;
                Err(e)
            }
        }
    }

    /// Runs `f` in a transaction shared with other concurrent `write_batched` callers, durable
    /// when this returns. `f` must not write before it may fail for a reason of its own: its
    /// writes are kept even when it returns `Err` (the batch's other jobs commit). A storage
    /// failure fails every job of the batch.
    ///
    /// # Errors
    /// `f`'s error, or a storage failure converted into `E`.
    pub fn write_batched<T, E>(
        &self,
        f: impl FnOnce(&mut Txn<'_>) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        off_async_worker(|| self.write_batched_here(f))
    }

    fn write_batched_here<T, E>(
        &self,
        f: impl FnOnce(&mut Txn<'_>) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let slot: Arc<Mutex<Option<Result<T, E>>>> = Arc::new(Mutex::new(None));
        let job_slot = Arc::clone(&slot);
        let job: Job = Box::new(move |txn| {
            let result = f(txn);
            *job_slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(result);
        });
        let (tx, rx) = mpsc::channel();
        let lead_now = {
            let mut queue = self
                .batch
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            queue.jobs.push((job, tx));
            !std::mem::replace(&mut queue.leading, true)
        };
        let mut turn = if lead_now { Turn::Lead } else { recv(&rx) };
        if matches!(turn, Turn::Lead) {
            self.lead_batch();
            turn = recv(&rx);
        }
        match turn {
            Turn::Done(Ok(())) => slot
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take()
                .unwrap_or_else(|| Err(storage_failure("a batched job did not run").into())),
            Turn::Done(Err(message)) => Err(storage_failure(&message).into()),
            Turn::Lead => Err(storage_failure("batch leadership handed over twice").into()),
        }
    }

    /// Runs every queued job in one durable transaction, tells their callers, then hands the
    /// lead to a caller queued meanwhile (or gives it up).
    fn lead_batch(&self) {
        // Hands the lead on even if a job panics, so later callers are never left waiting.
        let _hand_over = HandOver(self);
        let jobs = std::mem::take(
            &mut self
                .batch
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .jobs,
        );
        let covers = self.committed.load(Ordering::Acquire);
        let (jobs, senders): (Vec<Job>, Vec<mpsc::Sender<Turn>>) = jobs.into_iter().unzip();
        let outcome = self.run_jobs(jobs).map_err(|e| e.to_string());
        if outcome.is_ok() {
            self.durable.fetch_max(covers, Ordering::AcqRel);
        }
        for sender in senders {
            // A caller that went away (panicked) needs no answer.
            let _ = sender.send(Turn::Done(outcome.clone()));
        }
    }

    fn run_jobs(&self, jobs: Vec<Job>) -> Result<(), StoreError> {
        let txn = db_err!(self.db.begin_write())?;
        {
            let items = db_err!(txn.open_table(ITEMS))?;
            let blobs = db_err!(txn.open_table(BLOBS))?;
            let mut t = Txn {
                items: Tables::Write(items),
                blobs: BlobTables::Write(blobs),
            };
            for job in jobs {
                job(&mut t);
            }
        }
        db_err!(txn.commit())?;
        Ok(())
    }

    /// Returns once commit number `seq` is on disk, performing a durable commit if nobody has
    /// covered it yet. The durable commit starts after reading `committed`, so it persists every
    /// commit numbered up to what it read (redb: a durable commit persists the non-durable ones
    /// before it).
    fn make_durable(&self, seq: u64) -> Result<(), StoreError> {
        if self.durable.load(Ordering::Acquire) >= seq {
            return Ok(());
        }
        // A poisoned lock only means another waiter panicked; the counters stay consistent.
        let _turn = self
            .syncing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.durable.load(Ordering::Acquire) >= seq {
            return Ok(());
        }
        let covers = self.committed.load(Ordering::Acquire);
        let txn = db_err!(self.db.begin_write())?;
        db_err!(txn.commit())?;
        self.durable.fetch_max(covers, Ordering::AcqRel);
        Ok(())
    }

    /// Runs `f` in a write transaction, committed when `f` returns `Ok` and durable when this
    /// returns; on `Err` nothing is written. Blocks the calling thread (call it from a blocking
    /// thread, so concurrent writers can share one fsync).
    ///
    /// # Errors
    /// `f`'s error, or a storage failure converted into `E`.
    pub fn write<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut Txn<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        off_async_worker(|| {
            let (value, seq) = self.commit_unsynced(f)?;
            self.make_durable(seq)?;
            Ok(value)
        })
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

/// The end of a prefix range: a key after every key starting with `prefix` (for skipping over
/// them with [`Txn::first_key_from`]).
pub fn prefix_end(prefix: &str) -> String {
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

    /// The documents whose key starts with `prefix` and sorts at or after `from`, in key order:
    /// what was appended after a known point of an ordered key space.
    ///
    /// # Errors
    /// Storage failure or a corrupt document.
    pub fn list_from<T: DeserializeOwned>(
        &self,
        prefix: &str,
        from: &str,
    ) -> Result<Vec<(String, T)>, StoreError> {
        let end = prefix_end(prefix);
        let start = if from > prefix { from } else { prefix };
        let range = match &self.items {
            Tables::Write(t) => db_err!(t.range::<&str>(start..end.as_str()))?,
            Tables::Read(t) => db_err!(t.range::<&str>(start..end.as_str()))?,
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

    /// The first key at or after `from`, in key order: with [`prefix_end`], walks a key space
    /// one subtree at a time instead of key by key.
    ///
    /// # Errors
    /// Storage failure.
    pub fn first_key_from(&self, from: &str) -> Result<Option<String>, StoreError> {
        let mut range = match &self.items {
            Tables::Write(t) => db_err!(t.range::<&str>(from..))?,
            Tables::Read(t) => db_err!(t.range::<&str>(from..))?,
        };
        match range.next() {
            Some(entry) => Ok(Some(db_err!(entry)?.0.value().to_owned())),
            None => Ok(None),
        }
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

/// Runs `f`, which may wait for the disk or for other writers, without stalling an async
/// worker thread: on a multi-threaded Tokio worker the thread's other tasks move elsewhere
/// first (`block_in_place`); anywhere else `f` simply runs.
fn off_async_worker<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// Passes the batch lead to the first queued caller, or gives it up when none is queued.
struct HandOver<'s>(&'s Store);

impl Drop for HandOver<'_> {
    fn drop(&mut self) {
        let mut queue = self
            .0
            .batch
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match queue.jobs.first() {
            Some((_, next_leader)) => {
                let _ = next_leader.send(Turn::Lead);
            }
            None => queue.leading = false,
        }
    }
}

fn recv(rx: &mpsc::Receiver<Turn>) -> Turn {
    // The sender lives in the queue until a leader answers; a closed channel means that leader
    // panicked mid-batch.
    rx.recv()
        .unwrap_or_else(|_| Turn::Done(Err("the batch's leader failed".to_owned())))
}

fn storage_failure(message: &str) -> StoreError {
    StoreError::Db(redb::Error::Io(std::io::Error::other(message.to_owned())))
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
    fn concurrent_batched_writes_all_land_and_each_gets_its_own_result() {
        let store = Arc::new(Store::open(None).unwrap());
        let threads: Vec<_> = (0..16)
            .map(|i| {
                let store = Arc::clone(&store);
                std::thread::spawn(move || {
                    (0..50)
                        .map(|j| {
                            store.write_batched(move |t| {
                                let n: u64 = t.get("counter")?.unwrap_or(0);
                                t.put("counter", &(n + 1))?;
                                t.put(&format!("k/{i}/{j}"), &j)?;
                                Ok::<_, StoreError>(n)
                            })
                        })
                        .collect::<Result<Vec<u64>, _>>()
                        .unwrap()
                })
            })
            .collect();
        let mut seen: Vec<u64> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
        seen.sort_unstable();
        assert_eq!(
            seen,
            (0..800).collect::<Vec<u64>>(),
            "every job saw the ones before it"
        );
        assert_eq!(store.read(|t| t.get::<u64>("counter")).unwrap(), Some(800));
        assert_eq!(store.read(|t| t.keys("k/")).unwrap().len(), 800);
    }

    #[test]
    fn a_job_error_is_its_own_and_the_batch_still_commits() {
        let store = Store::open(None).unwrap();
        let failed: Result<(), StoreError> = store.write_batched(|_| Err(read_only()));
        assert!(failed.is_err());
        store.write_batched(|t| t.put("after", &1)).unwrap();
        assert!(store.read(|t| t.contains("after")).unwrap());
    }

    #[test]
    fn batched_writes_survive_reopen() {
        let dir = std::env::temp_dir().join(format!("ps-store-{}", uuid::Uuid::new_v4()));
        {
            let store = Store::open(Some(&dir)).unwrap();
            store.write_batched(|t| t.put("k", &7)).unwrap();
            store.write(|t| t.put("j", &8)).unwrap();
        }
        let store = Store::open(Some(&dir)).unwrap();
        assert_eq!(store.read(|t| t.get::<i32>("k")).unwrap(), Some(7));
        assert_eq!(store.read(|t| t.get::<i32>("j")).unwrap(), Some(8));
        std::fs::remove_dir_all(&dir).unwrap();
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
