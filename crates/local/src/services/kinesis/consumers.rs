//! Enhanced fan-out consumers' control plane: RegisterStreamConsumer, DescribeStreamConsumer,
//! ListStreamConsumers, DeregisterStreamConsumer (SubscribeToShard is not served).
//!
//! A consumer is registered `CREATING` and becomes `ACTIVE` after the profile's
//! `stream_ready_ms`; deregistered, it is `DELETING` until `stream_delete_ms` has passed, then
//! gone. Consumers live in their stream's document, so they go with the stream.

use super::input::{self, Violations};
use super::model::{Consumer, Stream};
use super::{Ctx, load_active_stream, load_stream, save_stream};
use crate::{AwsError, AwsResult};
use serde_json::{Value, json};

/// Consumers a stream may have registered at once (AWS's quota).
const MAX_CONSUMERS: usize = 20;
/// Consumers of a stream that may be `CREATING` at once (AWS's quota).
const MAX_CREATING: usize = 5;
/// Tags a consumer may be registered with (the model's limit).
const MAX_TAGS: usize = 200;

/// The pattern the model gives `ConsumerARN`.
const CONSUMER_ARN_PATTERN: &str =
    "^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+";

/// The consumer as the `Consumer` structure (RegisterStreamConsumer, ListStreamConsumers).
fn to_wire(consumer: &Consumer, now_ms: u64) -> Value {
    json!({
        "ConsumerName": consumer.name,
        "ConsumerARN": consumer.arn,
        "ConsumerStatus": consumer.status_at(now_ms),
        "ConsumerCreationTimestamp": (consumer.created_ms / 1000) as f64,
    })
}

/// The stream named by a required `StreamARN` (these operations take no `StreamName`).
///
/// # Errors
/// `ValidationException` for a missing or malformed ARN (with the other violations in `v`),
/// `ResourceNotFoundException` for another account's or region's stream.
fn stream_of_arn(ctx: &Ctx<'_>, input: &Value, mut v: Violations) -> AwsResult<String> {
    let arn = input::string(input, "StreamARN")?;
    v.text("StreamARN", arn, true, (1, 2048), None);
    let parsed = arn.map(|a| (a, super::parse_stream_arn(a)));
    if let Some((arn, None)) = parsed {
        v.add(
            &format!("'{arn}'"),
            "StreamARN",
            "Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+",
        );
    }
    v.finish()?;
    let Some((_, Some((account, region, name)))) = parsed else {
        return Err(AwsError::internal("StreamARN passed validation unparsed"));
    };
    if account != ctx.account() || region != ctx.region() {
        return Err(AwsError::new(
            "ResourceNotFoundException",
            format!("Stream {name} under account {account} not found."),
        ));
    }
    Ok(name)
}

/// How DescribeStreamConsumer and DeregisterStreamConsumer name a consumer: by its ARN, or by
/// its stream's ARN and its name.
enum ConsumerRef {
    Arn { stream: String, arn: String },
    Name { stream: String, name: String },
}

impl ConsumerRef {
    fn stream(&self) -> &str {
        match self {
            ConsumerRef::Arn { stream, .. } | ConsumerRef::Name { stream, .. } => stream,
        }
    }

    /// The consumer in `stream`, unless it has none such.
    fn find<'s>(&self, ctx: &Ctx<'_>, stream: &'s mut Stream) -> AwsResult<&'s mut Consumer> {
        let (shown, found) = match self {
            ConsumerRef::Arn { arn, .. } => (arn, stream.consumers.iter().position(|c| &c.arn == arn)),
            ConsumerRef::Name { name, .. } => (name, stream.consumers.iter().position(|c| &c.name == name)),
        };
        match found {
            Some(i) => Ok(&mut stream.consumers[i]),
            None => Err(super::consumer_not_found(ctx, &stream.name, shown)),
        }
    }
}

