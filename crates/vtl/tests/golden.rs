//! Golden tests: templates and expected outputs typed by hand from the AWS API Gateway
//! developer guide. Each case names the page it comes from. Where the guide's spacing is not
//! the point, outputs are compared as parsed JSON; otherwise they are compared exactly.
#![allow(clippy::unwrap_used)]

use personalize_stack_vtl::{Context, Identity, Request, render};
use serde_json::{Value, json};

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn stream_request(body: &str) -> Request {
    Request {
        body: body.to_owned(),
        path_params: pairs(&[("stream-name", "myStream")]),
        ..Request::default()
    }
}

fn render_ok(template: &str, request: &Request) -> String {
    match render(template, request) {
        Ok(out) => out,
        Err(err) => panic!("render failed: {err}\n{template}"),
    }
}

fn render_json(template: &str, request: &Request) -> Value {
    let out = render_ok(template, request);
    match serde_json::from_str(&out) {
        Ok(value) => value,
        Err(err) => panic!("not JSON ({err}):\n{out}"),
    }
}

// ---------------------------------------------------------------------------------------
// "Create an API Gateway API as an Amazon Kinesis proxy" (integrating-api-with-aws-services-kinesis)
// ---------------------------------------------------------------------------------------

/// "List Streams in Kinesis": the ListStreams mapping template is `{}`.
#[test]
fn kinesis_list_streams() {
    assert_eq!(render_ok("{}", &Request::default()), "{}");
}

/// "To configure and test the GET method on a stream resource": DescribeStream template.
#[test]
fn kinesis_describe_stream() {
    let template = "{\n    \"StreamName\": \"$input.params('stream-name')\"\n}";
    assert_eq!(
        render_ok(template, &stream_request("")),
        "{\n    \"StreamName\": \"myStream\"\n}"
    );
}

/// "Configure and test the DELETE method on a stream resource": DeleteStream template.
#[test]
fn kinesis_delete_stream() {
    let template = "{\n    \"StreamName\": \"$input.params('stream-name')\"\n}";
    assert_eq!(
        render_json(template, &stream_request("{}")),
        json!({"StreamName": "myStream"})
    );
}

/// "To configure and test the POST method on a stream resource": CreateStream template,
/// which defaults `ShardCount` to 5 when the payload has none.
const CREATE_STREAM: &str = r##"{
    "ShardCount": #if($input.path('$.ShardCount') == '') 5 #else $input.path('$.ShardCount') #end,
    "StreamName": "$input.params('stream-name')"
}"##;

#[test]
fn kinesis_create_stream_with_shard_count() {
    let request = stream_request(r#"{ "ShardCount": 3 }"#);
    assert_eq!(
        render_json(CREATE_STREAM, &request),
        json!({"ShardCount": 3, "StreamName": "myStream"})
    );
}

#[test]
fn kinesis_create_stream_defaults_shard_count() {
    // The missing `ShardCount` makes `$input.path` return '', so the `#if` picks 5.
    assert_eq!(
        render_ok(CREATE_STREAM, &stream_request("")),
        "{\n    \"ShardCount\":  5 ,\n    \"StreamName\": \"myStream\"\n}"
    );
}

/// "To set up and test the PUT /streams/{stream-name}/record method": PutRecord template.
/// `$input.json` keeps the JSON quotes, so the record is the base64 of `"some data"`.
#[test]
fn kinesis_put_record() {
    let template = r##"{
    "StreamName": "$input.params('stream-name')",
    "Data": "$util.base64Encode($input.json('$.Data'))",
    "PartitionKey": "$input.path('$.PartitionKey')"
}"##;
    let request = stream_request(r#"{"Data": "some data", "PartitionKey": "some key"}"#);
    assert_eq!(
        render_json(template, &request),
        json!({
            "StreamName": "myStream",
            "Data": "InNvbWUgZGF0YSI=",
            "PartitionKey": "some key"
        })
    );
}

/// "To set up and test the PUT /streams/{stream-name}/records method": PutRecords template
/// and the guide's test payload. `$elem.partition-key` works because Velocity 1.7
/// identifiers may contain `-`.
const PUT_RECORDS: &str = r##"{
    "StreamName": "$input.params('stream-name')",
    "Records": [
       #foreach($elem in $input.path('$.records'))
          {
            "Data": "$util.base64Encode($elem.data)",
            "PartitionKey": "$elem.partition-key"
          }#if($foreach.hasNext),#end
        #end
    ]
}"##;

