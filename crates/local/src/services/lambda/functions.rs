//! Functions: create, read, list, update (code and configuration), delete.
//!
//! # The stored function document
//! Under `ctx.key("lambda", "function", name)`, with AWS's wire names:
//! `FunctionName`, `FunctionArn`, `Runtime`, `Role`, `Handler`, `Description`, `Timeout`
//! (seconds), `MemorySize` (MB), `Environment` (`{"Variables": {..}}`, absent when never set),
//! `Architectures`, `CodeSha256` (base64 of the zip's SHA-256), `CodeSize`, `Version`
//! (`$LATEST`), `PackageType`, `EphemeralStorage`, `TracingConfig`, `LoggingConfig`,
//! `SnapStart`, `RevisionId`, `LastModified` and `Tags`; and for the runtime itself:
//! - `_code_blob`: the blob key of the zip ([`crate::store::Txn::get_blob`]), shared by every
//!   function with the same zip (see the `code` submodule);
//! - `_created_ms`, `_ready_at_ms`: `Pending` until `_ready_at_ms`, then `Active`;
//! - `_update_ready_at_ms`: `LastUpdateStatus` is `InProgress` until then, then `Successful`;
//! - `_reserved_concurrency`: the reservation `PutFunctionConcurrency` set, if any;
//! - `_policy`: the resource-based policy `AddPermission` builds, if any (see the
//!   `permissions` submodule).

use super::code::{self, Code};
use super::{
    FunctionRef, NameShape, body_of, conflict, function_arn, function_key, function_ref, invalid,
    lambda_timestamp, missing, not_found, not_in_enum, opt_int, opt_str, opt_string_map, out_of_range,
    validation,
};
use crate::protocol::rest::{RestRequest, RestResponse};
use crate::services::Ctx;
use crate::services::iam::{RoleAccess, role_for_service};
use crate::store::{StoreError, Txn};
use crate::{AwsError, AwsResult};
use serde_json::{Map, Value, json};

/// Runtimes Lambda still accepts for new functions and updates.
const SUPPORTED_RUNTIMES: &[&str] = &[
    "nodejs18.x",
    "nodejs20.x",
    "nodejs22.x",
    "nodejs24.x",
    "python3.9",
    "python3.10",
    "python3.11",
    "python3.12",
    "python3.13",
    "python3.14",
    "java8.al2",
    "java11",
    "java17",
    "java21",
    "java25",
    "dotnet8",
    "dotnet10",
    "ruby3.2",
    "ruby3.3",
    "ruby3.4",
    "provided.al2",
    "provided.al2023",
];

/// Runtimes Lambda has blocked for new functions and updates, which it names in its refusal
/// ("The runtime parameter of go1.x is no longer supported ..."); older runtimes, long gone,
/// are refused as unknown values (recorded: LocalStack
/// test_create_deprecated_function_runtime_with_validation_enabled).
const DEPRECATED_RUNTIMES: &[&str] = &[
    "nodejs12.x",
    "nodejs14.x",
    "nodejs16.x",
    "python3.7",
    "python3.8",
    "java8",
    "dotnetcore3.1",
    "dotnet6",
    "go1.x",
    "ruby2.7",
    "provided",
];

/// The runtimes Lambda lists when it refuses an unknown one, in its order (a set's), copied
/// from its answer (recorded: LocalStack test_create_lambda_exceptions). It still lists some
/// runtimes blocked since.
const LISTED_RUNTIMES: &str = "[nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, java25, python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, java17, nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2]";

/// Runtimes SnapStart supports (as LocalStack's snapshot-tested emulation lists them).
const SNAP_START_RUNTIMES: &[&str] = &[
    "java11",
    "java17",
    "java21",
    "java25",
    "python3.12",
    "python3.13",
    "dotnet8",
    "dotnet10",
];

/// The longest function name CreateFunction takes.
const MAX_NAME_CHARS: usize = 64;

/// Keys Lambda sets itself and refuses in `Environment.Variables`.
const RESERVED_ENV_KEYS: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// Environment variables may take 4 KB, measured as their JSON.
const MAX_ENVIRONMENT_BYTES: usize = 4096;

/// The largest request Lambda accepts for a direct zip upload.
const MAX_REQUEST_BYTES: usize = 70_167_211;

/// The pattern AWS reports for a malformed role ARN.
const ROLE_PATTERN: &str = r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+";

