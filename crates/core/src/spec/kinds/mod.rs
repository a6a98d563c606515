//! The resource kinds of a stack, one file each: its `stack.yaml` shape (`Spec`), its checked
//! form, its validation, and the attributes other resources may reference.

pub mod campaign;
pub mod dataset_group;
pub mod event_tracker;
pub mod iam_role;
pub mod kinesis_stream;
pub mod lambda_function;
pub mod rest_api;
pub mod solution;

use super::check::Checker;
use super::text::Reference;
use crate::yaml::Pos;
use schemars::JsonSchema;
use serde::Deserialize;

/// A resource kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `personalize_dataset_group`
    DatasetGroup,
    /// `personalize_event_tracker`
    EventTracker,
    /// `kinesis_stream`
    KinesisStream,
    /// `iam_role`
    IamRole,
    /// `lambda_function`
    LambdaFunction,
    /// `rest_api`
    RestApi,
    /// `personalize_solution`
    Solution,
    /// `personalize_campaign`
    Campaign,
}

impl Kind {
    /// The key that names the kind in `stack.yaml`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::DatasetGroup => "personalize_dataset_group",
            Kind::EventTracker => "personalize_event_tracker",
            Kind::KinesisStream => "kinesis_stream",
            Kind::IamRole => "iam_role",
            Kind::LambdaFunction => "lambda_function",
            Kind::RestApi => "rest_api",
            Kind::Solution => "personalize_solution",
            Kind::Campaign => "personalize_campaign",
        }
    }

    /// The attributes a resource of this kind exports to `${name.attribute}` references.
    pub fn attributes(self) -> &'static [&'static str] {
        match self {
            Kind::DatasetGroup => dataset_group::ATTRIBUTES,
            Kind::EventTracker => event_tracker::ATTRIBUTES,
            Kind::KinesisStream => kinesis_stream::ATTRIBUTES,
            Kind::IamRole => iam_role::ATTRIBUTES,
            Kind::LambdaFunction => lambda_function::ATTRIBUTES,
            Kind::RestApi => rest_api::ATTRIBUTES,
            Kind::Solution => solution::ATTRIBUTES,
            Kind::Campaign => campaign::ATTRIBUTES,
        }
    }

    /// The kind named `name` in `stack.yaml`.
    pub fn from_name(name: &str) -> Option<Kind> {
        [
            Kind::DatasetGroup,
            Kind::EventTracker,
            Kind::KinesisStream,
            Kind::IamRole,
            Kind::LambdaFunction,
            Kind::RestApi,
            Kind::Solution,
            Kind::Campaign,
        ]
        .into_iter()
        .find(|k| k.name() == name)
    }
}

/// A resource body as written: a mapping with exactly one key naming the kind.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawResource {
    /// An Amazon Personalize dataset group with its interactions schema and dataset.
    PersonalizeDatasetGroup(dataset_group::Spec),
    /// An Amazon Personalize event tracker (one per dataset group).
    PersonalizeEventTracker(event_tracker::Spec),
    /// A Kinesis data stream.
    KinesisStream(kinesis_stream::Spec),
    /// An IAM role assumed by an AWS service.
    IamRole(iam_role::Spec),
    /// A Lambda function, optionally triggered by a Kinesis stream.
    LambdaFunction(lambda_function::Spec),
    /// An API Gateway REST API with its routes, stage, API key and usage plan.
    RestApi(rest_api::Spec),
    /// An Amazon Personalize solution, trained: a recipe, what it trains on, and its newest
    /// solution version.
    PersonalizeSolution(solution::Spec),
    /// An Amazon Personalize campaign serving a solution version's recommendations.
    PersonalizeCampaign(campaign::Spec),
}

impl RawResource {
    /// The kind of this body.
    pub fn kind(&self) -> Kind {
        match self {
            RawResource::PersonalizeDatasetGroup(_) => Kind::DatasetGroup,
            RawResource::PersonalizeEventTracker(_) => Kind::EventTracker,
            RawResource::KinesisStream(_) => Kind::KinesisStream,
            RawResource::IamRole(_) => Kind::IamRole,
            RawResource::LambdaFunction(_) => Kind::LambdaFunction,
            RawResource::RestApi(_) => Kind::RestApi,
            RawResource::PersonalizeSolution(_) => Kind::Solution,
            RawResource::PersonalizeCampaign(_) => Kind::Campaign,
        }
    }

