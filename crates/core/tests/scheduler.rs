//! The reconciler's scheduler against a fake, in-memory provider: dependency order going up
//! and coming down, failures and what they block, cancelling, the parallelism bound, and a
//! step that panics.
//!
//! Nothing here waits on the clock: a step the test needs in flight blocks on a semaphore
//! until the test releases it, and the test learns that a step started from a channel.
#![allow(clippy::unwrap_used, missing_docs)]

use personalize_stack_core::engine::{
    Attrs, Cancel, Desired, FieldChange, Fields, Observed, Outcome, Progress, Provider, ProviderError,
    Report, Resolver, Status, apply, destroy,
};
use personalize_stack_core::spec::Resource;
use personalize_stack_core::{LoadOptions, Stack, parse};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use tokio::sync::{Semaphore, mpsc};

/// A provider call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Create,
    Update,
    Delete,
}

/// Whether a call began or returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Start,
    End,
}

/// One recorded call boundary; its index in [`Fake::events`] is its place in time.
#[derive(Debug, Clone)]
struct Event {
    op: Op,
    phase: Phase,
    logical: String,
    /// The `arn` of each dependency, as the call was given it (absent: not known).
    arns: BTreeMap<String, String>,
}

/// What the fake does when asked to create, update or delete one resource.
#[derive(Default)]
struct Behaviour {
    /// Fail with this error.
    fail: Option<ProviderError>,
    /// Panic.
    panic: bool,
    /// Wait for a permit before returning (see [`Fake::release`]).
    gate: Option<Arc<Semaphore>>,
}

#[derive(Default)]
struct Counts {
    in_flight: usize,
    max_in_flight: usize,
}

/// An in-memory cloud: what exists, by logical name.
struct Fake {
    existing: Mutex<BTreeMap<String, Observed>>,
    behaviour: Mutex<BTreeMap<String, Behaviour>>,
    events: Mutex<Vec<Event>>,
    counts: Mutex<Counts>,
    started: mpsc::UnboundedSender<(Op, String)>,
}

/// Counts a create or delete in flight for as long as it lives (a panic included).
struct InFlight<'a>(&'a Fake);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Ok(mut c) = self.0.counts.lock() {
            c.in_flight -= 1;
        }
    }
}

impl Fake {
    /// An empty cloud, and the channel that says which call started.
    fn new() -> (Arc<Fake>, mpsc::UnboundedReceiver<(Op, String)>) {
        let (started, rx) = mpsc::unbounded_channel();
        let fake = Fake {
            existing: Mutex::default(),
            behaviour: Mutex::default(),
            events: Mutex::default(),
            counts: Mutex::default(),
            started,
        };
        (Arc::new(fake), rx)
    }

    /// A cloud where every resource of `stack` exists as declared, tagged as ours.
    fn with_everything_of(stack: &Stack) -> (Arc<Fake>, mpsc::UnboundedReceiver<(Op, String)>) {
        let (fake, rx) = Fake::new();
        for resource in stack.resources.values() {
            let observed = fake.exists(resource);
            fake.existing
                .lock()
                .unwrap()
                .insert(resource.logical.clone(), observed);
        }
        (fake, rx)
    }

    fn fail(&self, logical: &str, error: ProviderError) {
        self.configure(logical, |b| b.fail = Some(error));
    }

    fn panic(&self, logical: &str) {
        self.configure(logical, |b| b.panic = true);
    }

    /// Makes `logical`'s create or delete wait for [`Fake::release`].
    fn block(&self, logical: &str) {
        self.configure(logical, |b| b.gate = Some(Arc::new(Semaphore::new(0))));
    }

    /// Lets `logical`'s blocked call return.
    fn release(&self, logical: &str) {
        let gate = self.behaviour.lock().unwrap()[logical].gate.clone();
        gate.unwrap().add_permits(1);
    }

    fn configure(&self, logical: &str, change: impl FnOnce(&mut Behaviour)) {
        change(
            self.behaviour
                .lock()
                .unwrap()
                .entry(logical.to_owned())
                .or_default(),
        );
    }

    fn events(&self) -> Vec<Event> {
        self.events.lock().unwrap().clone()
    }

