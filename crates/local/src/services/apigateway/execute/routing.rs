//! Which deployed method a request reaches: the API (found by id in any account through the
//! index CreateRestApi maintains), the stage's deployed snapshot, then the resource whose
//! path matches best and its method.

use super::super::api_index_key;
use super::super::deployments::deployed_snapshot;
use super::super::model::{Method, Resource};
use crate::store::{StoreError, Txn};
use serde_json::Value;

/// What a stage serves, read from its deployed snapshot.
#[derive(Debug, Clone)]
pub(super) struct Deployed {
    /// The API's account.
    pub account: String,
    /// The API's region.
    pub region: String,
    /// The API id.
    pub api_id: String,
    /// The stage name.
    pub stage: String,
    /// The deployment the stage serves.
    pub deployment_id: String,
    /// The frozen definition.
    pub resources: Vec<Resource>,
    /// Stage variables.
    pub variables: Vec<(String, String)>,
    /// `(id, value)` of every enabled key in a usage plan of this stage.
    pub api_keys: Vec<(String, String)>,
    /// `HEADER` or `AUTHORIZER`.
    pub api_key_source: String,
    /// `disableExecuteApiEndpoint` as deployed.
    pub endpoint_disabled: bool,
}

/// The stage `stage` of API `api_id` as deployed, wherever the API lives; `None` when there is
/// no such API or stage.
///
/// # Errors
/// Storage failure.
pub(super) fn load_deployed(
    txn: &Txn<'_>,
    api_id: &str,
    stage: &str,
) -> Result<Option<Deployed>, StoreError> {
    let Some(home) = txn.get::<Value>(&api_index_key(api_id))? else {
        return Ok(None);
    };
    let (Some(account), Some(region)) = (
        home.get("account").and_then(Value::as_str),
        home.get("region").and_then(Value::as_str),
    ) else {
        return Ok(None);
    };
    let Some(snapshot) = deployed_snapshot(txn, account, region, api_id, stage)? else {
        return Ok(None);
    };
    Ok(Some(Deployed {
        account: account.to_owned(),
        region: region.to_owned(),
        api_id: api_id.to_owned(),
        stage: stage.to_owned(),
        deployment_id: snapshot["deploymentId"].as_str().unwrap_or_default().to_owned(),
        resources: serde_json::from_value(snapshot["resources"].clone()).unwrap_or_default(),
        variables: string_pairs(&snapshot["variables"]),
        api_keys: plan_keys(&snapshot["usagePlans"]),
        api_key_source: snapshot["api"]["apiKeySource"]
            .as_str()
            .unwrap_or("HEADER")
            .to_owned(),
        endpoint_disabled: snapshot["api"]["disableExecuteApiEndpoint"]
            .as_bool()
            .unwrap_or(false),
    }))
}

fn string_pairs(map: &Value) -> Vec<(String, String)> {
    map.as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// `(id, value)` of the keys of every usage plan serving the stage.
fn plan_keys(plans: &Value) -> Vec<(String, String)> {
    plans
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["apiKeys"].as_array().cloned().unwrap_or_default())
        .filter_map(|k| Some((k["id"].as_str()?.to_owned(), k["value"].as_str()?.to_owned())))
        .collect()
}

/// The method a request reaches, and the path parameters it binds.
#[derive(Debug, Clone)]
pub(super) struct Route<'a> {
    /// The matched resource.
    pub resource: &'a Resource,
    /// Its method (the request's, or `ANY`).
    pub method: &'a Method,
    /// `{name}` and `{name+}` bindings.
    pub path_params: Vec<(String, String)>,
}

/// The most specific resource matching `segments` that has `http_method` (or `ANY`).
pub(super) fn route<'a>(
    resources: &'a [Resource],
    segments: &[String],
    http_method: &str,
) -> Option<Route<'a>> {
    let (resource, path_params) = resources
        .iter()
        .filter_map(|r| match_path(&r.path, segments).map(|(score, params)| (score, r, params)))
        .min_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, r, params)| (r, params))?;
    let method = resource
        .resource_methods
        .get(http_method)
        .or_else(|| resource.resource_methods.get("ANY"))?;
    Some(Route {
        resource,
        method,
        path_params,
    })
}

/// How specific a match is, segment by segment: a literal (0) beats a `{param}` (1), which
/// beats a greedy `{param+}` (2); lower sorts first.
type Specificity = Vec<u8>;

/// Whether a resource path such as `/streams/{stream-name}/records` matches `segments`, and
/// with which bindings.
fn match_path(path: &str, segments: &[String]) -> Option<(Specificity, Vec<(String, String)>)> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let mut score = Vec::with_capacity(parts.len());
    let mut params = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let variable = part.strip_prefix('{').and_then(|p| p.strip_suffix('}'));
        if let Some(name) = variable.and_then(|v| v.strip_suffix('+')) {
            // A greedy variable is the last part and takes at least one segment.
            if i + 1 != parts.len() || i >= segments.len() {
                return None;
            }
            score.push(2);
            params.push((name.to_owned(), segments[i..].join("/")));
            return Some((score, params));
        }
        let segment = segments.get(i)?;
        match variable {
            Some(name) => {
                score.push(1);
                params.push((name.to_owned(), segment.clone()));
            }
            None if part == segment => score.push(0),
            None => return None,
        }
    }
    (parts.len() == segments.len()).then_some((score, params))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::collections::BTreeMap;

    fn resource(path: &str, methods: &[&str]) -> Resource {
        let method = |m: &str| Method {
            http_method: m.to_owned(),
            authorization_type: "NONE".into(),
            authorizer_id: None,
            api_key_required: false,
            request_validator_id: None,
            operation_name: None,
            request_parameters: BTreeMap::new(),
            request_models: BTreeMap::new(),
            authorization_scopes: Vec::new(),
            method_responses: BTreeMap::new(),
            method_integration: None,
        };
        Resource {
            id: path.to_owned(),
            parent_id: None,
            path_part: None,
            path: path.to_owned(),
            resource_methods: methods.iter().map(|m| ((*m).to_owned(), method(m))).collect(),
        }
    }

    fn segs(path: &str) -> Vec<String> {
        path.split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn the_most_specific_resource_wins() {
        let resources = vec![
            resource("/", &["GET"]),
            resource("/streams", &["GET"]),
            resource("/streams/{stream-name}", &["GET"]),
            resource("/streams/{stream-name}/records", &["PUT"]),
            resource("/streams/special", &["GET"]),
            resource("/{proxy+}", &["ANY"]),
        ];
        let hit = |path: &str, m: &str| {
            route(&resources, &segs(path), m).map(|r| (r.resource.path.clone(), r.path_params))
        };
        assert_eq!(hit("/", "GET").unwrap().0, "/");
        assert_eq!(
            hit("/streams/s1/records", "PUT").unwrap(),
            (
                "/streams/{stream-name}/records".to_owned(),
                vec![("stream-name".to_owned(), "s1".to_owned())]
            )
        );
        assert_eq!(hit("/streams/special", "GET").unwrap().0, "/streams/special");
        assert_eq!(hit("/streams/other", "GET").unwrap().0, "/streams/{stream-name}");
        assert_eq!(
            hit("/a/b/c", "POST").unwrap(),
            (
                "/{proxy+}".to_owned(),
                vec![("proxy".to_owned(), "a/b/c".to_owned())]
            )
        );
        // The best resource lacks the method: no fallback to a less specific one.
        assert!(hit("/streams", "DELETE").is_none());
        assert!(hit("/streams/s1/records", "GET").is_none());
    }
}