    /// Validates the body of resource `logical`.
    pub fn validate(
        &self,
        logical: &str,
        pos: Pos,
        defaults: &Defaults,
        cx: &mut Checker<'_>,
    ) -> ResourceSpec {
        match self {
            RawResource::PersonalizeDatasetGroup(s) => ResourceSpec::DatasetGroup(s.validate(pos, cx)),
            RawResource::PersonalizeEventTracker(s) => ResourceSpec::EventTracker(s.validate(cx)),
            RawResource::KinesisStream(s) => ResourceSpec::KinesisStream(s.validate(cx)),
            RawResource::IamRole(s) => ResourceSpec::IamRole(s.validate(logical, defaults, cx)),
            RawResource::LambdaFunction(s) => ResourceSpec::LambdaFunction(s.validate(cx)),
            RawResource::RestApi(s) => ResourceSpec::RestApi(s.validate(cx)),
            RawResource::PersonalizeSolution(s) => ResourceSpec::Solution(s.validate(cx)),
            RawResource::PersonalizeCampaign(s) => ResourceSpec::Campaign(s.validate(cx)),
        }
    }
}

/// Stack-wide values kinds use for their defaults.
#[derive(Debug, Clone)]
pub struct Defaults {
    /// The stack name (after variables).
    pub stack: String,
}

/// A checked resource body.
#[derive(Debug, Clone, PartialEq)]
pub enum ResourceSpec {
    /// See [`dataset_group::DatasetGroup`].
    DatasetGroup(dataset_group::DatasetGroup),
    /// See [`event_tracker::EventTracker`].
    EventTracker(event_tracker::EventTracker),
    /// See [`kinesis_stream::KinesisStream`].
    KinesisStream(kinesis_stream::KinesisStream),
    /// See [`iam_role::IamRole`].
    IamRole(iam_role::IamRole),
    /// See [`lambda_function::LambdaFunction`].
    LambdaFunction(lambda_function::LambdaFunction),
    /// See [`rest_api::RestApi`].
    RestApi(rest_api::RestApi),
    /// See [`solution::Solution`].
    Solution(solution::Solution),
    /// See [`campaign::Campaign`].
    Campaign(campaign::Campaign),
}

impl ResourceSpec {
    /// The AWS name of the resource, when the stack decides it.
    pub fn aws_name(&self) -> Option<&str> {
        match self {
            ResourceSpec::DatasetGroup(d) => d.name(),
            ResourceSpec::EventTracker(t) => Some(&t.name),
            ResourceSpec::KinesisStream(s) => Some(&s.name),
            ResourceSpec::IamRole(r) => Some(&r.name),
            ResourceSpec::LambdaFunction(f) => Some(&f.name),
            ResourceSpec::RestApi(a) => Some(&a.name),
            ResourceSpec::Solution(s) => Some(&s.name),
            ResourceSpec::Campaign(c) => Some(&c.name),
        }
    }

    /// What can be known offline of `attribute`, e.g. a name; `None` for values AWS assigns.
    pub fn static_attribute(&self, attribute: &str) -> Option<String> {
        match (self, attribute) {
            (_, "name") => self.aws_name().map(str::to_owned),
            (ResourceSpec::LambdaFunction(f), "log_group") => Some(f.log_group_name()),
            (ResourceSpec::RestApi(a), "stage") => Some(a.stage.clone()),
            _ => None,
        }
    }

    /// Every reference this resource makes.
    pub fn references(&self) -> Vec<Reference> {
        match self {
            ResourceSpec::DatasetGroup(d) => d.references(),
            ResourceSpec::EventTracker(t) => t.references(),
            ResourceSpec::KinesisStream(_) => Vec::new(),
            ResourceSpec::IamRole(r) => r.references(),
            ResourceSpec::LambdaFunction(f) => f.references(),
            ResourceSpec::RestApi(a) => a.references(),
            ResourceSpec::Solution(s) => s.references(),
            ResourceSpec::Campaign(c) => c.references(),
        }
    }
}