    /// The calls of `op`, in the order they started.
    fn calls(&self, op: Op) -> Vec<String> {
        self.events()
            .into_iter()
            .filter(|e| e.op == op && e.phase == Phase::Start)
            .map(|e| e.logical)
            .collect()
    }

    /// When `logical`'s `op` call started or ended: its place among all events.
    fn at(&self, op: Op, phase: Phase, logical: &str) -> usize {
        let events = self.events();
        let found: Vec<usize> = (0..events.len())
            .filter(|&i| events[i].op == op && events[i].phase == phase && events[i].logical == logical)
            .collect();
        assert_eq!(found.len(), 1, "one {op:?} {phase:?} of `{logical}`: {events:#?}");
        found[0]
    }

    fn in_flight(&self) -> usize {
        self.counts.lock().unwrap().in_flight
    }

    fn max_in_flight(&self) -> usize {
        self.counts.lock().unwrap().max_in_flight
    }

    fn exists_now(&self, logical: &str) -> bool {
        self.existing.lock().unwrap().contains_key(logical)
    }

    /// `resource` as it exists once created.
    fn exists(&self, resource: &Resource) -> Observed {
        let name = resource.spec.aws_name().unwrap_or_default().to_owned();
        Observed {
            id: name.clone(),
            owned: true,
            fields: fields_of(resource),
            attrs: [
                ("arn".to_owned(), format!("arn:fake:{}", resource.logical)),
                ("name".to_owned(), name),
            ]
            .into(),
        }
    }

    fn record(&self, op: Op, phase: Phase, resource: &Resource, refs: &Resolver) {
        let arns = resource
            .depends_on
            .iter()
            .filter_map(|dep| {
                let arn = refs.attrs(dep)?.get("arn")?;
                Some((dep.clone(), arn.clone()))
            })
            .collect();
        self.events.lock().unwrap().push(Event {
            op,
            phase,
            logical: resource.logical.clone(),
            arns,
        });
    }

    /// Runs one changing call: records its start, counts it in flight, then fails, panics
    /// or blocks as configured, and records its end when it returns.
    async fn change(&self, op: Op, resource: &Resource, refs: &Resolver) -> Result<(), ProviderError> {
        let logical = resource.logical.as_str();
        let counted = matches!(op, Op::Create | Op::Delete);
        let _in_flight = counted.then(|| {
            let mut c = self.counts.lock().unwrap();
            c.in_flight += 1;
            c.max_in_flight = c.max_in_flight.max(c.in_flight);
            InFlight(self)
        });
        self.record(op, Phase::Start, resource, refs);
        let _ = self.started.send((op, logical.to_owned()));
        let (fail, panic, gate) = {
            let b = self.behaviour.lock().unwrap();
            match b.get(logical) {
                Some(b) => (b.fail.clone(), b.panic, b.gate.clone()),
                None => (None, false, None),
            }
        };
        if let Some(gate) = gate {
            gate.acquire().await.unwrap().forget();
        }
        assert!(!panic, "the fake provider panicked in {op:?} of `{logical}`");
        let result = match fail {
            Some(error) => Err(error),
            None => {
                let mut existing = self.existing.lock().unwrap();
                match op {
                    Op::Create | Op::Update => {
                        existing.insert(logical.to_owned(), self.exists(resource));
                    }
                    Op::Delete => {
                        existing.remove(logical);
                    }
                }
                Ok(())
            }
        };
        self.record(op, Phase::End, resource, refs);
        result
    }
}

/// The fields the stack wants of `resource`: its AWS name.
fn fields_of(resource: &Resource) -> Fields {
    [(
        "name".to_owned(),
        resource.spec.aws_name().unwrap_or_default().to_owned(),
    )]
    .into()
}

impl Provider for Fake {
    fn desired(&self, resource: &Resource, _refs: &Resolver) -> Result<Desired, ProviderError> {
        Ok(Desired {
            fields: fields_of(resource),
            ..Desired::default()
        })
    }

    async fn observe(
        &self,
        resource: &Resource,
        _refs: &Resolver,
    ) -> Result<Option<Observed>, ProviderError> {
        Ok(self.existing.lock().unwrap().get(&resource.logical).cloned())
    }

