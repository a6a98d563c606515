//! AWS naming rules, checked before any API call.

/// A naming rule of one AWS resource type.
#[derive(Debug, Clone, Copy)]
pub struct NameRule {
    /// What the name names, for messages (e.g. "Kinesis stream name").
    pub what: &'static str,
    /// Inclusive length bounds.
    pub min: usize,
    /// Inclusive length bounds.
    pub max: usize,
    /// Which characters are allowed, as the AWS docs word it.
    pub charset: &'static str,
    /// The check itself.
    pub allowed: fn(&str) -> bool,
}

impl NameRule {
    /// `None` if `name` follows the rule, else what is wrong.
    pub fn check(&self, name: &str) -> Option<String> {
        let len = name.chars().count();
        if len < self.min || len > self.max {
            return Some(format!(
                "{} `{name}` is {len} characters long; it must be {}–{} characters",
                self.what, self.min, self.max
            ));
        }
        if !(self.allowed)(name) {
            return Some(format!(
                "{} `{name}` has characters AWS does not allow; allowed: {}",
                self.what, self.charset
            ));
        }
        None
    }
}

fn all(name: &str, ok: impl Fn(char) -> bool) -> bool {
    name.chars().all(ok)
}

/// Kinesis `StreamName`: `[a-zA-Z0-9_.-]+`, 1–128.
pub const KINESIS_STREAM: NameRule = NameRule {
    what: "Kinesis stream name",
    min: 1,
    max: 128,
    charset: "letters, digits, `_`, `.`, `-`",
    allowed: |n| all(n, |c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')),
};

/// Lambda `FunctionName` (plain name form): `[a-zA-Z0-9-_]+`, 1–64.
pub const LAMBDA_FUNCTION: NameRule = NameRule {
    what: "Lambda function name",
    min: 1,
    max: 64,
    charset: "letters, digits, `-`, `_`",
    allowed: |n| all(n, |c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-')),
};

/// IAM `RoleName`: `[\w+=,.@-]+`, 1–64.
pub const IAM_ROLE: NameRule = NameRule {
    what: "IAM role name",
    min: 1,
    max: 64,
    charset: "letters, digits, `+=,.@_-`",
    allowed: |n| {
        all(n, |c| {
            c.is_ascii_alphanumeric() || matches!(c, '+' | '=' | ',' | '.' | '@' | '_' | '-')
        })
    },
};

/// Personalize names (dataset group, schema, dataset, event tracker):
/// `^[a-zA-Z0-9][a-zA-Z0-9\-_]*`, 1–63.
pub const PERSONALIZE: NameRule = NameRule {
    what: "Personalize name",
    min: 1,
    max: 63,
    charset: "letters, digits, `-`, `_`, starting with a letter or digit",
    allowed: |n| {
        n.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && all(n, |c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
    },
};

/// API Gateway REST API name: any characters, 1–1024 (the console limits it further only
/// by convention).
pub const REST_API: NameRule = NameRule {
    what: "REST API name",
    min: 1,
    max: 1024,
    charset: "any printable characters",
    allowed: |n| !n.chars().any(char::is_control),
};

/// API Gateway stage name: `[a-zA-Z0-9_-]+`, 1–128.
pub const STAGE: NameRule = NameRule {
    what: "stage name",
    min: 1,
    max: 128,
    charset: "letters, digits, `-`, `_`",
    allowed: |n| all(n, |c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-')),
};

/// CloudWatch Logs retention values accepted by `PutRetentionPolicy`.
pub const LOG_RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/// Lambda runtimes we can deploy (current, non-deprecated identifiers).
pub const LAMBDA_RUNTIMES: &[&str] = &[
    "provided.al2023",
    "provided.al2",
    "python3.9",
    "python3.10",
    "python3.11",
    "python3.12",
    "python3.13",
    "nodejs18.x",
    "nodejs20.x",
    "nodejs22.x",
    "java17",
    "java21",
    "dotnet8",
    "ruby3.3",
];

/// Environment variable names Lambda reserves for itself.
pub const LAMBDA_RESERVED_ENV: &[&str] = &[
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
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// Whether `region` looks like an AWS region code (`us-east-1`, `eu-central-2`, `us-gov-west-1`).
pub fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts
            .last()
            .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// Whether `s` has the shape of an ARN: `arn:partition:service:region:account:resource`.
pub fn is_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    parts.len() == 6 && parts[0] == "arn" && !parts[1].is_empty() && !parts[2].is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_aws_docs() {
        assert!(KINESIS_STREAM.check("PutEvent-datastream").is_none());
        assert!(KINESIS_STREAM.check("bad name").is_some());
        assert!(LAMBDA_FUNCTION.check(&"f".repeat(64)).is_none());
        assert!(LAMBDA_FUNCTION.check(&"f".repeat(65)).is_some());
        assert!(PERSONALIZE.check("-starts-with-dash").is_some());
        assert!(PERSONALIZE.check("personalize-workshop-event-tracker").is_none());
        assert!(IAM_ROLE.check("a+b=c,d.e@f_g-h").is_none());
        assert!(is_region("us-east-1") && is_region("us-gov-west-1") && !is_region("useast1"));
        assert!(is_arn("arn:aws:iam::123456789012:role/x") && !is_arn("role/x"));
    }
}