/// The message Lambda gives for a role it cannot assume (aws-facts §0 fact 8).
const ROLE_CANNOT_BE_ASSUMED: &str = "The role defined for the function cannot be assumed by Lambda.";

/// A function document as stored.
type Doc = Map<String, Value>;

// ---- operations ----

/// `CreateFunction`: 201 with the configuration, `State: Pending`.
pub(super) fn create(ctx: &Ctx<'_>, req: &RestRequest) -> AwsResult<RestResponse> {
    check_request_size(req, "CreateFunction")?;
    let body = body_of(req)?;
    let raw_name = opt_str(&body, "FunctionName")?.ok_or_else(|| missing("functionName"))?;
    let name = function_ref(ctx, raw_name, None, NameShape::Function)?.name;
    check_name_length(raw_name, &name)?;
    let role = opt_str(&body, "Role")?.ok_or_else(|| missing("role"))?.to_owned();
    let changes = config_changes(&body)?;
    let logging = logging_request(&body)?;
    if opt_str(&body, "PackageType")?.is_some_and(|p| p != "Zip") {
        return Err(invalid(
            "The local runtime supports only Zip packages (PackageType Zip).",
        ));
    }
    if !changes.contains_key("Runtime") || !changes.contains_key("Handler") {
        return Err(invalid(
            "Runtime and Handler are mandatory parameters for functions created with deployment packages.",
        ));
    }
    let architectures = architectures(&body)?;
    let tags = opt_string_map(&body, "Tags")?.unwrap_or_default();
    super::tags::check_count(tags.len())?;
    let zip = zip_from(body.get("Code").ok_or_else(|| missing("code"))?)?;
    let code = Code::of(&zip);
    let key = function_key(ctx, &name);
    let arn = function_arn(ctx, &name);
    let doc = ctx.store.write(|t| {
        if t.contains(&key)? {
            return Err(conflict(format!("Function already exist: {name}")));
        }
        check_role(t, ctx, &role)?;
        code::retain(t, &code, &zip)?;
        let mut doc = new_function(ctx, &name, &arn, &code);
        doc.insert("Role".into(), json!(role));
        doc.insert(
            "Architectures".into(),
            json!(architectures.unwrap_or_else(|| vec!["x86_64".into()])),
        );
        doc.insert("Tags".into(), Value::Object(tags));
        doc.extend(changes);
        if let Some(logging) = &logging {
            apply_logging(&mut doc, logging)?;
        }
        check_snap_start(&doc)?;
        t.put(&key, &doc)?;
        Ok::<_, AwsError>(doc)
    })?;
    Ok(RestResponse::json(
        201,
        configuration(&doc, announced(&doc, "_ready_at_ms")),
    ))
}

/// `GetFunction`: configuration, code location, tags and reserved concurrency.
pub(super) fn get(ctx: &Ctx<'_>, req: &RestRequest, raw: &str) -> AwsResult<RestResponse> {
    let fref = function_ref(ctx, raw, req.query("Qualifier"), NameShape::Namespaced)?;
    let doc = ctx.store.read(|t| load(t, ctx, &fref))?;
    let mut out = json!({
        "Configuration": configuration(&doc, ctx.now_ms),
        "Code": { "RepositoryType": "S3", "Location": code_location(ctx, req, &doc) },
    });
    if let Some(tags) = doc
        .get("Tags")
        .filter(|t| t.as_object().is_some_and(|m| !m.is_empty()))
    {
        out["Tags"] = tags.clone();
    }
    if let Some(n) = doc.get(super::concurrency::FIELD).and_then(Value::as_u64) {
        out["Concurrency"] = json!({ "ReservedConcurrentExecutions": n });
    }
    Ok(RestResponse::json(200, out))
}

/// `GetFunctionConfiguration`.
pub(super) fn get_configuration(ctx: &Ctx<'_>, req: &RestRequest, raw: &str) -> AwsResult<RestResponse> {
    let fref = function_ref(ctx, raw, req.query("Qualifier"), NameShape::Namespaced)?;
    let doc = ctx.store.read(|t| load(t, ctx, &fref))?;
    Ok(RestResponse::json(200, configuration(&doc, ctx.now_ms)))
}