    async fn create(&self, resource: &Resource, refs: &Resolver) -> Result<Attrs, ProviderError> {
        self.change(Op::Create, resource, refs).await?;
        Ok(self.exists(resource).attrs)
    }

    async fn update(
        &self,
        resource: &Resource,
        refs: &Resolver,
        _observed: &Observed,
        _changes: &[FieldChange],
    ) -> Result<Attrs, ProviderError> {
        self.change(Op::Update, resource, refs).await?;
        Ok(self.exists(resource).attrs)
    }

    async fn delete(
        &self,
        resource: &Resource,
        refs: &Resolver,
        _observed: &Observed,
    ) -> Result<(), ProviderError> {
        self.change(Op::Delete, resource, refs).await
    }
}

/// Progress lines, as a terminal would show them.
#[derive(Default)]
struct Lines(Mutex<Vec<String>>);

impl Progress for Lines {
    fn started(&self, logical: &str, what: &str) {
        self.0.lock().unwrap().push(format!("{logical} {what}"));
    }

    fn finished(&self, outcome: &Outcome) {
        self.0.lock().unwrap().push(format!("{} ended", outcome.logical));
    }
}

/// An `iam_role` resource named `logical`, whose policy references the `arn` of each of
/// `references` (each reference is a dependency edge).
fn role(logical: &str, references: &[&str]) -> String {
    let mut yaml = format!("  {logical}:\n    iam_role:\n      assumed_by: lambda.amazonaws.com\n");
    if !references.is_empty() {
        let arns: Vec<String> = references.iter().map(|r| format!("\"${{{r}.arn}}\"")).collect();
        yaml.push_str(&format!(
            "      policies:\n        - actions: kinesis:PutRecords\n          resources: [{}]\n",
            arns.join(", ")
        ));
    }
    yaml
}

/// A stack of `roles`, each `(logical, references)`, in that file order.
fn stack(roles: &[(&str, &[&str])]) -> Arc<Stack> {
    let mut source = "stack: t\nresources:\n".to_owned();
    for (logical, references) in roles {
        source.push_str(&role(logical, references));
    }
    let stack =
        parse("stack.yaml", &source, &LoadOptions::default()).unwrap_or_else(|d| panic!("{source}\n{d:?}"));
    for (logical, references) in roles {
        let wanted: BTreeSet<String> = references.iter().map(|r| (*r).to_owned()).collect();
        assert_eq!(
            stack.resources[*logical].depends_on, wanted,
            "edges of `{logical}`"
        );
    }
    Arc::new(stack)
}

/// `a` ← `b`, `a` ← `c`, and `d` referencing both `b` and `c`; `d` is declared first so
/// file order alone would get it wrong.
fn diamond() -> Arc<Stack> {
    stack(&[("d", &["b", "c"]), ("b", &["a"]), ("c", &["a"]), ("a", &[])])
}

fn outcome<'a>(report: &'a Report, logical: &str) -> &'a Outcome {
    let found: Vec<&Outcome> = report.outcomes.iter().filter(|o| o.logical == logical).collect();
    assert_eq!(
        found.len(),
        1,
        "one outcome for `{logical}`: {:#?}",
        report.outcomes
    );
    found[0]
}

async fn next_started(rx: &mut mpsc::UnboundedReceiver<(Op, String)>) -> (Op, String) {
    rx.recv().await.unwrap()
}

fn quiet() -> Arc<dyn Progress> {
    Arc::new(Lines::default())
}

