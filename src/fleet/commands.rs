//! `plan`, `up`, `test`, `outputs` and `destroy` with `--fleet`: each attendee's account on
//! its own, then one summary.

use super::bars::Bars;
use super::rows::{self, Column, Row};
use super::state::State;
use super::{Job, each, member};
use crate::cli::{GlobalArgs, Output};
use crate::commands::target::{self, Connected, Endpoint};
use crate::commands::{Failure, outputs, test};
use anyhow::anyhow;
use personalize_stack_aws::Settings;
use personalize_stack_aws::injection;
use personalize_stack_core::Stack;
use personalize_stack_core::engine::{self, Action, Attrs};
use personalize_stack_core::fleet::Fleet;
use personalize_stack_core::spec::kinds::Kind;
use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// What every attendee's job shares.
struct Ctx {
    global: GlobalArgs,
    fleet: Fleet,
    endpoint: Endpoint,
    settings: Settings,
    state: State,
}

impl Ctx {
    async fn open(global: &GlobalArgs, path: &Path) -> Result<Arc<Ctx>, Failure> {
        let fleet = super::load(global, path)?;
        let endpoint = target::endpoint(global).await?;
        let state = State::open(path, &fleet.name, &endpoint.key);
        Ok(Arc::new(Ctx {
            global: global.clone(),
            settings: Settings {
                // Inside the fleet's bars a build's own line would garble them: see
                // `prepare_packages`.
                build_progress: None,
                // Each attendee's row tells its failure; retry lines would garble the bars.
                retry_report: None,
                ..target::settings(global)
            },
            fleet,
            endpoint,
            state,
        }))
    }

    async fn connect(&self, job: &Job, row: &mut Row) -> anyhow::Result<Connected> {
        job.bar.phase("connecting");
        let member = member(
            &self.global,
            &self.endpoint,
            &self.fleet,
            &job.attendee,
            self.settings.clone(),
        )
        .await?;
        row.account.clone_from(&member.aws.account);
        row.aws = Some(Arc::clone(&member.aws));
        Ok(member)
    }

    /// Builds the stack's Lambda packages before the progress bars start, with their own
    /// progress line; every attendee then finds them ready. A build an attendee's variables
    /// make different happens in that attendee's job, silently.
    fn prepare_packages(&self) -> Result<(), Failure> {
        let stack = crate::commands::load_stack(&self.global)?;
        let settings = Settings {
            build_progress: target::settings(&self.global).build_progress,
            ..self.settings.clone()
        };
        personalize_stack_aws::package::prepare(&settings, &stack).map_err(Failure::from)
    }

    /// Opens the fleet and, unless `--quiet`, says what is about to happen to it
    /// (`Planning fleet …`).
    async fn start(global: &GlobalArgs, path: &Path, doing: &str) -> Result<Arc<Ctx>, Failure> {
        let ctx = Ctx::open(global, path).await?;
        if !global.quiet {
            eprintln!("{doing} {}", ctx.describe());
        }
        Ok(ctx)
    }

    /// Runs `job` for every attendee under progress bars titled `what`; rows in fleet order.
    async fn run<F, Fut>(self: &Arc<Ctx>, what: &str, job: F) -> Vec<Row>
    where
        F: Fn(Arc<Ctx>, Job) -> Fut,
        Fut: Future<Output = Row> + Send + 'static,
    {
        each(&self.fleet, &self.bars(what), |j| job(Arc::clone(self), j)).await
    }

    /// The summary (`columns` of `rows`, or JSON), and the command's verdict: an error naming
    /// the attendees whose `what` failed.
    fn conclude(
        &self,
        rows: &[Row],
        columns: &[Column],
        show_secrets: bool,
        what: &str,
    ) -> Result<(), Failure> {
        match self.global.output {
            Output::Json => println!("{:#}", rows::json(&self.fleet.name, rows, show_secrets)),
            Output::Text => rows::print_table(rows, columns),
        }
        verdict(rows, what)
    }

    fn bars(&self, what: &str) -> Bars {
        let width = self
            .fleet
            .attendees
            .iter()
            .map(|a| a.name.len())
            .max()
            .unwrap_or(0);
        Bars::new(what, self.fleet.attendees.len(), width, self.global.quiet)
    }

    fn describe(&self) -> String {
        format!(
            "fleet `{}`: {} attendee{} on {}, {} at once",
            self.fleet.name,
            self.fleet.attendees.len(),
            if self.fleet.attendees.len() == 1 { "" } else { "s" },
            self.endpoint.description,
            self.fleet.concurrency
        )
    }
}

