//! The local runtime: one process that speaks AWS's wire protocols — IAM and STS (awsQuery),
//! Kinesis, Personalize and CloudWatch Logs (awsJson 1.1), Lambda and API Gateway
//! (restJson1) — so the official SDKs, the AWS CLI and boto3 work against it with nothing but
//! an endpoint URL, and no AWS account.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let running = personalize_stack_local::start(personalize_stack_local::Config {
//!     port: 0, // a free port
//!     ..Default::default()
//! })
//! .await?;
//! println!("endpoint: {}", running.endpoint_url());
//! running.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Guarantees
//! - Errors come in each protocol's exact shape, so SDK clients decode typed errors.
//! - With a data dir, every acknowledged write is committed to disk first: state survives
//!   `kill -9` and restart.
//!
//! It does not depend on the stack model: it emulates AWS, it does not know stacks.

mod auth;
mod background;
pub mod config;
mod error;
mod inspect;
pub mod protocol;
mod server;
pub mod services;
pub mod store;

pub use auth::{Caller, DEFAULT_ACCOUNT, account_of, parse_authorization};
pub use config::{Config, Faults, Profile};
pub use error::{AwsError, AwsResult};

use rand::SeedableRng as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Why the runtime could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The state could not be opened.
    #[error("cannot open the local runtime's state in `{dir}`")]
    Store {
        /// The data dir.
        dir: String,
        /// Why.
        #[source]
        source: store::StoreError,
    },
    /// The address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// A runtime serving in the background.
pub struct Running {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://host:port`, for `endpoint_url`.
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections and waits for in-flight requests.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// Binds and serves in the background.
///
/// # Errors
/// The data dir cannot be opened or the address cannot be bound.
pub async fn start(config: Config) -> Result<Running, StartError> {
    let (tx, rx) = oneshot::channel::<()>();
    let (addr, serve, runtime) = bind(config).await?;
    let task = tokio::spawn(async move {
        let (stop_background, background) = spawn_background(runtime);
        let _ = serve
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
        let _ = stop_background.send(true);
        let _ = background.await;
    });
    Ok(Running {
        addr,
        shutdown: Some(tx),
        task,
    })
}

/// Binds and serves until `shutdown` completes (for `personalize-stack local`).
///
/// # Errors
/// The data dir cannot be opened or the address cannot be bound.
pub async fn serve_until(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_bound: impl FnOnce(SocketAddr),
) -> Result<(), StartError> {
    let (addr, serve, runtime) = bind(config).await?;
    let (stop_background, background) = spawn_background(runtime);
    on_bound(addr);
    let _ = serve.with_graceful_shutdown(shutdown).await;
    let _ = stop_background.send(true);
    let _ = background.await;
    Ok(())
}

/// Starts the background work (event source mapping pollers); stopped through the sender.
fn spawn_background(
    runtime: Arc<server::Runtime>,
) -> (tokio::sync::watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = tokio::sync::watch::channel(false);
    (tx, tokio::spawn(background::run(runtime, rx)))
}

type Serve = axum::serve::Serve<tokio::net::TcpListener, axum::Router, axum::Router>;

async fn bind(config: Config) -> Result<(SocketAddr, Serve, Arc<server::Runtime>), StartError> {
    let store = store::Store::open(config.data_dir.as_deref()).map_err(|source| StartError::Store {
        dir: config
            .data_dir
            .as_ref()
            .map_or_else(|| "memory".to_owned(), |d| d.display().to_string()),
        source,
    })?;
    let addr = SocketAddr::new(config.host, config.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr, source })?;
    let runtime = Arc::new(server::Runtime {
        store,
        config,
        rng: Mutex::new(rand::rngs::StdRng::from_os_rng()),
        addr: bound,
        models: services::personalize_runtime::Models::default(),
        executor: std::sync::OnceLock::new(),
        pollers: services::lambda::poller::Board::default(),
    });
    // Without threads for functions nothing can be run; everything else still answers.
    if let Ok(executor) = services::lambda::executor::Executor::start(Arc::clone(&runtime)) {
        let _ = runtime.executor.set(executor);
    }
    let app = axum::Router::new()
        .fallback(server::handle)
        .with_state(Arc::clone(&runtime));
    Ok((bound, axum::serve(listener, app), runtime))
}
