//! The API Gateway data plane: `/restapis/{id}/{stage}/_user_request_/{path}` serves the
//! stage's **deployed** snapshot (edits made since the last deployment are not served).
//!
//! A request goes through the steps API Gateway takes, failing as it fails:
//! 1. the API (any account: found through the index CreateRestApi keeps), the stage, the most
//!    specific resource and its method (or `ANY`) — else 403 `Missing Authentication Token`;
//! 2. authorization (`AWS_IAM` needs a SigV4 `Authorization` header) and the API key: when the
//!    method requires one, `x-api-key` must be an enabled key in a usage plan of the stage —
//!    else 403 `Forbidden`;
//! 3. the request template chosen by Content-Type (`application/json` when absent) and the
//!    passthrough behaviour — else 415 `Unsupported Media Type`; rendered with the VTL engine
//!    (a failure is a 500 `Internal server error`);
//! 4. the integration: `MOCK`; `AWS` to the local Kinesis acting with the integration role's
//!    permissions (the `backend` module); `AWS` and `AWS_PROXY` to a Lambda function run by the
//!    runtime's executor (the `lambda` module). `HTTP`/`HTTP_PROXY` and other AWS services answer a
//!    500 whose message says the local runtime does not do them;
//! 5. the integration response whose `selectionPattern` matches the back end's status code as
//!    a whole (else the default one; none at all is a 500), its response template and its
//!    header mappings.
//!
//! Every response carries `x-amzn-RequestId`, `x-amz-apigw-id` and `X-Amzn-Trace-Id`.

mod backend;
mod lambda;
mod mapping;
mod reply;
mod routing;

use super::model::{Integration, Method};
use crate::protocol::rest::RestRequest;
use crate::server::Runtime;
use crate::services;
use axum::body::Body;
use axum::http::Response;
use backend::{AwsUri, KinesisCall};
use mapping::BackendResponse;
use personalize_stack_vtl::{Context, Identity, Request};
use reply::{GatewayError, Reply, unsupported};
use routing::{Deployed, Route};

/// Serves one API call.
pub(crate) async fn handle(runtime: &Runtime, req: RestRequest, request_id: &str) -> Response<Body> {
    let call = Call {
        runtime,
        req: &req,
        request_id,
        apigw_id: reply::new_apigw_id(),
        now_ms: services::now_ms(),
    };
    let reply = call.serve().await;
    reply.into_response(request_id, &call.apigw_id, call.now_ms)
}

/// One request being served.
struct Call<'a> {
    runtime: &'a Runtime,
    req: &'a RestRequest,
    request_id: &'a str,
    /// `x-amz-apigw-id`, also `$context.extendedRequestId`.
    apigw_id: String,
    now_ms: u64,
}

/// The stage, the matched method and the API key a request presented.
struct Target<'d> {
    deployed: &'d Deployed,
    route: Route<'d>,
    /// `(id, value)` of the valid key presented, if any.
    api_key: Option<(String, String)>,
}