/// Ends one attendee's job: its time, its writes, and an error as the row's failure.
fn finish(mut row: Row, result: anyhow::Result<()>, started: Instant) -> Row {
    if let Some(aws) = row.aws.take() {
        row.writes = writes(&aws.calls());
    }
    row.duration = started.elapsed();
    match result {
        Ok(()) => row,
        Err(e) => row.fail(&crate::commands::one_line(&e)),
    }
}

/// Defines `async fn $job(ctx, job) -> Row` running `$one(ctx, job, row, extra…)`.
macro_rules! job {
    ($job:ident => $one:ident $(, $arg:ident: $ty:ty)*) => {
        async fn $job(ctx: Arc<Ctx>, job: Job $(, $arg: $ty)*) -> Row {
            let started = Instant::now();
            let mut row = Row::new(&job.attendee);
            let result = $one(&ctx, &job, &mut row $(, $arg)*).await;
            finish(row, result, started)
        }
    };
}

/// Calls that change something: everything but reads and STS.
fn writes(calls: &[String]) -> usize {
    calls
        .iter()
        .map(|c| c.trim_start_matches("apigateway:"))
        .filter(|c| {
            !["Get", "Describe", "List", "Filter"]
                .iter()
                .any(|p| c.starts_with(p))
                && *c != "AssumeRole"
        })
        .count()
}

/// The attendee's URL, key, tracking id and a ready `curl`, from the deployed attributes.
fn fill_outputs(row: &mut Row, stack: &Stack, attrs: &BTreeMap<String, Attrs>) {
    let api_logical = stack.test.as_ref().map(|t| t.api.clone());
    for resource in stack.resources.values() {
        let Some(a) = attrs.get(&resource.logical) else {
            continue;
        };
        match resource.kind {
            Kind::RestApi if api_logical.as_deref().is_none_or(|l| l == resource.logical) => {
                row.api_url = a.get("url").cloned();
                row.api_key = a.get("api_key").cloned();
            }
            Kind::EventTracker if row.tracking_id.is_none() => {
                row.tracking_id = a.get("tracking_id").cloned()
            }
            _ => {}
        }
    }
    row.curl = injection::sample_request(stack, attrs)
        .map(|r| rows::curl(&r.method, &r.url, r.api_key.as_deref(), &r.body));
}

/// The attributes of the stack's own resources that exist.
async fn deployed(member: &Connected) -> anyhow::Result<BTreeMap<String, Attrs>> {
    let found = engine::inventory(&member.aws, &member.stack)
        .await
        .map_err(anyhow::Error::new)?;
    Ok(found
        .into_iter()
        .filter_map(|(k, o)| o.filter(|o| o.owned).map(|o| (k, o.attrs)))
        .collect())
}

/// Runs the injection test; the row's `test` says how it went.
async fn inject(
    ctx: &Ctx,
    job: &Job,
    row: &mut Row,
    member: &Connected,
    attrs: &BTreeMap<String, Attrs>,
    options: &test::Options,
) -> anyhow::Result<()> {
    job.bar.phase("testing");
    let report = injection::run(&member.aws, &member.stack, attrs, &options.injection(), &job.bar)
        .await
        .map_err(|e| anyhow::Error::new(e).context("injection test"))?;
    match report.failed_hop {
        None => {
            row.test = "passed".to_owned();
            ctx.state.record_pass(&job.attendee.name, &member.aws.account);
            Ok(())
        }
        Some(hop) => {
            ctx.state.forget(&job.attendee.name);
            row.test = format!("failed at {hop}");
            let cause = report
                .hops
                .iter()
                .find(|h| h.hop == hop)
                .map(|h| h.cause.clone().unwrap_or_else(|| h.detail.clone()))
                .unwrap_or_default();
            Err(anyhow!("the injection test failed at the {hop} hop: {cause}"))
        }
    }
}

fn blocked_reason(plan: &engine::Plan) -> Option<String> {
    let blocked: Vec<String> = plan
        .blocked()
        .map(|s| match &s.action {
            Action::Foreign { id } => format!("{} `{id}`", s.kind),
            _ => s.logical.clone(),
        })
        .collect();
    (!blocked.is_empty()).then(|| {
        format!(
            "{} exist{} without this stack's tags; nothing was changed (remove or rename {}, or change the name in the stack file)",
            blocked.join(", "),
            if blocked.len() == 1 { "s" } else { "" },
            if blocked.len() == 1 { "it" } else { "them" }
        )
    })
}

