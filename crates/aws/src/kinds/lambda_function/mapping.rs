//! The trigger: the function's Kinesis event source mapping, an AWS resource of its own
//! (found by function and stream, its fields read back, created, updated in place, and
//! deleted with waits for its asynchronous states).

use super::*;

pub(super) fn is_kinesis(m: &EventSourceMappingConfiguration) -> bool {
    m.event_source_arn().is_some_and(|a| a.contains(":kinesis:"))
}

/// The function's mappings (of `source` only, when given), every page.
pub(super) async fn list_mappings(
    aws: &Aws,
    function: &str,
    source: Option<&str>,
) -> Result<Vec<EventSourceMappingConfiguration>, ProviderError> {
    let lambda = &aws.clients.lambda;
    let listed = aws
        .list_all(
            "ListEventSourceMappings",
            |marker| {
                lambda
                    .list_event_source_mappings()
                    .function_name(function)
                    .set_event_source_arn(source.map(str::to_owned))
                    .set_marker(marker)
                    .send()
            },
            |page| (page.event_source_mappings.unwrap_or_default(), page.next_marker),
        )
        .await;
    match listed {
        Ok(mappings) => Ok(mappings),
        // No such function: no mappings.
        Err(e) if e.is(ErrorKind::NotFound) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// The function's Kinesis mapping: the one reading `stream` when known, else the only (or
/// oldest) one. Mappings being deleted do not count.
pub(super) async fn find_mapping(
    aws: &Aws,
    function: &str,
    stream: Option<&str>,
) -> Result<Option<EventSourceMappingConfiguration>, ProviderError> {
    let mappings: Vec<EventSourceMappingConfiguration> = list_mappings(aws, function, None)
        .await?
        .into_iter()
        .filter(|m| is_kinesis(m) && m.state() != Some("Deleting"))
        .collect();
    let exact = stream.and_then(|s| mappings.iter().find(|m| m.event_source_arn() == Some(s)));
    Ok(exact.or_else(|| mappings.first()).cloned())
}

/// A mapping's fields, in the keys and forms of [`desired`].
pub(super) fn mapping_fields(m: &EventSourceMappingConfiguration, f: &mut Fields) {
    let mut set = |k: &str, v: String| f.insert(format!("trigger.{k}"), v);
    set("stream", m.event_source_arn().unwrap_or_default().to_owned());
    if let Some(p) = m.starting_position() {
        set("starting_position", p.as_str().to_owned());
    }
    set("batch_size", m.batch_size().unwrap_or(100).to_string());
    set(
        "batching_window_s",
        m.maximum_batching_window_in_seconds().unwrap_or(0).to_string(),
    );
    set(
        "bisect_on_error",
        m.bisect_batch_on_function_error().unwrap_or(false).to_string(),
    );
    set(
        "max_retries",
        m.maximum_retry_attempts().unwrap_or(-1).to_string(),
    );
    set(
        "max_record_age_s",
        m.maximum_record_age_in_seconds().unwrap_or(-1).to_string(),
    );
    set(
        "report_batch_item_failures",
        m.function_response_types()
            .contains(&FunctionResponseType::ReportBatchItemFailures)
            .to_string(),
    );
    set(
        "parallelization_factor",
        m.parallelization_factor().unwrap_or(1).to_string(),
    );
    // A mapping has no `Enabled` member: its state says it (a transition reads as enabled
    // unless it is heading to Disabled).
    let disabled = matches!(m.state(), Some("Disabled" | "Disabling"));
    set("enabled", (!disabled).to_string());
    if let Some(d) = m
        .destination_config()
        .and_then(DestinationConfig::on_failure)
        .and_then(OnFailure::destination)
        .filter(|d| !d.is_empty())
    {
        set("on_failure", d.to_owned());
    }
}

pub(super) fn destination(on_failure: Option<&str>) -> DestinationConfig {
    DestinationConfig::builder()
        .on_failure(
            OnFailure::builder()
                .set_destination(on_failure.map(str::to_owned))
                .build(),
        )
        .build()
}

/// Creates the mapping of this function to the trigger's stream, or adopts the one that
/// exists (Lambda allows one per function and stream) and updates it; waits until it is
/// Enabled (Disabled when so declared). Its UUID.
pub(super) async fn ensure_mapping(
    aws: &Aws,
    r: &Resource,
    spec: &LambdaFunction,
    t: &CheckedTrigger,
    refs: &Resolver,
) -> Result<String, ProviderError> {
    let lambda = &aws.clients.lambda;
    let stream = known(refs, &t.stream)?;
    let on_failure = t.on_failure.as_ref().map(|d| known(refs, d)).transpose()?;
    let tags: HashMap<String, String> = aws.tags_for(r, &spec.tags).into_iter().collect();
    // A mapping being deleted still counts as existing: wait for it once, then create again.
    for _ in 0..2 {
        // "Cannot access stream" (role propagation) is retried by the call wrapper.
        let created = aws
            .call("CreateEventSourceMapping", || {
                lambda
                    .create_event_source_mapping()
                    .function_name(&spec.name)
                    .event_source_arn(&stream)
                    .starting_position(EventSourcePosition::from(position_name(t.starting_position)))
                    .set_starting_position_timestamp(t.starting_position_timestamp.map(DateTime::from_secs))
                    .batch_size(to_i32(t.batch_size))
                    .maximum_batching_window_in_seconds(to_i32(t.batching_window_s))
                    .bisect_batch_on_function_error(t.bisect_on_error)
                    .maximum_retry_attempts(t.max_retries)
                    .maximum_record_age_in_seconds(t.max_record_age_s)
                    .set_function_response_types(
                        t.report_batch_item_failures
                            .then(|| vec![FunctionResponseType::ReportBatchItemFailures]),
                    )
                    .parallelization_factor(to_i32(t.parallelization_factor))
                    .enabled(t.enabled)
                    .set_destination_config(on_failure.as_deref().map(|d| destination(Some(d))))
                    .set_tags(Some(tags.clone()))
                    .send()
            })
            .await;
        let uuid = match created {
            Ok(m) => m.uuid().map(str::to_owned).ok_or_else(|| {
                crate::call::error(
                    "CreateEventSourceMapping",
                    "NoUuid",
                    "the new mapping has no UUID",
                )
            })?,
            Err(e) if e.is(ErrorKind::AlreadyExists) => {
                let found = list_mappings(aws, &spec.name, Some(&stream))
                    .await?
                    .into_iter()
                    .find_map(|m| m.uuid().map(str::to_owned))
                    .or_else(|| uuid_in(&e.message));
                let Some(uuid) = found else {
                    return Err(e);
                };
                // Adopt it: it maps our function, so it is ours to bring in line.
                if !update_mapping(aws, &uuid, t, refs, true).await? {
                    // It was being deleted: now gone, create ours.
                    continue;
                }
                uuid
            }
            Err(e) => return Err(e),
        };
        wait_mapping(aws, &uuid, t.enabled).await?;
        return Ok(uuid);
    }
    Err(crate::call::error(
        "CreateEventSourceMapping",
        "ResourceConflictException",
        format!("a mapping of {} to {stream} keeps reappearing", spec.name),
    )
    .kind(ErrorKind::Conflict)
    .hint("another process is managing this function's trigger; run again"))
}

/// The UUID in Lambda's "… the existing mapping with UUID <uuid>" message.
pub(super) fn uuid_in(message: &str) -> Option<String> {
    let rest = &message[message.rfind("UUID ")? + 5..];
    let uuid: String = rest
        .chars()
        .take_while(|c| c.is_ascii_hexdigit() || *c == '-')
        .collect();
    (uuid.len() == 36).then_some(uuid)
}

/// Brings mapping `uuid` to the trigger's settings (all but stream and starting position,
/// which a mapping cannot change) and waits until it settles. `false` when the mapping is
/// gone or being deleted (it is then waited out).
pub(super) async fn update_mapping(
    aws: &Aws,
    uuid: &str,
    t: &CheckedTrigger,
    refs: &Resolver,
    clear_destination: bool,
) -> Result<bool, ProviderError> {
    let lambda = &aws.clients.lambda;
    let on_failure = t.on_failure.as_ref().map(|d| known(refs, d)).transpose()?;
    // Lambda refuses to change a mapping in transition (ResourceInUseException).
    match settled_state(aws, uuid).await? {
        None => return Ok(false),
        Some(state) if state == "Deleting" => {
            wait_mapping_gone(aws, uuid).await?;
            return Ok(false);
        }
        Some(_) => {}
    }
    // Without a destination, `OnFailure: {}` removes one that was set; sent only then.
    let destination_config = match on_failure.as_deref() {
        Some(d) => Some(destination(Some(d))),
        None if clear_destination => Some(destination(None)),
        None => None,
    };
    let response_types = if t.report_batch_item_failures {
        vec![FunctionResponseType::ReportBatchItemFailures]
    } else {
        Vec::new()
    };
    aws.call("UpdateEventSourceMapping", || {
        lambda
            .update_event_source_mapping()
            .uuid(uuid)
            .batch_size(to_i32(t.batch_size))
            .maximum_batching_window_in_seconds(to_i32(t.batching_window_s))
            .bisect_batch_on_function_error(t.bisect_on_error)
            .maximum_retry_attempts(t.max_retries)
            .maximum_record_age_in_seconds(t.max_record_age_s)
            .set_function_response_types(Some(response_types.clone()))
            .parallelization_factor(to_i32(t.parallelization_factor))
            .enabled(t.enabled)
            .set_destination_config(destination_config.clone())
            .send()
    })
    .await?;
    wait_mapping(aws, uuid, t.enabled).await?;
    Ok(true)
}

/// Waits until mapping `uuid` is out of transition: its state (`Enabled`, `Disabled`,
/// `Deleting`), or `None` when it does not exist.
pub(super) async fn settled_state(aws: &Aws, uuid: &str) -> Result<Option<String>, ProviderError> {
    let lambda = &aws.clients.lambda;
    aws.wait_for("event source mapping settled", || async {
        match aws
            .call("GetEventSourceMapping", || {
                lambda.get_event_source_mapping().uuid(uuid).send()
            })
            .await
        {
            Ok(m) => match m.state() {
                Some(s @ ("Enabled" | "Disabled" | "Deleting")) => Ok(Some(Some(s.to_owned()))),
                _ => Ok(None),
            },
            Err(e) if e.is(ErrorKind::NotFound) => Ok(Some(None)),
            Err(e) => Err(e),
        }
    })
    .await
}

/// Waits until mapping `uuid` is Enabled (Disabled when `enabled` is false).
pub(super) async fn wait_mapping(aws: &Aws, uuid: &str, enabled: bool) -> Result<(), ProviderError> {
    let lambda = &aws.clients.lambda;
    let want = if enabled { "Enabled" } else { "Disabled" };
    aws.wait_for(&format!("event source mapping {uuid} {want}"), || async {
        let m = aws
            .call("GetEventSourceMapping", || {
                lambda.get_event_source_mapping().uuid(uuid).send()
            })
            .await?;
        Ok((m.state() == Some(want)).then_some(()))
    })
    .await
}

/// Deletes mapping `uuid` and waits until it is gone.
pub(super) async fn delete_mapping(aws: &Aws, uuid: &str) -> Result<(), ProviderError> {
    let lambda = &aws.clients.lambda;
    match settled_state(aws, uuid).await? {
        None => return Ok(()),
        Some(state) if state == "Deleting" => {}
        Some(_) => {
            match aws
                .call("DeleteEventSourceMapping", || {
                    lambda.delete_event_source_mapping().uuid(uuid).send()
                })
                .await
            {
                Ok(_) => {}
                Err(e) if e.is(ErrorKind::NotFound) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }
    wait_mapping_gone(aws, uuid).await
}

pub(super) async fn wait_mapping_gone(aws: &Aws, uuid: &str) -> Result<(), ProviderError> {
    let lambda = &aws.clients.lambda;
    aws.wait_for("event source mapping deleted", || async {
        match aws
            .call("GetEventSourceMapping", || {
                lambda.get_event_source_mapping().uuid(uuid).send()
            })
            .await
        {
            Ok(_) => Ok(None),
            Err(e) if e.is(ErrorKind::NotFound) => Ok(Some(())),
            Err(e) => Err(e),
        }
    })
    .await
}
