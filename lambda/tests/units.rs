//! Small pure functions: timestamps, error classification, sequence-number order, config.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::cmp::Ordering;
use std::collections::HashMap;

use personalize_stack_forwarder::handler::compare_sequence_numbers;
use personalize_stack_forwarder::parse::{epoch_to_millis, parse_rfc3339, parse_timestamp};
use personalize_stack_forwarder::send::classify;
use personalize_stack_forwarder::{Config, ConfigError, ErrorKind};
use serde_json::json;

#[test]
fn timestamps_in_every_accepted_form() {
    let cases = [
        (json!(1_676_975_804), 1_676_975_804_000),
        (json!("1676975804"), 1_676_975_804_000),
        (json!(" 1676975804 "), 1_676_975_804_000),
        (json!(1_676_975_804.5), 1_676_975_804_500),
        (json!("1676975804.25"), 1_676_975_804_250),
        (json!(1_676_975_804_123_i64), 1_676_975_804_123),
        (json!("1676975804123"), 1_676_975_804_123),
        (json!("2023-02-21T10:36:44Z"), 1_676_975_804_000),
        (json!("2023-02-21t10:36:44z"), 1_676_975_804_000),
        (json!("2023-02-21 10:36:44Z"), 1_676_975_804_000),
        (json!("2023-02-21T10:36:44.1Z"), 1_676_975_804_100),
        (json!("2023-02-21T10:36:44.123456789Z"), 1_676_975_804_123),
        (json!("2023-02-21T05:36:44-05:00"), 1_676_975_804_000),
        (json!("2023-02-21T16:06:44+05:30"), 1_676_975_804_000),
        (json!("2016-12-31T23:59:60Z"), 1_483_228_799_999),
        (json!("2024-02-29T00:00:00Z"), 1_709_164_800_000),
        // The boundary: just below 1e11 is seconds, 1e11 is milliseconds.
        (json!(99_999_999_999_i64), 99_999_999_999_000),
        (json!(100_000_000_000_i64), 100_000_000_000),
    ];
    for (value, expected) in cases {
        assert_eq!(parse_timestamp(&value), Ok(expected), "{value}");
    }
}

#[test]
fn bad_timestamps_are_refused() {
    for value in [
        json!(0),
        json!(-1),
        json!("-1676975804"),
        json!(1_676_975_804_000_000_i64),
        json!(""),
        json!("yesterday"),
        json!("NaN"),
        json!("inf"),
        json!("2023-02-30T00:00:00Z"),
        json!("2023-13-01T00:00:00Z"),
        json!("2023-02-21T24:00:00Z"),
        json!("2023-02-21T10:36:44"),
        json!("2023-02-21T10:36:44+0500"),
        json!("2023-02-21T10:36:44.Z"),
        json!("2023-02-21"),
        json!(true),
        json!([1]),
        json!({"s": 1}),
    ] {
        assert!(parse_timestamp(&value).is_err(), "{value} should be refused");
    }
    assert!(epoch_to_millis(f64::NAN).is_err());
    assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(parse_rfc3339("1969-12-31T23:59:59Z"), Some(-1000));
}

#[test]
fn error_classification() {
    use ErrorKind::*;
    let cases = [
        (Some("InvalidInputException"), Some(400), InvalidInput),
        (Some("ThrottlingException"), Some(400), Retryable),
        (Some("TooManyRequestsException"), Some(429), Retryable),
        (None, Some(429), Retryable),
        (Some("InternalFailure"), Some(500), Retryable),
        (None, Some(503), Retryable),
        (Some("SomethingNew"), Some(502), Retryable),
        (None, Some(408), Retryable),
        (None, None, Retryable),
        (Some("ResourceNotFoundException"), Some(404), Fatal),
        (Some("AccessDeniedException"), Some(403), Fatal),
        (Some("UnrecognizedClientException"), Some(400), Fatal),
        (None, Some(400), InvalidInput),
        (None, Some(404), Fatal),
    ];
    for (code, status, expected) in cases {
        assert_eq!(classify(code, status), expected, "{code:?} {status:?}");
    }
}

#[test]
fn sequence_numbers_compare_numerically() {
    assert_eq!(compare_sequence_numbers("9", "10"), Ordering::Less);
    assert_eq!(compare_sequence_numbers("010", "10"), Ordering::Equal);
    let a = "49590338271490256608559692538361571095921575989136588898";
    let b = "49590338271490256608559692538361571095921575989136588899";
    assert_eq!(compare_sequence_numbers(a, b), Ordering::Less);
    assert_eq!(compare_sequence_numbers(b, a), Ordering::Greater);
}

fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Config::from_lookup(|k| map.get(k).cloned())
}

#[test]
fn configuration_from_the_environment() {
    assert_eq!(config(&[]), Err(ConfigError::MissingTrackingId));
    assert_eq!(
        config(&[("TRACKING_ID", "  ")]),
        Err(ConfigError::MissingTrackingId)
    );
    let message = ConfigError::MissingTrackingId.to_string();
    assert!(message.contains("TRACKING_ID is not set"), "{message}");

    let c = config(&[("TRACKING_ID", "abc")]).unwrap();
    assert_eq!(c.tracking_id, "abc");
    assert_eq!(c.default_event_type, None);
    assert_eq!(c.max_concurrency, 16);

    let c = config(&[
        ("TRACKING_ID", "abc"),
        ("DEFAULT_EVENT_TYPE", "view"),
        ("MAX_CONCURRENCY", "16"),
    ])
    .unwrap();
    assert_eq!(c.default_event_type.as_deref(), Some("view"));
    assert_eq!(c.max_concurrency, 16);

    for bad in ["0", "65", "many", "-1"] {
        let err = config(&[("TRACKING_ID", "abc"), ("MAX_CONCURRENCY", bad)]).unwrap_err();
        assert!(err.to_string().contains("MAX_CONCURRENCY"), "{err}");
    }
    let long = "t".repeat(257);
    assert!(config(&[("TRACKING_ID", &long)]).is_err());
}