/// Exit status: 0 when every row is ok, else the failed attendees named.
fn verdict(rows: &[Row], what: &str) -> Result<(), Failure> {
    let failed: Vec<&str> = rows
        .iter()
        .filter(|r| !r.ok)
        .map(|r| r.attendee.as_str())
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::Error(anyhow!(
            "{what} failed for {} of {} attendee{}: {}",
            failed.len(),
            rows.len(),
            if rows.len() == 1 { "" } else { "s" },
            failed.join(", ")
        )))
    }
}

fn handout(ctx: &Ctx, path: Option<&PathBuf>, rows: &[Row]) -> Result<(), Failure> {
    let Some(path) = path else {
        return Ok(());
    };
    let n = rows::write_handout(path, &ctx.fleet.name, rows)?;
    if !ctx.global.quiet {
        eprintln!(
            "Hand-out for {n} attendee{} written to {}",
            if n == 1 { "" } else { "s" },
            path.display()
        );
    }
    Ok(())
}

// ---- plan ----

/// `plan --fleet`: `Ok(true)` when some account has changes.
pub async fn plan(global: &GlobalArgs, path: &Path) -> Result<bool, Failure> {
    let ctx = Ctx::start(global, path, "Planning").await?;
    ctx.prepare_packages()?;
    let rows = ctx.run("planning", plan_job).await;
    let columns = [
        Column::Attendee,
        Column::Account,
        Column::Status,
        Column::Duration,
    ];
    ctx.conclude(&rows, &columns, false, "plan")?;
    Ok(rows.iter().any(|r| r.detail["changes"] == true))
}

job!(plan_job => plan_one);

async fn plan_one(ctx: &Ctx, job: &Job, row: &mut Row) -> anyhow::Result<()> {
    let member = ctx.connect(job, row).await?;
    job.bar.phase("planning");
    let plan = engine::plan(&member.aws, &member.stack)
        .await
        .map_err(anyhow::Error::new)?;
    row.detail = serde_json::json!({ "changes": plan.has_changes(), "steps": plan.steps });
    if let Some(reason) = blocked_reason(&plan) {
        return Err(anyhow!(reason));
    }
    row.status = if plan.has_changes() {
        plan.summary()
    } else {
        "no changes".to_owned()
    };
    row.test = "-".to_owned();
    row.ok = true;
    Ok(())
}

// ---- up ----

/// `up --fleet`'s options.
pub struct UpOptions {
    /// Apply without asking.
    pub yes: bool,
    /// Steps at once in each account.
    pub parallelism: usize,
    /// The injection test; `None` with `--no-test`.
    pub test: Option<test::Options>,
    /// Where to write the hand-out.
    pub handout: Option<PathBuf>,
}

/// `up --fleet`: every account reconciled and tested; the summary; exit 0 only when all
/// converged and passed.
pub async fn up(global: &GlobalArgs, path: &Path, options: UpOptions) -> Result<(), Failure> {
    let ctx = Ctx::start(global, path, "Bringing up").await?;
    if !options.yes {
        // Per-account plans are `plan --fleet`'s job; here one question for the fleet.
        crate::commands::confirm(
            "Create or update the stack in these accounts? (`plan --fleet` shows the changes)",
            "change resources",
            "cancelled; nothing was changed",
        )?;
    }
    ctx.prepare_packages()?;
    let options = Arc::new(options);
    let rows = ctx
        .run("up", |ctx, job| up_job(ctx, job, Arc::clone(&options)))
        .await;
    handout(&ctx, options.handout.as_ref(), &rows)?;
    let columns = [
        Column::Attendee,
        Column::Account,
        Column::Status,
        Column::Url,
        Column::TrackingId,
        Column::Test,
        Column::Duration,
    ];
    ctx.conclude(&rows, &columns, false, "up")
}

job!(up_job => up_one, options: Arc<UpOptions>);

