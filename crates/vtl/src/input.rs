//! `$input`, `$context` and `$stageVariables`: the request as a template sees it.

use std::cell::OnceCell;

use indexmap::IndexMap;

use crate::jsonpath::{self, Selection};
use crate::request::{Context, Request};
use crate::value::Value;

/// Backs `$input` for one render. The body is parsed as JSON at most once, on first use.
pub(crate) struct Input<'r> {
    request: &'r Request,
    body_json: OnceCell<Result<serde_json::Value, String>>,
}

impl<'r> Input<'r> {
    pub(crate) fn new(request: &'r Request) -> Self {
        Input {
            request,
            body_json: OnceCell::new(),
        }
    }

    /// `$input.<name>`.
    pub(crate) fn property(&self, name: &str) -> Value {
        match name {
            "body" => Value::string(self.request.body.as_str()),
            _ => Value::Null,
        }
    }

    /// `$input.<name>(args)`.
    pub(crate) fn call(&self, name: &str, args: &[Value]) -> Result<Value, String> {
        match (name, args) {
            ("json", [path]) => self.json(path),
            ("path", [path]) => self.path(path),
            ("params", []) => Ok(self.all_params()),
            ("params", [name]) => Ok(self.param(name)),
            ("json" | "path", _) => Err(format!("`$input.{name}` expects 1 argument, got {}", args.len())),
            ("params", _) => Err(format!(
                "`$input.params` expects 0 or 1 arguments, got {}",
                args.len()
            )),
            _ => Err(format!("unknown method `{name}` on `$input`")),
        }
    }

    /// `$input.json(path)`: the match serialised as JSON text (a string keeps its quotes).
    /// A definite path that matches nothing gives the empty string.
    fn json(&self, path: &Value) -> Result<Value, String> {
        let text = match self.select(path)? {
            Selection::NoMatch => String::new(),
            Selection::Value(v) => serde_json::to_string(v).map_err(|e| e.to_string())?,
            Selection::List(vs) => serde_json::to_string(&vs).map_err(|e| e.to_string())?,
        };
        Ok(Value::string(text))
    }

    /// `$input.path(path)`: the match as a template value. A definite path that matches
    /// nothing gives the empty string, which is what the developer guide's
    /// `#if($input.path('$.ShardCount') == '')` default relies on.
    fn path(&self, path: &Value) -> Result<Value, String> {
        Ok(match self.select(path)? {
            Selection::NoMatch => Value::string(""),
            Selection::Value(v) => Value::from_json(v),
            Selection::List(vs) => Value::list(vs.into_iter().map(Value::from_json).collect()),
        })
    }

    fn select(&self, path: &Value) -> Result<Selection<'_>, String> {
        let Value::Str(path) = path else {
            return Err(format!("a JSONPath must be a String, got {}", path.describe()));
        };
        let doc = self.body_json()?;
        jsonpath::select(doc, path).map_err(|e| format!("invalid JSONPath `{path}`: {e}"))
    }

    fn body_json(&self) -> Result<&serde_json::Value, String> {
        self.body_json
            .get_or_init(|| parse_body(&self.request.body))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// `$input.params()`: `{path: {…}, querystring: {…}, header: {…}}`.
    fn all_params(&self) -> Value {
        let mut all = IndexMap::new();
        all.insert("path".to_owned(), pairs_to_map(&self.request.path_params));
        all.insert("querystring".to_owned(), pairs_to_map(&self.request.query));
        all.insert("header".to_owned(), pairs_to_map(&self.request.headers));
        Value::map(all)
    }

    /// `$input.params(name)`: path parameters first, then the query string, then headers
    /// (case-insensitively). Missing parameters give the empty string. With repeated
    /// names the last one wins, as in [`pairs_to_map`].
    fn param(&self, name: &Value) -> Value {
        let name = name.to_java_string();
        let request = self.request;
        let exact =
            |pairs: &'r [(String, String)]| pairs.iter().rev().find(|(k, _)| *k == name).map(|(_, v)| v);
        let found = exact(&request.path_params)
            .or_else(|| exact(&request.query))
            .or_else(|| {
                request
                    .headers
                    .iter()
                    .rev()
                    .find(|(k, _)| k.eq_ignore_ascii_case(&name))
                    .map(|(_, v)| v)
            });
        Value::string(found.map_or("", String::as_str))
    }
}

/// Parses the request body. API Gateway treats an empty body as `{}`.
fn parse_body(body: &str) -> Result<serde_json::Value, String> {
    if body.trim().is_empty() {
        return Ok(serde_json::Value::Object(serde_json::Map::new()));
    }
    serde_json::from_str(body).map_err(|e| format!("request body is not valid JSON: {e}"))
}

