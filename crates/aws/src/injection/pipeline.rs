//! Where the test's records go: the stage URL and key, the stream, the function reading it
//! and the tracker it forwards to, found from the stack and its deployed resources; and the
//! campaign whose recommendations for the records' user they should change.

use super::Options;
use personalize_stack_core::Stack;
use personalize_stack_core::engine::{Attrs, Resolver};
use personalize_stack_core::spec::kinds::rest_api::{CheckedRoute, Integration};
use personalize_stack_core::spec::text::Text;
use personalize_stack_core::spec::{ResourceSpec, TestSpec};
use rand::Rng as _;
use std::collections::BTreeMap;

/// Why the test cannot start.
#[derive(Debug, thiserror::Error)]
pub enum LocateError {
    /// No `test:` section.
    #[error("the stack has no `test:` section, so there is nothing to inject")]
    NoTest,
    /// A resource the test needs is not deployed.
    #[error("`{0}` is not deployed (or not readable); run `personalize-stack up` first")]
    NotDeployed(String),
    /// A value the request needs is unknown.
    #[error(
        "the test's {what} needs `${{{reference}}}`, which is not deployed; run `personalize-stack up` first"
    )]
    Unresolved {
        /// Which value.
        what: String,
        /// The reference.
        reference: String,
    },
    /// The HTTP client could not be made.
    #[error("{0}")]
    Client(String),
}

/// The API key sent with the request.
#[derive(Debug, Clone)]
pub struct Key {
    /// Its value.
    pub value: String,
    /// The stack's key id, when the value is the stack's key.
    pub id: Option<String>,
}

/// The stream the route writes to.
#[derive(Debug, Clone)]
pub struct StreamRef {
    pub logical: String,
    pub name: String,
}

/// The function the stream triggers.
#[derive(Debug, Clone)]
pub struct FunctionRef {
    pub logical: String,
    pub name: String,
    pub log_group: String,
    pub mapping_uuid: Option<String>,
}

/// The tracker the function forwards to.
#[derive(Debug, Clone)]
pub struct TrackerRef {
    pub logical: String,
    pub name: String,
    pub arn: Option<String>,
    pub tracking_id: String,
}

/// The campaign asked for recommendations before and after.
#[derive(Debug, Clone)]
pub struct CampaignRef {
    pub logical: String,
    pub name: String,
    /// `None` when the stack declares it but it is not deployed.
    pub arn: Option<String>,
    /// The user the test records are for (the first record's `userid` or `userId`).
    pub user_id: Option<String>,
}

/// Everything the hops need.
#[derive(Debug, Clone)]
pub struct Pipeline {
    pub test: TestSpec,
    pub api_id: String,
    pub stage: String,
    pub route: CheckedRoute,
    pub url: String,
    pub path_params: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub key: Option<Key>,
    pub key_required: bool,
    pub stream: Option<StreamRef>,
    pub function: Option<FunctionRef>,
    pub tracker: Option<TrackerRef>,
    pub campaign: Option<CampaignRef>,
}