async fn up_one(ctx: &Ctx, job: &Job, row: &mut Row, options: Arc<UpOptions>) -> anyhow::Result<()> {
    let member = ctx.connect(job, row).await?;
    job.bar.phase("planning");
    let plan = engine::plan(&member.aws, &member.stack)
        .await
        .map_err(anyhow::Error::new)?;
    if let Some(reason) = blocked_reason(&plan) {
        return Err(anyhow!(reason));
    }
    let changed = plan.has_changes();
    let attrs = if changed {
        // Whatever the test proved before no longer describes this account.
        ctx.state.forget(&job.attendee.name);
        job.bar.resources(plan.steps.len());
        job.bar.phase("applying");
        let report = engine::apply(
            Arc::clone(&member.aws),
            Arc::clone(&member.stack),
            options.parallelism,
            Arc::new(job.bar.clone()) as Arc<dyn engine::Progress>,
            job.cancel.clone(),
        )
        .await
        .map_err(anyhow::Error::new)?;
        if !report.ok() {
            return Err(failures(&report));
        }
        let all_created = plan.steps.iter().all(|s| matches!(s.action, Action::Create));
        row.status = if all_created { "created" } else { "updated" }.to_owned();
        report.attrs
    } else {
        row.status = "unchanged".to_owned();
        deployed(&member).await?
    };
    fill_outputs(row, &member.stack, &attrs);
    match &options.test {
        None => row.test = "not run (--no-test)".to_owned(),
        Some(_) if member.stack.test.is_none() => row.test = "no test in stack".to_owned(),
        Some(_)
            if !changed
                && ctx
                    .state
                    .passed_at(&job.attendee.name, &member.aws.account)
                    .is_some() =>
        {
            // Converged and proven: no new test events in this attendee's tracker.
            row.test = "passed earlier".to_owned();
        }
        Some(test) => inject(ctx, job, row, &member, &attrs, test).await?,
    }
    row.ok = true;
    Ok(())
}

// ---- test ----

/// `test --fleet`: the injection test in every account, whatever earlier runs proved.
pub async fn test(global: &GlobalArgs, path: &Path, options: test::Options) -> Result<(), Failure> {
    let ctx = Ctx::start(global, path, "Testing").await?;
    let options = Arc::new(options);
    let rows = ctx
        .run("test", |ctx, job| test_job(ctx, job, Arc::clone(&options)))
        .await;
    let columns = [
        Column::Attendee,
        Column::Account,
        Column::Url,
        Column::Test,
        Column::Duration,
    ];
    ctx.conclude(&rows, &columns, false, "the injection test")
}

job!(test_job => test_one, options: Arc<test::Options>);

async fn test_one(ctx: &Ctx, job: &Job, row: &mut Row, options: Arc<test::Options>) -> anyhow::Result<()> {
    let member = ctx.connect(job, row).await?;
    let attrs = deployed(&member).await?;
    if attrs.is_empty() {
        return Err(anyhow!(
            "nothing of stack `{}` is deployed: run `up --fleet` first",
            member.stack.name
        ));
    }
    fill_outputs(row, &member.stack, &attrs);
    row.status = "deployed".to_owned();
    inject(ctx, job, row, &member, &attrs, &options).await?;
    row.ok = true;
    Ok(())
}

// ---- outputs ----

/// `outputs --fleet`: every attendee's URL, key and tracking id; `--handout` writes them out.
pub async fn outputs(
    global: &GlobalArgs,
    path: &Path,
    show_secrets: bool,
    handout_path: Option<PathBuf>,
) -> Result<(), Failure> {
    let ctx = Ctx::open(global, path).await?;
    let rows = ctx.run("outputs", outputs_job).await;
    let rows: Vec<Row> = if show_secrets {
        rows
    } else {
        // `detail` carries every output in clear for the hand-out; mask it for printing.
        rows.into_iter()
            .map(|mut r| {
                if let Some(key) = r.api_key.as_deref()
                    && let Some(obj) = r.detail.as_object_mut()
                {
                    for v in obj.values_mut() {
                        if v.as_str() == Some(key) {
                            *v = serde_json::Value::String(outputs::mask(key));
                        }
                    }
                }
                r
            })
            .collect()
    };
    handout(&ctx, handout_path.as_ref(), &rows)?;
    let columns = [Column::Attendee, Column::Account, Column::Url, Column::TrackingId];
    ctx.conclude(&rows, &columns, show_secrets, "outputs")
}

job!(outputs_job => outputs_one);

async fn outputs_one(ctx: &Ctx, job: &Job, row: &mut Row) -> anyhow::Result<()> {
    let member = ctx.connect(job, row).await?;
    job.bar.phase("reading");
    let attrs = deployed(&member).await?;
    if attrs.is_empty() {
        return Err(anyhow!(
            "nothing of stack `{}` is deployed: run `up --fleet` first",
            member.stack.name
        ));
    }
    fill_outputs(row, &member.stack, &attrs);
    row.detail = outputs::json(&outputs::collect(&member.stack, &attrs), true);
    row.status = "deployed".to_owned();
    row.test = "-".to_owned();
    row.ok = true;
    Ok(())
}

// ---- destroy ----