/// Name/value pairs as a map of strings; a repeated name keeps its last value.
pub(crate) fn pairs_to_map(pairs: &[(String, String)]) -> Value {
    Value::map(
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), Value::string(v.as_str())))
            .collect(),
    )
}

/// `$context` as a map with the documented camelCase names.
pub(crate) fn context_value(context: &Context) -> Value {
    let s = |v: &str| Value::string(v);
    let identity = &context.identity;
    let identity: IndexMap<String, Value> = [
        ("sourceIp", s(&identity.source_ip)),
        ("userAgent", s(&identity.user_agent)),
        ("apiKey", s(&identity.api_key)),
        ("apiKeyId", s(&identity.api_key_id)),
        ("accountId", s(&identity.account_id)),
        ("caller", s(&identity.caller)),
        ("user", s(&identity.user)),
        ("userArn", s(&identity.user_arn)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let context: IndexMap<String, Value> = [
        ("requestId", s(&context.request_id)),
        ("extendedRequestId", s(&context.extended_request_id)),
        ("apiId", s(&context.api_id)),
        ("stage", s(&context.stage)),
        ("httpMethod", s(&context.http_method)),
        ("resourceId", s(&context.resource_id)),
        ("resourcePath", s(&context.resource_path)),
        ("path", s(&context.path)),
        ("protocol", s(&context.protocol)),
        ("domainName", s(&context.domain_name)),
        ("domainPrefix", s(&context.domain_prefix)),
        ("accountId", s(&context.account_id)),
        ("requestTime", s(&context.request_time)),
        ("requestTimeEpoch", Value::Int(context.request_time_epoch)),
        ("identity", Value::map(identity)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    Value::map(context)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: &str) -> Request {
        Request {
            body: body.to_owned(),
            path_params: vec![("id".into(), "from-path".into())],
            query: vec![("id".into(), "from-query".into()), ("q".into(), "1".into())],
            headers: vec![("X-Token".into(), "t".into()), ("q".into(), "header".into())],
            ..Request::default()
        }
    }

    fn call(input: &Input<'_>, name: &str, arg: &str) -> String {
        match input.call(name, &[Value::string(arg)]) {
            Ok(v) => v.to_java_string(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn params_search_path_then_query_then_headers() {
        let req = request("");
        let input = Input::new(&req);
        assert_eq!(call(&input, "params", "id"), "from-path");
        assert_eq!(call(&input, "params", "q"), "1");
        assert_eq!(call(&input, "params", "x-token"), "t");
        assert_eq!(call(&input, "params", "missing"), "");
        let all = input.call("params", &[]).map(|v| v.to_java_string());
        assert_eq!(
            all.as_deref(),
            Ok("{path={id=from-path}, querystring={id=from-query, q=1}, header={X-Token=t, q=header}}")
        );
    }

    #[test]
    fn json_and_path() {
        let req = request(r#"{"a":{"b":"text","n":[1,2]}}"#);
        let input = Input::new(&req);
        assert_eq!(call(&input, "json", "$.a.b"), r#""text""#);
        assert_eq!(call(&input, "json", "$.a"), r#"{"b":"text","n":[1,2]}"#);
        assert_eq!(call(&input, "json", "$.a.n[*]"), "[1,2]");
        assert_eq!(call(&input, "json", "$.missing"), "");
        assert_eq!(call(&input, "path", "$.a.b"), "text");
        assert_eq!(call(&input, "path", "$.a"), "{b=text, n=[1, 2]}");
        assert_eq!(call(&input, "path", "$.missing"), "");
        assert!(call(&input, "path", "$.a[").starts_with("error: invalid JSONPath `$.a[`"));
        assert_eq!(input.property("body").to_java_string(), req.body);
    }

    #[test]
    fn empty_body_is_an_empty_object() {
        let req = request("  ");
        assert_eq!(call(&Input::new(&req), "json", "$"), "{}");
    }

    #[test]
    fn invalid_body_is_reported() {
        let req = request("not json");
        let message = call(&Input::new(&req), "path", "$.a");
        assert!(message.contains("body is not valid JSON"), "{message}");
    }

    #[test]
    fn context_uses_camel_case_names() {
        let mut context = Context {
            request_id: "r".into(),
            request_time_epoch: 5,
            ..Context::default()
        };
        context.identity.source_ip = "1.2.3.4".into();
        let Value::Map(map) = context_value(&context) else {
            panic!("not a map")
        };
        let map = map.borrow();
        assert_eq!(
            map.get("requestId").map(Value::to_java_string).as_deref(),
            Some("r")
        );
        assert!(matches!(map.get("requestTimeEpoch"), Some(Value::Int(5))));
        assert_eq!(
            map.get("identity").map(Value::to_java_string).as_deref(),
            Some("{sourceIp=1.2.3.4, userAgent=, apiKey=, apiKeyId=, accountId=, caller=, user=, userArn=}")
        );
    }
}