impl Pipeline {
    /// Finds the pipeline's parts.
    ///
    /// # Errors
    /// No test section, or a part is not deployed.
    pub fn locate(
        stack: &Stack,
        attrs: &BTreeMap<String, Attrs>,
        options: &Options,
    ) -> Result<Pipeline, LocateError> {
        let test = stack.test.clone().ok_or(LocateError::NoTest)?;
        let resolver = Resolver::new(attrs.clone());
        let known = |what: &str, text: &Text| {
            resolver.known(text).map_err(|r| LocateError::Unresolved {
                what: what.to_owned(),
                reference: format!("{}.{}", r.resource, r.attribute),
            })
        };
        let api_attrs = attrs
            .get(&test.api)
            .ok_or_else(|| LocateError::NotDeployed(test.api.clone()))?;
        let api_spec = match stack.resources.get(&test.api).map(|r| &r.spec) {
            Some(ResourceSpec::RestApi(api)) => api,
            _ => return Err(LocateError::NotDeployed(test.api.clone())),
        };
        let route = api_spec
            .routes
            .iter()
            .find(|r| r.method == test.method && r.path == test.path)
            .cloned()
            .ok_or_else(|| LocateError::NotDeployed(format!("{} {}", test.method.as_str(), test.path)))?;
        let base = api_attrs
            .get("url")
            .cloned()
            .ok_or_else(|| LocateError::NotDeployed(format!("{} (its stage)", test.api)))?;
        let api_id = api_attrs.get("id").cloned().unwrap_or_default();

        let mut path_params = Vec::new();
        for (name, value) in &test.params {
            path_params.push((name.clone(), known(&format!("path parameter `{name}`"), value)?));
        }
        let mut path = test.path.clone();
        for (name, value) in &path_params {
            let encoded = percent_encoding::utf8_percent_encode(value, UNRESERVED_KEPT).to_string();
            path = path
                .replace(&format!("{{{name}}}"), &encoded)
                .replace(&format!("{{{name}+}}"), &encoded);
        }
        let query: Vec<(String, String)> = test.query.clone().into_iter().collect();
        let mut url = format!("{}{}", base.trim_end_matches('/'), path);
        if !query.is_empty() {
            let q: String = form_urlencoded_pairs(&query);
            url = format!("{url}?{q}");
        }

        let key = match &options.api_key {
            Some(value) => Some(Key {
                value: value.clone(),
                id: (api_attrs.get("api_key").map(String::as_str) == Some(value.as_str()))
                    .then(|| api_attrs.get("api_key_id").cloned())
                    .flatten(),
            }),
            None => api_attrs.get("api_key").map(|value| Key {
                value: value.clone(),
                id: api_attrs.get("api_key_id").cloned(),
            }),
        };
        let mut headers: Vec<(String, String)> = vec![("Content-Type".into(), "application/json".into())];
        headers.extend(test.headers.clone());
        if let Some(k) = &key {
            headers.push(("x-api-key".into(), k.value.clone()));
        }

        let stream = find_stream(stack, attrs, &path_params);
        let function = stream
            .as_ref()
            .and_then(|s| find_function(stack, attrs, &resolver, s));
        let tracker = function.as_ref().and_then(|f| find_tracker(stack, attrs, f));
        let campaign = find_campaign(stack, attrs, &test);
        Ok(Pipeline {
            api_id,
            stage: api_spec.stage.clone(),
            key_required: route.api_key_required,
            route,
            url,
            path_params,
            query,
            headers,
            key,
            stream,
            function,
            tracker,
            campaign,
            test,
        })
    }

    /// The test records, each with `event_id` (or `eventId` for camelCase records) set to
    /// `<marker>-<n>`.
    pub fn marked_records(&self, marker: &str) -> Vec<serde_json::Value> {
        self.test
            .records
            .iter()
            .enumerate()
            .map(|(n, record)| {
                let mut record = record.clone();
                if let Some(obj) = record.as_object_mut() {
                    let camel = obj.contains_key("userId") || obj.contains_key("eventType");
                    obj.remove("event_id");
                    obj.remove("eventId");
                    let field = if camel { "eventId" } else { "event_id" };
                    obj.insert(field.into(), serde_json::Value::String(event_id(marker, n)));
                }
                record
            })
            .collect()
    }

    /// The request body carrying `records`.
    pub fn body(&self, records: &[serde_json::Value]) -> String {
        let mut test = self.test.clone();
        test.records = records.to_vec();
        test.request_body()
    }

    /// `route METHOD /path` for messages.
    pub fn route_key(&self) -> String {
        format!("{} {}", self.route.method.as_str(), self.route.path)
    }

    /// The Kinesis action of the route's integration, if it is one.
    pub fn kinesis_action(&self) -> Option<&str> {
        match &self.route.integration {
            Integration::Aws { service, action, .. } if service == "kinesis" => Some(action),
            _ => None,
        }
    }
}

/// Everything but RFC 3986's unreserved characters is percent-encoded.
const UNRESERVED_KEPT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `pst-` and twelve random hex digits.
pub fn new_marker() -> String {
    let n: u64 = rand::rng().random();
    format!("pst-{:012x}", n & 0xffff_ffff_ffff)
}

/// The event id of record `n` (from 0) of the run `marker`.
pub fn event_id(marker: &str, n: usize) -> String {
    format!("{marker}-{}", n + 1)
}

