//! The stack model end to end: text in, a checked stack or every problem out.
#![allow(clippy::unwrap_used, missing_docs)]

use base64::Engine as _;
use personalize_stack_core::spec::ResourceSpec;
use personalize_stack_core::spec::kinds::rest_api::RestApi;
use personalize_stack_core::{Diagnostics, LoadOptions, Stack, lint, parse};
use personalize_stack_vtl::Template;

fn shipped() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../stack.yaml")).unwrap()
}

fn load(source: &str) -> Result<Stack, Diagnostics> {
    parse("stack.yaml", source, &LoadOptions::default())
}

fn problems(source: &str) -> Vec<String> {
    match load(source) {
        Ok(_) => Vec::new(),
        Err(d) => d.diagnostics.iter().map(ToString::to_string).collect(),
    }
}

fn api(stack: &Stack) -> &RestApi {
    stack
        .resources
        .values()
        .find_map(|r| match &r.spec {
            ResourceSpec::RestApi(a) => Some(a),
            _ => None,
        })
        .unwrap()
}

const WORKSHOP_FIXED: &str = r#"                    }#if($foreach.hasNext),#end
"#;
const WORKSHOP_ORIGINAL: &str = "                    }\n";

#[test]
fn the_shipped_stack_is_valid() {
    let stack = load(&shipped()).unwrap();
    assert_eq!(stack.name, "personalize-workshop");
    assert_eq!(stack.resources.len(), 7);
    assert_eq!(api(&stack).routes.len(), 3);
    assert_eq!(stack.test.as_ref().unwrap().records.len(), 7);
}

/// seeds/000's PutRecords template has no comma between records: with the seven sample
/// records its body is not JSON, and validation must say so and where.
#[test]
fn the_workshops_original_template_is_rejected() {
    let source = shipped().replace(WORKSHOP_FIXED, WORKSHOP_ORIGINAL);
    assert_ne!(source, shipped());
    let found = problems(&source);
    assert_eq!(found.len(), 1, "{found:#?}");
    let p = &found[0];
    assert!(
        p.contains("template of `PUT /streams/{stream-name}/records`"),
        "{p}"
    );
    assert!(
        p.contains("the rendered body is not valid JSON: expected `,` or `]` at line"),
        "{p}"
    );
    let d = load(&source).unwrap_err();
    let detail = d.diagnostics[0].detail.as_deref().unwrap();
    assert!(detail.contains('^'), "the excerpt points at the spot: {detail}");
}

#[test]
fn the_fixed_template_renders_seven_records_as_base64_of_each_event() {
    let stack = load(&shipped()).unwrap();
    let api = api(&stack);
    let route = api
        .routes
        .iter()
        .find(|r| r.path == "/streams/{stream-name}/records")
        .unwrap();
    let template = Template::parse(&route.request_templates["application/json"].source).unwrap();
    let (label, request) = lint::sample_requests(&stack, "api", api, route).remove(0);
    assert_eq!(label, "the test request");
    let body: serde_json::Value = serde_json::from_str(&template.render(&request).unwrap()).unwrap();
    assert_eq!(body["StreamName"], "PutEvent-datastream");
    let records = body["Records"].as_array().unwrap();
    assert_eq!(records.len(), 7);
    let test = stack.test.as_ref().unwrap();
    for (record, event) in records.iter().zip(&test.records) {
        let data = base64::engine::general_purpose::STANDARD
            .decode(record["Data"].as_str().unwrap())
            .unwrap();
        let decoded: serde_json::Value = serde_json::from_slice(&data).unwrap();
        assert_eq!(&decoded, event);
        assert_eq!(record["PartitionKey"], "146456223");
    }
}

#[test]
fn cycles_are_reported_as_a_path() {
    let source = r#"
stack: s
resources:
  a:
    iam_role:
      assumed_by: lambda.amazonaws.com
      policies: [{ actions: "s3:GetObject", resources: "${b.arn}" }]
  b:
    iam_role:
      assumed_by: lambda.amazonaws.com
      policies: [{ actions: "s3:GetObject", resources: "${a.arn}" }]
"#;
    let found = problems(source);
    assert_eq!(
        found,
        vec!["4:3: dependency cycle: `a` -> `b` -> `a`".to_owned()],
        "{found:#?}"
    );
}

