//! Building the SDK clients for a target: AWS through the normal credential chain, or any
//! endpoint (the local runtime) with the credentials given.

use crate::{Aws, Clients, Settings};
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_credential_types::Credentials;
use personalize_stack_core::engine::ProviderError;

/// Where to provision.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// `--endpoint-url`: every service at this URL (the local runtime).
    pub endpoint_url: Option<String>,
    /// `--region`, else the stack's region.
    pub region: String,
    /// `--profile`.
    pub profile: Option<String>,
    /// Static credentials (local mode supplies fake ones); otherwise the credential chain.
    pub credentials: Option<(String, String)>,
}

/// Connects: builds the clients and asks STS who we are.
///
/// # Errors
/// No credentials, or STS refuses them (the error names the code and a hint).
pub async fn connect(target: &Target, settings: Settings) -> Result<Aws, ProviderError> {
    let https = {
        use aws_smithy_http_client::tls;
        aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
            .build_https()
    };
    // Retries are ours (crate::call): counted, classified, with propagation windows.
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new(target.region.clone()))
        .retry_config(RetryConfig::disabled())
        .http_client(https);
    if let Some(url) = &target.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(profile) = &target.profile {
        loader = loader.profile_name(profile);
    }
    if let Some((key, secret)) = &target.credentials {
        loader = loader.credentials_provider(Credentials::new(key, secret, None, None, "personalize-stack"));
    }
    let config = loader.load().await;
    let clients = Clients {
        iam: aws_sdk_iam::Client::new(&config),
        kinesis: aws_sdk_kinesis::Client::new(&config),
        personalize: aws_sdk_personalize::Client::new(&config),
        lambda: aws_sdk_lambda::Client::new(&config),
        apigateway: aws_sdk_apigateway::Client::new(&config),
        logs: aws_sdk_cloudwatchlogs::Client::new(&config),
        sts: aws_sdk_sts::Client::new(&config),
    };
    let mut aws = Aws::new(
        clients,
        String::new(),
        target.region.clone(),
        target.endpoint_url.clone(),
        settings,
    );
    let sts = aws.clients.sts.clone();
    let identity = aws
        .call("GetCallerIdentity", || sts.get_caller_identity().send())
        .await
        .map_err(|e| match e.hint {
            Some(_) => e,
            None => e.hint("no usable credentials: set AWS_PROFILE or --profile, or run `aws configure`; for the local runtime use --local"),
        })?;
    aws.account = identity.account().unwrap_or_default().to_owned();
    Ok(aws)
}