#[tokio::test]
async fn a_resource_is_created_after_everything_it_references() {
    let stack = diamond();
    let (fake, _started) = Fake::new();
    let lines = Arc::new(Lines::default());
    let report = apply(
        Arc::clone(&fake),
        Arc::clone(&stack),
        4,
        lines.clone(),
        Cancel::never(),
    )
    .await
    .unwrap();

    assert!(report.ok(), "{:#?}", report.outcomes);
    for logical in ["a", "b", "c", "d"] {
        assert_eq!(outcome(&report, logical).status, Status::Done("created"));
        assert_eq!(outcome(&report, logical).kind, "iam_role");
        assert!(fake.exists_now(logical));
    }
    let mut created = fake.calls(Op::Create);
    created.sort();
    assert_eq!(created, ["a", "b", "c", "d"], "each created once");
    for resource in stack.resources.values() {
        let start = fake.at(Op::Create, Phase::Start, &resource.logical);
        for dep in &resource.depends_on {
            let end = fake.at(Op::Create, Phase::End, dep);
            assert!(
                end < start,
                "`{}` started (event {start}) before `{dep}` was created (event {end}): {:#?}",
                resource.logical,
                fake.events()
            );
        }
    }
    // What a dependency's creation returned is what its dependents are given.
    let d = fake.at(Op::Create, Phase::Start, "d");
    let given = &fake.events()[d].arns;
    assert_eq!(given.get("b").map(String::as_str), Some("arn:fake:b"));
    assert_eq!(given.get("c").map(String::as_str), Some("arn:fake:c"));
    assert_eq!(report.attrs["d"]["arn"], "arn:fake:d");
    let lines = lines.0.lock().unwrap();
    assert!(lines.contains(&"d creating".to_owned()), "{lines:?}");
    assert_eq!(
        lines.iter().filter(|l| l.ends_with(" ended")).count(),
        4,
        "{lines:?}"
    );
}

#[tokio::test]
async fn a_failed_create_blocks_its_dependents_but_not_the_independent_resources() {
    // `y` needs `x`, `z` needs `y`; `e` needs nothing.
    let stack = stack(&[("x", &[]), ("y", &["x"]), ("z", &["y"]), ("e", &[])]);
    let (fake, _started) = Fake::new();
    let error = ProviderError::new("CreateRole", "LimitExceeded", "too many roles").hint("delete some");
    fake.fail("x", error.clone());
    let report = apply(Arc::clone(&fake), stack, 2, quiet(), Cancel::never())
        .await
        .unwrap();

    assert!(!report.ok());
    assert!(!report.cancelled);
    assert_eq!(outcome(&report, "x").status, Status::Failed(error));
    assert_eq!(
        outcome(&report, "y").status,
        Status::NotStarted("`x` did not succeed".to_owned())
    );
    assert_eq!(
        outcome(&report, "z").status,
        Status::NotStarted("`y` did not succeed".to_owned())
    );
    assert_eq!(outcome(&report, "e").status, Status::Done("created"));
    assert_eq!(report.outcomes.len(), 4);
    let mut created = fake.calls(Op::Create);
    created.sort();
    assert_eq!(created, ["e", "x"], "the dependents were never attempted");
    assert!(fake.exists_now("e"));
    assert!(!fake.exists_now("x") && !fake.exists_now("y") && !fake.exists_now("z"));
    assert!(report.attrs.contains_key("e") && report.attrs["e"].contains_key("arn"));
}

#[tokio::test]
async fn destroy_deletes_dependents_before_what_they_reference() {
    let stack = diamond();
    let (fake, _started) = Fake::with_everything_of(&stack);
    let report = destroy(Arc::clone(&fake), Arc::clone(&stack), 4, quiet(), Cancel::never())
        .await
        .unwrap();

    assert!(report.ok(), "{:#?}", report.outcomes);
    for logical in ["a", "b", "c", "d"] {
        assert_eq!(outcome(&report, logical).status, Status::Done("deleted"));
        assert!(!fake.exists_now(logical));
    }
    assert!(fake.calls(Op::Create).is_empty() && fake.calls(Op::Update).is_empty());
    for resource in stack.resources.values() {
        let end = fake.at(Op::Delete, Phase::End, &resource.logical);
        for dep in &resource.depends_on {
            let start = fake.at(Op::Delete, Phase::Start, dep);
            assert!(
                end < start,
                "`{dep}` started being deleted (event {start}) before its dependent `{}` was gone (event {end}): {:#?}",
                resource.logical,
                fake.events()
            );
        }
    }
    assert_eq!(fake.calls(Op::Delete).first().map(String::as_str), Some("d"));
    assert_eq!(fake.calls(Op::Delete).last().map(String::as_str), Some("a"));
}