#[test]
fn duplicate_routes_and_unknown_template_parameters_are_found() {
    let source = shipped().replacen(
        "        - path: /streams/{stream-name}\n          method: GET",
        "        - path: /streams\n          method: GET",
        1,
    );
    let found = problems(&source);
    assert!(
        found
            .iter()
            .any(|p| p.contains("duplicate route `GET /streams` (first declared at line")),
        "{found:#?}"
    );

    let source = shipped().replacen(
        "\"StreamName\": \"$input.params('stream-name')\"\n",
        "\"StreamName\": \"$input.params('stream_name')\"\n",
        1,
    );
    let found = problems(&source);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains(
            "reads parameter `stream_name`, which is not a path parameter of `/streams/{stream-name}`"
        ),
        "{found:#?}"
    );
    let d = load(&source).unwrap_err();
    assert_eq!(
        d.diagnostics[0].hint.as_deref(),
        Some("did you mean `stream-name`?")
    );
    // Line and column point inside the block scalar, at the parameter's name.
    let pos = d.diagnostics[0].pos.unwrap();
    let line = source.lines().nth(pos.line as usize - 1).unwrap();
    assert_eq!(&line[pos.column as usize - 1..][..11], "stream_name", "{line}");
}

#[test]
fn variables_substitute_before_typing_and_overrides_apply() {
    let source = "stack: s\nvars: { shards: 2 }\nresources:\n  st:\n    kinesis_stream: { name: \"${stack}-x\", shards: \"${shards}\" }\n";
    let stack = load(source).unwrap();
    let ResourceSpec::KinesisStream(s) = &stack.resources["st"].spec else {
        panic!()
    };
    assert_eq!((s.name.as_str(), s.shards), ("s-x", Some(2)));

    let options = LoadOptions {
        vars: vec![("shards".into(), "3".into())],
        ..LoadOptions::default()
    };
    let stack = parse("f", source, &options).unwrap();
    let ResourceSpec::KinesisStream(s) = &stack.resources["st"].spec else {
        panic!()
    };
    assert_eq!(s.shards, Some(3));

    let options = LoadOptions {
        vars: vec![("shards".into(), "many".into())],
        ..LoadOptions::default()
    };
    let found = parse("f", source, &options).unwrap_err();
    assert!(found.diagnostics[0].message.contains("invalid type"), "{found:?}");
    assert_eq!(found.diagnostics[0].pos.unwrap().line, 5);

    let found = problems("stack: s\nresources:\n  st:\n    kinesis_stream: { name: \"${stak}-x\" }\n");
    assert_eq!(found, vec!["4:30: unknown variable `${stak}`".to_owned()]);
}

#[test]
fn references_are_checked_for_kind_and_attribute() {
    let source = shipped().replace("role: ${forwarder_role.arn}", "role: ${stream.arn}");
    let found = problems(&source);
    assert!(
        found.iter().any(|p| p.contains(
            "`role` must be the ARN of a iam_role; `${stream.arn}` is the `arn` of a kinesis_stream"
        )),
        "{found:#?}"
    );
    let source = shipped().replace(
        "TRACKING_ID: ${tracker.tracking_id}",
        "TRACKING_ID: ${tracker.trackingid}",
    );
    let d = load(&source).unwrap_err();
    assert!(d.diagnostics[0].message.contains("has no attribute `trackingid`"));
    assert_eq!(
        d.diagnostics[0].hint.as_deref(),
        Some("did you mean `tracking_id`?")
    );
}

#[test]
fn yaml_syntax_errors_have_a_position() {
    let d = load("stack: s\nresources: [\n").unwrap_err();
    assert_eq!(d.diagnostics.len(), 1);
    assert!(d.diagnostics[0].message.starts_with("invalid YAML"));
}

fn recommendations() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/recommendations/stack.yaml"
    ))
    .unwrap()
}

/// `line:column` of the first occurrence of `needle` in `source` (1-based), plus `offset`
/// characters.
fn at(source: &str, needle: &str, offset: usize) -> String {
    let i = source.find(needle).unwrap() + offset;
    let line = source[..i].matches('\n').count() + 1;
    let column = i - source[..i].rfind('\n').map_or(0, |n| n + 1) + 1;
    format!("{line}:{column}")
}

