//! The Lambda `bootstrap` of the forwarder (runtime `provided.al2023`).
//!
//! Init reads the configuration (a missing `TRACKING_ID` is reported to
//! `/runtime/init/error`, printed on stderr, and the process exits 1), builds the PutEvents
//! client once, then serves invocations one after another on a current-thread Tokio runtime.

use std::io::{Read as _, Write as _};
use std::net::{TcpStream, ToSocketAddrs as _};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use lambda_runtime::{LambdaEvent, service_fn};
use personalize_stack_forwarder::handler::deadline_from_epoch_millis;
use personalize_stack_forwarder::{Config, Forwarder, KinesisBatch, StdoutSink, aws};

/// Variables `lambda_runtime` needs (it panics without them).
const RUNTIME_VARS: [&str; 4] = [
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
];

fn main() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => return init_failure("ConfigError", &e.to_string()),
    };
    let missing: Vec<&str> = RUNTIME_VARS
        .iter()
        .copied()
        .filter(|v| std::env::var_os(v).is_none())
        .collect();
    if !missing.is_empty() {
        let message = format!(
            "not running under a Lambda runtime API: {} unset",
            missing.join(", ")
        );
        return init_failure("RuntimeEnvironmentError", &message);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return init_failure("RuntimeError", &format!("cannot start Tokio: {e}")),
    };
    runtime.block_on(serve(config))
}

async fn serve(config: Config) -> ExitCode {
    let client = aws::client_from_env().await;
    let forwarder = Arc::new(Forwarder::new(config, client, Arc::new(StdoutSink)));
    let handler = service_fn(move |event: LambdaEvent<KinesisBatch>| {
        let forwarder = Arc::clone(&forwarder);
        async move {
            let deadline = deadline_from_epoch_millis(event.context.deadline);
            let outcome = forwarder
                .handle(&event.payload, deadline, &event.context.request_id)
                .await;
            Ok::<_, lambda_runtime::Error>(outcome.response)
        }
    });
    match lambda_runtime::run(handler).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("personalize-stack-forwarder: runtime error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints the error on stderr, reports it to `/runtime/init/error` when a runtime API is
/// known, and returns exit code 1.
fn init_failure(error_type: &str, message: &str) -> ExitCode {
    eprintln!("personalize-stack-forwarder: init error: {message}");
    if let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API")
        && let Err(e) = post_init_error(&api, error_type, message)
    {
        eprintln!("personalize-stack-forwarder: could not report the init error to {api}: {e}");
    }
    ExitCode::FAILURE
}

/// `POST http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/init/error` over a plain socket (the
/// runtime API is local HTTP/1.1).
fn post_init_error(api: &str, error_type: &str, message: &str) -> std::io::Result<()> {
    let body = serde_json::json!({
        "errorMessage": message,
        "errorType": error_type,
        "stackTrace": [],
    })
    .to_string();
    let addr = api
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other("no address"))?;
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    let request = format!(
        "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: {api}\r\n\
         Content-Type: application/json\r\n\
         Lambda-Runtime-Function-Error-Type: Runtime.InitError\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes())?;
    let mut head = [0u8; 64];
    let n = stream.read(&mut head)?;
    let status_line = String::from_utf8_lossy(&head[..n]);
    if status_line.starts_with("HTTP/1.1 2") || status_line.starts_with("HTTP/1.0 2") {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "unexpected answer: {}",
            status_line.lines().next().unwrap_or_default()
        )))
    }
}