/// Reads `ConsumerARN`, or `StreamARN` and `ConsumerName`, validating them.
///
/// # Errors
/// `ValidationException`, `ResourceNotFoundException` for another account's or region's
/// consumer, `InvalidArgumentException` when neither way of naming a consumer is complete.
fn consumer_ref(ctx: &Ctx<'_>, input: &Value) -> AwsResult<ConsumerRef> {
    let mut v = Violations::default();
    let consumer_arn = input::string(input, "ConsumerARN")?;
    let consumer_name = input::string(input, "ConsumerName")?;
    let stream_arn = input::string(input, "StreamARN")?;
    v.text("ConsumerARN", consumer_arn, false, (1, 2048), None);
    v.text(
        "ConsumerName",
        consumer_name,
        false,
        (1, 128),
        Some(input::STREAM_NAME),
    );
    v.text("StreamARN", stream_arn, false, (1, 2048), None);
    let parsed = consumer_arn.map(|a| (a, super::parse_consumer_arn(a)));
    if let Some((arn, None)) = parsed {
        v.add(
            &format!("'{arn}'"),
            "ConsumerARN",
            &format!("Member must satisfy regular expression pattern: {CONSUMER_ARN_PATTERN}"),
        );
    }
    if let Some((arn, Some((account, region, stream, _)))) = parsed {
        v.finish()?;
        if account != ctx.account() || region != ctx.region() {
            return Err(AwsError::new(
                "ResourceNotFoundException",
                format!("Stream {stream} under account {account} not found."),
            ));
        }
        return Ok(ConsumerRef::Arn {
            stream,
            arn: arn.to_owned(),
        });
    }
    match (stream_arn.is_some(), consumer_name) {
        (true, Some(name)) => {
            let stream = stream_of_arn(ctx, input, v)?;
            Ok(ConsumerRef::Name {
                stream,
                name: name.to_owned(),
            })
        }
        _ => {
            v.finish()?;
            Err(AwsError::new(
                "InvalidArgumentException",
                "Either ConsumerARN or both ConsumerName and StreamARN should be provided.",
            ))
        }
    }
}

/// The optional `Tags` of RegisterStreamConsumer: 1–200 entries.
fn registration_tags(input: &Value, v: &mut Violations) -> AwsResult<Vec<(String, String)>> {
    let tags = input::string_map(input, "Tags")?;
    match &tags {
        Some(t) if t.is_empty() => v.add(
            "'{}'",
            "Tags",
            "Member must have length greater than or equal to 1",
        ),
        Some(t) if t.len() > MAX_TAGS => v.add(
            "'{...}'",
            "Tags",
            &format!("Member must have length less than or equal to {MAX_TAGS}"),
        ),
        Some(t) => {
            for (key, value) in t {
                v.text("Tags.key", Some(key), true, (1, 128), None);
                v.text("Tags.value", Some(value), true, (0, 256), None);
            }
        }
        None => {}
    }
    Ok(tags.unwrap_or_default())
}

/// AWS's quotas on RegisterStreamConsumer (20 consumers, 5 of them `CREATING`), and its
/// refusal of a name in use. The codes are AWS's; no recording has the wording, so it is ours.
fn check_can_register(ctx: &Ctx<'_>, stream: &Stream, name: &str) -> AwsResult<()> {
    if stream.consumers.iter().any(|c| c.name == name) {
        return Err(AwsError::new(
            "ResourceInUseException",
            format!(
                "Consumer {name} under stream {} under account {} already exists.",
                stream.name,
                ctx.account()
            ),
        ));
    }
    if stream.consumers.len() >= MAX_CONSUMERS {
        return Err(AwsError::new(
            "LimitExceededException",
            format!(
                "Consumer limit of {MAX_CONSUMERS} reached for stream {} under account {}.",
                stream.name,
                ctx.account()
            ),
        ));
    }
    let creating = stream
        .consumers
        .iter()
        .filter(|c| c.status_at(ctx.now_ms) == super::model::CREATING)
        .count();
    if creating >= MAX_CREATING {
        return Err(AwsError::new(
            "LimitExceededException",
            format!("At most {MAX_CREATING} consumers can be in the CREATING state at the same time."),
        ));
    }
    Ok(())
}