/// `ListFunctions`: by name, `MaxItems` (default 50) per page, opaque `Marker`. Only
/// `$LATEST` exists here, so `FunctionVersion=ALL` lists the same.
pub(super) fn list(ctx: &Ctx<'_>, req: &RestRequest) -> AwsResult<RestResponse> {
    if let Some(version) = req.query("FunctionVersion").filter(|v| *v != "ALL") {
        return Err(not_in_enum("functionVersion", version, &["ALL"]));
    }
    let page_size = super::max_items(req, 50)?;
    let start = req.query("Marker").map(super::decode_marker).transpose()?;
    let docs: Vec<(String, Doc)> = ctx
        .store
        .read(|t| t.list::<Doc>(&ctx.prefix("lambda", "function")))?;
    let mut names_and_docs = docs
        .into_iter()
        .map(|(_, d)| (str_of(&d, "FunctionName").to_owned(), d))
        .filter(|(name, _)| start.as_deref().is_none_or(|s| name.as_str() >= s));
    let functions: Vec<Value> = names_and_docs
        .by_ref()
        .take(page_size)
        .map(|(_, d)| listed_configuration(&d))
        .collect();
    let mut out = json!({ "Functions": functions });
    if let Some((next, _)) = names_and_docs.next() {
        out["NextMarker"] = json!(super::encode_marker(&next));
    }
    Ok(RestResponse::json(200, out))
}

/// `UpdateFunctionCode`: a new zip, a new `CodeSha256`; `LastUpdateStatus: InProgress`.
pub(super) fn update_code(ctx: &Ctx<'_>, req: &RestRequest, raw: &str) -> AwsResult<RestResponse> {
    check_request_size(req, "UpdateFunctionCode")?;
    let fref = function_ref(ctx, raw, None, NameShape::Function)?;
    let body = body_of(req)?;
    let zip = zip_from(&body)?;
    let code = Code::of(&zip);
    let architectures = architectures(&body)?;
    let dry_run = super::opt_bool(&body, "DryRun")?.unwrap_or(false);
    let revision = opt_str(&body, "RevisionId")?.map(str::to_owned);
    let doc = ctx.store.write(|t| {
        let mut doc = load(t, ctx, &fref)?;
        ensure_updatable(&doc, ctx.now_ms)?;
        check_revision(&doc, revision.as_deref())?;
        if dry_run {
            return Ok::<_, AwsError>(doc);
        }
        // Retain before releasing: the same zip again must not be deleted in between.
        code::retain(t, &code, &zip)?;
        code::release(t, str_of(&doc, "_code_blob"))?;
        doc.insert("_code_blob".into(), json!(code.blob));
        doc.insert("CodeSha256".into(), json!(code.sha256));
        doc.insert("CodeSize".into(), json!(code.size));
        if let Some(a) = architectures {
            doc.insert("Architectures".into(), json!(a));
        }
        mark_updated(ctx, &mut doc);
        t.put(&function_key(ctx, str_of(&doc, "FunctionName")), &doc)?;
        Ok(doc)
    })?;
    let at = if dry_run {
        ctx.now_ms
    } else {
        announced(&doc, "_update_ready_at_ms")
    };
    Ok(RestResponse::json(200, configuration(&doc, at)))
}

/// `UpdateFunctionConfiguration`: `LastUpdateStatus: InProgress`.
pub(super) fn update_configuration(ctx: &Ctx<'_>, req: &RestRequest, raw: &str) -> AwsResult<RestResponse> {
    let fref = function_ref(ctx, raw, None, NameShape::Function)?;
    let body = body_of(req)?;
    let changes = config_changes(&body)?;
    let logging = logging_request(&body)?;
    let role = opt_str(&body, "Role")?.map(str::to_owned);
    let revision = opt_str(&body, "RevisionId")?.map(str::to_owned);
    let doc = ctx.store.write(|t| {
        let mut doc = load(t, ctx, &fref)?;
        ensure_updatable(&doc, ctx.now_ms)?;
        check_revision(&doc, revision.as_deref())?;
        if let Some(role) = &role {
            check_role(t, ctx, role)?;
            doc.insert("Role".into(), json!(role));
        }
        doc.extend(changes);
        if let Some(logging) = &logging {
            apply_logging(&mut doc, logging)?;
        }
        check_snap_start(&doc)?;
        mark_updated(ctx, &mut doc);
        t.put(&function_key(ctx, str_of(&doc, "FunctionName")), &doc)?;
        Ok::<_, AwsError>(doc)
    })?;
    Ok(RestResponse::json(
        200,
        configuration(&doc, announced(&doc, "_update_ready_at_ms")),
    ))
}

