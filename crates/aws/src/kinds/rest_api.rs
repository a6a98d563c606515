//! `rest_api`: an API Gateway REST API with its resources, methods, integrations, responses,
//! CORS preflight methods, the stage (through deployments), and the API key in its usage plan.
//!
//! # Finding it
//! The API is found by name (GetRestApis); among several with that name, the one carrying our
//! ownership tags wins. Its sub-objects are found as follows:
//! - the stage by the stack's stage name (GetStages: GetStage's "Invalid stage identifier
//!   specified" is a message the call wrapper retries as IAM propagation, so a missing stage is
//!   read from the list instead);
//! - the usage plan and the API key by our ownership tags (same stack, same logical resource):
//!   the plan among GetUsagePlans (preferring the declared name), the key among the keys
//!   named `<api name>-key` (GetApiKeys `nameQuery`). Plans and keys without our tags are
//!   never changed or deleted.
//!
//! # Fields
//! `name`, `description` (when declared), `endpoint`, `binary_media_types`, `tags.<key>`,
//! `stage`, `stage.variables.<name>`, `api_key_required`, `usage_plan.{name, api_stages,
//! api_key, throttle.rate_limit, throttle.burst_limit, quota.limit, quota.period,
//! quota.offset}`, one `route.<METHOD> <path>` per method (its whole definition as canonical
//! JSON: method settings, integration, integration and method responses; the CORS `OPTIONS`
//! methods included) and `deployment`: a hash of the definition the stage should serve.
//! Observed, `deployment` is the hash written into the description of the deployment the stage
//! points at (`personalize-stack:<hash>`), so an edit of a route shows both the route's change
//! and `deployment: <old> → <new>`: API Gateway serves nothing new until a new deployment
//! (aws-facts §0 fact 6).
//!
//! # Converging
//! Create makes the bare API and then runs the same convergence as update, which compares the
//! live API with the stack afresh and fixes only what differs: a half-built API (a create killed
//! part-way) is observed as ours next run and completed. Order (DESIGN.md §5): API settings →
//! undeclared methods and resources deleted → missing resources → methods, integrations,
//! responses → a new deployment when the hash differs (this creates the stage) → stage variables
//! → usage plan (needs the stage) → API key → the key in the plan → stray stages deleted.

use super::{Cx, ResourceKind};
use crate::call::Absent as _;
use crate::Aws;
use aws_sdk_apigateway::types::{
    ApiKey, ApiStage, EndpointConfiguration, EndpointType as SdkEndpointType, IntegrationType,
    Method as SdkMethod, MethodResponse as SdkMethodResponse, Op, PatchOperation, QuotaPeriodType,
    QuotaSettings, Resource as SdkResource, RestApi as SdkRestApi, Stage, ThrottleSettings, UsagePlan,
};
use personalize_stack_core::engine::{
    Attrs, Desired, ErrorKind, FieldChange, Fields, Observed, ProviderError, Resolver,
};
use personalize_stack_core::spec::Resource;
use personalize_stack_core::spec::kinds::rest_api::{
    CheckedRoute, DEFAULT_CORS_HEADERS, EndpointType, HttpMethod, Integration, Passthrough, QuotaPeriod,
    RestApi,
};
use personalize_stack_core::spec::text::Text;
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Written before the definition's hash in each deployment's description.
const DEPLOYMENT_PREFIX: &str = "personalize-stack:";

/// The request template of a CORS preflight's mock integration, as the console writes it.
const CORS_MOCK_TEMPLATE: &str = "{\"statusCode\": 200}";

/// Response header a non-proxy method maps for browsers when CORS is on.
const ALLOW_ORIGIN: &str = "method.response.header.Access-Control-Allow-Origin";

mod definition;
mod read;
mod routes;
mod stage;
mod usage;

use definition::*;
use read::*;
use routes::*;
use stage::*;
use usage::*;

// ---------------------------------------------------------------------------------------------
// Names, ARNs, attributes.