/// RegisterStreamConsumer: the consumer is `CREATING`, its ARN stamped with the second it was
/// registered (so a re-registered name gets a new ARN, as AWS's do).
pub(super) fn register_stream_consumer(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let name = input::string(input, "ConsumerName")?;
    v.text("ConsumerName", name, true, (1, 128), Some(input::STREAM_NAME));
    let tags = registration_tags(input, &mut v)?;
    let stream_name = stream_of_arn(ctx, input, v)?;
    let name = name.unwrap_or_default().to_owned();
    if let Some(err) = tags
        .iter()
        .find_map(|(k, v)| super::tags::invalid_tag_chars(k, v))
    {
        return Err(err);
    }
    let consumer = ctx.store.write(|txn| {
        let mut stream = load_active_stream(txn, ctx, &stream_name)?;
        check_can_register(ctx, &stream, &name)?;
        let consumer = Consumer {
            arn: format!("{}/consumer/{name}:{}", stream.arn, ctx.now_ms / 1000),
            name: name.clone(),
            created_ms: ctx.now_ms,
            ready_at_ms: ctx.after(ctx.config.profile.stream_ready_ms),
            gone_at_ms: None,
            tags: tags.into_iter().collect(),
            policy: None,
        };
        stream.consumers.push(consumer.clone());
        save_stream(txn, ctx, &stream)?;
        Ok::<Consumer, AwsError>(consumer)
    })?;
    Ok(json!({ "Consumer": to_wire(&consumer, ctx.now_ms) }))
}

/// DescribeStreamConsumer.
pub(super) fn describe_stream_consumer(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let which = consumer_ref(ctx, input)?;
    let mut stream = ctx.store.read(|txn| load_stream(txn, ctx, which.stream()))?;
    let stream_arn = stream.arn.clone();
    let consumer = which.find(ctx, &mut stream)?;
    let mut description = to_wire(consumer, ctx.now_ms);
    description["StreamARN"] = stream_arn.into();
    Ok(json!({ "ConsumerDescription": description }))
}

/// ListStreamConsumers: in registration order, `MaxResults` (1–10000, default 100) at a time.
pub(super) fn list_stream_consumers(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let mut v = Violations::default();
    let max = input::integer(input, "MaxResults")?;
    let token = input::string(input, "NextToken")?;
    v.range("MaxResults", max, false, (1, 10_000));
    v.text("NextToken", token, false, (1, 1_048_576), None);
    let stream_name = stream_of_arn(ctx, input, v)?;
    let skip = match token {
        Some(t) => super::streams::decode_token(t)?
            .get("skip")
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0),
        None => 0,
    };
    let max = usize::try_from(max.unwrap_or(100)).unwrap_or(100);
    let stream = ctx.store.read(|txn| load_stream(txn, ctx, &stream_name))?;
    let rest: Vec<&Consumer> = stream.consumers.iter().skip(skip).collect();
    let mut out = json!({
        "Consumers": rest.iter().take(max).map(|c| to_wire(c, ctx.now_ms)).collect::<Vec<_>>(),
    });
    if rest.len() > max {
        out["NextToken"] = super::streams::encode_token(&json!({ "skip": skip + max })).into();
    }
    Ok(out)
}

/// DeregisterStreamConsumer: the consumer is `DELETING` for the profile's `stream_delete_ms`,
/// then gone (deregistering it again meanwhile changes nothing).
pub(super) fn deregister_stream_consumer(ctx: &Ctx<'_>, input: &Value) -> AwsResult<Value> {
    let which = consumer_ref(ctx, input)?;
    ctx.store.write(|txn| {
        let mut stream = load_stream(txn, ctx, which.stream())?;
        let consumer = which.find(ctx, &mut stream)?;
        if consumer.gone_at_ms.is_none() {
            consumer.gone_at_ms = Some(ctx.after(ctx.config.profile.stream_delete_ms));
        }
        save_stream(txn, ctx, &stream)
    })?;
    Ok(json!({}))
}
