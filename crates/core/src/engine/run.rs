//! Planning and applying: observation in dependency levels, then a scheduler that starts each
//! resource's step once its dependencies are done, at most `parallelism` at once.

use super::model::{Action, Attrs, Observed, Plan, Step, diff};
use super::resolve::Resolver;
use super::{Provider, ProviderError};
use crate::spec::{Resource, Stack};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::{self, JoinSet};

/// Tells the engine to start nothing new (the first Ctrl-C). Steps in flight finish.
#[derive(Debug, Clone)]
pub struct Cancel {
    rx: watch::Receiver<bool>,
}

impl Cancel {
    /// A token and the function that trips it.
    pub fn new() -> (Cancel, impl Fn() + Send + Sync + 'static) {
        let (tx, rx) = watch::channel(false);
        (Cancel { rx }, move || {
            let _ = tx.send(true);
        })
    }

    /// A token that never trips.
    pub fn never() -> Cancel {
        let (tx, rx) = watch::channel(false);
        // Keep the sender alive so the channel never reads as closed.
        std::mem::forget(tx);
        Cancel { rx }
    }

    /// Whether it tripped.
    pub fn is_cancelled(&self) -> bool {
        *self.rx.borrow()
    }
}

/// Where one resource ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Already as wanted.
    Unchanged,
    /// Changed (the verb: created, updated, replaced, deleted).
    Done(&'static str),
    /// Absent, nothing to delete (`destroy`).
    Absent,
    /// Exists without our tags: left alone.
    NotOurs(String),
    /// Failed.
    Failed(ProviderError),
    /// Not started: a dependency failed, or the run was cancelled.
    NotStarted(String),
}

impl Status {
    /// Whether this status fails the run.
    pub fn is_failure(&self) -> bool {
        matches!(self, Status::Failed(_) | Status::NotStarted(_))
    }
}

/// One resource's outcome.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Logical name.
    pub logical: String,
    /// Kind name.
    pub kind: String,
    /// Where it ended.
    pub status: Status,
    /// How long its step took.
    pub elapsed: Duration,
}

/// The outcome of `apply` or `destroy`.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Per resource, in the order steps ended (then the ones never started).
    pub outcomes: Vec<Outcome>,
    /// Whether a cancel stopped the run early.
    pub cancelled: bool,
    /// Every resource's attributes after the run (those that exist).
    pub attrs: BTreeMap<String, Attrs>,
}

impl Report {
    /// Whether every step succeeded.
    pub fn ok(&self) -> bool {
        !self.cancelled && !self.outcomes.iter().any(|o| o.status.is_failure())
    }
}

/// Progress callbacks, for one line per resource.
pub trait Progress: Send + Sync {
    /// `logical` started doing `what` (`creating`, `updating`, `deleting`).
    fn started(&self, logical: &str, what: &str);
    /// `logical` ended.
    fn finished(&self, outcome: &Outcome);
}

/// Attributes known offline (names), so references to a resource that does not exist yet
/// still resolve where the stack decides the value.
fn static_attrs(resource: &Resource) -> Attrs {
    resource
        .kind
        .attribute_names()
        .filter_map(|a| resource.spec.static_attribute(a).map(|v| (a.to_owned(), v)))
        .collect()
}

/// Observes every resource in dependency levels (a level's resources concurrently).
async fn observe_all<P: Provider>(
    provider: &Arc<P>,
    stack: &Arc<Stack>,
) -> Result<(Resolver, BTreeMap<String, Option<Observed>>), ProviderError> {
    let mut refs = Resolver::default();
    for resource in stack.resources.values() {
        refs.set(&resource.logical, static_attrs(resource));
    }
    let mut observed = BTreeMap::new();
    for level in stack.levels() {
        let mut set = JoinSet::new();
        for logical in level {
            let (provider, stack, refs, logical) = (
                Arc::clone(provider),
                Arc::clone(stack),
                refs.clone(),
                logical.clone(),
            );
            set.spawn(async move {
                let Some(resource) = stack.resources.get(&logical) else {
                    return (logical, Ok(None));
                };
                let found = provider.observe(resource, &refs).await;
                (logical, found)
            });
        }
        while let Some(joined) = set.join_next().await {
            let (logical, found) =
                joined.map_err(|e| ProviderError::new("observe", "Panic", e.to_string()))?;
            let found = found?;
            if let Some(o) = found.as_ref().filter(|o| o.owned) {
                let mut attrs = refs.attrs(&logical).cloned().unwrap_or_default();
                attrs.extend(o.attrs.clone());
                refs.set(&logical, attrs);
            }
            observed.insert(logical, found);
        }
    }
    Ok((refs, observed))
}

