//! Mapping: the request template chosen by Content-Type (with the passthrough rules), the
//! integration response chosen by `selectionPattern`, its response template and its
//! response parameters.

use super::super::model::{Integration, IntegrationResponse};
use super::reply::{GatewayError, Reply};
use personalize_stack_vtl::{Request, Template, jsonpath};
use std::collections::BTreeMap;

/// What goes to the back end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum IntegrationBody {
    /// A template rendered (the `String`).
    Rendered(String),
    /// No template applied: the method request body, untouched.
    Passthrough(String),
}

impl IntegrationBody {
    /// The body text.
    pub(super) fn text(&self) -> &str {
        match self {
            IntegrationBody::Rendered(s) | IntegrationBody::Passthrough(s) => s,
        }
    }
}

/// The media type of a `Content-Type` value, lower case, without parameters; API Gateway
/// assumes `application/json` when the header is absent.
pub(super) fn media_type(content_type: Option<&str>) -> String {
    content_type
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "application/json".to_owned())
}

/// The request template for `content_type`, applied as the integration's passthrough
/// behaviour says:
/// - a template for the content type → rendered (a render failure is a 500);
/// - no templates at all → passthrough, except `NEVER` → 415;
/// - templates, none for this type → `WHEN_NO_MATCH` passes through, `WHEN_NO_TEMPLATES` and
///   `NEVER` → 415.
pub(super) fn request_body(
    integration: &Integration,
    content_type: &str,
    request: &Request,
) -> Result<IntegrationBody, GatewayError> {
    let templates = &integration.request_templates;
    let chosen = templates
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(content_type))
        .map(|(_, v)| v);
    match chosen {
        Some(source) => render(source, request).map(IntegrationBody::Rendered),
        None => {
            let passthrough = match integration.passthrough_behavior.as_str() {
                "NEVER" => false,
                "WHEN_NO_TEMPLATES" => templates.is_empty(),
                _ => true,
            };
            if passthrough {
                Ok(IntegrationBody::Passthrough(request.body.clone()))
            } else {
                Err(GatewayError::UnsupportedMediaType)
            }
        }
    }
}

/// Renders a mapping template; AWS answers any parse or render failure with a 500.
pub(super) fn render(source: &str, request: &Request) -> Result<String, GatewayError> {
    Template::parse(source)
        .and_then(|t| t.render(request))
        .map_err(|_| GatewayError::InternalServerError)
}

/// Whether `text` matches the Java regular expression `pattern` as a whole (how API Gateway
/// applies `selectionPattern`). The template engine's `String.matches` is exactly that; an
/// invalid pattern matches nothing.
pub(super) fn full_match(pattern: &str, text: &str) -> bool {
    const PROBE: &str = "#if($input.params('text').matches($input.params('pattern')))1#end";
    let request = Request {
        query: vec![
            ("text".to_owned(), text.to_owned()),
            ("pattern".to_owned(), pattern.to_owned()),
        ],
        ..Request::default()
    };
    personalize_stack_vtl::render(PROBE, &request).is_ok_and(|out| out == "1")
}

/// The integration response for a back-end outcome: the first (by status code) whose
/// `selectionPattern` matches `selector` as a whole, else the default one (no pattern). With
/// no selector (a Lambda function that succeeded) only the default one applies.
pub(super) fn select_response<'a>(
    responses: &'a BTreeMap<String, IntegrationResponse>,
    selector: Option<&str>,
) -> Option<&'a IntegrationResponse> {
    let is_default = |r: &IntegrationResponse| r.selection_pattern.as_deref().is_none_or(str::is_empty);
    let matching = |r: &&IntegrationResponse| {
        !is_default(r)
            && selector.is_some_and(|s| r.selection_pattern.as_deref().is_some_and(|p| full_match(p, s)))
    };
    responses
        .values()
        .find(matching)
        .or_else(|| responses.values().find(|r| is_default(r)))
}

/// What the back end answered.
#[derive(Debug, Clone, Default)]
pub(super) struct BackendResponse {
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// The body, as text.
    pub body: String,
    /// What `selectionPattern`s are matched against: the status code for HTTP-style back ends,
    /// the `errorMessage` of a failed Lambda function; `None` selects the default response.
    pub selector: Option<String>,
}

