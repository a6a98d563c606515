//! What earlier fleet runs proved: per attendee, that the injection test passed on this
//! target with nothing changed since. A re-run of `up --fleet` leaves such an account alone
//! when its plan shows no change, instead of injecting test events into it again.
//!
//! It is a cache of test results, not state the reconcile depends on: the reconcile always
//! reads what exists, and a lost file only means the tests run again. Kept in
//! `.personalize-stack/fleet-<name>.json` next to the fleet file.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// One attendee's last proof.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Passed {
    /// The target (`aws`, an endpoint URL, a local data dir).
    target: String,
    /// The account the test passed in.
    account: String,
    /// When, in ms since the epoch.
    at_ms: u64,
}

/// The file, loaded; saved after every change so an interrupted run keeps what it proved.
pub struct State {
    path: PathBuf,
    target: String,
    passed: Mutex<BTreeMap<String, Passed>>,
}

impl State {
    /// The state of fleet `name` (file next to `fleet_file`) for `target`.
    pub fn open(fleet_file: &Path, name: &str, target: &str) -> State {
        let dir = fleet_file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = dir.join(".personalize-stack").join(format!("fleet-{safe}.json"));
        // Unreadable or from an older format: start over (the tests just run again).
        let passed = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        State {
            path,
            target: target.to_owned(),
            passed: Mutex::new(passed),
        }
    }

    /// When the test last passed for `attendee` in `account` on this target, if it did.
    pub fn passed_at(&self, attendee: &str, account: &str) -> Option<u64> {
        let passed = self.passed.lock().ok()?;
        passed
            .get(attendee)
            .filter(|p| p.target == self.target && p.account == account)
            .map(|p| p.at_ms)
    }

    /// Records that the test passed now.
    pub fn record_pass(&self, attendee: &str, account: &str) {
        let at_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        self.update(|m| {
            m.insert(
                attendee.to_owned(),
                Passed {
                    target: self.target.clone(),
                    account: account.to_owned(),
                    at_ms,
                },
            );
        });
    }

    /// Forgets the proof (something changed, the test failed, or the stack is gone).
    pub fn forget(&self, attendee: &str) {
        self.update(|m| {
            m.remove(attendee);
        });
    }

    fn update(&self, f: impl FnOnce(&mut BTreeMap<String, Passed>)) {
        let Ok(mut passed) = self.passed.lock() else {
            return;
        };
        f(&mut passed);
        // Best effort: a cache that cannot be written only costs a re-test next time.
        if let Some(dir) = self.path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Ok(text) = serde_json::to_vec_pretty(&*passed) {
            let tmp = self.path.with_extension("json.tmp");
            if std::fs::write(&tmp, text).is_ok() {
                let _ = std::fs::rename(&tmp, &self.path);
            }
        }
    }
}