/// What exists of every resource of `stack` (read calls only): `None` where absent.
///
/// # Errors
/// An observation failed.
pub async fn inventory<P: Provider>(
    provider: &Arc<P>,
    stack: &Arc<Stack>,
) -> Result<BTreeMap<String, Option<Observed>>, ProviderError> {
    observe_all(provider, stack).await.map(|(_, observed)| observed)
}

/// Reads what exists and diffs it against `stack`. Makes only read calls.
///
/// # Errors
/// An observation failed, or a desired value cannot be computed.
pub async fn plan<P: Provider>(provider: &Arc<P>, stack: &Arc<Stack>) -> Result<Plan, ProviderError> {
    let (mut refs, observed) = observe_all(provider, stack).await?;
    let mut steps = Vec::new();
    for logical in stack.graph.order() {
        let Some(resource) = stack.resources.get(logical) else {
            continue;
        };
        let desired = provider.desired(resource, &refs)?;
        let found = observed.get(logical).and_then(Option::as_ref);
        let action = diff(&desired, found);
        if matches!(action, Action::Replace { .. } | Action::Create) {
            // Its generated attributes (ARN, tracking id) are not known until it exists again.
            refs.set(logical, static_attrs(resource));
        }
        steps.push(Step {
            logical: logical.to_owned(),
            kind: resource.kind.name().to_owned(),
            name: resource.spec.aws_name().map(str::to_owned),
            notes: desired.notes_for(&action),
            action,
        });
    }
    Ok(Plan { steps })
}

/// Which way a run walks the graph.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// Dependencies first (`up`).
    Forward,
    /// Dependents first (`destroy`).
    Reverse,
}

struct Run<P> {
    provider: Arc<P>,
    stack: Arc<Stack>,
    refs: Mutex<Resolver>,
    observed: BTreeMap<String, Option<Observed>>,
    progress: Arc<dyn Progress>,
}

/// Brings what exists to what `stack` declares, in dependency order, `parallelism` steps at
/// once. Each step observes its resource again and acts on what it finds, so a run
/// interrupted anywhere is finished by running again.
///
/// # Errors
/// Only the initial observation; step failures are in the report.
pub async fn apply<P: Provider>(
    provider: Arc<P>,
    stack: Arc<Stack>,
    parallelism: usize,
    progress: Arc<dyn Progress>,
    cancel: Cancel,
) -> Result<Report, ProviderError> {
    let (refs, observed) = observe_all(&provider, &stack).await?;
    let run = Arc::new(Run {
        provider,
        stack,
        refs: Mutex::new(refs),
        observed,
        progress,
    });
    Ok(schedule(run, parallelism, cancel, Direction::Forward).await)
}

/// Deletes every resource of `stack` that exists and carries our tags, dependents first.
/// Resources without our tags are left alone and reported.
///
/// # Errors
/// Only the initial observation; step failures are in the report.
pub async fn destroy<P: Provider>(
    provider: Arc<P>,
    stack: Arc<Stack>,
    parallelism: usize,
    progress: Arc<dyn Progress>,
    cancel: Cancel,
) -> Result<Report, ProviderError> {
    let (refs, observed) = observe_all(&provider, &stack).await?;
    let run = Arc::new(Run {
        provider,
        stack,
        refs: Mutex::new(refs),
        observed,
        progress,
    });
    Ok(schedule(run, parallelism, cancel, Direction::Reverse).await)
}