impl BackendResponse {
    /// An HTTP-style answer: patterns match its status code.
    pub(super) fn http(status: u16, headers: Vec<(String, String)>, body: String) -> BackendResponse {
        BackendResponse {
            headers,
            body,
            selector: Some(status.to_string()),
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The method response an integration response makes of `backend`: its status, its response
/// template (chosen by `Accept`, else `application/json`, else the first; an empty one or
/// none passes the back-end body through) and its header mappings.
pub(super) fn method_response(
    chosen: &IntegrationResponse,
    backend: &BackendResponse,
    method_request: &Request,
    accept: Option<&str>,
) -> Result<Reply, GatewayError> {
    let status = chosen
        .status_code
        .parse::<u16>()
        .map_err(|_| GatewayError::InternalServerError)?;
    let (content_type, body) = match response_template(chosen.templates(), accept) {
        Some((content_type, source)) if !source.trim().is_empty() => {
            let request = Request {
                body: backend.body.clone(),
                ..method_request.clone()
            };
            (content_type.to_owned(), render(source, &request)?)
        }
        Some((content_type, _)) => (content_type.to_owned(), backend.body.clone()),
        None => ("application/json".to_owned(), backend.body.clone()),
    };
    let headers = chosen
        .response_parameters
        .iter()
        .filter_map(|(target, source)| {
            let name = target.strip_prefix("method.response.header.")?;
            Some((name.to_owned(), parameter_value(source, backend, method_request)?))
        })
        .collect();
    Ok(Reply {
        status,
        content_type,
        headers,
        body: body.into_bytes(),
        error_type: None,
    })
}

fn response_template<'a>(
    templates: &'a BTreeMap<String, String>,
    accept: Option<&str>,
) -> Option<(&'a str, &'a str)> {
    let by_type = |t: &str| {
        templates
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(t))
            .map(|(k, v)| (k.as_str(), v.as_str()))
    };
    accept
        .into_iter()
        .flat_map(|a| a.split(','))
        .map(|a| media_type(Some(a)))
        .find_map(|a| by_type(&a))
        .or_else(|| by_type("application/json"))
        .or_else(|| templates.iter().next().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// The value of a response parameter mapping: `'static'`, `integration.response.header.X`,
/// `integration.response.body`, `integration.response.body.a.b` (a JSON path into the
/// back-end body) or `stageVariables.x`. `None` leaves the header out, as AWS does when the
/// source is absent.
fn parameter_value(source: &str, backend: &BackendResponse, method_request: &Request) -> Option<String> {
    if let Some(literal) = source.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        return Some(literal.to_owned());
    }
    if let Some(name) = source
        .strip_prefix("integration.response.header.")
        .or_else(|| source.strip_prefix("integration.response.multivalueheader."))
    {
        return backend.header(name).map(str::to_owned);
    }
    if source == "integration.response.body" {
        return Some(backend.body.clone());
    }
    if let Some(path) = source.strip_prefix("integration.response.body.") {
        let doc: serde_json::Value = serde_json::from_str(&backend.body).ok()?;
        let found = jsonpath::select(&doc, &format!("$.{path}")).ok()?.to_value()?;
        return Some(match found {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        });
    }
    if let Some(name) = source.strip_prefix("stageVariables.") {
        return method_request
            .stage_variables
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone());
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn integration(templates: &[(&str, &str)], passthrough: &str) -> Integration {
        Integration {
            kind: "MOCK".into(),
            http_method: None,
            uri: None,
            connection_type: "INTERNET".into(),
            connection_id: None,
            credentials: None,
            request_parameters: BTreeMap::new(),
            request_templates: templates
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            passthrough_behavior: passthrough.into(),
            content_handling: None,
            timeout_in_millis: 29_000,
            cache_namespace: String::new(),
            cache_key_parameters: Vec::new(),
            integration_responses: BTreeMap::new(),
        }
    }

    fn response(code: &str, pattern: Option<&str>) -> IntegrationResponse {
        IntegrationResponse {
            status_code: code.into(),
            selection_pattern: pattern.map(str::to_owned),
            response_parameters: BTreeMap::new(),
            response_templates: None,
            content_handling: None,
        }
    }

    #[test]
    fn passthrough_rules_follow_the_developer_guide() {
        let request = Request {
            body: "raw".into(),
            ..Request::default()
        };
        let json = "application/json";
        let xml = "application/xml";
        let with = |p: &str| integration(&[(json, "T")], p);
        let without = |p: &str| integration(&[], p);
        for p in ["WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER"] {
            assert_eq!(
                request_body(&with(p), json, &request),
                Ok(IntegrationBody::Rendered("T".into()))
            );
        }
        assert_eq!(
            request_body(&with("WHEN_NO_MATCH"), xml, &request),
            Ok(IntegrationBody::Passthrough("raw".into()))
        );
        assert_eq!(
            request_body(&with("WHEN_NO_TEMPLATES"), xml, &request),
            Err(GatewayError::UnsupportedMediaType)
        );
        assert_eq!(
            request_body(&with("NEVER"), xml, &request),
            Err(GatewayError::UnsupportedMediaType)
        );
        assert_eq!(
            request_body(&without("WHEN_NO_TEMPLATES"), xml, &request),
            Ok(IntegrationBody::Passthrough("raw".into()))
        );
        assert_eq!(
            request_body(&without("NEVER"), json, &request),
            Err(GatewayError::UnsupportedMediaType)
        );
        assert_eq!(
            request_body(&integration(&[(json, "#if(")], "NEVER"), json, &request),
            Err(GatewayError::InternalServerError)
        );
        assert_eq!(media_type(None), json);
        assert_eq!(media_type(Some("Application/JSON; charset=utf-8")), json);
    }

    #[test]
    fn selection_patterns_match_the_whole_status() {
        assert!(full_match(r"4\d{2}", "400"));
        assert!(!full_match(r"4\d{2}", "4000"));
        assert!(!full_match(r"4\d{2}", "200"));
        assert!(full_match("2..|3..", "302"));
        assert!(!full_match("(", "("));
        let responses: BTreeMap<String, IntegrationResponse> = [
            ("200".to_owned(), response("200", None)),
            ("400".to_owned(), response("400", Some(r"4\d{2}"))),
            ("500".to_owned(), response("500", Some(r"5\d{2}"))),
        ]
        .into_iter()
        .collect();
        let code = |s: &str| select_response(&responses, Some(s)).map(|r| r.status_code.clone());
        assert_eq!(code("200").as_deref(), Some("200"));
        assert_eq!(code("403").as_deref(), Some("400"));
        assert_eq!(code("503").as_deref(), Some("500"));
        let only_default: BTreeMap<String, IntegrationResponse> =
            [("200".to_owned(), response("200", None))].into_iter().collect();
        assert_eq!(
            select_response(&only_default, Some("400")).map(|r| r.status_code.as_str()),
            Some("200")
        );
        let none: BTreeMap<String, IntegrationResponse> = [("400".to_owned(), response("400", Some("4..")))]
            .into_iter()
            .collect();
        assert!(select_response(&none, Some("200")).is_none());
        // A failed Lambda function's empty message, and a successful one.
        assert_eq!(code("").as_deref(), Some("200"));
        let any = [
            ("200".to_owned(), response("200", None)),
            ("500".to_owned(), response("500", Some(".*"))),
        ]
        .into_iter()
        .collect::<BTreeMap<_, _>>();
        assert_eq!(
            select_response(&any, None).map(|r| r.status_code.as_str()),
            Some("200")
        );
        assert_eq!(
            select_response(&any, Some("boom")).map(|r| r.status_code.as_str()),
            Some("500")
        );
    }

    #[test]
    fn response_templates_and_parameters() {
        let mut chosen = response("200", None);
        chosen
            .response_templates
            .get_or_insert_with(BTreeMap::new)
            .insert(
                "application/json".into(),
                r#"{"n": $input.path('$.FailedRecordCount')}"#.into(),
            );
        chosen.response_parameters.insert(
            "method.response.header.Access-Control-Allow-Origin".into(),
            "'*'".into(),
        );
        chosen.response_parameters.insert(
            "method.response.header.X-Request".into(),
            "integration.response.header.x-amzn-RequestId".into(),
        );
        chosen.response_parameters.insert(
            "method.response.header.X-Count".into(),
            "integration.response.body.FailedRecordCount".into(),
        );
        let backend = BackendResponse::http(
            200,
            vec![("x-amzn-RequestId".into(), "r1".into())],
            r#"{"FailedRecordCount": 0}"#.into(),
        );
        let reply = method_response(&chosen, &backend, &Request::default(), None).unwrap();
        assert_eq!(reply.status, 200);
        assert_eq!(String::from_utf8(reply.body).unwrap(), r#"{"n": 0}"#);
        let mut headers = reply.headers;
        headers.sort();
        assert_eq!(
            headers,
            vec![
                ("Access-Control-Allow-Origin".to_owned(), "*".to_owned()),
                ("X-Count".to_owned(), "0".to_owned()),
                ("X-Request".to_owned(), "r1".to_owned()),
            ]
        );
        let passthrough =
            method_response(&response("200", None), &backend, &Request::default(), None).unwrap();
        assert_eq!(passthrough.body, backend.body.as_bytes());
        assert_eq!(passthrough.content_type, "application/json");
    }
}
