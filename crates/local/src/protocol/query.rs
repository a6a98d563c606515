//! awsQuery: `POST /` with a form body `Action=...&Version=...&Param=...`; responses are XML
//! `<ActionResponse><ActionResult>...</ActionResult><ResponseMetadata>...`; errors are
//! `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.

use super::respond;
use crate::AwsError;
use axum::body::Body;
use axum::http::Response;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Form parameters of a query request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(pub BTreeMap<String, String>);

impl Params {
    /// Parses a form-encoded body.
    pub fn parse(body: &[u8]) -> Params {
        Params(form_urlencoded::parse(body).into_owned().collect())
    }

    /// A parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A required parameter.
    ///
    /// # Errors
    /// `ValidationError` naming the missing member, as IAM words it.
    pub fn required(&self, name: &str) -> Result<&str, AwsError> {
        self.get(name).ok_or_else(|| {
            AwsError::new(
                "ValidationError",
                format!("1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null", lower_first(name)),
            )
        })
    }

    /// A list `Name.member.1`, `Name.member.2`, … of scalars.
    pub fn list(&self, name: &str) -> Vec<String> {
        (1..)
            .map_while(|i| self.get(&format!("{name}.member.{i}")).map(str::to_owned))
            .collect()
    }

    /// A list of structures `Name.member.N.Field`, as maps from field to value.
    pub fn struct_list(&self, name: &str) -> Vec<BTreeMap<String, String>> {
        let mut out = Vec::new();
        for i in 1.. {
            let prefix = format!("{name}.member.{i}.");
            let entry: BTreeMap<String, String> = self
                .0
                .range(prefix.clone()..)
                .take_while(|(k, _)| k.starts_with(&prefix))
                .map(|(k, v)| (k[prefix.len()..].to_owned(), v.clone()))
                .collect();
            if entry.is_empty() {
                break;
            }
            out.push(entry);
        }
        out
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_lowercase().chain(c).collect())
        .unwrap_or_default()
}

/// Escapes text for XML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Builds XML fragments.
#[derive(Debug, Default, Clone)]
pub struct Xml(String);

impl Xml {
    /// An empty fragment.
    pub fn new() -> Self {
        Xml(String::new())
    }

    /// `<name>escaped value</name>`.
    pub fn elem(&mut self, name: &str, value: impl AsRef<str>) -> &mut Self {
        let _ = write!(self.0, "<{name}>{}</{name}>", escape(value.as_ref()));
        self
    }

    /// `<name>…</name>` when `value` is some.
    pub fn opt(&mut self, name: &str, value: Option<impl AsRef<str>>) -> &mut Self {
        if let Some(v) = value {
            self.elem(name, v);
        }
        self
    }

    /// `<name>` + children + `</name>`.
    pub fn wrap(&mut self, name: &str, children: impl FnOnce(&mut Xml)) -> &mut Self {
        let _ = write!(self.0, "<{name}>");
        children(self);
        let _ = write!(self.0, "</{name}>");
        self
    }

    /// The XML text.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// A successful response: `<{action}Response xmlns><{action}Result>{result}</…>`.
pub fn ok(action: &str, xmlns: &str, result: &str, request_id: &str) -> Response<Body> {
    let body = format!(
        "<{action}Response xmlns=\"{xmlns}\"><{action}Result>{result}</{action}Result><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
    );
    respond(200, "text/xml", request_id, body.into_bytes())
}

/// An error response.
pub fn error(err: &AwsError, xmlns: &str, request_id: &str) -> Response<Body> {
    let body = format!(
        "<ErrorResponse xmlns=\"{xmlns}\"><Error><Type>{}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
        if err.sender { "Sender" } else { "Receiver" },
        escape(&err.code),
        escape(&err.message)
    );
    respond(err.status, "text/xml", request_id, body.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_struct_lists() {
        let p = Params::parse(b"Action=TagRole&Tags.member.1.Key=a&Tags.member.1.Value=1&Tags.member.2.Key=b&Tags.member.2.Value=2&TagKeys.member.1=x");
        assert_eq!(p.list("TagKeys"), vec!["x".to_owned()]);
        let tags = p.struct_list("Tags");
        assert_eq!(tags.len(), 2);
        assert_eq!(tags[1]["Key"], "b");
    }

    #[test]
    fn xml_is_escaped() {
        let mut x = Xml::new();
        x.elem("A", "<&>");
        assert_eq!(x.into_string(), "<A>&lt;&amp;&gt;</A>");
    }
}
