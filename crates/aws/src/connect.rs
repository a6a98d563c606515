//! Building the SDK clients for a target: AWS through the normal credential chain, or any
//! endpoint (the local runtime) with the credentials given.

use crate::call::Connection;
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
        check_profile(profile).await?;
        loader = loader.profile_name(profile);
    } else if credentials.is_none()
        && std::env::var_os("AWS_ACCESS_KEY_ID").is_none()
        && let Ok(profile) = std::env::var("AWS_PROFILE")
    {
        // The chain would come to this profile: a missing one is said as plainly.
        check_profile(&profile).await?;
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
            (ErrorKind::Connection, None) => unreachable(e, target),
            (_, None) => e,
        })?;
    aws.account = identity.account().unwrap_or_default().to_owned();
    Ok(aws)
}

/// A connection failure of the first call, naming the host it was for, with the hint its
/// cause calls for (never the credentials one: they were not the problem).
fn unreachable(error: ProviderError, target: &Target) -> ProviderError {
    let host = match &target.endpoint_url {
        Some(url) => url
            .split_once("://")
            .map_or(url.as_str(), |(_, rest)| rest)
            .trim_end_matches('/')
            .to_owned(),
        // STS's regional endpoint, where GetCallerIdentity goes.
        None => format!("sts.{}.amazonaws.com", target.region),
    };
    let cause = crate::call::connection_failure(&error);
    let hint = match (cause, &target.endpoint_url) {
        (Some(Connection::Dns), None) => "this machine cannot resolve AWS's host names: check the network connection (offline, or DNS blocked); behind a proxy, set HTTPS_PROXY".to_owned(),
        (Some(Connection::Dns), Some(_)) => "check the host name in --endpoint-url".to_owned(),
        (Some(Connection::Refused), Some(url)) => format!("nothing listens at {url}: check the port in --endpoint-url, or start `personalize-stack local`"),
        (Some(Connection::Refused), None) => "a firewall or proxy refused the connection: check the network and HTTPS_PROXY".to_owned(),
        (Some(Connection::Tls), _) => "a proxy that intercepts TLS needs its certificate trusted (SSL_CERT_FILE), or check the endpoint's certificate".to_owned(),
        (Some(Connection::TimedOut) | None, Some(url)) => format!("nothing answered at {url}: check --endpoint-url, or that `personalize-stack local` is running"),
        (Some(Connection::TimedOut) | None, None) => "AWS could not be reached: check the network connection (and any proxy settings)".to_owned(),
    };
    let why = crate::call::root_cause(&error);
    let message = match cause {
        Some(Connection::Dns) => format!("cannot resolve `{host}` ({why})"),
        Some(Connection::Refused) => format!("`{host}` refused the connection ({why})"),
        Some(Connection::TimedOut) => format!("`{host}` did not answer in time ({why})"),
        Some(Connection::Tls) => format!("the TLS handshake with `{host}` failed ({why})"),
        None => format!("`{host}`: {}", error.message),
    };
    ProviderError { message, ..error }.hint(hint)
}

/// Refuses a profile the shared config and credentials files do not define, naming where it
/// looked and the profiles there (the SDK would instead fall through its whole credential
/// chain and report the last provider's failure, often an instance-metadata refusal).
async fn check_profile(name: &str) -> Result<(), ProviderError> {
    use aws_types::os_shim_internal::{Env, Fs};
    check_profile_in(name, &Env::real(), &Fs::real()).await
}