const PUT_RECORDS_BODY: &str = r#"{
    "records": [
        {
            "data": "some data",
            "partition-key": "some key"
        },
        {
            "data": "some other data",
            "partition-key": "some key"
        }
    ]
}"#;

#[test]
fn kinesis_put_records() {
    assert_eq!(
        render_json(PUT_RECORDS, &stream_request(PUT_RECORDS_BODY)),
        json!({
            "StreamName": "myStream",
            "Records": [
                {"Data": "c29tZSBkYXRh", "PartitionKey": "some key"},
                {"Data": "c29tZSBvdGhlciBkYXRh", "PartitionKey": "some key"}
            ]
        })
    );
}

/// The same template, compared exactly: the `#foreach` and `#end` lines leave nothing
/// behind, and the comma lands right after each `}` but the last.
#[test]
fn kinesis_put_records_exact_whitespace() {
    let expected = r#"{
    "StreamName": "myStream",
    "Records": [
          {
            "Data": "c29tZSBkYXRh",
            "PartitionKey": "some key"
          },
          {
            "Data": "c29tZSBvdGhlciBkYXRh",
            "PartitionKey": "some key"
          }
    ]
}"#;
    assert_eq!(
        render_ok(PUT_RECORDS, &stream_request(PUT_RECORDS_BODY)),
        expected
    );
}

/// "To set up and test the GET /streams/{stream-name}/sharditerator method": the
/// `shard-id` query parameter.
#[test]
fn kinesis_get_shard_iterator() {
    let template = r#"{
    "ShardId": "$input.params('shard-id')",
    "ShardIteratorType": "TRIM_HORIZON",
    "StreamName": "$input.params('stream-name')"
}"#;
    let mut request = stream_request("");
    request.query = pairs(&[("shard-id", "shardId-000000000004")]);
    assert_eq!(
        render_json(template, &request),
        json!({
            "ShardId": "shardId-000000000004",
            "ShardIteratorType": "TRIM_HORIZON",
            "StreamName": "myStream"
        })
    );
}

/// "To configure and test the GET /streams/{stream-name}/records method": the
/// `Shard-Iterator` header, looked up case-insensitively.
#[test]
fn kinesis_get_records() {
    let template = "{\n    \"ShardIterator\": \"$input.params('Shard-Iterator')\"\n}";
    let mut request = stream_request("");
    request.headers = pairs(&[("shard-iterator", "AAAAAAAAAAFYVN3VlFy...")]);
    assert_eq!(
        render_json(template, &request),
        json!({"ShardIterator": "AAAAAAAAAAFYVN3VlFy..."})
    );
}

// ---------------------------------------------------------------------------------------
// "API Gateway mapping template and access logging variable reference"
// (api-gateway-mapping-template-reference)
// ---------------------------------------------------------------------------------------

/// "`$context` Variable Template Example".
#[test]
fn context_variable_template_example() {
    let template = r#"{
    "stage" : "$context.stage",
    "request_id" : "$context.requestId",
    "api_id" : "$context.apiId",
    "resource_path" : "$context.resourcePath",
    "resource_id" : "$context.resourceId",
    "http_method" : "$context.httpMethod",
    "source_ip" : "$context.identity.sourceIp",
    "user-agent" : "$context.identity.userAgent",
    "account_id" : "$context.identity.accountId",
    "api_key" : "$context.identity.apiKey",
    "caller" : "$context.identity.caller",
    "user" : "$context.identity.user",
    "user_arn" : "$context.identity.userArn"
}"#;
    let request = Request {
        context: Context {
            stage: "prod".into(),
            request_id: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef".into(),
            api_id: "a1b2c3d4e5".into(),
            resource_path: "/root/child".into(),
            resource_id: "abc123".into(),
            http_method: "POST".into(),
            identity: Identity {
                source_ip: "192.0.2.1".into(),
                user_agent: "curl/8.0".into(),
                account_id: "123456789012".into(),
                api_key: "key".into(),
                caller: "AIDACKCEVSQ6C2EXAMPLE".into(),
                user: "AIDACKCEVSQ6C2EXAMPLE".into(),
                user_arn: "arn:aws:iam::123456789012:user/Alice".into(),
                ..Identity::default()
            },
            ..Context::default()
        },
        ..Request::default()
    };
    assert_eq!(
        render_json(template, &request),
        json!({
            "stage": "prod",
            "request_id": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "api_id": "a1b2c3d4e5",
            "resource_path": "/root/child",
            "resource_id": "abc123",
            "http_method": "POST",
            "source_ip": "192.0.2.1",
            "user-agent": "curl/8.0",
            "account_id": "123456789012",
            "api_key": "key",
            "caller": "AIDACKCEVSQ6C2EXAMPLE",
            "user": "AIDACKCEVSQ6C2EXAMPLE",
            "user_arn": "arn:aws:iam::123456789012:user/Alice"
        })
    );
}