/// `DeleteFunction`: 204. Its event source mappings stay, as in AWS.
///
/// With a `Qualifier` it deletes that version; versions are never published here, and
/// deleting one that does not exist succeeds, as in AWS. A missing function is named
/// without the qualifier (recorded: LocalStack test_delete_on_nonexisting_version,
/// test_function_name_and_qualifier_validation).
pub(super) fn delete(ctx: &Ctx<'_>, req: &RestRequest, raw: &str) -> AwsResult<RestResponse> {
    let fref = function_ref(ctx, raw, req.query("Qualifier"), NameShape::Namespaced)?;
    if fref.qualifier.as_deref() == Some("$LATEST") {
        return Err(invalid(
            "$LATEST version cannot be deleted without deleting the function.",
        ));
    }
    let function = FunctionRef {
        qualifier: None,
        ..fref.clone()
    };
    ctx.store.write(|t| {
        let doc = load(t, ctx, &function)?;
        if fref.qualifier.is_some() {
            return Ok(());
        }
        code::release(t, str_of(&doc, "_code_blob"))?;
        t.delete(&function_key(ctx, &fref.name))?;
        Ok::<_, AwsError>(())
    })?;
    Ok(RestResponse::empty(204))
}

// ---- for the poller and the other modules ----

/// The stored document of function `name` (a name or a function ARN, as a mapping's
/// `FunctionArn`; see the module docs), with `State` and `LastUpdateStatus` computed for now;
/// `None` if there is no such function in the caller's account and region.
///
/// # Errors
/// Storage failure.
pub fn function_doc(txn: &Txn<'_>, ctx: &Ctx<'_>, name: &str) -> Result<Option<Value>, StoreError> {
    let Some(fref) = function_ref(ctx, name, None, NameShape::Namespaced)
        .ok()
        .filter(|f| !f.elsewhere && f.qualifier.as_deref().is_none_or(|q| q == "$LATEST"))
    else {
        return Ok(None);
    };
    let Some(mut doc) = txn.get::<Doc>(&function_key(ctx, &fref.name))? else {
        return Ok(None);
    };
    let state = lifecycle(&doc, ctx.now_ms);
    doc.insert("State".into(), json!(state.state));
    doc.insert("LastUpdateStatus".into(), json!(state.last_update));
    Ok(Some(Value::Object(doc)))
}

/// The message for a function that does not exist.
pub(super) fn function_not_found(ctx: &Ctx<'_>, fref: &FunctionRef) -> AwsError {
    let arn = function_arn(ctx, &fref.name);
    not_found(match &fref.qualifier {
        Some(q) => format!("Function not found: {arn}:{q}"),
        None => format!("Function not found: {arn}"),
    })
}

// ---- loading and state ----

/// The stored document of the function `fref` names. Only `$LATEST` exists: the runtime
/// does not publish versions.
pub(super) fn load(txn: &Txn<'_>, ctx: &Ctx<'_>, fref: &FunctionRef) -> AwsResult<Doc> {
    if fref.elsewhere || fref.qualifier.as_deref().is_some_and(|q| q != "$LATEST") {
        return Err(function_not_found(ctx, fref));
    }
    txn.get::<Doc>(&function_key(ctx, &fref.name))?
        .ok_or_else(|| function_not_found(ctx, fref))
}

/// A function's state and last update status at some instant.
struct Lifecycle {
    state: &'static str,
    last_update: &'static str,
}

fn lifecycle(doc: &Doc, now_ms: u64) -> Lifecycle {
    let at = |field: &str| doc.get(field).and_then(Value::as_u64).unwrap_or(0);
    Lifecycle {
        state: if now_ms < at("_ready_at_ms") {
            "Pending"
        } else {
            "Active"
        },
        last_update: if now_ms < at("_update_ready_at_ms") {
            "InProgress"
        } else {
            "Successful"
        },
    }
}