fn form_urlencoded_pairs(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let enc = |s: &str| percent_encoding::utf8_percent_encode(s, UNRESERVED_KEPT).to_string();
            format!("{}={}", enc(k), enc(v))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The stream whose name is one of the request's path parameters, else the stack's only
/// stream.
fn find_stream(
    stack: &Stack,
    attrs: &BTreeMap<String, Attrs>,
    path_params: &[(String, String)],
) -> Option<StreamRef> {
    let streams: Vec<StreamRef> = stack
        .resources
        .values()
        .filter(|r| matches!(r.spec, ResourceSpec::KinesisStream(_)))
        .filter_map(|r| {
            let name = attrs.get(&r.logical)?.get("name")?.clone();
            Some(StreamRef {
                logical: r.logical.clone(),
                name,
            })
        })
        .collect();
    streams
        .iter()
        .find(|s| path_params.iter().any(|(_, v)| v == &s.name))
        .cloned()
        .or_else(|| (streams.len() == 1).then(|| streams[0].clone()))
}

/// The function whose trigger reads `stream`.
fn find_function(
    stack: &Stack,
    attrs: &BTreeMap<String, Attrs>,
    resolver: &Resolver,
    stream: &StreamRef,
) -> Option<FunctionRef> {
    let stream_arn = attrs.get(&stream.logical)?.get("arn")?;
    stack.resources.values().find_map(|r| {
        let ResourceSpec::LambdaFunction(f) = &r.spec else {
            return None;
        };
        let trigger = f.trigger.as_ref()?;
        if resolver.known(&trigger.stream).ok().as_ref() != Some(stream_arn) {
            return None;
        }
        let a = attrs.get(&r.logical)?;
        Some(FunctionRef {
            logical: r.logical.clone(),
            name: a.get("name").cloned().unwrap_or_else(|| f.name.clone()),
            log_group: a
                .get("log_group")
                .cloned()
                .unwrap_or_else(|| format!("/aws/lambda/{}", f.name)),
            mapping_uuid: a.get("mapping_uuid").cloned(),
        })
    })
}

/// The tracker whose tracking ID the function's environment references, else the stack's
/// only tracker.
fn find_tracker(
    stack: &Stack,
    attrs: &BTreeMap<String, Attrs>,
    function: &FunctionRef,
) -> Option<TrackerRef> {
    let trackers: Vec<&str> = stack
        .resources
        .values()
        .filter(|r| matches!(r.spec, ResourceSpec::EventTracker(_)))
        .map(|r| r.logical.as_str())
        .collect();
    let referenced = match stack.resources.get(&function.logical).map(|r| &r.spec) {
        Some(ResourceSpec::LambdaFunction(f)) => f
            .environment
            .values()
            .flat_map(Text::references)
            .map(|r| r.resource.clone())
            .find(|res| trackers.contains(&res.as_str())),
        _ => None,
    };
    let logical = referenced.or_else(|| (trackers.len() == 1).then(|| trackers[0].to_owned()))?;
    let a = attrs.get(&logical)?;
    Some(TrackerRef {
        name: a.get("name").cloned().unwrap_or_default(),
        arn: a.get("arn").cloned(),
        tracking_id: a.get("tracking_id")?.clone(),
        logical,
    })
}

/// The stack's first campaign (in file order), with the user of the test records.
fn find_campaign(stack: &Stack, attrs: &BTreeMap<String, Attrs>, test: &TestSpec) -> Option<CampaignRef> {
    let (logical, spec) = stack.resources.values().find_map(|r| match &r.spec {
        ResourceSpec::Campaign(c) => Some((r.logical.clone(), c)),
        _ => None,
    })?;
    let deployed = attrs.get(&logical);
    let user_id = test.records.iter().find_map(|record| {
        ["userid", "userId"]
            .iter()
            .find_map(|field| match record.get(*field)? {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
    });
    Some(CampaignRef {
        name: deployed
            .and_then(|a| a.get("name").cloned())
            .unwrap_or_else(|| spec.name.clone()),
        arn: deployed.and_then(|a| a.get("arn").cloned()),
        user_id,
        logical,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Stack {
        let source = include_str!("../../../../stack.yaml");
        match personalize_stack_core::parse(
            "stack.yaml",
            source,
            &personalize_stack_core::LoadOptions::default(),
        ) {
            Ok(stack) => stack,
            Err(e) => panic!("the shipped stack parses: {e:?}"),
        }
    }

    fn deployed() -> BTreeMap<String, Attrs> {
        let attrs = |pairs: &[(&str, &str)]| -> Attrs {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let stream_arn = "arn:aws:kinesis:us-east-1:000000000000:stream/PutEvent-datastream";
        BTreeMap::from([
            (
                "api".to_owned(),
                attrs(&[
                    ("url", "http://127.0.0.1:4566/restapis/abc/prod/_user_request_"),
                    ("id", "abc"),
                    ("api_key", "secret-key"),
                    ("api_key_id", "k1"),
                ]),
            ),
            (
                "stream".to_owned(),
                attrs(&[("name", "PutEvent-datastream"), ("arn", stream_arn)]),
            ),
            (
                "forwarder".to_owned(),
                attrs(&[("name", "PutEvent-Function"), ("mapping_uuid", "m-1")]),
            ),
            (
                "tracker".to_owned(),
                attrs(&[("name", "t"), ("tracking_id", "tid-1"), ("arn", "arn:tracker")]),
            ),
        ])
    }

    #[test]
    fn locates_the_shipped_pipeline_from_its_deployed_attributes() {
        let p =
            Pipeline::locate(&shipped(), &deployed(), &Options::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            p.url,
            "http://127.0.0.1:4566/restapis/abc/prod/_user_request_/streams/PutEvent-datastream/records"
        );
        assert!(
            p.headers
                .contains(&("x-api-key".to_owned(), "secret-key".to_owned()))
        );
        assert_eq!(p.key.as_ref().and_then(|k| k.id.as_deref()), Some("k1"));
        assert_eq!(p.stream.as_ref().map(|s| s.logical.as_str()), Some("stream"));
        let function = p
            .function
            .as_ref()
            .map(|f| (f.name.as_str(), f.log_group.as_str(), f.mapping_uuid.as_deref()));
        assert_eq!(
            function,
            Some(("PutEvent-Function", "/aws/lambda/PutEvent-Function", Some("m-1")))
        );
        assert_eq!(p.tracker.as_ref().map(|t| t.tracking_id.as_str()), Some("tid-1"));
        assert_eq!(p.kinesis_action(), Some("PutRecords"));
        assert!(p.campaign.is_none(), "the shipped stack has no campaign");

        // --api-key: another key, not the stack's id.
        let other = Options {
            api_key: Some("other".into()),
            timeout: None,
        };
        let p = Pipeline::locate(&shipped(), &deployed(), &other).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            p.key
                .as_ref()
                .is_some_and(|k| k.value == "other" && k.id.is_none())
        );
    }

    #[test]
    fn every_record_carries_the_run_marker_as_its_event_id() {
        let p =
            Pipeline::locate(&shipped(), &deployed(), &Options::default()).unwrap_or_else(|e| panic!("{e}"));
        let records = p.marked_records("pst-000000000001");
        assert_eq!(records.len(), 7);
        assert_eq!(records[0]["event_id"], "pst-000000000001-1");
        assert_eq!(records[6]["event_id"], "pst-000000000001-7");
        let body: serde_json::Value = serde_json::from_str(&p.body(&records)).unwrap_or_default();
        let data = body["Records"][2]["Data"].as_str().unwrap_or_default();
        assert!(data.contains("\"event_id\":\"pst-000000000001-3\""), "{data}");
        assert_eq!(body["Records"][2]["PartitionKey"], "146456223");
        let marker = new_marker();
        assert!(marker.starts_with("pst-") && marker.len() == 16, "{marker}");
    }

    #[test]
    fn the_campaign_is_asked_for_the_records_user() {
        let source = include_str!("../../../../examples/recommendations/stack.yaml");
        let stack = match personalize_stack_core::parse(
            "stack.yaml",
            source,
            &personalize_stack_core::LoadOptions::default(),
        ) {
            Ok(stack) => stack,
            Err(e) => panic!("the example parses: {e:?}"),
        };
        let mut attrs = deployed();
        let p = Pipeline::locate(&stack, &attrs, &Options::default()).unwrap_or_else(|e| panic!("{e}"));
        let campaign = p.campaign.unwrap_or_else(|| panic!("a campaign"));
        assert_eq!(
            (
                campaign.logical.as_str(),
                campaign.name.as_str(),
                campaign.arn.as_deref()
            ),
            ("campaign", "personalize-workshop-campaign", None)
        );
        assert_eq!(campaign.user_id.as_deref(), Some("146456223"));
        attrs.insert(
            "campaign".into(),
            [
                ("arn".to_owned(), "arn:c".to_owned()),
                ("name".to_owned(), "c".to_owned()),
            ]
            .into(),
        );
        let p = Pipeline::locate(&stack, &attrs, &Options::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.campaign.and_then(|c| c.arn).as_deref(), Some("arn:c"));
    }

    #[test]
    fn a_stack_not_deployed_is_a_clear_error() {
        let err = Pipeline::locate(&shipped(), &BTreeMap::new(), &Options::default()).err();
        assert!(
            matches!(err, Some(LocateError::NotDeployed(ref n)) if n == "api"),
            "{err:?}"
        );
    }
}
