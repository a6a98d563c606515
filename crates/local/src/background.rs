//! Work the runtime does on its own, outside any request: running functions (the Lambda
//! executor lives as long as this task) and polling Kinesis streams for event source
//! mappings.
//!
//! Every `poll_interval_ms` the supervisor reconciles the pollers with the stored mappings:
//! one task per (mapping, open shard) while the mapping is `Enabled` (or `Updating`); a task
//! whose mapping is disabled, deleted or gone is stopped. Mappings are found through the
//! per-account-and-region index that `CreateEventSourceMapping` writes
//! ([`lambda::MAPPING_SCOPES`]), so the supervisor never scans the whole store. Checkpoints of
//! mappings that are gone are deleted. About once a second it also stops idle or outdated
//! function instances.

use crate::auth::Caller;
use crate::server::Runtime;
use crate::services::kinesis::shard_ids;
use crate::services::lambda::{self, executor::Executor, poller};
use crate::services::{Ctx, now_ms};
use crate::store::StoreError;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often idle function instances are looked at.
const REAP_EVERY: Duration = Duration::from_secs(1);

/// Runs until `shutdown` turns true.
pub(crate) async fn run(runtime: Arc<Runtime>, mut shutdown: watch::Receiver<bool>) {
    let Some(executor) = runtime.executor().cloned() else {
        // Without threads for functions nothing can be run or polled.
        let _ = shutdown.wait_for(|stop| *stop).await;
        return;
    };
    let mut supervisor = Supervisor {
        runtime,
        executor,
        pollers: HashMap::new(),
    };
    let interval = Duration::from_millis(supervisor.runtime.config.poll_interval_ms.max(1));
    let mut last_reap = Instant::now();
    loop {
        // A storage failure only delays the next reconciliation.
        let _ = supervisor.reconcile();
        if last_reap.elapsed() >= REAP_EVERY {
            supervisor.executor.reap();
            last_reap = Instant::now();
        }
        tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => break,
            () = tokio::time::sleep(interval) => {}
        }
    }
    supervisor.stop().await;
}

/// A running poller.
struct Poller {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// The pollers and the executor; dropping it (shutdown, or the runtime's Tokio runtime
/// going away) stops them all and kills every function process.
struct Supervisor {
    runtime: Arc<Runtime>,
    executor: Arc<Executor>,
    pollers: HashMap<poller::ShardTarget, Poller>,
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        for (_, p) in self.pollers.drain() {
            let _ = p.stop.send(true);
            p.task.abort();
        }
        self.executor.shutdown();
    }
}

impl Supervisor {
    /// Stops the pollers and the executor, and waits until no poller holds the runtime (so
    /// its store is closed when the runtime's shutdown returns).
    async fn stop(&mut self) {
        let pollers: Vec<Poller> = self.pollers.drain().map(|(_, p)| p).collect();
        for p in &pollers {
            let _ = p.stop.send(true);
            p.task.abort();
        }
        self.executor.shutdown();
        for p in pollers {
            let _ = p.task.await;
        }
    }

    fn reconcile(&mut self) -> Result<(), StoreError> {
        let mut wanted: HashSet<poller::ShardTarget> = HashSet::new();
        for (account, region) in self.scopes()? {
            wanted.extend(self.targets_in(&account, &region)?);
        }
        self.pollers.retain(|target, p| {
            let keep = wanted.contains(target) && !p.task.is_finished();
            if !keep {
                let _ = p.stop.send(true);
            }
            keep
        });
        for target in wanted {
            if self.pollers.contains_key(&target) {
                continue;
            }
            let (stop, stopped) = watch::channel(false);
            let task = tokio::spawn(poller::run(
                Arc::clone(&self.runtime),
                Arc::clone(&self.executor),
                target.clone(),
                stopped,
            ));
            self.pollers.insert(target, Poller { stop, task });
        }
        Ok(())
    }

    /// Every (account, region) that has had event source mappings.
    fn scopes(&self) -> Result<Vec<(String, String)>, StoreError> {
        let keys = self.runtime.store.read(|t| t.keys(lambda::MAPPING_SCOPES))?;
        Ok(keys
            .iter()
            .filter_map(|k| k.strip_prefix(lambda::MAPPING_SCOPES)?.split_once('/'))
            .map(|(a, r)| (a.to_owned(), r.to_owned()))
            .collect())
    }

    /// The shards to poll in one account and region; deletes the checkpoints of mappings
    /// that are gone.
    fn targets_in(&self, account: &str, region: &str) -> Result<Vec<poller::ShardTarget>, StoreError> {
        let caller = Caller {
            access_key_id: account.to_owned(),
            account: account.to_owned(),
            region: region.to_owned(),
            service: "lambda".to_owned(),
        };
        let ctx = Ctx {
            caller: &caller,
            request_id: "",
            now_ms: now_ms(),
            store: &self.runtime.store,
            config: &self.runtime.config,
        };
        let checkpoints = format!("{account}/{region}/lambda/checkpoint/");
        let (targets, orphans) = self.runtime.store.read(|t| {
            let mappings = lambda::list_mappings(t, &ctx)?;
            let mut targets = Vec::new();
            let mut live = HashSet::new();
            for m in &mappings {
                let uuid = m["UUID"].as_str().unwrap_or_default().to_owned();
                live.insert(uuid.clone());
                if m["State"] != "Enabled" && m["State"] != "Updating" {
                    continue;
                }
                let arn = m["EventSourceArn"].as_str().unwrap_or_default();
                let Some((stream_account, stream_region, name)) = poller::parse_stream_arn(arn) else {
                    continue;
                };
                for shard_id in shard_ids(t, &stream_account, &stream_region, &name)? {
                    targets.push(poller::ShardTarget {
                        account: account.to_owned(),
                        region: region.to_owned(),
                        uuid: uuid.clone(),
                        stream_arn: arn.to_owned(),
                        shard_id,
                    });
                }
            }
            let orphans: Vec<String> = t
                .keys(&checkpoints)?
                .into_iter()
                .filter(|k| {
                    k.strip_prefix(&checkpoints)
                        .and_then(|rest| rest.split('/').next())
                        .is_some_and(|uuid| !live.contains(uuid))
                })
                .collect();
            Ok::<_, StoreError>((targets, orphans))
        })?;
        if !orphans.is_empty() {
            self.runtime.store.write(|t| {
                for key in &orphans {
                    // Re-checked inside the write: a mapping cannot come back, but be exact.
                    if lambda::mapping_doc(t, &ctx, key.split('/').nth(4).unwrap_or_default())?.is_none() {
                        t.delete(key)?;
                    }
                }
                Ok::<_, StoreError>(())
            })?;
        }
        Ok(targets)
    }
}