/// "`$input` Variables": `$input.path('$.pets').count()` returns 3 for the three pets.
#[test]
fn input_path_count_of_pets() {
    let body = r#"{"pets": [
        {"id": 1, "type": "dog", "price": 249.99},
        {"id": 2, "type": "cat", "price": 124.99},
        {"id": 3, "type": "fish", "price": 0.99}
    ]}"#;
    let request = Request {
        body: body.into(),
        ..Request::default()
    };
    assert_eq!(render_ok("$input.path('$.pets').count()", &request), "3");
    assert_eq!(render_ok("$input.path('$.pets').size()", &request), "3");
    // `$input.json('$.pets')` "returns a JSON string representing the pets structure".
    assert_eq!(
        serde_json::from_str::<Value>(&render_ok("$input.json('$.pets')", &request)).unwrap(),
        serde_json::from_str::<Value>(body).unwrap()["pets"]
    );
}

/// "Parameter Mapping Template Example": passes every parameter through.
#[test]
fn input_params_passthrough_example() {
    let template = r##"#set($allParams = $input.params())
{
  "params" : {
    #foreach($type in $allParams.keySet())
    #set($params = $allParams.get($type))
    "$type" : {
      #foreach($paramName in $params.keySet())
      "$paramName" : "$util.escapeJavaScript($params.get($paramName))"
      #if($foreach.hasNext),#end
      #end
    }
    #if($foreach.hasNext),#end
    #end
  }
}"##;
    let request = Request {
        path_params: pairs(&[("id", "abc")]),
        query: pairs(&[("name", "Bella"), ("sort", "asc")]),
        headers: pairs(&[("Accept", "application/json"), ("X-Note", r#"say "hi""#)]),
        ..Request::default()
    };
    assert_eq!(
        render_json(template, &request),
        json!({
            "params": {
                "path": {"id": "abc"},
                "querystring": {"name": "Bella", "sort": "asc"},
                "header": {"Accept": "application/json", "X-Note": "say \"hi\""}
            }
        })
    );
}

/// "Example JSON Mapping Template Using `$input`": a query parameter plus the whole body.
#[test]
fn input_json_whole_body() {
    let template = "{\n    \"name\" : \"$input.params('name')\",\n    \"body\" : $input.json('$') \n}";
    let request = Request {
        body: r#"{ "mykey": { "a": [1, 2.5, "x"] } }"#.into(),
        query: pairs(&[("name", "me")]),
        ..Request::default()
    };
    assert_eq!(
        render_ok(template, &request),
        "{\n    \"name\" : \"me\",\n    \"body\" : {\"mykey\":{\"a\":[1,2.5,\"x\"]}} \n}"
    );
}

/// "Example Mapping Template Using `$input`": `$input.json('$.mykey')`, and the same
/// through `$util.escapeJavaScript`.
#[test]
fn input_json_with_path() {
    let request = Request {
        body: r#"{"mykey": {"a": "v"}}"#.into(),
        query: pairs(&[("name", "me")]),
        ..Request::default()
    };
    let plain = "{\n    \"name\" : \"$input.params('name')\",\n    \"body\" : $input.json('$.mykey')  \n}";
    assert_eq!(
        render_json(plain, &request),
        json!({"name": "me", "body": {"a": "v"}})
    );
    let escaped = "{\n    \"name\" : \"$input.params('name')\",\n    \"body\" : $util.escapeJavaScript($input.json('$.mykey')) \n}";
    assert_eq!(
        render_ok(escaped, &request),
        "{\n    \"name\" : \"me\",\n    \"body\" : {\\\"a\\\":\\\"v\\\"} \n}"
    );
}

/// "Example Request and Response Using `$input`": `/things/{id}` with all three functions.
/// The guide shows the Lambda function's response; the integration request itself holds
/// the escaped JSON that `$util.escapeJavaScript` produces, which is what is checked here.
#[test]
fn input_things_example() {
    let template = r##"{
    "id" : "$input.params('id')",
    "count" : "$input.path('$.things').size()",
    "things" : $util.escapeJavaScript($input.json('$.things'))
}"##;
    let request = Request {
        body: r#"{
    "things" : {
        "1" : {},
        "2" : {},
        "3" : {}
    }
}"#
        .into(),
        path_params: pairs(&[("id", "abc")]),
        ..Request::default()
    };
    assert_eq!(
        render_ok(template, &request),
        r#"{
    "id" : "abc",
    "count" : "3",
    "things" : {\"1\":{},\"2\":{},\"3\":{}}
}"#
    );
}

/// "`$stageVariables`": the three documented syntaxes.
#[test]
fn stage_variables_syntaxes() {
    let request = Request {
        stage_variables: pairs(&[("lambdaAlias", "prod"), ("url", "example.com")]),
        ..Request::default()
    };
    assert_eq!(
        render_ok(
            "$stageVariables.lambdaAlias|$stageVariables['url']|${stageVariables['url']}|${stageVariables.lambdaAlias}",
            &request
        ),
        "prod|example.com|example.com|prod"
    );
}

/// "`$util` Variables", `$util.escapeJavaScript()`: quotes are escaped, and `\'` is not valid
/// JSON, so the guide turns it back with `.replaceAll("\\'","'")`.
#[test]
fn util_escape_javascript_and_the_documented_fix() {
    let request = Request {
        body: r#"{"data": "He said \"it's\" / ok"}"#.into(),
        ..Request::default()
    };
    assert_eq!(
        render_ok("$util.escapeJavaScript($input.path('$.data'))", &request),
        r#"He said \"it\'s\" \/ ok"#
    );
    let fixed = r#"$util.escapeJavaScript($input.path('$.data')).replaceAll("\\'","'")"#;
    assert_eq!(render_ok(fixed, &request), r#"He said \"it's\" \/ ok"#);

    let broken = r#"{"data": "$util.escapeJavaScript($input.path('$.data'))"}"#;
    assert!(serde_json::from_str::<Value>(&render_ok(broken, &request)).is_err());
    let repaired = r#"{"data": "$util.escapeJavaScript($input.path('$.data')).replaceAll("\\'","'")"}"#;
    assert_eq!(
        render_json(repaired, &request),
        json!({"data": "He said \"it's\" / ok"})
    );
}

/// "`$util` Variables", `$util.parseJson()`: the guide's payload, template and output.
#[test]
fn util_parse_json_example() {
    let request = Request {
        body: r#"{"errorMessage":"{\"key1\":\"var1\",\"key2\":{\"arr\":[1,2,3]}}"}"#.into(),
        ..Request::default()
    };
    let template = r#"#set ($errorMessageObj = $util.parseJson($input.path('$.errorMessage')))
{
   "errorMessageObjKey2ArrVal" : $errorMessageObj.key2.arr[0]
}
"#;
    assert_eq!(
        render_ok(template, &request),
        "{\n   \"errorMessageObjKey2ArrVal\" : 1\n}\n"
    );
}

/// "`$util` Variables": `urlEncode` / `urlDecode` use application/x-www-form-urlencoded.
#[test]
fn util_url_encode_and_decode() {
    let request = Request {
        query: pairs(&[("q", "a b&c=d/é*~")]),
        ..Request::default()
    };
    assert_eq!(
        render_ok("$util.urlEncode($input.params('q'))", &request),
        "a+b%26c%3Dd%2F%C3%A9*%7E"
    );
    assert_eq!(
        render_ok("$util.urlDecode('a+b%26c%3Dd%2F%C3%A9*%7E')", &request),
        "a b&c=d/é*~"
    );
}

/// "`$util` Variables": `base64Encode` / `base64Decode`.
#[test]
fn util_base64_encode_and_decode() {
    let request = Request::default();
    assert_eq!(
        render_ok("$util.base64Encode('some data')", &request),
        "c29tZSBkYXRh"
    );
    assert_eq!(
        render_ok("$util.base64Decode('c29tZSBkYXRh')", &request),
        "some data"
    );
    assert_eq!(
        render_ok("$util.base64Decode($util.base64Encode('é😀'))", &request),
        "é😀"
    );
}

// ---------------------------------------------------------------------------------------
// "Mapping template transformations" (models-mappings): the photos example
// ---------------------------------------------------------------------------------------

const PHOTOS_BODY: &str = r#"{
  "photos": {
    "page": 1,
    "pages": "1234",
    "perpage": 100,
    "total": "123398",
    "photo": [
      {
        "id": "12345678901",
        "owner": "23456789@A12",
        "photographer_first_name" : "Saanvi",
        "photographer_last_name" : "Sarkar",
        "secret": "abc123d456",
        "server": "1234",
        "farm": 1,
        "title": "Sample photo 1",
        "ispublic": true,
        "isfriend": false,
        "isfamily": false
      },
      {
        "id": "23456789012",
        "owner": "34567890@B23",
        "photographer_first_name" : "Richard",
        "photographer_last_name" : "Roe",
        "secret": "bcd234e567",
        "server": "2345",
        "farm": 2,
        "title": "Sample photo 2",
        "ispublic": true,
        "isfriend": false,
        "isfamily": false
      }
    ]
  }
}"#;

#[test]
fn photos_request_mapping() {
    let template = r##"#set($inputRoot = $input.path('$'))
{
  "photos": [
#foreach($elem in $inputRoot.photos.photo)
    {
      "id": "$elem.id",
      "photographedBy": "$elem.photographer_first_name $elem.photographer_last_name",
      "title": "$elem.title",
      "ispublic": $elem.ispublic,
      "isfriend": $elem.isfriend,
      "isfamily": $elem.isfamily
    }#if($foreach.hasNext),#end

#end
  ]
}"##;
    let request = Request {
        body: PHOTOS_BODY.into(),
        ..Request::default()
    };
    assert_eq!(
        render_json(template, &request),
        json!({
          "photos": [
            {
              "id": "12345678901",
              "photographedBy": "Saanvi Sarkar",
              "title": "Sample photo 1",
              "ispublic": true,
              "isfriend": false,
              "isfamily": false
            },
            {
              "id": "23456789012",
              "photographedBy": "Richard Roe",
              "title": "Sample photo 2",
              "ispublic": true,
              "isfriend": false,
              "isfamily": false
            }
          ]
        })
    );
}

// ---------------------------------------------------------------------------------------
// Engine behaviour the guide relies on without spelling out (Java/Velocity rules)
// ---------------------------------------------------------------------------------------

/// Maps and lists from `$input.path` print with Java's `toString`, as `$record.Data` does
/// when `Data` is an object rather than a string.
#[test]
fn java_to_string_of_json_values() {
    let request = Request {
        body: r#"{"m": {"a": 1, "b": ["x", "y"], "c": {"d": 2.5}, "e": null}, "l": [1, true, "s"]}"#.into(),
        ..Request::default()
    };
    assert_eq!(
        render_ok("$input.path('$.m')|$input.path('$.l')", &request),
        "{a=1, b=[x, y], c={d=2.5}, e=null}|[1, true, s]"
    );
}

/// Velocity 2 "lines" whitespace gobbling: directive-only lines leave no trace.
#[test]
fn directive_lines_are_gobbled() {
    let template = "[\n#foreach($r in [1,2,3])\n  $r#if($foreach.hasNext),#end\n#end\n]";
    assert_eq!(render_ok(template, &Request::default()), "[\n  1,\n  2,\n  3\n]");
}

/// API Gateway evaluates templates as Velocity 1.7: a comparison with an undefined value is
/// false, `!=` included, so a body without `type` takes the else branch (Velocity 2 and this
/// engine before said true).
#[test]
fn a_comparison_with_an_undefined_value_takes_the_else_branch() {
    let template = "#set($body = $input.path('$'))#if($body.type != '')typed#{else}untyped#end";
    assert_eq!(render_ok(template, &stream_request("{\"id\": 1}")), "untyped");
    assert_eq!(
        render_ok(template, &stream_request("{\"type\": \"click\"}")),
        "typed"
    );
    let both_undefined = "#if($nothing == $neither)equal#{else}not equal#end";
    assert_eq!(render_ok(both_undefined, &stream_request("{}")), "not equal");
}
