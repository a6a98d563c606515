//! The request a template is rendered against.

/// An API Gateway method request, as seen by a mapping template.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The raw request body (`$input.body`; `$input.path`/`$input.json` parse it as JSON).
    pub body: String,
    /// Path parameters, e.g. `("stream-name", "myStream")`.
    pub path_params: Vec<(String, String)>,
    /// Query-string parameters.
    pub query: Vec<(String, String)>,
    /// Request headers. `$input.params('x')` looks them up case-insensitively.
    pub headers: Vec<(String, String)>,
    /// Stage variables (`$stageVariables`).
    pub stage_variables: Vec<(String, String)>,
    /// The `$context` object.
    pub context: Context,
}

/// The `$context` object. Each snake_case field is exposed under its camelCase name,
/// e.g. `request_id` as `$context.requestId`.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// `$context.requestId`.
    pub request_id: String,
    /// `$context.extendedRequestId`.
    pub extended_request_id: String,
    /// `$context.apiId`.
    pub api_id: String,
    /// `$context.stage`.
    pub stage: String,
    /// `$context.httpMethod`.
    pub http_method: String,
    /// `$context.resourceId`.
    pub resource_id: String,
    /// `$context.resourcePath`, e.g. `/streams/{stream-name}`.
    pub resource_path: String,
    /// `$context.path`, e.g. `/prod/streams/myStream`.
    pub path: String,
    /// `$context.protocol`, e.g. `HTTP/1.1`.
    pub protocol: String,
    /// `$context.domainName`.
    pub domain_name: String,
    /// `$context.domainPrefix`.
    pub domain_prefix: String,
    /// `$context.accountId`.
    pub account_id: String,
    /// `$context.requestTime`, CLF-formatted (`dd/MMM/yyyy:HH:mm:ss +-hhmm`).
    pub request_time: String,
    /// `$context.requestTimeEpoch`, in milliseconds.
    pub request_time_epoch: i64,
    /// `$context.identity`.
    pub identity: Identity,
}

/// The `$context.identity` object.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    /// `$context.identity.sourceIp`.
    pub source_ip: String,
    /// `$context.identity.userAgent`.
    pub user_agent: String,
    /// `$context.identity.apiKey`.
    pub api_key: String,
    /// `$context.identity.apiKeyId`.
    pub api_key_id: String,
    /// `$context.identity.accountId`.
    pub account_id: String,
    /// `$context.identity.caller`.
    pub caller: String,
    /// `$context.identity.user`.
    pub user: String,
    /// `$context.identity.userArn`.
    pub user_arn: String,
}