/// While `Pending` or updating, Lambda refuses updates (and invokes) with a 409.
pub(super) fn ensure_updatable(doc: &Doc, now_ms: u64) -> AwsResult<()> {
    let state = lifecycle(doc, now_ms);
    if state.state == "Pending" {
        return Err(conflict(
            "The operation cannot be performed at this time. The function is currently in the following state: Pending",
        ));
    }
    if state.last_update == "InProgress" {
        return Err(conflict(format!(
            "The operation cannot be performed at this time. An update is in progress for resource: {}",
            str_of(doc, "FunctionArn")
        )));
    }
    Ok(())
}

fn check_revision(doc: &Doc, expected: Option<&str>) -> AwsResult<()> {
    match expected {
        Some(r) if r != str_of(doc, "RevisionId") => Err(AwsError::new(
            "PreconditionFailedException",
            "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
        )
        .status(412)),
        _ => Ok(()),
    }
}

/// Lambda must be able to assume the role, and IAM must have propagated it.
fn check_role(txn: &Txn<'_>, ctx: &Ctx<'_>, role: &str) -> AwsResult<()> {
    match role_for_service(txn, ctx, role, "lambda.amazonaws.com")? {
        RoleAccess::Usable => Ok(()),
        RoleAccess::Missing | RoleAccess::NotTrusted | RoleAccess::Propagating => {
            Err(invalid(ROLE_CANNOT_BE_ASSUMED))
        }
    }
}

fn mark_updated(ctx: &Ctx<'_>, doc: &mut Doc) {
    doc.insert("RevisionId".into(), json!(uuid::Uuid::new_v4().to_string()));
    doc.insert("LastModified".into(), json!(lambda_timestamp(ctx.now_ms)));
    doc.insert(
        "_update_ready_at_ms".into(),
        json!(ctx.after(ctx.config.profile.function_update_ms)),
    );
}

/// The instant just before the change ending at `field` completes: responses to the call
/// that starts a change always show it under way (`Pending`, `InProgress`), as AWS's do,
/// even when the profile makes it instantaneous.
fn announced(doc: &Doc, field: &str) -> u64 {
    doc.get(field)
        .and_then(Value::as_u64)
        .unwrap_or(0)
        .saturating_sub(1)
}

fn str_of<'a>(doc: &'a Doc, field: &str) -> &'a str {
    doc.get(field).and_then(Value::as_str).unwrap_or_default()
}

// ---- rendering ----

