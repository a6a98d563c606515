//! Parse and render errors carry the 1-based line and column of the problem.
#![allow(clippy::unwrap_used)]

use personalize_stack_vtl::{Request, Template, TemplateError, render};

fn parse_error(source: &str) -> TemplateError {
    match Template::parse(source) {
        Ok(_) => panic!("parsed: {source:?}"),
        Err(err) => err,
    }
}

fn render_error(source: &str, request: &Request) -> TemplateError {
    match render(source, request) {
        Ok(out) => panic!("rendered {out:?} from {source:?}"),
        Err(err) => err,
    }
}

fn at(err: &TemplateError) -> (usize, usize) {
    (err.line, err.column)
}

#[test]
fn unclosed_if_is_reported_at_the_if() {
    let err = parse_error("{\n  \"a\": 1,\n    #if($x)\n  \"b\": 2\n}\n");
    assert_eq!(at(&err), (3, 5));
    assert_eq!(err.message, "`#if` is never closed: missing `#end`");
    assert_eq!(
        err.to_string(),
        "line 3, column 5: `#if` is never closed: missing `#end`"
    );
}

#[test]
fn unclosed_foreach_is_reported_at_the_foreach() {
    let err = parse_error("[\n#foreach($r in $input.path('$.Records'))\n  $r\n]");
    assert_eq!(at(&err), (2, 1));
    assert_eq!(err.message, "`#foreach` is never closed: missing `#end`");
}

#[test]
fn end_without_opener() {
    let err = parse_error("{\n  \"a\": 1\n  #end\n}");
    assert_eq!(at(&err), (3, 3));
    assert_eq!(err.message, "`#end` without a matching `#if` or `#foreach`");
}

#[test]
fn else_without_if() {
    let err = parse_error("a #else b");
    assert_eq!(at(&err), (1, 3));
    assert_eq!(err.message, "`#else` without a matching `#if`");
}

#[test]
fn unterminated_string_is_reported_at_its_quote() {
    let err = parse_error("{\n  #set($name = \"Bella)\n}");
    assert_eq!(at(&err), (2, 16));
    assert_eq!(err.message, "unterminated string literal");
    let err = parse_error("$input.path('$.a)");
    assert_eq!(at(&err), (1, 13));
}

#[test]
fn missing_set_value() {
    let err = parse_error("#set($x = )");
    assert_eq!(at(&err), (1, 11));
    assert_eq!(err.message, "expected an expression, found `)`");
}

#[test]
fn unclosed_formal_reference() {
    let err = parse_error("{\"a\": \"${input.params('a')\"}");
    assert_eq!(at(&err), (1, 8));
    assert_eq!(err.message, "unclosed `${`: expected `}`, found `\"`");
}

#[test]
fn columns_count_chars_not_bytes() {
    let err = parse_error("é😀 #end");
    assert_eq!(at(&err), (1, 4));
}

#[test]
fn runtime_errors_point_at_the_failing_expression() {
    let request = Request {
        body: r#"{"s": "abc", "n": 0}"#.into(),
        ..Request::default()
    };
    let cases = [
        // (template, line, column, message prefix)
        (
            "{\n  \"a\": $input.json('$.a[')\n}",
            2,
            15,
            "invalid JSONPath `$.a[`: column 5",
        ),
        (
            "$input.path('$.s').foo()",
            1,
            20,
            "unknown method `foo` on a String",
        ),
        ("#set($x = 1 / $input.path('$.n'))", 1, 13, "division by zero"),
        (
            "$input.path('$.s').replaceAll('[', '')",
            1,
            20,
            "invalid regex `[`",
        ),
        (
            "$util.base64Decode('%%%')",
            1,
            7,
            "`$util.base64Decode`: invalid base64",
        ),
        ("$input.path('$.s').substring(5)", 1, 20, "substring: begin 5"),
        ("#set($l = [1])\n$l.get(1)", 2, 4, "index 1 is out of bounds"),
        (
            "$input.path('$.s').substring('1')",
            1,
            20,
            "`substring` expects an Integer",
        ),
    ];
    for (template, line, column, message) in cases {
        let err = render_error(template, &request);
        assert_eq!(at(&err), (line, column), "{template}: {err}");
        assert!(err.message.starts_with(message), "{template}: {err}");
    }
}

#[test]
fn a_body_that_is_not_json_is_a_render_error() {
    let request = Request {
        body: "userid=1&itemid=2".into(),
        ..Request::default()
    };
    let err = render_error("{\n  \"Records\": $input.json('$.Records')\n}", &request);
    assert_eq!(at(&err), (2, 21));
    assert!(err.message.contains("body is not valid JSON"), "{err}");
}