/// Runs every resource's step once the steps it waits for have succeeded.
async fn schedule<P: Provider>(
    run: Arc<Run<P>>,
    parallelism: usize,
    cancel: Cancel,
    direction: Direction,
) -> Report {
    let stack = Arc::clone(&run.stack);
    // What each resource waits for: its dependencies going up, its dependents coming down.
    let mut waits: BTreeMap<String, BTreeSet<String>> = stack
        .resources
        .keys()
        .map(|k| (k.clone(), BTreeSet::new()))
        .collect();
    for resource in stack.resources.values() {
        for dep in &resource.depends_on {
            match direction {
                Direction::Forward => waits
                    .entry(resource.logical.clone())
                    .or_default()
                    .insert(dep.clone()),
                Direction::Reverse => waits
                    .entry(dep.clone())
                    .or_default()
                    .insert(resource.logical.clone()),
            };
        }
    }
    let order: Vec<String> = match direction {
        Direction::Forward => stack.graph.order().map(str::to_owned).collect(),
        Direction::Reverse => {
            let mut o: Vec<String> = stack.graph.order().map(str::to_owned).collect();
            o.reverse();
            o
        }
    };
    let mut pending: Vec<String> = order;
    let mut succeeded: BTreeSet<String> = BTreeSet::new();
    let mut failed: BTreeSet<String> = BTreeSet::new();
    let mut report = Report::default();
    let mut set: JoinSet<Outcome> = JoinSet::new();
    // Which resource each step in flight is for: a step that panics returns no outcome, only
    // its task's id.
    let mut running: BTreeMap<task::Id, String> = BTreeMap::new();
    let parallelism = parallelism.max(1);
    loop {
        if cancel.is_cancelled() {
            report.cancelled = true;
        }
        // Anything waiting on a failure will never start.
        let mut i = 0;
        while i < pending.len() {
            let logical = &pending[i];
            let blocker = waits
                .get(logical)
                .and_then(|w| w.iter().find(|d| failed.contains(*d)))
                .cloned();
            if let Some(blocker) = blocker {
                let logical = pending.remove(i);
                let outcome = Outcome {
                    kind: kind_name(&stack, &logical),
                    logical: logical.clone(),
                    status: Status::NotStarted(format!("`{blocker}` did not succeed")),
                    elapsed: Duration::ZERO,
                };
                run.progress.finished(&outcome);
                report.outcomes.push(outcome);
                failed.insert(logical);
                i = 0;
                continue;
            }
            i += 1;
        }
        if !report.cancelled {
            let mut i = 0;
            while i < pending.len() && set.len() < parallelism {
                let ready = waits
                    .get(&pending[i])
                    .is_none_or(|w| w.iter().all(|d| succeeded.contains(d)));
                if ready {
                    let logical = pending.remove(i);
                    let run = Arc::clone(&run);
                    let name = logical.clone();
                    let handle = set.spawn(async move { run.step(&name, direction).await });
                    running.insert(handle.id(), logical);
                } else {
                    i += 1;
                }
            }
        }
        let Some(joined) = set.join_next_with_id().await else {
            break;
        };
        let outcome = match joined {
            Ok((id, outcome)) => {
                running.remove(&id);
                outcome
            }
            Err(e) => {
                let logical = running.remove(&e.id()).unwrap_or_default();
                Outcome {
                    kind: kind_name(&stack, &logical),
                    logical,
                    status: Status::Failed(ProviderError::new("step", "Panic", e.to_string())),
                    elapsed: Duration::ZERO,
                }
            }
        };
        if outcome.status.is_failure() {
            failed.insert(outcome.logical.clone());
        } else {
            succeeded.insert(outcome.logical.clone());
        }
        run.progress.finished(&outcome);
        report.outcomes.push(outcome);
    }
    for logical in pending {
        let outcome = Outcome {
            kind: kind_name(&stack, &logical),
            status: Status::NotStarted(if report.cancelled {
                "cancelled".to_owned()
            } else {
                "not reached".to_owned()
            }),
            logical,
            elapsed: Duration::ZERO,
        };
        run.progress.finished(&outcome);
        report.outcomes.push(outcome);
    }
    report.attrs = run
        .refs
        .lock()
        .map(|r| {
            stack
                .resources
                .keys()
                .filter_map(|k| r.attrs(k).map(|a| (k.clone(), a.clone())))
                .collect()
        })
        .unwrap_or_default();
    report
}

