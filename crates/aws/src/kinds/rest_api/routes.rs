//! Converging the routes: undeclared methods and resources deleted, missing resources
//! created, each method with its integration and responses brought in line.

use super::*;

pub(super) fn parent_path(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// Deletes undeclared methods and resources, creates missing resources, and makes every
/// declared method match.
pub(super) async fn converge_routes(aws: &Aws, api_id: &str, def: &Definition) -> Result<(), ProviderError> {
    let client = &aws.clients.apigateway;
    let (methods, mut ids) = read_methods(aws, api_id).await?;
    let mut needed: BTreeSet<String> = BTreeSet::from(["/".to_owned()]);
    for (path, _) in def.routes.keys() {
        let mut p = path.as_str();
        while p != "/" {
            needed.insert(p.to_owned());
            p = parent_path(p);
        }
    }
    // Deletions first: a stale `{name}` sibling would block a new `{other}` one.
    for (path, method) in methods.keys() {
        if def.routes.contains_key(&(path.clone(), method.clone())) || !needed.contains(path) {
            continue;
        }
        let Some(rid) = ids.get(path) else { continue };
        gone_ok(
            aws.call("apigateway:DeleteMethod", || {
                client
                    .delete_method()
                    .rest_api_id(api_id)
                    .resource_id(rid)
                    .http_method(method)
                    .send()
            })
            .await,
        )?;
    }
    let stale: Vec<String> = ids
        .keys()
        .filter(|p| !needed.contains(*p) && needed.contains(parent_path(p)))
        .cloned()
        .collect();
    for path in &stale {
        let Some(rid) = ids.get(path) else { continue };
        // Deletes the resource and everything below it.
        gone_ok(
            aws.call("apigateway:DeleteResource", || {
                client
                    .delete_resource()
                    .rest_api_id(api_id)
                    .resource_id(rid)
                    .send()
            })
            .await,
        )?;
    }
    ids.retain(|p, _| needed.contains(p));
    // A path sorts after its parent, so parents are created first.
    for path in &needed {
        if ids.contains_key(path) {
            continue;
        }
        let parent = parent_path(path);
        let parent_id = ids.get(parent).cloned().ok_or_else(|| {
            crate::call::error(
                "apigateway:CreateResource",
                "MissingParent",
                format!("no resource for `{parent}`, the parent of `{path}`"),
            )
        })?;
        let part = path.rsplit('/').next().unwrap_or_default();
        let created = aws
            .call("apigateway:CreateResource", || {
                client
                    .create_resource()
                    .rest_api_id(api_id)
                    .parent_id(&parent_id)
                    .path_part(part)
                    .send()
            })
            .await?;
        ids.insert(path.clone(), created.id().unwrap_or_default().to_owned());
    }
    for ((path, method), want) in &def.routes {
        let have = methods.get(&(path.clone(), method.clone()));
        if have == Some(want) {
            continue;
        }
        let Some(rid) = ids.get(path) else { continue };
        converge_method(aws, api_id, rid, method, have, want).await?;
    }
    Ok(())
}

/// Makes one method match. Additions come before the integration that uses them and removals
/// after it, so no step refers to something missing.
pub(super) async fn converge_method(
    aws: &Aws,
    api_id: &str,
    rid: &str,
    method: &str,
    have: Option<&RouteDef>,
    want: &RouteDef,
) -> Result<(), ProviderError> {
    let client = &aws.clients.apigateway;
    let empty = RouteDef::default();
    match have {
        None => {
            let params: HashMap<String, bool> = want
                .method_parameters
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect();
            aws.call("apigateway:PutMethod", || {
                client
                    .put_method()
                    .rest_api_id(api_id)
                    .resource_id(rid)
                    .http_method(method)
                    .authorization_type(&want.authorization)
                    .api_key_required(want.api_key_required)
                    .set_request_parameters(Some(params.clone()))
                    .send()
            })
            .await?;
        }
        Some(h) => {
            let mut ops = Vec::new();
            if h.authorization != want.authorization {
                ops.push(patch(
                    Op::Replace,
                    "/authorizationType",
                    Some(want.authorization.clone()),
                ));
            }
            if h.api_key_required != want.api_key_required {
                ops.push(patch(
                    Op::Replace,
                    "/apiKeyRequired",
                    Some(want.api_key_required.to_string()),
                ));
            }
            for (k, v) in &want.method_parameters {
                match h.method_parameters.get(k) {
                    Some(old) if old == v => {}
                    Some(_) => ops.push(patch(
                        Op::Replace,
                        format!("/requestParameters/{}", escape(k)),
                        Some(v.to_string()),
                    )),
                    None => ops.push(patch(
                        Op::Add,
                        format!("/requestParameters/{}", escape(k)),
                        Some(v.to_string()),
                    )),
                }
            }
            update_method(aws, api_id, rid, method, ops).await?;
        }
    }
    let have = have.unwrap_or(&empty);

    let integration_changed = have.integration != want.integration;
    if integration_changed && let Some(i) = &want.integration {
        put_integration(aws, api_id, rid, method, i).await?;
    }
    for status in have.integration_responses.keys() {
        if !want.integration_responses.contains_key(status) {
            gone_ok(
                aws.call("apigateway:DeleteIntegrationResponse", || {
                    client
                        .delete_integration_response()
                        .rest_api_id(api_id)
                        .resource_id(rid)
                        .http_method(method)
                        .status_code(status)
                        .send()
                })
                .await,
            )?;
        }
    }
    // Method responses declare the headers integration responses map: add before, remove after.
    for (status, headers) in &want.method_responses {
        match have.method_responses.get(status) {
            None => {
                let params: HashMap<String, bool> = headers.iter().map(|(k, v)| (k.clone(), *v)).collect();
                aws.call("apigateway:PutMethodResponse", || {
                    client
                        .put_method_response()
                        .rest_api_id(api_id)
                        .resource_id(rid)
                        .http_method(method)
                        .status_code(status)
                        .set_response_parameters(Some(params.clone()))
                        .send()
                })
                .await?;
            }
            Some(old) => {
                let ops: Vec<PatchOperation> = headers
                    .iter()
                    .filter(|(k, v)| old.get(*k) != Some(*v))
                    .map(|(k, v)| {
                        let op = if old.contains_key(k) { Op::Replace } else { Op::Add };
                        patch(
                            op,
                            format!("/responseParameters/{}", escape(k)),
                            Some(v.to_string()),
                        )
                    })
                    .collect();
                update_method_response(aws, api_id, rid, method, status, ops).await?;
            }
        }
    }
    for (status, ir) in &want.integration_responses {
        // After a PutIntegration every response is written again: whether AWS keeps the old
        // ones across a replaced integration is not something to rely on.
        if !integration_changed && have.integration_responses.get(status) == Some(ir) {
            continue;
        }
        let params: HashMap<String, String> =
            ir.headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let tpl: HashMap<String, String> = ir.templates.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        aws.call("apigateway:PutIntegrationResponse", || {
            client
                .put_integration_response()
                .rest_api_id(api_id)
                .resource_id(rid)
                .http_method(method)
                .status_code(status)
                .set_selection_pattern(ir.selection_pattern.clone())
                .set_response_parameters(Some(params.clone()))
                .set_response_templates(Some(tpl.clone()))
                .send()
        })
        .await?;
    }
    for (status, old) in &have.method_responses {
        match want.method_responses.get(status) {
            None => {
                gone_ok(
                    aws.call("apigateway:DeleteMethodResponse", || {
                        client
                            .delete_method_response()
                            .rest_api_id(api_id)
                            .resource_id(rid)
                            .http_method(method)
                            .status_code(status)
                            .send()
                    })
                    .await,
                )?;
            }
            Some(headers) => {
                let ops: Vec<PatchOperation> = old
                    .keys()
                    .filter(|k| !headers.contains_key(*k))
                    .map(|k| patch(Op::Remove, format!("/responseParameters/{}", escape(k)), None))
                    .collect();
                update_method_response(aws, api_id, rid, method, status, ops).await?;
            }
        }
    }
    let removed: Vec<PatchOperation> = have
        .method_parameters
        .keys()
        .filter(|k| !want.method_parameters.contains_key(*k))
        .map(|k| patch(Op::Remove, format!("/requestParameters/{}", escape(k)), None))
        .collect();
    update_method(aws, api_id, rid, method, removed).await
}

pub(super) async fn update_method(
    aws: &Aws,
    api_id: &str,
    rid: &str,
    method: &str,
    ops: Vec<PatchOperation>,
) -> Result<(), ProviderError> {
    if ops.is_empty() {
        return Ok(());
    }
    let client = &aws.clients.apigateway;
    aws.call("apigateway:UpdateMethod", || {
        client
            .update_method()
            .rest_api_id(api_id)
            .resource_id(rid)
            .http_method(method)
            .set_patch_operations(Some(ops.clone()))
            .send()
    })
    .await?;
    Ok(())
}

pub(super) async fn update_method_response(
    aws: &Aws,
    api_id: &str,
    rid: &str,
    method: &str,
    status: &str,
    ops: Vec<PatchOperation>,
) -> Result<(), ProviderError> {
    if ops.is_empty() {
        return Ok(());
    }
    let client = &aws.clients.apigateway;
    aws.call("apigateway:UpdateMethodResponse", || {
        client
            .update_method_response()
            .rest_api_id(api_id)
            .resource_id(rid)
            .http_method(method)
            .status_code(status)
            .set_patch_operations(Some(ops.clone()))
            .send()
    })
    .await?;
    Ok(())
}

/// PutIntegration writes the whole integration (AWS type, POST, the role, templates…).
pub(super) async fn put_integration(
    aws: &Aws,
    api_id: &str,
    rid: &str,
    method: &str,
    i: &IntegrationDef,
) -> Result<(), ProviderError> {
    let client = &aws.clients.apigateway;
    let params: HashMap<String, String> = i
        .request_parameters
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let tpl: HashMap<String, String> = i
        .request_templates
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let timeout = i32::try_from(i.timeout_ms).unwrap_or(29_000);
    aws.call("apigateway:PutIntegration", || {
        client
            .put_integration()
            .rest_api_id(api_id)
            .resource_id(rid)
            .http_method(method)
            .r#type(IntegrationType::from(i.kind.as_str()))
            .set_integration_http_method(i.http_method.clone())
            .set_uri(i.uri.clone())
            .set_credentials(i.credentials.clone())
            .set_request_parameters(Some(params.clone()))
            .set_request_templates(Some(tpl.clone()))
            .passthrough_behavior(&i.passthrough)
            .timeout_in_millis(timeout)
            .send()
    })
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_and_escapes() {
        assert_eq!(parent_path("/streams"), "/");
        assert_eq!(
            parent_path("/streams/{stream-name}/records"),
            "/streams/{stream-name}"
        );
        assert_eq!(escape("application/json"), "application~1json");
    }
}
