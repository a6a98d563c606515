//! Reading what exists: the API, its resources and methods, stages, usage plans and keys.

use super::*;

/// Every REST API named `name`, ours first.
pub(super) async fn find_apis(aws: &Aws, r: &Resource, name: &str) -> Result<Vec<(SdkRestApi, bool)>, ProviderError> {
    let client = &aws.clients.apigateway;
    let items = aws
        .list_all(
            "apigateway:GetRestApis",
            |position| {
                client
                    .get_rest_apis()
                    .limit(500)
                    .set_position(position)
                    .send()
            },
            |page| (page.items.unwrap_or_default(), page.position),
        )
        .await?;
    let mut found: Vec<(SdkRestApi, bool)> = items
        .into_iter()
        .filter(|api| api.name() == Some(name))
        .map(|api| {
            let owned = aws.owns(r, &tags_of(api.tags()));
            (api, owned)
        })
        .collect();
    // Ours first, then the oldest: a duplicate left by a lost CreateRestApi response is not
    // preferred over the API the stack has been using.
    found.sort_by(|(a, a_owned), (b, b_owned)| {
        b_owned
            .cmp(a_owned)
            .then_with(|| a.created_date().cmp(&b.created_date()))
    });
    Ok(found)
}

pub(super) async fn get_resources(aws: &Aws, api_id: &str) -> Result<Vec<SdkResource>, ProviderError> {
    let client = &aws.clients.apigateway;
    let send = |position| {
        client
            .get_resources()
            .rest_api_id(api_id)
            .embed("methods")
            .limit(500)
            .set_position(position)
            .send()
    };
    aws.list_all("apigateway:GetResources", send, |page| {
        (page.items.unwrap_or_default(), page.position)
    })
    .await
}

/// Every method of the API by `(path, METHOD)`, with its resource id, and every resource's id
/// by path.
pub(super) async fn read_methods(
    aws: &Aws,
    api_id: &str,
) -> Result<(BTreeMap<RouteKey, RouteDef>, BTreeMap<String, String>), ProviderError> {
    let client = &aws.clients.apigateway;
    let mut methods = BTreeMap::new();
    let mut ids = BTreeMap::new();
    for res in get_resources(aws, api_id).await? {
        let (Some(id), Some(path)) = (res.id(), res.path()) else {
            continue;
        };
        ids.insert(path.to_owned(), id.to_owned());
        for (name, m) in res.resource_methods().into_iter().flatten() {
            let def = if m.http_method().is_some() {
                sdk_method_def(m)
            } else {
                // Not embedded (an endpoint that ignores `embed`): read the method itself.
                let full = aws
                    .call("apigateway:GetMethod", || {
                        client
                            .get_method()
                            .rest_api_id(api_id)
                            .resource_id(id)
                            .http_method(name)
                            .send()
                    })
                    .await?;
                observed_def(
                    full.authorization_type(),
                    full.api_key_required(),
                    full.request_parameters(),
                    full.method_responses(),
                    full.method_integration(),
                )
            };
            methods.insert((path.to_owned(), name.clone()), def);
        }
    }
    Ok((methods, ids))
}

pub(super) async fn get_stages(aws: &Aws, api_id: &str) -> Result<Vec<Stage>, ProviderError> {
    let client = &aws.clients.apigateway;
    let out = aws
        .call("apigateway:GetStages", || {
            client.get_stages().rest_api_id(api_id).send()
        })
        .await?;
    Ok(out.item().to_vec())
}

/// The definition hash the stage's deployment was made from, if it was made by us.
pub(super) async fn deployed_hash(aws: &Aws, api_id: &str, stage: &Stage) -> Result<Option<String>, ProviderError> {
    let Some(deployment_id) = stage.deployment_id() else {
        return Ok(None);
    };
    let client = &aws.clients.apigateway;
    let deployment = match aws
        .call("apigateway:GetDeployment", || {
            client
                .get_deployment()
                .rest_api_id(api_id)
                .deployment_id(deployment_id)
                .send()
        })
        .await
    {
        Ok(d) => d,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(Some(
        deployment
            .description()
            .and_then(|d| d.strip_prefix(DEPLOYMENT_PREFIX))
            .map_or_else(|| "(not deployed by personalize-stack)".to_owned(), str::to_owned),
    ))
}

/// Usage plans carrying our tags, the one named as declared first.
pub(super) async fn our_plans(aws: &Aws, r: &Resource, spec: &RestApi) -> Result<Vec<UsagePlan>, ProviderError> {
    let client = &aws.clients.apigateway;
    let items = aws
        .list_all(
            "apigateway:GetUsagePlans",
            |position| {
                client
                    .get_usage_plans()
                    .limit(500)
                    .set_position(position)
                    .send()
            },
            |page| (page.items.unwrap_or_default(), page.position),
        )
        .await?;
    let mut out: Vec<UsagePlan> = items
        .into_iter()
        .filter(|p| aws.owns(r, &tags_of(p.tags())))
        .collect();
    let wanted = spec.usage_plan.as_ref().map(|p| p.name.as_str());
    out.sort_by_key(|p| p.name() != wanted);
    Ok(out)
}

/// API keys named `<api>-key` carrying our tags, with their values; enabled ones first.
pub(super) async fn our_keys(aws: &Aws, r: &Resource, spec: &RestApi) -> Result<Vec<ApiKey>, ProviderError> {
    let client = &aws.clients.apigateway;
    let name = key_name(spec);
    let items = aws
        .list_all(
            "apigateway:GetApiKeys",
            |position| {
                client
                    .get_api_keys()
                    .name_query(&name)
                    .include_values(true)
                    .limit(500)
                    .set_position(position)
                    .send()
            },
            |page| (page.items.unwrap_or_default(), page.position),
        )
        .await?;
    let mut out: Vec<ApiKey> = items
        .into_iter()
        .filter(|k| k.name() == Some(name.as_str()) && aws.owns(r, &tags_of(k.tags())))
        .collect();
    out.sort_by_key(|k| !k.enabled());
    Ok(out)
}

/// `(key id, key name)` of every key in the plan.
pub(super) async fn plan_keys(aws: &Aws, plan_id: &str) -> Result<Vec<(String, String)>, ProviderError> {
    let client = &aws.clients.apigateway;
    let items = aws
        .list_all(
            "apigateway:GetUsagePlanKeys",
            |position| {
                client
                    .get_usage_plan_keys()
                    .usage_plan_id(plan_id)
                    .limit(500)
                    .set_position(position)
                    .send()
            },
            |page| (page.items.unwrap_or_default(), page.position),
        )
        .await?;
    let out: Vec<(String, String)> = items
        .into_iter()
        .filter_map(|k| Some((k.id?, k.name.unwrap_or_default())))
        .collect();
    Ok(out)
}