#[test]
fn the_recommendations_example_is_valid_and_orders_campaign_after_solution_after_group() {
    use personalize_stack_core::spec::kinds::dataset_group::DatasetGroup;
    let stack = load(&recommendations()).unwrap();
    assert_eq!(stack.resources.len(), 10);
    let ResourceSpec::DatasetGroup(DatasetGroup::Managed {
        interactions_import: Some(import),
        ..
    }) = &stack.resources["dataset_group"].spec
    else {
        panic!("the group imports a history")
    };
    assert_eq!(import.source.as_literal().as_deref(), Some("./interactions.csv"));
    assert_eq!(import.role.to_string(), "${import_role.arn}");
    let ResourceSpec::Solution(solution) = &stack.resources["solution"].spec else {
        panic!()
    };
    assert_eq!(
        solution.recipe_arn,
        "arn:aws:personalize:::recipe/aws-user-personalization"
    );
    let ResourceSpec::Campaign(campaign) = &stack.resources["campaign"].spec else {
        panic!()
    };
    assert_eq!(campaign.min_provisioned_tps, 1);
    let level = |logical: &str| {
        stack
            .levels()
            .iter()
            .position(|l| l.iter().any(|r| r == logical))
            .unwrap()
    };
    assert!(level("import_role") < level("dataset_group"));
    assert!(level("dataset_group") < level("solution"));
    assert!(level("solution") < level("campaign"));
}

#[test]
fn solution_recipe_threshold_and_event_type_are_checked_where_written() {
    let source = recommendations().replace(
        "recipe: aws-user-personalization\n",
        "recipe: aws-user-personalisation\n      event_type: \"\"\n      event_value_threshold: .inf\n",
    );
    let d = load(&source).unwrap_err();
    let found: Vec<String> = d.diagnostics.iter().map(ToString::to_string).collect();
    assert_eq!(found.len(), 3, "{found:#?}");
    let recipe = format!(
        "{}: unknown recipe `aws-user-personalisation`",
        at(&source, "aws-user-personalisation", 0)
    );
    assert!(found.contains(&recipe), "{found:#?}");
    let hint = d
        .diagnostics
        .iter()
        .find(|p| p.message.contains("unknown recipe"))
        .and_then(|p| p.hint.as_deref());
    assert_eq!(hint, Some("did you mean `aws-user-personalization`?"));
    assert!(
        found.contains(&format!(
            "{}: `event_type` must be 1–256 characters (got 0)",
            at(&source, "event_type: \"\"", 12)
        )),
        "{found:#?}"
    );
    assert!(
        found.contains(&format!(
            "{}: `event_value_threshold` must be a finite number (got inf)",
            at(&source, ".inf", 0)
        )),
        "{found:#?}"
    );

    // A recipe outside the ones both AWS and the local runtime train, as an ARN.
    let source = recommendations().replace(
        "recipe: aws-user-personalization\n",
        "recipe: arn:aws:personalize:::recipe/aws-trending-now\n",
    );
    let found = problems(&source);
    assert_eq!(
        found,
        vec![format!(
            "{}: unknown recipe `arn:aws:personalize:::recipe/aws-trending-now`",
            at(&source, "arn:aws:personalize:::recipe/aws-trending-now", 0)
        )],
    );

    // A threshold that is not a number is a type error at its position; a full recipe ARN
    // is kept as written.
    let source = recommendations().replace(
        "recipe: aws-user-personalization\n",
        "recipe: arn:aws:personalize:::recipe/aws-sims\n      event_value_threshold: high\n",
    );
    let d = load(&source).unwrap_err();
    assert_eq!(d.diagnostics.len(), 1, "{d:?}");
    assert!(d.diagnostics[0].message.contains("invalid type"), "{d:?}");
    assert_eq!(
        d.diagnostics[0].to_string().split(": ").next().unwrap(),
        at(&source, "high", 0)
    );
    let source = recommendations().replace(
        "recipe: aws-user-personalization\n",
        "recipe: arn:aws:personalize:::recipe/aws-sims\n      event_type: click\n      event_value_threshold: 0.5\n",
    );
    let stack = load(&source).unwrap();
    let ResourceSpec::Solution(s) = &stack.resources["solution"].spec else {
        panic!()
    };
    assert_eq!(s.recipe_arn, "arn:aws:personalize:::recipe/aws-sims");
    assert_eq!(s.event_type.as_deref(), Some("click"));
    assert_eq!(s.event_value_threshold_text().as_deref(), Some("0.5"));
}