impl Call<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.req.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `(api id, stage, resource path segments)` of `/restapis/{id}/{stage}/_user_request_/…`.
    fn address(&self) -> Option<(&str, &str, &[String])> {
        match self.req.segments.as_slice() {
            [_, api, stage, _, rest @ ..] => Some((api, stage, rest)),
            _ => None,
        }
    }

    async fn serve(&self) -> Reply {
        let Some((api_id, stage, path)) = self.address() else {
            return GatewayError::MissingAuthenticationToken.reply();
        };
        let deployed = match self
            .runtime
            .store
            .read(|t| routing::load_deployed(t, api_id, stage))
        {
            Ok(Some(d)) => d,
            Ok(None) => return GatewayError::MissingAuthenticationToken.reply(),
            Err(_) => return GatewayError::InternalServerError.reply(),
        };
        if deployed.endpoint_disabled {
            return GatewayError::Forbidden.reply();
        }
        let Some(route) = routing::route(&deployed.resources, path, &self.req.method) else {
            return GatewayError::MissingAuthenticationToken.reply();
        };
        if let Err(r) = self.authorize(route.method) {
            return r;
        }
        let api_key = match self.api_key(&deployed, route.method) {
            Ok(k) => k,
            Err(e) => return e.reply(),
        };
        let Some(integration) = route.method.method_integration.as_ref() else {
            // A deployment needs every method integrated, so only a corrupt snapshot gets here.
            return GatewayError::InternalServerError.reply();
        };
        let target = Target {
            deployed: &deployed,
            route,
            api_key,
        };
        match integration.kind.as_str() {
            "AWS_PROXY" => self.lambda_proxy(&target, integration).await,
            "HTTP" | "HTTP_PROXY" => unsupported(
                500,
                "HTTP integrations are not supported by the local runtime (it makes no outbound calls)",
            ),
            _ => self.non_proxy(&target, integration).await,
        }
    }

    /// `AWS_IAM` methods need a SigV4-signed request (its signature is not verified locally);
    /// Lambda and Cognito authorizers are not emulated.
    fn authorize(&self, method: &Method) -> Result<(), Reply> {
        match method.authorization_type.as_str() {
            "AWS_IAM" => self
                .header("authorization")
                .and_then(crate::auth::parse_authorization)
                .map(|_| ())
                .ok_or_else(|| GatewayError::MissingAuthenticationToken.reply()),
            "CUSTOM" | "COGNITO_USER_POOLS" => Err(unsupported(
                500,
                "Lambda and Cognito authorizers are not supported by the local runtime",
            )),
            _ => Ok(()),
        }
    }

    /// The valid API key presented; a method requiring a key rejects a missing, unknown or
    /// disabled one, or one whose usage plans do not include this stage, with 403.
    fn api_key(
        &self,
        deployed: &Deployed,
        method: &Method,
    ) -> Result<Option<(String, String)>, GatewayError> {
        let presented = self.header("x-api-key");
        let known = presented.and_then(|v| deployed.api_keys.iter().find(|(_, value)| value == v).cloned());
        if !method.api_key_required {
            return Ok(known);
        }
        // With `AUTHORIZER` as the key source the key would come from an authorizer, which the
        // local runtime does not run.
        if deployed.api_key_source != "HEADER" {
            return Err(GatewayError::Forbidden);
        }
        known.map(Some).ok_or(GatewayError::Forbidden)
    }

    async fn non_proxy(&self, target: &Target<'_>, integration: &Integration) -> Reply {
        let request = self.template_request(target);
        let content_type = mapping::media_type(self.header("content-type"));
        let body = match mapping::request_body(integration, &content_type, &request) {
            Ok(b) => b,
            Err(e) => return e.reply(),
        };
        let backend = match self.call_backend(target.deployed, integration, body.text()).await {
            Ok(b) => b,
            Err(r) => return r,
        };
        // API Gateway answers a back-end outcome no integration response covers with a 500.
        let Some(chosen) =
            mapping::select_response(&integration.integration_responses, backend.selector.as_deref())
        else {
            return GatewayError::InternalServerError.reply();
        };
        mapping::method_response(chosen, &backend, &request, self.header("accept"))
            .unwrap_or_else(GatewayError::reply)
    }

    async fn call_backend(
        &self,
        deployed: &Deployed,
        integration: &Integration,
        body: &str,
    ) -> Result<BackendResponse, Reply> {
        match integration.kind.as_str() {
            "MOCK" => Ok(backend::mock(body)),
            "AWS" => {
                let uri = integration
                    .uri
                    .as_deref()
                    .and_then(AwsUri::parse)
                    .ok_or_else(|| GatewayError::InternalServerError.reply())?;
                match uri.service.as_str() {
                    "kinesis" => backend::kinesis_call(&KinesisCall {
                        runtime: self.runtime,
                        deployed,
                        uri: &uri,
                        http_method: integration.http_method.as_deref(),
                        credentials: integration.credentials.as_deref(),
                        body,
                        request_id: self.request_id,
                        now_ms: self.now_ms,
                    }),
                    "lambda" => {
                        let function = lambda::function_of(&uri, deployed)
                            .ok_or_else(|| GatewayError::InternalServerError.reply())?;
                        let outcome =
                            lambda::invoke(self.runtime, function, body.as_bytes().to_vec(), self.request_id)
                                .await
                                .ok_or_else(|| {
                                    unsupported(502, "the local Lambda executor is not running")
                                })?;
                        lambda::backend_response(outcome)
                    }
                    other => Err(unsupported(
                        500,
                        &format!("AWS integrations with {other} are not supported by the local runtime"),
                    )),
                }
            }
            other => Err(unsupported(
                500,
                &format!("{other} integrations are not supported by the local runtime"),
            )),
        }
    }

    /// `AWS_PROXY` to a Lambda function: the proxy event in, the function's response out.
    async fn lambda_proxy(&self, target: &Target<'_>, integration: &Integration) -> Reply {
        let function = integration
            .uri
            .as_deref()
            .and_then(AwsUri::parse)
            .filter(|uri| uri.service == "lambda")
            .and_then(|uri| lambda::function_of(&uri, target.deployed));
        let Some(function) = function else {
            return unsupported(
                500,
                "only Lambda functions are supported as AWS_PROXY back ends by the local runtime",
            );
        };
        let request = self.template_request(target);
        let event = lambda::proxy_event(&request, &self.req.body, &target.deployed.deployment_id);
        let payload = serde_json::to_vec(&event).unwrap_or_default();
        match lambda::invoke(self.runtime, function, payload, self.request_id).await {
            Some(outcome) => lambda::proxy_reply(outcome),
            None => unsupported(502, "the local Lambda executor is not running"),
        }
    }

    /// The method request as mapping templates see it (`$input`, `$context`,
    /// `$stageVariables`).
    fn template_request(&self, target: &Target<'_>) -> Request {
        let deployed = target.deployed;
        let rest = self
            .address()
            .map(|(_, _, rest)| rest.join("/"))
            .unwrap_or_default();
        let domain_name = self.header("host").map_or_else(
            || {
                format!(
                    "{}.execute-api.{}.amazonaws.com",
                    deployed.api_id, deployed.region
                )
            },
            str::to_owned,
        );
        let (api_key_id, api_key) = target.api_key.clone().unwrap_or_default();
        let signer = self
            .header("authorization")
            .and_then(crate::auth::parse_authorization);
        Request {
            body: String::from_utf8_lossy(&self.req.body).into_owned(),
            path_params: target.route.path_params.clone(),
            query: self.req.query.clone(),
            headers: self
                .req
                .headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            stage_variables: deployed.variables.clone(),
            context: Context {
                request_id: self.request_id.to_owned(),
                extended_request_id: self.apigw_id.clone(),
                api_id: deployed.api_id.clone(),
                stage: deployed.stage.clone(),
                http_method: self.req.method.clone(),
                resource_id: target.route.resource.id.clone(),
                resource_path: target.route.resource.path.clone(),
                path: format!("/{}/{rest}", deployed.stage),
                protocol: "HTTP/1.1".into(),
                domain_prefix: domain_name.split('.').next().unwrap_or_default().to_owned(),
                domain_name,
                account_id: deployed.account.clone(),
                request_time: clf_time(self.now_ms),
                request_time_epoch: i64::try_from(self.now_ms).unwrap_or(i64::MAX),
                identity: Identity {
                    source_ip: self
                        .header("x-forwarded-for")
                        .and_then(|v| v.split(',').next())
                        .map_or_else(|| "127.0.0.1".to_owned(), |v| v.trim().to_owned()),
                    user_agent: self.header("user-agent").unwrap_or_default().to_owned(),
                    api_key,
                    api_key_id,
                    account_id: signer.as_ref().map(|c| c.account.clone()).unwrap_or_default(),
                    ..Identity::default()
                },
            },
        }
    }
}

/// `$context.requestTime`: `dd/MMM/yyyy:HH:mm:ss +0000`.
fn clf_time(now_ms: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    // `YYYY-MM-DDTHH:MM:SSZ`
    let iso = services::sts::iso8601(now_ms);
    let month = iso
        .get(5..7)
        .and_then(|m| m.parse::<usize>().ok())
        .and_then(|m| MONTHS.get(m.wrapping_sub(1)))
        .copied()
        .unwrap_or("Jan");
    format!(
        "{}/{month}/{}:{} +0000",
        iso.get(8..10).unwrap_or("01"),
        iso.get(0..4).unwrap_or("1970"),
        iso.get(11..19).unwrap_or("00:00:00")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_time_is_common_log_format() {
        assert_eq!(clf_time(1_676_975_804_000), "21/Feb/2023:10:36:44 +0000");
    }
}
