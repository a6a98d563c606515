//! STS (awsQuery): `GetCallerIdentity`, and `AssumeRole`, whose temporary access key id
//! names the role's account, so one local runtime serves a whole fleet of accounts.

use super::Ctx;
use crate::auth;
use crate::protocol::query::{Params, Xml};
use crate::{AwsError, AwsResult};

/// The XML namespace of STS responses.
pub const XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// Handles one STS action; returns the inner XML of `<ActionResult>`.
///
/// # Errors
/// AWS's errors for the action.
pub fn handle(ctx: &Ctx<'_>, action: &str, params: &Params) -> AwsResult<String> {
    match action {
        "GetCallerIdentity" => get_caller_identity(ctx),
        "AssumeRole" => assume_role(ctx, params),
        _ => Err(AwsError::new(
            "InvalidAction",
            format!("Could not find operation {action} for version 2011-06-15"),
        )),
    }
}

/// Where AssumeRole keeps who a temporary key's session is: GetCallerIdentity with that key
/// answers as the assumed role. Data, not a resource (`/_local/resources` leaves it out).
fn session_key(account: &str, access_key_id: &str) -> String {
    format!("{account}/global/sts/session/{access_key_id}")
}

/// An assumed role's session, as AssumeRole made it.
#[derive(serde::Serialize, serde::Deserialize)]
struct Session {
    /// `AROA…:<session>`.
    assumed_role_id: String,
    /// `arn:aws:sts::<account>:assumed-role/<role>/<session>`.
    arn: String,
}

/// The caller's identity: the assumed role for keys AssumeRole issued, else the account's
/// root (any other key acts as the account it names).
fn get_caller_identity(ctx: &Ctx<'_>) -> AwsResult<String> {
    let key = session_key(ctx.account(), &ctx.caller.access_key_id);
    let session: Option<Session> = ctx.store.read(|t| t.get(&key))?;
    let (user_id, arn) = match session {
        Some(s) => (s.assumed_role_id, s.arn),
        None => (
            ctx.caller.access_key_id.clone(),
            format!("arn:aws:iam::{}:root", ctx.account()),
        ),
    };
    let mut x = Xml::new();
    x.elem("UserId", &user_id)
        .elem("Account", ctx.account())
        .elem("Arn", &arn);
    Ok(x.into_string())
}

fn assume_role(ctx: &Ctx<'_>, params: &Params) -> AwsResult<String> {
    let role_arn = params.required("RoleArn")?;
    let session = params.required("RoleSessionName")?;
    // AWS names the first constraint broken: the length, then the pattern.
    let broken = if session.len() < 2 {
        Some("Member must have length greater than or equal to 2")
    } else if session.len() > 64 {
        Some("Member must have length less than or equal to 64")
    } else if !session
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "=,.@-_".contains(c))
    {
        Some("Member must satisfy regular expression pattern: [\\w+=,.@-]*")
    } else {
        None
    };
    if let Some(constraint) = broken {
        return Err(AwsError::new(
            "ValidationError",
            format!(
                "1 validation error detected: Value '{session}' at 'roleSessionName' failed to satisfy constraint: {constraint}"
            ),
        ));
    }
    // arn:aws:iam::<account>:role/<name>
    let parts: Vec<&str> = role_arn.splitn(6, ':').collect();
    let (account, role) = match parts.as_slice() {
        ["arn", _, "iam", "", account, resource]
            if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) =>
        {
            match resource.strip_prefix("role/") {
                Some(role) if !role.is_empty() => (*account, role.rsplit('/').next().unwrap_or(role)),
                _ => return Err(invalid_arn(role_arn)),
            }
        }
        _ => return Err(invalid_arn(role_arn)),
    };
    let duration: u64 = params
        .get("DurationSeconds")
        .and_then(|d| d.parse().ok())
        .unwrap_or(3600);
    if !(900..=43_200).contains(&duration) {
        let constraint = if duration < 900 {
            "Member must have value greater than or equal to 900"
        } else {
            "Member must have value less than or equal to 43200"
        };
        return Err(AwsError::new(
            "ValidationError",
            format!(
                "1 validation error detected: Value '{duration}' at 'durationSeconds' failed to satisfy constraint: {constraint}"
            ),
        ));
    }
    check_session_tags(params)?;
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let access_key_id = auth::temporary_key_for(account, &nonce[..4]);
    let expiration = iso8601(ctx.now_ms + duration * 1000);
    // The assumed role id is the role's own `RoleId` when the role is here (as on AWS); a
    // role this runtime never saw (another account's, say) gets a stable made-up one.
    let stored_id = ctx
        .store
        .read(|t| t.get::<serde_json::Value>(&crate::services::iam::role_key(account, role)))?
        .and_then(|doc| doc.get("RoleId").and_then(|v| v.as_str()).map(str::to_owned));
    let role_id = stored_id.unwrap_or_else(|| format!("AROA{}", &nonce[..17].to_uppercase()));
    let session_doc = Session {
        assumed_role_id: format!("{role_id}:{session}"),
        arn: format!("arn:aws:sts::{account}:assumed-role/{role}/{session}"),
    };
    ctx.store
        .write(|t| t.put(&session_key(account, &access_key_id), &session_doc))?;
    let mut x = Xml::new();
    x.wrap("Credentials", |c| {
        c.elem("AccessKeyId", &access_key_id)
            .elem("SecretAccessKey", format!("local{nonce}"))
            .elem("SessionToken", format!("FQoGZXIvYXdzE{nonce}"))
            .elem("Expiration", &expiration);
    })
    .wrap("AssumedRoleUser", |u| {
        u.elem("AssumedRoleId", &session_doc.assumed_role_id)
            .elem("Arn", &session_doc.arn);
    });
    Ok(x.into_string())
}

/// Session tags: keys are case-insensitive, so two that differ only in case are duplicates, and
/// every transitive key must be one of them (in any case). AWS's words, recorded by
/// LocalStack's test_assume_role_tag_validation.
fn check_session_tags(params: &Params) -> AwsResult<()> {
    let keys: Vec<String> = params
        .struct_list("Tags")
        .iter()
        .filter_map(|tag| tag.get("Key").map(|k| k.to_lowercase()))
        .collect();
    let unique: std::collections::BTreeSet<&String> = keys.iter().collect();
    let refuse = |message: &str| Err(AwsError::new("InvalidParameterValue", message));
    if unique.len() != keys.len() {
        return refuse("Duplicate tag keys found. Please note that Tag keys are case insensitive.");
    }
    if params
        .list("TransitiveTagKeys")
        .iter()
        .any(|k| !unique.contains(&k.to_lowercase()))
    {
        return refuse("The specified transitive tag key must be included in the requested tags.");
    }
    Ok(())
}

fn invalid_arn(arn: &str) -> AwsError {
    AwsError::new("ValidationError", format!("{arn} is invalid"))
}

/// `YYYY-MM-DDTHH:MM:SSZ` for epoch milliseconds.
pub fn iso8601(ms: u64) -> String {
    let t = utc(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The UTC time of epoch milliseconds (the epoch itself for one past year 9999).
pub fn utc(ms: u64) -> time::OffsetDateTime {
    i64::try_from(ms / 1000)
        .ok()
        .and_then(|secs| time::OffsetDateTime::from_unix_timestamp(secs).ok())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso_dates() {
        assert_eq!(super::iso8601(1_676_975_804_000), "2023-02-21T10:36:44Z");
        assert_eq!(super::iso8601(0), "1970-01-01T00:00:00Z");
    }
}