#[test]
fn a_campaign_must_serve_a_solution_version() {
    let source = recommendations().replace(
        "solution_version: ${solution.solution_version_arn}",
        "solution_version: ${dataset_group.arn}",
    );
    let d = load(&source).unwrap_err();
    assert_eq!(d.diagnostics.len(), 1, "{d:?}");
    assert_eq!(
        d.diagnostics[0].to_string(),
        format!(
            "{}: `solution_version` must be the `solution_version_arn` of a personalize_solution; `${{dataset_group.arn}}` is the `arn` of a personalize_dataset_group",
            at(&source, "${dataset_group.arn}\n      min_provisioned_tps", 0)
        )
    );
    assert_eq!(
        d.diagnostics[0].hint.as_deref(),
        Some("reference a personalize_solution as `${name.solution_version_arn}`")
    );

    // The solution's own ARN is not a version's.
    let source = recommendations().replace(
        "solution_version: ${solution.solution_version_arn}",
        "solution_version: ${solution.arn}",
    );
    let found = problems(&source);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("`${solution.arn}` is the `arn` of a personalize_solution"));

    // A literal ARN must name a version, and the throughput must be at least 1.
    let source = recommendations()
        .replace(
            "solution_version: ${solution.solution_version_arn}",
            "solution_version: arn:aws:personalize:us-east-1:123456789012:solution/s",
        )
        .replace("min_provisioned_tps: 1", "min_provisioned_tps: 0");
    let found = problems(&source);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found[0].contains("is not a Personalize solution version ARN"),
        "{found:#?}"
    );
    assert_eq!(
        found[1],
        format!(
            "{}: `min_provisioned_tps` must be between 1 and 2147483647 (got 0)",
            at(&source, "min_provisioned_tps: 0", 21)
        )
    );
}

#[test]
fn an_interactions_import_needs_a_readable_source_and_a_role() {
    // An HTTP URL is not something Personalize imports from.
    let source = recommendations().replace(
        "source: ./interactions.csv",
        "source: https://example.com/interactions.csv",
    );
    let d = load(&source).unwrap_err();
    assert_eq!(d.diagnostics.len(), 1, "{d:?}");
    assert_eq!(
        d.diagnostics[0].to_string(),
        format!(
            "{}: `https://` sources cannot be imported: Personalize reads `s3://` (and the local runtime files)",
            at(&source, "https://", 0)
        )
    );
    let found = problems(&recommendations().replace("source: ./interactions.csv", "source: s3://bucket"));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("names no object"), "{found:#?}");
    let found = problems(&recommendations().replace("source: ./interactions.csv", "source: file://data.csv"));
    assert!(
        found[0].contains("is not an absolute `file://` URL"),
        "{found:#?}"
    );
    for ok in [
        "s3://bucket/history/interactions.csv",
        "file:///data/interactions.csv",
        "/data/i.csv",
    ] {
        let source = recommendations().replace("./interactions.csv", ok);
        assert_eq!(problems(&source), Vec::<String>::new(), "{ok}");
    }

    // The role is required (AWS needs one) and must be a role's ARN.
    let source = recommendations().replace("        role: ${import_role.arn}\n", "");
    let d = load(&source).unwrap_err();
    assert_eq!(d.diagnostics.len(), 1, "{d:?}");
    assert!(d.diagnostics[0].message.contains("missing field `role`"), "{d:?}");
    let source = recommendations().replace("role: ${import_role.arn}", "role: ${stream.arn}");
    let found = problems(&source);
    assert!(
        found[0].contains("`interactions_import.role` must be the ARN of a iam_role"),
        "{found:#?}"
    );

    // An adopted group is never changed, so nothing is imported into it.
    let source = recommendations().replace(
        "      name: ${stack}\n      interactions_schema: default\n",
        "      arn: arn:aws:personalize:us-east-1:123456789012:dataset-group/g\n",
    );
    let found = problems(&source);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("`interactions_import` applies only to a dataset group the stack creates"),
        "{found:#?}"
    );
}
