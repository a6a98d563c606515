//! # personalize-stack-vtl
//!
//! An API Gateway **mapping-template engine**: the subset of the Velocity Template Language
//! (VTL) that REST API mapping templates use, with API Gateway's `$input`, `$util`,
//! `$context` and `$stageVariables` objects and Jayway-style [`jsonpath`].
//!
//! It serves two purposes:
//! 1. offline, to lint and render the templates of a stack file against sample requests, so
//!    a template that produces invalid JSON (such as a `#foreach` without
//!    `#if($foreach.hasNext),#end`) is caught before deployment;
//! 2. inside a local API Gateway emulator, to transform real requests.
//!
//! ```
//! use personalize_stack_vtl::{Request, Template};
//!
//! let template = Template::parse(r#"{
//!     "StreamName": "$input.params('stream-name')",
//!     "Records": [
//!         #foreach($record in $input.path('$.records'))
//!         {"Data": "$util.base64Encode($record.data)"}#if($foreach.hasNext),#end
//!         #end
//!     ]
//! }"#)?;
//! let request = Request {
//!     body: r#"{"records": [{"data": "a"}, {"data": "b"}]}"#.into(),
//!     path_params: vec![("stream-name".into(), "events".into())],
//!     ..Request::default()
//! };
//! let body = template.render(&request)?;
//! assert_eq!(
//!     body.split_whitespace().collect::<String>(),
//!     r#"{"StreamName":"events","Records":[{"Data":"YQ=="},{"Data":"Yg=="}]}"#
//! );
//! # Ok::<(), personalize_stack_vtl::TemplateError>(())
//! ```
//!
//! ## Language
//!
//! Velocity 1.7 semantics, which API Gateway follows, except where noted:
//! * references `$x`, `${x}`, `$!x`, property chains, method calls, `$list[0]`, `$map['k']`;
//!   identifiers may contain `-` after their first char (`$elem.partition-key`), so write
//!   `$a - 1`, not `$a-1`;
//! * **undefined or null references render as the empty string** (API Gateway), not as
//!   their source text; properties and methods of null are null;
//! * `#set`, `#if`/`#elseif`/`#else`/`#end`, `#foreach` (over lists, maps' values and ranges,
//!   with `$foreach.index/count/hasNext/first/last/parent` and `$velocityCount`), `#break`,
//!   `#stop`, `##` and `#* *#` comments, `\$` and `\#` escapes;
//! * `#set` with a null value leaves the target unchanged (Velocity 1.7);
//! * only `null` and `false` are false in conditions (Velocity 1.7: `''` and `0` are true);
//! * lines holding only a directive or a comment produce no output (Velocity 2's default
//!   whitespace "gobbling"), so indented directives do not leave blank lines;
//! * string literals: `"…"` interpolates, `'…'` does not; backslashes are kept as written
//!   and a doubled quote is one quote;
//! * operators with Java precedence: `! * / % + - < <= > >= == != && ||` and the word forms
//!   `not lt le gt ge eq ne and or`;
//! * Java methods of `String`, `List`, `Map`, numbers; Java regex for `replaceAll`,
//!   `matches`, `split`.
//!
//! Not supported: macros and `#define`/`#evaluate`/`#parse`/`#include` (parse errors),
//! lookaround and backreferences in regexes (render errors).
//!
//! ## API Gateway specifics
//! * `$input.path`/`$input.json` parse the body once per render; an empty body is `{}`, a
//!   body that is not JSON is a render error whose message contains
//!   "body is not valid JSON". A definite JSONPath that matches nothing gives `""`.
//! * A `#foreach` over more than 1000 items is an error (API Gateway's iteration quota).

mod ast;
mod cursor;
mod error;
mod eval;
mod input;
mod javaregex;
pub mod jsonpath;
mod methods;
mod operators;
mod parser;
mod request;
mod util;
mod value;

pub use error::TemplateError;
pub use request::{Context, Identity, Request};

/// A parsed mapping template, ready to render any number of requests. It holds no
/// per-request state, so it can be shared between threads.
#[derive(Debug, Clone)]
pub struct Template {
    block: ast::Block,
}

impl Template {
    /// Parses a template. Errors carry the 1-based line and column inside the template.
    pub fn parse(source: &str) -> Result<Template, TemplateError> {
        parser::parse(source).map(|block| Template { block })
    }

    /// Renders the template against a request. Runtime errors (an invalid JSONPath, an
    /// unknown method, division by zero, an invalid regex, a body that is not JSON, …) carry
    /// the line and column of the expression that failed.
    pub fn render(&self, request: &Request) -> Result<String, TemplateError> {
        eval::render(&self.block, request)
    }
}

/// Parses and renders `source` in one go.
pub fn render(source: &str, request: &Request) -> Result<String, TemplateError> {
    Template::parse(source)?.render(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn templates_can_be_shared_between_threads() {
        assert_send_sync::<Template>();
    }

    #[test]
    fn a_template_renders_many_requests() {
        let template = Template::parse("$input.params('id')");
        let Ok(template) = template else {
            panic!("{template:?}")
        };
        for id in ["a", "b"] {
            let request = Request {
                query: vec![("id".into(), id.into())],
                ..Request::default()
            };
            assert_eq!(template.render(&request).as_deref(), Ok(id));
        }
    }
}