/// `destroy --fleet`, with aws-nuke's caution: list what goes per account, make the user
/// type the fleet's name (unless `--yes`), delete, then look again and prove each account
/// empty or list what remains.
pub async fn destroy(global: &GlobalArgs, path: &Path, yes: bool, parallelism: usize) -> Result<(), Failure> {
    let ctx = Ctx::open(global, path).await?;
    if !yes {
        // Before the listing: without a terminal nobody could type the fleet's name.
        crate::commands::require_terminal("delete")?;
    }
    if !global.quiet {
        eprintln!("Listing what `destroy` would delete in {}", ctx.describe());
    }
    let listing = ctx.run("listing", list_job).await;
    let total: usize = listing
        .iter()
        .map(|r| r.detail["to_delete"].as_array().map_or(0, Vec::len))
        .sum();
    for row in &listing {
        match (&row.reason, row.detail["to_delete"].as_array()) {
            (Some(reason), _) => eprintln!("{} ({}): cannot list: {reason}", row.attendee, row.account),
            (None, Some(items)) if items.is_empty() => {
                eprintln!("{} ({}): nothing of this stack", row.attendee, row.account);
            }
            (None, Some(items)) => {
                let names: Vec<&str> = items.iter().filter_map(|i| i.as_str()).collect();
                eprintln!("{} ({}): {}", row.attendee, row.account, names.join(", "));
            }
            (None, None) => {}
        }
    }
    if !yes {
        let answer = crate::commands::ask(&format!(
            "Delete these {total} resources in {} accounts? Type the fleet's name (`{}`) to confirm:",
            listing.iter().filter(|r| r.ok).count(),
            ctx.fleet.name
        ));
        if answer != ctx.fleet.name {
            return Err(Failure::Error(anyhow!("cancelled; nothing was deleted")));
        }
    }
    let rows = ctx
        .run("destroy", |ctx, job| destroy_job(ctx, job, parallelism))
        .await;
    let columns = [
        Column::Attendee,
        Column::Account,
        Column::Status,
        Column::Duration,
    ];
    ctx.conclude(&rows, &columns, false, "destroy")
}

job!(list_job => list_one);

async fn list_one(ctx: &Ctx, job: &Job, row: &mut Row) -> anyhow::Result<()> {
    let member = ctx.connect(job, row).await?;
    job.bar.phase("listing");
    let found = engine::inventory(&member.aws, &member.stack)
        .await
        .map_err(anyhow::Error::new)?;
    let ours = owned(&member.stack, &found);
    row.status = format!("{} to delete", ours.len());
    row.detail = serde_json::json!({ "to_delete": ours });
    row.ok = true;
    Ok(())
}

job!(destroy_job => destroy_one, parallelism: usize);

async fn destroy_one(ctx: &Ctx, job: &Job, row: &mut Row, parallelism: usize) -> anyhow::Result<()> {
    let member = ctx.connect(job, row).await?;
    job.bar.resources(member.stack.resources.len());
    job.bar.phase("deleting");
    let report = engine::destroy(
        Arc::clone(&member.aws),
        Arc::clone(&member.stack),
        parallelism,
        Arc::new(job.bar.clone()) as Arc<dyn engine::Progress>,
        job.cancel.clone(),
    )
    .await
    .map_err(anyhow::Error::new)?;
    ctx.state.forget(&job.attendee.name);
    // Only a fresh scan proves what is left.
    job.bar.phase("re-scanning");
    let found = engine::inventory(&member.aws, &member.stack)
        .await
        .map_err(|e| anyhow::Error::new(e).context("re-scan failed"))?;
    let left = owned(&member.stack, &found);
    row.test = "-".to_owned();
    row.detail = serde_json::json!({ "left": left });
    if !left.is_empty() {
        return Err(anyhow!("still there: {}", left.join(", ")));
    }
    if !report.ok() {
        return Err(failures(&report));
    }
    row.status = "empty".to_owned();
    row.ok = true;
    Ok(())
}

/// Why a run's `report` is not ok, on one line: each failed resource with its error (not
/// the ones it kept from starting), or the interruption.
fn failures(report: &engine::Report) -> anyhow::Error {
    let failed: Vec<String> = report
        .outcomes
        .iter()
        .filter(|o| o.status.is_failure())
        .map(|o| {
            format!(
                "{} ({}): {}",
                o.logical,
                o.kind,
                crate::progress::describe(&o.status)
            )
        })
        .collect();
    if report.cancelled && failed.is_empty() {
        anyhow!("interrupted before every resource was done; run again to continue")
    } else {
        anyhow!(failed.join("; "))
    }
}

/// `logical (`id`)` of every resource found that is the stack's own.
fn owned(stack: &Stack, found: &BTreeMap<String, Option<engine::Observed>>) -> Vec<String> {
    stack
        .graph
        .order()
        .filter_map(|logical| {
            let o = found.get(logical)?.as_ref().filter(|o| o.owned)?;
            Some(format!("{logical} (`{}`)", o.id))
        })
        .collect()
}
