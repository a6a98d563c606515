//! Converging the stage: a new deployment when the definition's hash differs, then the
//! stage's variables; stray stages deleted.

use super::*;

/// A new deployment when the stage does not serve the declared definition (creating the stage
/// if missing), then the stage variables. The names of every stage of the API.
pub(super) async fn converge_stage(
    aws: &Aws,
    spec: &RestApi,
    api_id: &str,
    def: &Definition,
) -> Result<Vec<String>, ProviderError> {
    let client = &aws.clients.apigateway;
    let stages = get_stages(aws, api_id).await?;
    let names: Vec<String> = stages
        .iter()
        .filter_map(|s| s.stage_name().map(str::to_owned))
        .collect();
    let current = stages
        .iter()
        .find(|s| s.stage_name() == Some(spec.stage.as_str()));
    let deployed = match current {
        Some(s) => deployed_hash(aws, api_id, s).await?,
        None => None,
    };
    let want_vars: BTreeMap<String, String> = spec
        .stage_variables
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if deployed.as_deref() != Some(def.hash.as_str()) {
        // A new stage gets its variables with its first deployment.
        let variables: Option<HashMap<String, String>> = (current.is_none() && !want_vars.is_empty())
            .then(|| want_vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
        let description = format!("{DEPLOYMENT_PREFIX}{}", def.hash);
        aws.call("apigateway:CreateDeployment", || {
            client
                .create_deployment()
                .rest_api_id(api_id)
                .stage_name(&spec.stage)
                .description(&description)
                .set_variables(variables.clone())
                .send()
        })
        .await?;
    }
    let have_vars: BTreeMap<String, String> = match current {
        Some(s) => s
            .variables()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        None => want_vars.clone(),
    };
    let mut ops = Vec::new();
    for (k, v) in &want_vars {
        if have_vars.get(k) != Some(v) {
            ops.push(patch(
                Op::Replace,
                format!("/variables/{}", escape(k)),
                Some(v.clone()),
            ));
        }
    }
    for k in have_vars.keys().filter(|k| !want_vars.contains_key(*k)) {
        ops.push(patch(Op::Remove, format!("/variables/{}", escape(k)), None));
    }
    if !ops.is_empty() {
        aws.call("apigateway:UpdateStage", || {
            client
                .update_stage()
                .rest_api_id(api_id)
                .stage_name(&spec.stage)
                .set_patch_operations(Some(ops.clone()))
                .send()
        })
        .await?;
    }
    Ok(names)
}