/// [`check_profile`] with the environment and file system given.
async fn check_profile_in(
    name: &str,
    env: &aws_types::os_shim_internal::Env,
    fs: &aws_types::os_shim_internal::Fs,
) -> Result<(), ProviderError> {
    use aws_runtime::env_config::file::EnvConfigFiles;
    let found = aws_config::profile::load(fs, env, &EnvConfigFiles::default(), None).await;
    let (config, credentials) = (
        env.get("AWS_CONFIG_FILE")
            .unwrap_or_else(|_| "~/.aws/config".to_owned()),
        env.get("AWS_SHARED_CREDENTIALS_FILE")
            .unwrap_or_else(|_| "~/.aws/credentials".to_owned()),
    );
    let profiles = match found {
        Ok(set) if set.get_profile(name).is_some() => return Ok(()),
        Ok(set) => {
            let mut names: Vec<String> = set.profiles().map(str::to_owned).collect();
            names.sort();
            names
        }
        Err(e) => {
            return Err(crate::call::error(
                "load profile",
                "ProfileFileInvalid",
                format!("the AWS config files cannot be read: {e}"),
            )
            .kind(ErrorKind::Credentials)
            .hint(format!("fix {config} or {credentials}")));
        }
    };
    let there = if profiles.is_empty() {
        "there are no profiles there".to_owned()
    } else {
        format!("profiles there: {}", profiles.join(", "))
    };
    Err(crate::call::error(
        "load profile",
        "ProfileNotFound",
        format!("profile `{name}` is not in {config} or {credentials} ({there})"),
    )
    .kind(ErrorKind::Credentials)
    .hint(format!(
        "use one of those, or create it with `aws configure --profile {name}`"
    )))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// One layer of an error chain, as the SDK and hyper build them.
    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|l| l as &(dyn std::error::Error + 'static))
        }
    }

    fn chain(layers: &[&'static str]) -> Layer {
        layers
            .iter()
            .rev()
            .fold(None, |inner, s| Some(Layer(s, inner.map(Box::new))))
            .unwrap()
    }

    fn failed(layers: &[&'static str]) -> ProviderError {
        crate::call::error(
            "GetCallerIdentity",
            "DispatchFailure",
            "could not reach the endpoint",
        )
        .kind(ErrorKind::Connection)
        .caused_by(chain(layers))
    }

    fn target(endpoint_url: Option<&str>) -> Target {
        Target {
            endpoint_url: endpoint_url.map(str::to_owned),
            region: "eu-west-1".to_owned(),
            ..Target::default()
        }
    }

    #[test]
    fn an_unresolvable_aws_host_is_named_with_a_network_hint() {
        let dns = [
            "dispatch failure",
            "io error",
            "client error (Connect)",
            "dns error",
            "failed to lookup address information: Temporary failure in name resolution",
        ];
        let e = unreachable(failed(&dns), &target(None));
        assert_eq!(
            e.message,
            "cannot resolve `sts.eu-west-1.amazonaws.com` (failed to lookup address information: Temporary failure in name resolution)"
        );
        let hint = e.hint.unwrap();
        assert!(hint.contains("check the network connection"), "{hint}");
        assert!(!hint.contains("credentials"), "{hint}");
    }

    #[test]
    fn each_connection_failure_names_the_endpoint_and_its_own_remedy() {
        let cases = [
            (
                vec![
                    "dispatch failure",
                    "io error",
                    "client error (Connect)",
                    "tcp connect error",
                    "Connection refused (os error 111)",
                ],
                "`127.0.0.1:1` refused the connection (Connection refused (os error 111))",
                "check the port",
            ),
            (
                vec![
                    "dispatch failure",
                    "io error",
                    "client error (Connect)",
                    "invalid peer certificate: UnknownIssuer",
                ],
                "the TLS handshake with `127.0.0.1:1` failed (invalid peer certificate: UnknownIssuer)",
                "certificate",
            ),
            (
                vec![
                    "dispatch failure",
                    "io error",
                    "client error (Connect)",
                    "connection timed out",
                ],
                "`127.0.0.1:1` did not answer in time (connection timed out)",
                "nothing answered",
            ),
        ];
        for (layers, message, remedy) in cases {
            let e = unreachable(failed(&layers), &target(Some("http://127.0.0.1:1")));
            assert_eq!(e.message, message);
            assert!(e.hint.as_deref().unwrap().contains(remedy), "{:?}", e.hint);
        }
    }

    #[tokio::test]
    async fn a_missing_profile_is_named_with_where_it_was_looked_for() {
        let dir = std::env::temp_dir().join(format!("ps-profiles-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("config");
        let credentials = dir.join("credentials");
        std::fs::write(
            &config,
            "[default]\nregion = us-east-1\n[profile dev]\nregion = eu-west-1\n",
        )
        .unwrap();
        std::fs::write(
            &credentials,
            "[ci]\naws_access_key_id = a\naws_secret_access_key = b\n",
        )
        .unwrap();
        let env = aws_types::os_shim_internal::Env::from_slice(&[
            ("AWS_CONFIG_FILE", config.to_str().unwrap()),
            ("AWS_SHARED_CREDENTIALS_FILE", credentials.to_str().unwrap()),
        ]);
        let fs = aws_types::os_shim_internal::Fs::real();
        check_profile_in("dev", &env, &fs).await.unwrap();
        check_profile_in("ci", &env, &fs).await.unwrap();
        let e = check_profile_in("nope", &env, &fs).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Credentials);
        assert_eq!(
            e.message,
            format!(
                "profile `nope` is not in {} or {} (profiles there: ci, default, dev)",
                config.display(),
                credentials.display()
            )
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
