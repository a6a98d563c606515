//! Who is calling: the account, region and service from a SigV4 `Authorization` header.
//!
//! Signatures are not verified (as LocalStack's community edition): the header is parsed for
//! routing and scoping only. Access key ids of 12 digits name an account (so one runtime can
//! hold many accounts, as fleets need); so do the temporary keys `AssumeRole` hands out
//! (`ASIA` + 12-digit account + 4 characters). Any other key maps to `000000000000`.

/// The default account for access keys that name none.
pub const DEFAULT_ACCOUNT: &str = "000000000000";

/// The caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Access key id as sent.
    pub access_key_id: String,
    /// Account the request acts in.
    pub account: String,
    /// Region from the credential scope.
    pub region: String,
    /// Signing name from the credential scope (`kinesis`, `personalize`, `iam`, …).
    pub service: String,
}

/// Parses `AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, …`.
pub fn parse_authorization(header: &str) -> Option<Caller> {
    let rest = header.strip_prefix("AWS4-HMAC-SHA256")?.trim_start();
    let credential = rest
        .split(',')
        .map(str::trim)
        .find_map(|part| part.strip_prefix("Credential="))?;
    let mut parts = credential.split('/');
    let access_key_id = parts.next()?.to_owned();
    let _date = parts.next()?;
    let region = parts.next()?.to_owned();
    let service = parts.next()?.to_owned();
    if access_key_id.is_empty() || region.is_empty() || service.is_empty() {
        return None;
    }
    Some(Caller {
        account: account_of(&access_key_id),
        access_key_id,
        region,
        service,
    })
}

/// The account an access key id acts in.
pub fn account_of(access_key_id: &str) -> String {
    let is_account = |s: &str| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit());
    if is_account(access_key_id) {
        return access_key_id.to_owned();
    }
    if let Some(rest) = access_key_id.strip_prefix("ASIA")
        && rest.len() == 16
        && is_account(&rest[..12])
    {
        return rest[..12].to_owned();
    }
    DEFAULT_ACCOUNT.to_owned()
}

/// The temporary access key id `AssumeRole` returns for `account`.
pub fn temporary_key_for(account: &str, suffix: &str) -> String {
    let suffix: String = suffix
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(4)
        .collect();
    format!("ASIA{account}{suffix:0<4}").to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_credential_scope() {
        let c = parse_authorization(
            "AWS4-HMAC-SHA256 Credential=111122223333/20260101/eu-west-1/kinesis/aws4_request, SignedHeaders=host, Signature=abc",
        )
        .unwrap_or_else(|| panic!("parse"));
        assert_eq!(c.account, "111122223333");
        assert_eq!(c.region, "eu-west-1");
        assert_eq!(c.service, "kinesis");
        assert!(parse_authorization("Bearer x").is_none());
    }

    #[test]
    fn accounts_from_keys() {
        assert_eq!(account_of("AKIAEXAMPLE"), DEFAULT_ACCOUNT);
        assert_eq!(account_of("123456789012"), "123456789012");
        let temp = temporary_key_for("123456789012", "ab12");
        assert_eq!(temp.len(), 20);
        assert_eq!(account_of(&temp), "123456789012");
    }
}