/// The API key's name: deterministic, so a run finds the key an earlier run created.
fn key_name(spec: &RestApi) -> String {
    format!("{}-key", spec.name)
}

fn api_arn(aws: &Aws, id: &str) -> String {
    format!("arn:aws:apigateway:{}::/restapis/{id}", aws.region)
}

fn attrs_of(aws: &Aws, spec: &RestApi, id: &str, stage: bool, key: Option<&ApiKey>) -> Attrs {
    let mut attrs = Attrs::new();
    attrs.insert("id".into(), id.to_owned());
    attrs.insert("arn".into(), api_arn(aws, id));
    attrs.insert(
        "execution_arn".into(),
        format!("arn:aws:execute-api:{}:{}:{id}", aws.region, aws.account),
    );
    attrs.insert("stage".into(), spec.stage.clone());
    if stage {
        let url = match &aws.endpoint_url {
            // The local runtime serves stages under the path LocalStack also uses.
            Some(e) => format!(
                "{}/restapis/{id}/{}/_user_request_",
                e.trim_end_matches('/'),
                spec.stage
            ),
            None => format!(
                "https://{id}.execute-api.{}.amazonaws.com/{}",
                aws.region, spec.stage
            ),
        };
        attrs.insert("url".into(), url);
    }
    if let Some(k) = key {
        if let Some(id) = k.id() {
            attrs.insert("api_key_id".into(), id.to_owned());
        }
        if let Some(v) = k.value() {
            attrs.insert("api_key".into(), v.to_owned());
        }
    }
    attrs
}

