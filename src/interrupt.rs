//! The two-stage Ctrl-C of the commands that change things (`up`, `destroy`, and their
//! `--fleet` forms): the first lets the steps in flight finish and starts nothing new; the
//! second exits at once with 130. Running the same command again converges either way.

use personalize_stack_core::engine::Cancel;

/// Listens for Ctrl-C until dropped.
pub struct Interrupts {
    listener: tokio::task::JoinHandle<()>,
}

impl Drop for Interrupts {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

/// What to say at each Ctrl-C.
pub struct Messages {
    /// After the first: what goes on.
    pub first: &'static str,
    /// After the second, before exiting.
    pub second: Option<&'static str>,
}

/// Starts listening; the [`Cancel`] trips at the first Ctrl-C. Keep the [`Interrupts`] for as
/// long as the work runs.
pub fn two_stage(messages: Messages) -> (Cancel, Interrupts) {
    let (cancel, trip) = Cancel::new();
    let listener = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\n{}", messages.first);
            trip();
            if tokio::signal::ctrl_c().await.is_ok() {
                if let Some(second) = messages.second {
                    eprintln!("{second}");
                }
                std::process::exit(130);
            }
        }
    });
    (cancel, Interrupts { listener })
}