fn new_function(ctx: &Ctx<'_>, name: &str, arn: &str, code: &Code) -> Doc {
    let doc = json!({
        "FunctionName": name,
        "FunctionArn": arn,
        "Description": "",
        "Timeout": 3,
        "MemorySize": 128,
        "CodeSha256": code.sha256,
        "CodeSize": code.size,
        "Version": "$LATEST",
        "PackageType": "Zip",
        "EphemeralStorage": { "Size": 512 },
        "TracingConfig": { "Mode": "PassThrough" },
        "SnapStart": { "ApplyOn": "None", "OptimizationStatus": "Off" },
        "LoggingConfig": { "LogFormat": "Text", "LogGroup": format!("/aws/lambda/{name}") },
        "RevisionId": uuid::Uuid::new_v4().to_string(),
        "LastModified": lambda_timestamp(ctx.now_ms),
        "_code_blob": code.blob,
        "_created_ms": ctx.now_ms,
        "_ready_at_ms": ctx.after(ctx.config.profile.function_ready_ms),
        "_update_ready_at_ms": 0,
    });
    match doc {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The wire `FunctionConfiguration` as `ListFunctions` lists it: without the state fields,
/// and without `RuntimeVersionConfig`, which only the other operations show (recorded:
/// LocalStack test_list_functions).
fn listed_configuration(doc: &Doc) -> Value {
    Value::Object(
        doc.iter()
            .filter(|(k, _)| !k.starts_with('_') && k.as_str() != "Tags")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

/// `arn:aws:lambda:<region>::runtime:<64 hex>`, the runtime version a zip function runs on, as
/// AWS reports it in `RuntimeVersionConfig`. There is one version per runtime here: its hash
/// is the runtime's name's SHA-256.
fn runtime_version_arn(doc: &Doc) -> Option<String> {
    use sha2::Digest as _;
    let runtime = doc.get("Runtime").and_then(Value::as_str)?;
    let region = str_of(doc, "FunctionArn").split(':').nth(3)?;
    let hash = sha2::Sha256::digest(runtime.as_bytes());
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    Some(format!("arn:aws:lambda:{region}::runtime:{hex}"))
}

/// The wire `FunctionConfiguration`, states computed for `now_ms`.
fn configuration(doc: &Doc, now_ms: u64) -> Value {
    let mut out = listed_configuration(doc);
    if let Some(arn) = runtime_version_arn(doc) {
        out["RuntimeVersionConfig"] = json!({ "RuntimeVersionArn": arn });
    }
    let state = lifecycle(doc, now_ms);
    out["State"] = json!(state.state);
    if state.state == "Pending" {
        out["StateReason"] = json!("The function is being created.");
        out["StateReasonCode"] = json!("Creating");
        return out;
    }
    out["LastUpdateStatus"] = json!(state.last_update);
    if state.last_update == "InProgress" {
        out["LastUpdateStatusReason"] = json!("The function is being created.");
        out["LastUpdateStatusReasonCode"] = json!("Creating");
    }
    out
}

/// Where the zip can be read: the runtime's own endpoint (AWS gives a presigned S3 URL).
fn code_location(ctx: &Ctx<'_>, req: &RestRequest, doc: &Doc) -> String {
    let host = req
        .headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!(
        "http://{host}/_local/lambda/code/{}/{}/{}?CodeSha256={}",
        ctx.account(),
        ctx.region(),
        str_of(doc, "FunctionName"),
        percent_encoding::utf8_percent_encode(str_of(doc, "CodeSha256"), percent_encoding::NON_ALPHANUMERIC)
    )
}

// ---- validating input ----

fn check_request_size(req: &RestRequest, operation: &str) -> AwsResult<()> {
    if req.body.len() > MAX_REQUEST_BYTES {
        return Err(AwsError::new(
            "RequestEntityTooLargeException",
            format!("Request must be smaller than {MAX_REQUEST_BYTES} bytes for the {operation} operation"),
        )
        .status(413));
    }
    Ok(())
}

/// The zip in a `Code` object (or an `UpdateFunctionCode` body): base64 `ZipFile`, checked
/// to be a zip. There is no S3 here, so an `S3Bucket` never exists.
fn zip_from(code: &Value) -> AwsResult<Vec<u8>> {
    use base64::Engine as _;
    if opt_str(code, "S3Bucket")?.is_some() {
        return Err(invalid(
            "Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: The specified bucket does not exist",
        ));
    }
    if opt_str(code, "ImageUri")?.is_some() {
        return Err(invalid(
            "The local runtime supports only Zip packages (PackageType Zip).",
        ));
    }
    let encoded =
        opt_str(code, "ZipFile")?.ok_or_else(|| invalid("Please provide a source for function code."))?;
    let zip = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|e| super::bad_body(format!("ZipFile is not base64: {e}")))?;
    if !zip.starts_with(b"PK\x03\x04") {
        return Err(invalid(
            "Could not unzip uploaded file. Please check your file, then try to upload again.",
        ));
    }
    Ok(zip)
}

fn architectures(body: &Value) -> AwsResult<Option<Vec<String>>> {
    let Some(list) = body.get("Architectures").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let items: Vec<String> = list
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .ok_or_else(|| super::bad_body("`Architectures` must be a list"))?;
    // The value is quoted as Java prints a list (recorded: LocalStack test_create_lambda_exceptions).
    let quoted = format!("[{}]", items.join(", "));
    let bound = match items.len() {
        0 => Some("greater than or equal to 1"),
        1 => None,
        _ => Some("less than or equal to 1"),
    };
    if let Some(bound) = bound {
        return Err(validation(format!(
            "1 validation error detected: Value '{quoted}' at 'architectures' failed to satisfy constraint: Member must have length {bound}"
        )));
    }
    if items.iter().any(|a| a != "x86_64" && a != "arm64") {
        return Err(validation(format!(
            "1 validation error detected: Value '{quoted}' at 'architectures' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]"
        )));
    }
    Ok(Some(items))
}

/// The configuration members a request sets, validated as Lambda validates them; the role
/// is checked apart because that needs the store.
fn config_changes(body: &Value) -> AwsResult<Doc> {
    let mut changes = Doc::new();
    if let Some(runtime) = opt_str(body, "Runtime")? {
        check_runtime(runtime)?;
        changes.insert("Runtime".into(), json!(runtime));
    }
    if let Some(handler) = opt_str(body, "Handler")? {
        if handler.len() > 128 || handler.is_empty() || handler.chars().any(char::is_whitespace) {
            return Err(validation(format!(
                "1 validation error detected: Value '{handler}' at 'handler' failed to satisfy constraint: Member must satisfy regular expression pattern: [^\\s]+"
            )));
        }
        changes.insert("Handler".into(), json!(handler));
    }
    if let Some(role) = opt_str(body, "Role")? {
        check_role_arn(role)?;
    }
    if let Some(description) = opt_str(body, "Description")? {
        if description.chars().count() > 256 {
            return Err(validation(
                "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 256",
            ));
        }
        changes.insert("Description".into(), json!(description));
    }
    if let Some(timeout) = opt_int(body, "Timeout")? {
        if let Some(e) = out_of_range("Timeout", timeout, 1, 900) {
            return Err(e);
        }
        changes.insert("Timeout".into(), json!(timeout));
    }
    if let Some(memory) = opt_int(body, "MemorySize")? {
        if let Some(e) = out_of_range("MemorySize", memory, 128, 10_240) {
            return Err(e);
        }
        changes.insert("MemorySize".into(), json!(memory));
    }
    if let Some(environment) = body.get("Environment").filter(|v| !v.is_null()) {
        let variables = opt_string_map(environment, "Variables")?.unwrap_or_default();
        check_environment(&variables)?;
        changes.insert("Environment".into(), json!({ "Variables": variables }));
    }
    if let Some(storage) = body.get("EphemeralStorage").filter(|v| !v.is_null()) {
        let size = opt_int(storage, "Size")?.ok_or_else(|| missing("ephemeralStorage.size"))?;
        if let Some(e) = out_of_range("EphemeralStorage.Size", size, 512, 10_240) {
            return Err(e);
        }
        changes.insert("EphemeralStorage".into(), json!({ "Size": size }));
    }
    if let Some(mode) = body
        .get("TracingConfig")
        .map(|t| opt_str(t, "Mode"))
        .transpose()?
        .flatten()
    {
        if mode != "Active" && mode != "PassThrough" {
            return Err(not_in_enum(
                "tracingConfig.mode",
                mode,
                &["Active", "PassThrough"],
            ));
        }
        changes.insert("TracingConfig".into(), json!({ "Mode": mode }));
    }
    if let Some(snap_start) = body.get("SnapStart").filter(|v| !v.is_null()) {
        let apply_on = opt_str(snap_start, "ApplyOn")?.unwrap_or("None");
        if apply_on != "PublishedVersions" && apply_on != "None" {
            return Err(not_in_enum(
                "snapStart.applyOn",
                apply_on,
                &["PublishedVersions", "None"],
            ));
        }
        // Only published versions are optimized; `$LATEST` stays `Off`.
        changes.insert(
            "SnapStart".into(),
            json!({ "ApplyOn": apply_on, "OptimizationStatus": "Off" }),
        );
    }
    Ok(changes)
}

/// SnapStart applies to some runtimes only.
fn check_snap_start(doc: &Doc) -> AwsResult<()> {
    let enabled = doc
        .get("SnapStart")
        .and_then(|s| s.get("ApplyOn"))
        .and_then(Value::as_str)
        == Some("PublishedVersions");
    let runtime = str_of(doc, "Runtime");
    if enabled && !SNAP_START_RUNTIMES.contains(&runtime) {
        return Err(invalid(format!(
            "{runtime} is not supported for SnapStart enabled functions."
        )));
    }
    Ok(())
}

/// A request's `LoggingConfig`, checked against the model's enums and log group pattern.
fn logging_request(body: &Value) -> AwsResult<Option<Doc>> {
    let Some(config) = body.get("LoggingConfig").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let enums: [(&str, &str, &[&str]); 3] = [
        ("LogFormat", "loggingConfig.logFormat", &["JSON", "Text"]),
        (
            "ApplicationLogLevel",
            "loggingConfig.applicationLogLevel",
            &["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"],
        ),
        (
            "SystemLogLevel",
            "loggingConfig.systemLogLevel",
            &["DEBUG", "INFO", "WARN"],
        ),
    ];
    let mut out = Doc::new();
    for (member, path, allowed) in enums {
        if let Some(value) = opt_str(config, member)? {
            if !allowed.contains(&value) {
                return Err(not_in_enum(path, value, allowed));
            }
            out.insert(member.into(), json!(value));
        }
    }
    if let Some(group) = opt_str(config, "LogGroup")? {
        let valid = (1..=512).contains(&group.len())
            && group
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-_/#".contains(&b));
        if !valid {
            return Err(validation(format!(
                "1 validation error detected: Value '{group}' at 'loggingConfig.logGroup' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"
            )));
        }
        out.insert("LogGroup".into(), json!(group));
    }
    Ok(Some(out))
}

/// Merges a requested `LoggingConfig` into the function's as Lambda does: what the request
/// leaves out stays, asking for JSON sets both log levels to INFO unless given, and Text
/// has no log levels (recorded: LocalStack test_function_advanced_logging_configuration,
/// test_function_partial_advanced_logging_configuration_update).
fn apply_logging(doc: &mut Doc, request: &Doc) -> AwsResult<()> {
    let mut merged = doc
        .get("LoggingConfig")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if request.get("LogFormat").and_then(Value::as_str) == Some("JSON") {
        merged.insert("ApplicationLogLevel".into(), json!("INFO"));
        merged.insert("SystemLogLevel".into(), json!("INFO"));
    }
    merged.extend(request.clone());
    if merged.get("LogFormat").and_then(Value::as_str) != Some("JSON") {
        if request.contains_key("ApplicationLogLevel") || request.contains_key("SystemLogLevel") {
            return Err(invalid(
                "LogLevel is not supported when LogFormat is set to \"Text\". Remove LogLevel from your request or change the LogFormat to \"JSON\" and try again.",
            ));
        }
        merged.remove("ApplicationLogLevel");
        merged.remove("SystemLogLevel");
    }
    doc.insert("LoggingConfig".into(), Value::Object(merged));
    Ok(())
}

/// Lambda refuses runtimes it has blocked by name, and unknown ones (its enum is checked by
/// the service, hence `InvalidParameterValueException`) with the list of runtimes it knows
/// (recorded: LocalStack test_create_lambda_exceptions,
/// test_create_deprecated_function_runtime_with_validation_enabled).
fn check_runtime(runtime: &str) -> AwsResult<()> {
    if SUPPORTED_RUNTIMES.contains(&runtime) {
        return Ok(());
    }
    if DEPRECATED_RUNTIMES.contains(&runtime) {
        return Err(invalid(format!(
            "The runtime parameter of {runtime} is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions."
        )));
    }
    Err(invalid(format!(
        "Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: {LISTED_RUNTIMES} or be a valid ARN"
    )))
}

/// CreateFunction takes names of at most 64 characters, a limit the service checks (hence
/// `InvalidParameterValueException`) though it words it as a constraint (recorded:
/// LocalStack test_function_arns).
fn check_name_length(raw: &str, name: &str) -> AwsResult<()> {
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(invalid(format!(
            "1 validation error detected: Value '{raw}' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to {MAX_NAME_CHARS}"
        )));
    }
    Ok(())
}

fn check_role_arn(role: &str) -> AwsResult<()> {
    let parts: Vec<&str> = role.splitn(6, ':').collect();
    let valid = match parts.as_slice() {
        ["arn", partition, "iam", "", account, resource] => {
            partition.starts_with("aws")
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && resource.strip_prefix("role").is_some_and(|r| {
                    let r = r.strip_prefix('/').unwrap_or(r);
                    !r.is_empty()
                        && r.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@-_/".contains(&b))
                })
        }
        _ => false,
    };
    if valid {
        Ok(())
    } else {
        Err(validation(format!(
            "1 validation error detected: Value '{role}' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: {ROLE_PATTERN}"
        )))
    }
}

fn check_environment(variables: &Map<String, Value>) -> AwsResult<()> {
    let bad_key = |k: &str| {
        let mut chars = k.chars();
        !(chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && k.len() >= 2
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_'))
    };
    if variables.keys().any(|k| bad_key(k)) {
        return Err(validation(
            "1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]",
        ));
    }
    let reserved: Vec<&str> = variables
        .keys()
        .map(String::as_str)
        .filter(|k| RESERVED_ENV_KEYS.contains(k))
        .collect();
    if !reserved.is_empty() {
        return Err(invalid(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: {}",
            reserved.join(", ")
        )));
    }
    let measured = serde_json::to_string(variables).unwrap_or_default();
    if measured.len() > MAX_ENVIRONMENT_BYTES {
        return Err(invalid(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {measured}"
        )));
    }
    Ok(())
}