fn kind_name(stack: &Stack, logical: &str) -> String {
    stack
        .resources
        .get(logical)
        .map(|r| r.kind.name().to_owned())
        .unwrap_or_default()
}

impl<P: Provider> Run<P> {
    fn refs(&self) -> Resolver {
        self.refs.lock().map(|r| r.clone()).unwrap_or_default()
    }

    async fn step(&self, logical: &str, direction: Direction) -> Outcome {
        let started = Instant::now();
        let kind = kind_name(&self.stack, logical);
        let status = match self.stack.resources.get(logical) {
            None => Status::Failed(ProviderError::new(
                "step",
                "Unknown",
                format!("no resource `{logical}`"),
            )),
            Some(resource) => {
                let result = match direction {
                    Direction::Forward => self.converge(resource).await,
                    Direction::Reverse => self.remove(resource).await,
                };
                result.unwrap_or_else(Status::Failed)
            }
        };
        Outcome {
            logical: logical.to_owned(),
            kind,
            status,
            elapsed: started.elapsed(),
        }
    }

    /// Observes `resource` afresh and makes it match.
    async fn converge(&self, resource: &Resource) -> Result<Status, ProviderError> {
        let refs = self.refs();
        let desired = self.provider.desired(resource, &refs)?;
        let observed = self.provider.observe(resource, &refs).await?;
        let action = diff(&desired, observed.as_ref());
        let logical = &resource.logical;
        let (attrs, status) = match (&action, &observed) {
            (Action::NoChange, Some(o)) => (o.attrs.clone(), Status::Unchanged),
            (Action::Create, _) | (Action::NoChange, None) => {
                self.progress.started(logical, "creating");
                (
                    self.provider.create(resource, &refs).await?,
                    Status::Done("created"),
                )
            }
            (Action::Update { changes }, Some(o)) => {
                self.progress.started(logical, "updating");
                (
                    self.provider.update(resource, &refs, o, changes).await?,
                    Status::Done("updated"),
                )
            }
            (Action::Replace { .. }, Some(o)) => {
                self.progress.started(logical, "replacing");
                self.provider.delete(resource, &refs, o).await?;
                (
                    self.provider.create(resource, &refs).await?,
                    Status::Done("replaced"),
                )
            }
            (Action::Foreign { id }, _) => {
                return Err(ProviderError::not_ours("ownership", format_args!("`{id}`")));
            }
            (Action::Update { .. } | Action::Replace { .. } | Action::Delete, _) => {
                return Err(ProviderError::new(
                    "converge",
                    "Internal",
                    format!("cannot {} `{logical}`", action.verb()),
                ));
            }
        };
        if let Ok(mut r) = self.refs.lock() {
            let mut all = static_attrs(resource);
            all.extend(attrs);
            r.set(logical, all);
        }
        Ok(status)
    }

    /// Deletes `resource` if it exists and is ours.
    async fn remove(&self, resource: &Resource) -> Result<Status, ProviderError> {
        let refs = self.refs();
        // Observe again: it may have gone since the initial pass (a previous run's delete).
        let observed = match self.observed.get(&resource.logical).and_then(Option::as_ref) {
            Some(_) => self.provider.observe(resource, &refs).await?,
            None => None,
        };
        match observed {
            None => Ok(Status::Absent),
            Some(o) if !o.owned => Ok(Status::NotOurs(o.id)),
            Some(o) => {
                self.progress.started(&resource.logical, "deleting");
                self.provider.delete(resource, &refs, &o).await?;
                Ok(Status::Done("deleted"))
            }
        }
    }
}
