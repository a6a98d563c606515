//! The stored shapes of a REST API's definition: the API, its resources, methods, method
//! responses, integrations and integration responses. They serialize in the wire's camelCase,
//! so rendering is serialization minus the internal `_` fields.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A REST API and, inside it, its whole definition (`_resources`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RestApi {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub created_date: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub binary_media_types: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_compression_size: Option<i64>,
    pub api_key_source: String,
    pub endpoint_configuration: EndpointConfiguration,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    pub disable_execute_api_endpoint: bool,
    pub root_resource_id: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Every resource by id (the root included).
    #[serde(rename = "_resources", default)]
    pub resources: BTreeMap<String, Resource>,
}

/// Where an API is reachable from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(super) struct EndpointConfiguration {
    pub types: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address_type: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vpc_endpoint_ids: Vec<String>,
}

/// One path segment of an API, with its methods.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(super) struct Resource {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_part: Option<String>,
    pub path: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resource_methods: BTreeMap<String, Method>,
}

/// A method of a resource, with its responses and integration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(super) struct Method {
    pub http_method: String,
    pub authorization_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_id: Option<String>,
    pub api_key_required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_validator_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_name: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_parameters: BTreeMap<String, bool>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_models: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorization_scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub method_responses: BTreeMap<String, MethodResponse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method_integration: Option<Integration>,
}

/// What a method may answer with one status code. Its maps are shown as given, `{}`
/// included, and dropped when their last entry is removed (recorded: LocalStack
/// test_lifecycle_method_response, test_update_method_response).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(super) struct MethodResponse {
    pub status_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_parameters: Option<BTreeMap<String, bool>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_models: Option<BTreeMap<String, String>>,
}

/// The back end a method calls, and how requests and responses are mapped.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(super) struct Integration {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// `INTERNET` or `VPC_LINK`; empty (and not shown) for a MOCK integration not given one,
    /// as AWS reports none there.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub connection_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_parameters: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_templates: BTreeMap<String, String>,
    pub passthrough_behavior: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_handling: Option<String>,
    pub timeout_in_millis: i64,
    pub cache_namespace: String,
    #[serde(default)]
    pub cache_key_parameters: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub integration_responses: BTreeMap<String, IntegrationResponse>,
}

/// How one back-end outcome becomes a method response.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(super) struct IntegrationResponse {
    pub status_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection_pattern: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub response_parameters: BTreeMap<String, String>,
    /// Shown as given, `{}` included; an empty template (`""`) is shown as `null`, as AWS shows
    /// it (recorded: LocalStack test_put_integration_responses,
    /// test_put_integration_response_templates).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "empty_as_null")]
    pub response_templates: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_handling: Option<String>,
}

/// No templates.
static NO_TEMPLATES: BTreeMap<String, String> = BTreeMap::new();

impl IntegrationResponse {
    /// The response templates by content type (none when none were given).
    pub fn templates(&self) -> &BTreeMap<String, String> {
        self.response_templates.as_ref().unwrap_or(&NO_TEMPLATES)
    }
}

/// A map of templates whose empty ones are written as `null`, and read back as `""`.
mod empty_as_null {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::collections::BTreeMap;

    #[allow(clippy::ref_option)] // serde's `with` passes the field by reference
    pub fn serialize<S: Serializer>(map: &Option<BTreeMap<String, String>>, s: S) -> Result<S::Ok, S::Error> {
        match map {
            None => s.serialize_none(),
            Some(map) => s.collect_map(map.iter().map(|(k, v)| (k, Some(v).filter(|v| !v.is_empty())))),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<BTreeMap<String, String>>, D::Error> {
        let map: Option<BTreeMap<String, Option<String>>> = Option::deserialize(d)?;
        Ok(map.map(|m| m.into_iter().map(|(k, v)| (k, v.unwrap_or_default())).collect()))
    }
}

impl RestApi {
    /// Whether any resource has a method (a deployment needs one).
    pub fn has_methods(&self) -> bool {
        self.resources.values().any(|r| !r.resource_methods.is_empty())
    }

    /// Resources ordered by path, as listings and snapshots show them.
    pub fn resources_by_path(&self) -> Vec<&Resource> {
        let mut all: Vec<&Resource> = self.resources.values().collect();
        all.sort_by(|a, b| a.path.cmp(&b.path).then_with(|| a.id.cmp(&b.id)));
        all
    }

    /// Recomputes every resource's `path` from its parent chain (after a move or rename).
    pub fn recompute_paths(&mut self) {
        let ids: Vec<String> = self.resources.keys().cloned().collect();
        for id in ids {
            let path = self.path_of(&id);
            if let Some(r) = self.resources.get_mut(&id) {
                r.path = path;
            }
        }
    }

    fn path_of(&self, id: &str) -> String {
        let mut parts = Vec::new();
        let mut current = self.resources.get(id);
        // Bounded by the number of resources, so a corrupt cycle cannot loop forever.
        for _ in 0..=self.resources.len() {
            let Some(r) = current else { break };
            match (&r.parent_id, &r.path_part) {
                (Some(parent), Some(part)) => {
                    parts.push(part.clone());
                    current = self.resources.get(parent);
                }
                _ => break,
            }
        }
        parts.reverse();
        format!("/{}", parts.join("/"))
    }

    /// `id` and every resource below it.
    pub fn subtree(&self, id: &str) -> Vec<String> {
        let mut out = vec![id.to_owned()];
        let mut i = 0;
        // A stored cycle cannot make this loop forever: never list more ids than exist.
        while i < out.len() && out.len() <= self.resources.len() {
            let parent = out[i].clone();
            out.extend(
                self.resources
                    .values()
                    .filter(|r| r.parent_id.as_deref() == Some(parent.as_str()))
                    .map(|r| r.id.clone()),
            );
            i += 1;
        }
        out
    }
}