fn tags_of(m: Option<&HashMap<String, String>>) -> BTreeMap<String, String> {
    m.map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

fn is_not_found(e: &ProviderError) -> bool {
    e.is(ErrorKind::NotFound)
}

/// `Ok` when the call succeeded or the thing was already gone.
fn gone_ok<T>(r: Result<T, ProviderError>) -> Result<(), ProviderError> {
    r.or_gone()
}

fn patch(op: Op, path: impl Into<String>, value: Option<String>) -> PatchOperation {
    PatchOperation::builder()
        .op(op)
        .path(path)
        .set_value(value)
        .build()
}

/// A JSON-pointer token: `/` and `~` escaped as API Gateway's patch paths require.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

fn rate_str(rate: f64) -> String {
    format!("{rate}")
}

// ---------------------------------------------------------------------------------------------
// The provider interface.

impl ResourceKind for RestApi {
    /// Desired fields; unknown references show as "(known after apply)" inside route definitions.
    ///
    /// # Errors
    /// None in practice: references that are not known yet are shown, not refused.
    fn desired(&self, cx: &Cx<'_>) -> Result<Desired, ProviderError> {
        let Cx { aws, resource: r, refs } = *cx;
        let def = definition(aws, self, |t| Ok(refs.text(t)))?;
        let mut fields = Fields::new();
        fields.insert("name".into(), self.name.clone());
        if let Some(d) = &self.description {
            fields.insert("description".into(), d.clone());
        }
        fields.insert("endpoint".into(), endpoint_str(self.endpoint).into());
        let mut binary = self.binary_media_types.clone();
        binary.sort();
        fields.insert("binary_media_types".into(), binary.join(","));
        for (k, v) in aws.tags_for(r, &self.tags) {
            fields.insert(format!("tags.{k}"), v);
        }
        fields.insert("stage".into(), self.stage.clone());
        for (k, v) in &self.stage_variables {
            fields.insert(format!("stage.variables.{k}"), v.clone());
        }
        fields.insert("api_key_required".into(), self.api_key_required.to_string());
        if let Some(plan) = &self.usage_plan {
            fields.insert("usage_plan.name".into(), plan.name.clone());
            fields.insert("usage_plan.api_stages".into(), self.stage.clone());
            fields.insert("usage_plan.api_key".into(), key_name(self));
            if let Some((rate, burst)) = plan.throttle {
                fields.insert("usage_plan.throttle.rate_limit".into(), rate_str(rate));
                fields.insert("usage_plan.throttle.burst_limit".into(), burst.to_string());
            }
            if let Some((limit, period, offset)) = plan.quota {
                fields.insert("usage_plan.quota.limit".into(), limit.to_string());
                fields.insert("usage_plan.quota.period".into(), period_str(period).into());
                fields.insert("usage_plan.quota.offset".into(), offset.to_string());
            }
        }
        for ((path, method), d) in &def.routes {
            fields.insert(route_field(path, method), canonical(d));
        }
        fields.insert("deployment".into(), def.hash);
        Ok(Desired {
            fields,
            replace_on: BTreeMap::new(),
            ..Desired::default()
        })
    }

    /// Observes it: the API by name, then its methods, stage, deployment, usage plan and key.
    ///
    /// # Errors
    /// A read failed.
    async fn observe(&self, cx: &Cx<'_>) -> Result<Option<Observed>, ProviderError> {
        let Cx { aws, resource: r, .. } = *cx;
        let Some((api, owned)) = find_apis(aws, r, &self.name).await?.into_iter().next() else {
            return Ok(None);
        };
        let id = api.id().unwrap_or_default().to_owned();
        if !owned {
            return Ok(Some(Observed::foreign(id, Attrs::new())));
        }
        let mut fields = Fields::new();
        fields.insert("name".into(), api.name().unwrap_or_default().to_owned());
        if self.description.is_some() {
            fields.insert(
                "description".into(),
                api.description().unwrap_or_default().to_owned(),
            );
        }
        if let Some(t) = api.endpoint_configuration().and_then(|e| e.types().first()) {
            fields.insert("endpoint".into(), t.as_str().to_owned());
        }
        let mut binary = api.binary_media_types().to_vec();
        binary.sort();
        fields.insert("binary_media_types".into(), binary.join(","));
        for (k, v) in tags_of(api.tags()) {
            // AWS-reserved tags (aws:cloudformation:…) are not ours to compare or remove.
            if !k.starts_with("aws:") {
                fields.insert(format!("tags.{k}"), v);
            }
        }

        let (methods, _) = read_methods(aws, &id).await?;
        for ((path, method), d) in &methods {
            fields.insert(route_field(path, method), canonical(d));
        }

        let stages = get_stages(aws, &id).await?;
        let stage = stages
            .iter()
            .find(|s| s.stage_name() == Some(self.stage.as_str()));
        if let Some(s) = stage {
            fields.insert("stage".into(), self.stage.clone());
            for (k, v) in s.variables().into_iter().flatten() {
                fields.insert(format!("stage.variables.{k}"), v.clone());
            }
            if let Some(hash) = deployed_hash(aws, &id, s).await? {
                fields.insert("deployment".into(), hash);
            }
        } else if let Some(other) = stages.iter().find_map(Stage::stage_name) {
            // The stage was renamed in the stack: show which one exists.
            fields.insert("stage".into(), other.to_owned());
        }

        let keys = our_keys(aws, r, self).await?;
        let key = keys.first().filter(|k| k.enabled());
        fields.insert("api_key_required".into(), key.is_some().to_string());
        if let Some(plan) = our_plans(aws, r, self).await?.first() {
            fields.insert(
                "usage_plan.name".into(),
                plan.name().unwrap_or_default().to_owned(),
            );
            let mut stages: Vec<&str> = plan
                .api_stages()
                .iter()
                .filter(|s| s.api_id() == Some(id.as_str()))
                .filter_map(ApiStage::stage)
                .collect();
            stages.sort_unstable();
            fields.insert("usage_plan.api_stages".into(), stages.join(","));
            if let (Some(k), Some(plan_id)) = (key, plan.id())
                && let Some(key_id) = k.id()
                && plan_keys(aws, plan_id).await?.iter().any(|(id, _)| id == key_id)
            {
                fields.insert("usage_plan.api_key".into(), key_name(self));
            }
            if let Some(t) = plan.throttle() {
                fields.insert("usage_plan.throttle.rate_limit".into(), rate_str(t.rate_limit()));
                fields.insert(
                    "usage_plan.throttle.burst_limit".into(),
                    t.burst_limit().to_string(),
                );
            }
            if let Some(q) = plan.quota() {
                fields.insert("usage_plan.quota.limit".into(), q.limit().to_string());
                fields.insert(
                    "usage_plan.quota.period".into(),
                    q.period().map(|p| p.as_str().to_owned()).unwrap_or_default(),
                );
                fields.insert("usage_plan.quota.offset".into(), q.offset().to_string());
            }
        }
        let attrs = attrs_of(aws, self, &id, stage.is_some(), key);
        Ok(Some(Observed::ours(id, fields, attrs)))
    }

    /// Creates the API (or adopts ours if a previous run created it), then converges it.
    ///
    /// # Errors
    /// A reference is not known, or a call failed.
    async fn create(&self, cx: &Cx<'_>) -> Result<Attrs, ProviderError> {
        let Cx { aws, resource: r, refs } = *cx;
        // Check the references before creating anything.
        definition(aws, self, |t| refs.known(t).map_err(|e| Aws::unresolved(&e)))?;
        let existing = find_apis(aws, r, &self.name)
            .await?
            .into_iter()
            .find(|(_, owned)| *owned);
        let api_id = match existing.and_then(|(api, _)| api.id().map(str::to_owned)) {
            Some(id) => id,
            None => {
                let client = &aws.clients.apigateway;
                let tags: HashMap<String, String> = aws.tags_for(r, &self.tags).into_iter().collect();
                let endpoint = EndpointConfiguration::builder()
                    .types(SdkEndpointType::from(endpoint_str(self.endpoint)))
                    .build();
                let binary = (!self.binary_media_types.is_empty()).then(|| self.binary_media_types.clone());
                let created = aws
                    .call("apigateway:CreateRestApi", || {
                        client
                            .create_rest_api()
                            .name(&self.name)
                            .set_description(self.description.clone())
                            .endpoint_configuration(endpoint.clone())
                            .set_binary_media_types(binary.clone())
                            .set_tags(Some(tags.clone()))
                            .send()
                    })
                    .await?;
                created.id().unwrap_or_default().to_owned()
            }
        };
        converge(aws, r, self, refs, &api_id).await
    }

    /// Brings the API to what the stack declares; only what differs is changed.
    ///
    /// # Errors
    /// A reference is not known, or a call failed.
    async fn update(
        &self,
        cx: &Cx<'_>,
        observed: &Observed,
        _changes: &[FieldChange],
    ) -> Result<Attrs, ProviderError> {
        let Cx { aws, resource: r, refs } = *cx;
        // Every step compares the live API with the stack again, so the changes the plan showed and
        // anything a killed run left half-done are handled alike.
        converge(aws, r, self, refs, &observed.id).await
    }

    /// Deletes our usage plans and API keys, then every API of this name that carries our tags
    /// (its stages and deployments go with it).
    ///
    /// # Errors
    /// A call failed.
    async fn delete(&self, cx: &Cx<'_>, observed: &Observed) -> Result<(), ProviderError> {
        let Cx { aws, resource: r, .. } = *cx;
        remove_usage(aws, r, self).await?;
        let mut ids: Vec<String> = find_apis(aws, r, &self.name)
            .await?
            .into_iter()
            .filter(|(_, owned)| *owned)
            .filter_map(|(api, _)| api.id().map(str::to_owned))
            .collect();
        if observed.owned && !ids.contains(&observed.id) {
            ids.push(observed.id.clone());
        }
        let client = &aws.clients.apigateway;
        for id in ids {
            gone_ok(
                aws.call("apigateway:DeleteRestApi", || {
                    client.delete_rest_api().rest_api_id(&id).send()
                })
                .await,
            )?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Converging.

async fn converge(
    aws: &Aws,
    r: &Resource,
    spec: &RestApi,
    refs: &Resolver,
    api_id: &str,
) -> Result<Attrs, ProviderError> {
    let def = definition(aws, spec, |t| refs.known(t).map_err(|e| Aws::unresolved(&e)))?;
    converge_settings(aws, r, spec, api_id).await?;
    converge_routes(aws, api_id, &def).await?;
    let stages = converge_stage(aws, spec, api_id, &def).await?;
    let key = converge_usage(aws, r, spec, api_id).await?;
    // Stages the stack no longer names (it renamed its stage): out of the usage plan above,
    // now deleted.
    let client = &aws.clients.apigateway;
    for stale in stages.iter().filter(|s| *s != &spec.stage) {
        gone_ok(
            aws.call("apigateway:DeleteStage", || {
                client.delete_stage().rest_api_id(api_id).stage_name(stale).send()
            })
            .await,
        )?;
    }
    Ok(attrs_of(aws, spec, api_id, true, key.as_ref()))
}

/// Description, endpoint type, binary media types (UpdateRestApi) and tags.
async fn converge_settings(
    aws: &Aws,
    r: &Resource,
    spec: &RestApi,
    api_id: &str,
) -> Result<(), ProviderError> {
    let client = &aws.clients.apigateway;
    let api = aws
        .call("apigateway:GetRestApi", || {
            client.get_rest_api().rest_api_id(api_id).send()
        })
        .await?;
    let mut ops = Vec::new();
    if let Some(d) = &spec.description
        && api.description() != Some(d.as_str())
    {
        ops.push(patch(Op::Replace, "/description", Some(d.clone())));
    }
    let want_endpoint = endpoint_str(spec.endpoint);
    let current_endpoint = api
        .endpoint_configuration()
        .and_then(|e| e.types().first())
        .map(|t| t.as_str().to_owned());
    if let Some(current) = current_endpoint
        && current != want_endpoint
    {
        // AWS names the type being replaced in the path.
        ops.push(patch(
            Op::Replace,
            format!("/endpointConfiguration/types/{current}"),
            Some(want_endpoint.to_owned()),
        ));
    }
    let have: BTreeSet<&str> = api.binary_media_types().iter().map(String::as_str).collect();
    let want: BTreeSet<&str> = spec.binary_media_types.iter().map(String::as_str).collect();
    for t in want.difference(&have) {
        ops.push(patch(Op::Add, format!("/binaryMediaTypes/{}", escape(t)), None));
    }
    for t in have.difference(&want) {
        ops.push(patch(
            Op::Remove,
            format!("/binaryMediaTypes/{}", escape(t)),
            None,
        ));
    }
    if !ops.is_empty() {
        aws.call("apigateway:UpdateRestApi", || {
            client
                .update_rest_api()
                .rest_api_id(api_id)
                .set_patch_operations(Some(ops.clone()))
                .send()
        })
        .await?;
    }
    let arn = api_arn(aws, api_id);
    let have = tags_of(api.tags());
    let want = aws.tags_for(r, &spec.tags);
    let add: HashMap<String, String> = want
        .iter()
        .filter(|(k, v)| have.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !add.is_empty() {
        aws.call("apigateway:TagResource", || {
            client
                .tag_resource()
                .resource_arn(&arn)
                .set_tags(Some(add.clone()))
                .send()
        })
        .await?;
    }
    let remove: Vec<String> = have
        .keys()
        .filter(|k| !want.contains_key(*k) && !k.starts_with("aws:"))
        .cloned()
        .collect();
    if !remove.is_empty() {
        aws.call("apigateway:UntagResource", || {
            client
                .untag_resource()
                .resource_arn(&arn)
                .set_tag_keys(Some(remove.clone()))
                .send()
        })
        .await?;
    }
    Ok(())
}
