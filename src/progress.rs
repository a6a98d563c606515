//! One line per resource while `up` and `destroy` run: its state and how long it has taken.
//! On a terminal the lines update in place (indicatif); otherwise (CI, pipes) each change is
//! one plain line, so logs stay readable.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use personalize_stack_core::Stack;
use personalize_stack_core::engine::{Outcome, Progress, Status};
use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::time::Duration;

/// Progress lines for every resource of a stack.
pub struct Lines {
    bars: BTreeMap<String, ProgressBar>,
    plain: bool,
    quiet: bool,
}

impl Lines {
    /// A line per resource of `stack`, in dependency order.
    pub fn new(stack: &Stack, quiet: bool) -> Lines {
        let plain = !std::io::stderr().is_terminal();
        let multi = MultiProgress::with_draw_target(if plain || quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        });
        let width = stack.resources.keys().map(String::len).max().unwrap_or(0);
        let style =
            ProgressStyle::with_template(&format!("{{spinner}} {{prefix:<{width}}} {{msg}} {{elapsed:>4}}"))
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let mut bars = BTreeMap::new();
        for logical in stack.graph.order() {
            let bar = multi.add(ProgressBar::new_spinner());
            bar.set_style(style.clone());
            bar.set_prefix(logical.to_owned());
            bar.set_message("waiting");
            bar.enable_steady_tick(Duration::from_millis(120));
            bars.insert(logical.to_owned(), bar);
        }
        Lines { bars, plain, quiet }
    }

    fn say(&self, logical: &str, message: String) {
        if self.plain && !self.quiet {
            eprintln!("{logical}: {message}");
        }
    }
}

/// How a status reads on its line.
pub fn describe(status: &Status) -> String {
    match status {
        Status::Unchanged => "unchanged".to_owned(),
        Status::Done(verb) => (*verb).to_owned(),
        Status::Absent => "absent".to_owned(),
        Status::NotOurs(id) => format!("left alone: `{id}` is not this stack's"),
        Status::Failed(e) => format!("FAILED: {e}"),
        Status::NotStarted(why) => format!("not started ({why})"),
    }
}

impl Progress for Lines {
    fn started(&self, logical: &str, what: &str) {
        if let Some(bar) = self.bars.get(logical) {
            bar.set_message(what.to_owned());
        }
        self.say(logical, what.to_owned());
    }

    fn finished(&self, outcome: &Outcome) {
        let text = describe(&outcome.status);
        if let Some(bar) = self.bars.get(&outcome.logical) {
            let first_line = text.lines().next().unwrap_or_default().to_owned();
            bar.finish_with_message(first_line);
        }
        self.say(
            &outcome.logical,
            format!("{text} ({:.1}s)", outcome.elapsed.as_secs_f64()),
        );
    }
}