#[tokio::test]
async fn a_cancel_lets_the_steps_in_flight_finish_and_starts_nothing_new() {
    // With two at once, `a` and `c` start; `d` waits for a free slot, `b` for `a`.
    let stack = stack(&[("a", &[]), ("b", &["a"]), ("c", &[]), ("d", &[])]);
    let (fake, mut started) = Fake::new();
    fake.block("a");
    fake.block("c");
    let (cancel, trip) = Cancel::new();
    let run = tokio::spawn(apply(Arc::clone(&fake), stack, 2, quiet(), cancel));

    let mut in_flight = vec![next_started(&mut started).await, next_started(&mut started).await];
    in_flight.sort_by(|l, r| l.1.cmp(&r.1));
    assert_eq!(
        in_flight,
        [(Op::Create, "a".to_owned()), (Op::Create, "c".to_owned())]
    );
    trip();
    fake.release("a");
    fake.release("c");
    let report = run.await.unwrap().unwrap();

    assert!(report.cancelled);
    assert!(!report.ok());
    assert_eq!(outcome(&report, "a").status, Status::Done("created"));
    assert_eq!(outcome(&report, "c").status, Status::Done("created"));
    for never in ["b", "d"] {
        assert_eq!(
            outcome(&report, never).status,
            Status::NotStarted("cancelled".to_owned())
        );
        assert!(!fake.exists_now(never));
    }
    let mut created = fake.calls(Op::Create);
    created.sort();
    assert_eq!(created, ["a", "c"], "nothing started after the cancel");
    assert!(fake.exists_now("a") && fake.exists_now("c"));
    assert!(started.try_recv().is_err());
}

#[tokio::test]
async fn no_more_than_parallelism_creates_are_in_flight_at_once() {
    let names = ["r1", "r2", "r3", "r4", "r5"];
    let roles: Vec<(&str, &[&str])> = names.iter().map(|n| (*n, &[][..])).collect();
    let stack = stack(&roles);
    let (fake, mut started) = Fake::new();
    for n in names {
        fake.block(n);
    }
    let run = tokio::spawn(apply(Arc::clone(&fake), stack, 2, quiet(), Cancel::never()));

    let mut order = vec![
        next_started(&mut started).await.1,
        next_started(&mut started).await.1,
    ];
    assert_eq!(fake.in_flight(), 2, "two creates are in flight together");
    // Releasing one step lets exactly one more start.
    for i in 0..names.len() {
        fake.release(&order[i]);
        if order.len() < names.len() {
            let (op, next) = next_started(&mut started).await;
            assert_eq!(op, Op::Create);
            order.push(next);
        }
    }
    let report = run.await.unwrap().unwrap();

    assert!(report.ok(), "{:#?}", report.outcomes);
    assert_eq!(fake.max_in_flight(), 2);
    assert_eq!(fake.in_flight(), 0);
    order.sort();
    assert_eq!(order, names, "each created once");
    for n in names {
        assert_eq!(outcome(&report, n).status, Status::Done("created"));
    }
}

#[tokio::test]
async fn a_step_that_panics_is_reported_under_its_resource_name() {
    // `y` needs `x`; `z` needs nothing.
    let stack = stack(&[("x", &[]), ("y", &["x"]), ("z", &[])]);
    let (fake, _started) = Fake::new();
    fake.panic("x");
    let report = apply(Arc::clone(&fake), stack, 2, quiet(), Cancel::never())
        .await
        .unwrap();

    assert!(!report.ok());
    assert!(
        report
            .outcomes
            .iter()
            .all(|o| !o.logical.is_empty() && o.logical != "?"),
        "{:#?}",
        report.outcomes
    );
    let x = outcome(&report, "x");
    assert_eq!(x.kind, "iam_role");
    match &x.status {
        Status::Failed(e) => {
            assert!(e.message.contains("panicked"), "{e}");
            assert!(
                e.message.contains("the fake provider panicked in Create of `x`"),
                "{e}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        outcome(&report, "y").status,
        Status::NotStarted("`x` did not succeed".to_owned())
    );
    assert_eq!(outcome(&report, "z").status, Status::Done("created"));
    assert_eq!(report.outcomes.len(), 3);
    assert!(!fake.calls(Op::Create).contains(&"y".to_owned()));
}
