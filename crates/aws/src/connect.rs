//! Building the SDK clients for a target: AWS through the normal credential chain, or any
//! endpoint (the local runtime) with the credentials given.

use crate::{Aws, Clients, Settings};
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_credential_types::Credentials;
use personalize_stack_core::engine::{ErrorKind, ProviderError};

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
    /// Act in another account: assume this role with the credentials above (fleets).
    pub assume_role: Option<AssumeRole>,
}

/// An STS AssumeRole into an attendee's account.
#[derive(Debug, Clone)]
pub struct AssumeRole {
    /// `arn:aws:iam::<account>:role/<name>`.
    pub role_arn: String,
    /// `ExternalId`, when the role's trust policy asks for one.
    pub external_id: Option<String>,
    /// `RoleSessionName`.
    pub session_name: String,
}

/// How long assumed credentials last: AWS's default and the longest a role-chained session
/// may have; one account's `up` takes minutes.
const ASSUMED_SECONDS: i32 = 3600;

/// Connects: builds the clients and asks STS who we are.
///
/// # Errors
/// No credentials, or STS refuses them (the error names the code and a hint).
pub async fn connect(target: &Target, settings: Settings) -> Result<Aws, ProviderError> {
    let aws = connect_as(
        target,
        target.credentials.clone().map(|(k, s)| (k, s, None)),
        settings.clone(),
    )
    .await?;
    let Some(assume) = &target.assume_role else {
        return Ok(aws);
    };
    let sts = aws.clients.sts.clone();
    let assumed = aws
        .call("AssumeRole", || {
            sts.assume_role()
                .role_arn(&assume.role_arn)
                .role_session_name(&assume.session_name)
                .set_external_id(assume.external_id.clone())
                .duration_seconds(ASSUMED_SECONDS)
                .send()
        })
        .await
        .map_err(|e| {
            let hint = format!(
                "the caller must be allowed sts:AssumeRole on {} and the role must trust it{}",
                assume.role_arn,
                if assume.external_id.is_some() {
                    " with this external id"
                } else {
                    ""
                }
            );
            match e.hint {
                Some(_) => e,
                None => e.hint(hint),
            }
        })?;
    let Some(c) = assumed.credentials() else {
        return Err(ProviderError::new(
            "AssumeRole",
            "NoCredentials",
            format!("STS returned no credentials for {}", assume.role_arn),
        ));
    };
    let credentials = (
        c.access_key_id().to_owned(),
        c.secret_access_key().to_owned(),
        Some(c.session_token().to_owned()),
    );
    // The profile gave the caller's credentials; the attendee's are the assumed ones.
    let target = Target {
        profile: None,
        ..target.clone()
    };
    connect_as(&target, Some(credentials), settings).await
}

/// Builds the clients with `credentials` (else the target's profile or the default chain)
/// and asks STS who they are.
async fn connect_as(
    target: &Target,
    credentials: Option<(String, String, Option<String>)>,
    settings: Settings,
) -> Result<Aws, ProviderError> {
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
    if let Some((key, secret, token)) = credentials {
        loader = loader.credentials_provider(Credentials::new(key, secret, token, None, "personalize-stack"));
    }
    let config = loader.load().await;
    let clients = Clients {
        iam: aws_sdk_iam::Client::new(&config),
        kinesis: aws_sdk_kinesis::Client::new(&config),
        personalize: aws_sdk_personalize::Client::new(&config),
        // Signs as `personalize` and calls `POST /recommendations`: at the local runtime's
        // single endpoint the path tells it from personalize-events (`POST /events`).
        personalize_runtime: aws_sdk_personalizeruntime::Client::new(&config),
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
        .map_err(|e| match (e.kind, &e.hint) {
            (_, Some(_)) => e,
            (ErrorKind::Credentials, None) => e.hint("no usable credentials: set AWS_PROFILE or --profile, or run `aws configure`; for the local runtime use --local"),
            // The credentials may be fine: the network or the endpoint was not.
            (ErrorKind::Connection, None) => {
                let hint = match &target.endpoint_url {
                    Some(url) => format!("nothing answered at {url}: check --endpoint-url, or that `personalize-stack local` is running"),
                    None => "AWS could not be reached: check the network connection (and any proxy settings)".to_owned(),
                };
                e.hint(hint)
            }
            (_, None) => e,
        })?;
    aws.account = identity.account().unwrap_or_default().to_owned();
    Ok(aws)
}
