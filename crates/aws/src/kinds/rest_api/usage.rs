//! Converging the usage plan, the API key and the key's membership in the plan; removing
//! them on delete.

use super::*;

/// The usage plan on the stage, the API key, and the key in the plan; or none of them when
/// the stack requires no key. The key when there is one.
pub(super) async fn converge_usage(
    aws: &Aws,
    r: &Resource,
    spec: &RestApi,
    api_id: &str,
) -> Result<Option<ApiKey>, ProviderError> {
    let Some(want) = spec.usage_plan.as_ref().filter(|_| spec.api_key_required) else {
        remove_usage(aws, r, spec).await?;
        return Ok(None);
    };
    let client = &aws.clients.apigateway;
    let plans = our_plans(aws, r, spec).await?;
    let plan_id = match plans.first() {
        None => {
            let tags: HashMap<String, String> = aws.tags_for(r, &spec.tags).into_iter().collect();
            let throttle = want.throttle.map(|(rate, burst)| {
                ThrottleSettings::builder()
                    .rate_limit(rate)
                    .burst_limit(i32::try_from(burst).unwrap_or(i32::MAX))
                    .build()
            });
            let quota = want.quota.map(|(limit, period, offset)| {
                QuotaSettings::builder()
                    .limit(i32::try_from(limit).unwrap_or(i32::MAX))
                    .period(QuotaPeriodType::from(period_str(period)))
                    .offset(i32::try_from(offset).unwrap_or(0))
                    .build()
            });
            let stage = ApiStage::builder().api_id(api_id).stage(&spec.stage).build();
            // After the deployment: a plan naming a stage that does not exist yet is refused
            // ("Invalid stage identifier specified"; the call wrapper retries that message).
            let created = aws
                .call("apigateway:CreateUsagePlan", || {
                    client
                        .create_usage_plan()
                        .name(&want.name)
                        .api_stages(stage.clone())
                        .set_throttle(throttle.clone())
                        .set_quota(quota.clone())
                        .set_tags(Some(tags.clone()))
                        .send()
                })
                .await?;
            created.id().unwrap_or_default().to_owned()
        }
        Some(plan) => {
            let plan_id = plan.id().unwrap_or_default().to_owned();
            let ops = usage_plan_ops(plan, want, api_id, &spec.stage);
            // One call for every change: AWS allows one UpdateUsagePlan per 20 s.
            if !ops.is_empty() {
                aws.call("apigateway:UpdateUsagePlan", || {
                    client
                        .update_usage_plan()
                        .usage_plan_id(&plan_id)
                        .set_patch_operations(Some(ops.clone()))
                        .send()
                })
                .await?;
            }
            plan_id
        }
    };
    // Extra plans of ours (a duplicate from an interrupted run) would give the key two plans
    // on one stage, which AWS refuses.
    for extra in plans.iter().skip(1) {
        remove_plan(aws, extra).await?;
    }

    let keys = our_keys(aws, r, spec).await?;
    let key = match keys.first() {
        Some(k) if k.enabled() => k.clone(),
        Some(k) => {
            let id = k.id().unwrap_or_default().to_owned();
            aws.call("apigateway:UpdateApiKey", || {
                client
                    .update_api_key()
                    .api_key(&id)
                    .patch_operations(patch(Op::Replace, "/enabled", Some("true".into())))
                    .send()
            })
            .await?;
            k.clone()
        }
        None => {
            let tags: HashMap<String, String> = aws.tags_for(r, &spec.tags).into_iter().collect();
            let name = key_name(spec);
            let created = aws
                .call("apigateway:CreateApiKey", || {
                    client
                        .create_api_key()
                        .name(&name)
                        .description(format!("API key of {}", spec.name))
                        .enabled(true)
                        .set_tags(Some(tags.clone()))
                        .send()
                })
                .await?;
            ApiKey::builder()
                .set_id(created.id().map(str::to_owned))
                .set_value(created.value().map(str::to_owned))
                .set_name(created.name().map(str::to_owned))
                .enabled(true)
                .build()
        }
    };
    let key_id = key.id().unwrap_or_default().to_owned();
    if !plan_keys(aws, &plan_id)
        .await?
        .iter()
        .any(|(id, _)| *id == key_id)
    {
        match aws
            .call("apigateway:CreateUsagePlanKey", || {
                client
                    .create_usage_plan_key()
                    .usage_plan_id(&plan_id)
                    .key_id(&key_id)
                    .key_type("API_KEY")
                    .send()
            })
            .await
        {
            Ok(_) => {}
            // Already in the plan (added since we looked) is what we want; any other conflict
            // (the key in another plan of the same stage) is a real error.
            Err(e) if e.is(ErrorKind::Conflict) => {
                if !plan_keys(aws, &plan_id)
                    .await?
                    .iter()
                    .any(|(id, _)| *id == key_id)
                {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(Some(key))
}

pub(super) fn usage_plan_ops(
    plan: &UsagePlan,
    want: &personalize_stack_core::spec::kinds::rest_api::CheckedUsagePlan,
    api_id: &str,
    stage: &str,
) -> Vec<PatchOperation> {
    let mut ops = Vec::new();
    if plan.name() != Some(want.name.as_str()) {
        ops.push(patch(Op::Replace, "/name", Some(want.name.clone())));
    }
    match (want.throttle, plan.throttle()) {
        (Some((rate, burst)), have) => {
            if have.map(|t| rate_str(t.rate_limit())) != Some(rate_str(rate)) {
                ops.push(patch(Op::Replace, "/throttle/rateLimit", Some(rate_str(rate))));
            }
            if have.map(ThrottleSettings::burst_limit) != i32::try_from(burst).ok() {
                ops.push(patch(
                    Op::Replace,
                    "/throttle/burstLimit",
                    Some(burst.to_string()),
                ));
            }
        }
        (None, Some(_)) => ops.push(patch(Op::Remove, "/throttle", None)),
        (None, None) => {}
    }
    match (want.quota, plan.quota()) {
        (Some((limit, period, offset)), have) => {
            if have.map(QuotaSettings::limit) != i32::try_from(limit).ok() {
                ops.push(patch(Op::Replace, "/quota/limit", Some(limit.to_string())));
            }
            if have.and_then(|q| q.period()).map(QuotaPeriodType::as_str) != Some(period_str(period)) {
                ops.push(patch(
                    Op::Replace,
                    "/quota/period",
                    Some(period_str(period).into()),
                ));
            }
            if have.map(QuotaSettings::offset) != i32::try_from(offset).ok() {
                ops.push(patch(Op::Replace, "/quota/offset", Some(offset.to_string())));
            }
        }
        (None, Some(_)) => ops.push(patch(Op::Remove, "/quota", None)),
        (None, None) => {}
    }
    let ours: Vec<&str> = plan
        .api_stages()
        .iter()
        .filter(|s| s.api_id() == Some(api_id))
        .filter_map(ApiStage::stage)
        .collect();
    if !ours.contains(&stage) {
        ops.push(patch(Op::Add, "/apiStages", Some(format!("{api_id}:{stage}"))));
    }
    for other in ours.iter().filter(|s| **s != stage) {
        ops.push(patch(Op::Remove, "/apiStages", Some(format!("{api_id}:{other}"))));
    }
    ops
}

/// Removes a usage plan of ours: its keys, its stages (AWS refuses to delete a plan that has
/// any), then the plan.
pub(super) async fn remove_plan(aws: &Aws, plan: &UsagePlan) -> Result<(), ProviderError> {
    let client = &aws.clients.apigateway;
    let Some(plan_id) = plan.id() else {
        return Ok(());
    };
    let members = match plan_keys(aws, plan_id).await {
        Ok(m) => m,
        Err(e) if is_not_found(&e) => return Ok(()),
        Err(e) => return Err(e),
    };
    for (key_id, _) in &members {
        gone_ok(
            aws.call("apigateway:DeleteUsagePlanKey", || {
                client
                    .delete_usage_plan_key()
                    .usage_plan_id(plan_id)
                    .key_id(key_id)
                    .send()
            })
            .await,
        )?;
    }
    let ops: Vec<PatchOperation> = plan
        .api_stages()
        .iter()
        .filter_map(|s| Some(format!("{}:{}", s.api_id()?, s.stage()?)))
        .map(|v| patch(Op::Remove, "/apiStages", Some(v)))
        .collect();
    if !ops.is_empty() {
        gone_ok(
            aws.call("apigateway:UpdateUsagePlan", || {
                client
                    .update_usage_plan()
                    .usage_plan_id(plan_id)
                    .set_patch_operations(Some(ops.clone()))
                    .send()
            })
            .await,
        )?;
    }
    gone_ok(
        aws.call("apigateway:DeleteUsagePlan", || {
            client.delete_usage_plan().usage_plan_id(plan_id).send()
        })
        .await,
    )
}

/// Deletes every usage plan and API key of ours.
pub(super) async fn remove_usage(aws: &Aws, r: &Resource, spec: &RestApi) -> Result<(), ProviderError> {
    for plan in our_plans(aws, r, spec).await? {
        remove_plan(aws, &plan).await?;
    }
    let client = &aws.clients.apigateway;
    for key in our_keys(aws, r, spec).await? {
        let Some(id) = key.id() else { continue };
        gone_ok(
            aws.call("apigateway:DeleteApiKey", || {
                client.delete_api_key().api_key(id).send()
            })
            .await,
        )?;
    }
    Ok(())
}
