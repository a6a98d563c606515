//! The resource kinds of a stack, one file each: its `stack.yaml` shape (the `Spec` it
//! deserializes), its checked form, its validation, and the attributes other resources may
//! reference. Each checked form implements [`KindSpec`]; [`with_kinds!`](crate::with_kinds) is the one list of
//! them, from which the enums here ([`Kind`], [`RawResource`], [`ResourceSpec`]) and the
//! provider's dispatch (crate `personalize-stack-aws`) are generated.
//!
//! # Adding a kind
//! 1. `crates/core/src/spec/kinds/<module>.rs`: the `Spec` as written, the checked type and
//!    its `impl KindSpec`.
//! 2. `crates/aws/src/kinds/<module>.rs`: `impl ResourceKind` for the checked type
//!    (desired, observe, create, update, delete).
//! 3. One line in [`with_kinds!`](crate::with_kinds).
//!
//! The schema (`personalize-stack schema`), `outputs`, references and the reconciler follow.

use super::check::Checker;
use super::text::Reference;
use crate::yaml::Pos;
use schemars::JsonSchema;
use serde::Deserialize;

/// Every resource kind, once: the registry. Calls `$then!` with one entry per kind,
/// `/// description` (the schema's), then `module::CheckedType = "stack_yaml_key"`. The
/// checked type's name is also the kind's [`Kind`] variant.
///
/// The enums of this module come from it, and so does the provider's dispatch in the `aws`
/// crate, so adding a kind here (and its two files) is all it takes.
#[macro_export]
macro_rules! with_kinds {
    ($then:ident) => {
        $then! {
            /// An Amazon Personalize dataset group with its interactions schema and dataset.
            dataset_group::DatasetGroup = "personalize_dataset_group",
            /// An Amazon Personalize event tracker (one per dataset group).
            event_tracker::EventTracker = "personalize_event_tracker",
            /// A Kinesis data stream.
            kinesis_stream::KinesisStream = "kinesis_stream",
            /// An IAM role assumed by an AWS service.
            iam_role::IamRole = "iam_role",
            /// A Lambda function, optionally triggered by a Kinesis stream.
            lambda_function::LambdaFunction = "lambda_function",
            /// An API Gateway REST API with its routes, stage, API key and usage plan.
            rest_api::RestApi = "rest_api",
            /// An Amazon Personalize solution, trained: a recipe, what it trains on, and its newest
            /// solution version.
            solution::Solution = "personalize_solution",
            /// An Amazon Personalize campaign serving a solution version's recommendations.
            campaign::Campaign = "personalize_campaign",
        }
    };
}

/// An attribute a resource exports to `${name.attribute}` references.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribute {
    /// Its name, e.g. `tracking_id`.
    pub name: &'static str,
    /// Whether and how `outputs` (and `up`) show it.
    pub visibility: Visibility,
}

/// How `outputs` treats an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Referenced only; not an output.
    Reference,
    /// An output.
    Output,
    /// An output masked unless `--show-secrets`.
    Secret,
}

impl Attribute {
    /// An attribute that is only referenced.
    pub const fn reference(name: &'static str) -> Attribute {
        Attribute {
            name,
            visibility: Visibility::Reference,
        }
    }

    /// An attribute that is also an output.
    pub const fn output(name: &'static str) -> Attribute {
        Attribute {
            name,
            visibility: Visibility::Output,
        }
    }

    /// An output masked unless `--show-secrets`.
    pub const fn secret(name: &'static str) -> Attribute {
        Attribute {
            name,
            visibility: Visibility::Secret,
        }
    }
}

/// Where a resource is declared, for validations that need more than its body.
#[derive(Debug, Clone, Copy)]
pub struct Site<'a> {
    /// Its key under `resources:`.
    pub logical: &'a str,
    /// The position of its body.
    pub pos: Pos,
    /// Stack-wide defaults.
    pub defaults: &'a Defaults,
}

/// One resource kind, implemented by its checked type.
pub trait KindSpec: Sized {
    /// The body as written in `stack.yaml`.
    type Raw;

    /// The attributes it exports, outputs first, in the order `outputs` lists them.
    const ATTRIBUTES: &'static [Attribute];

    /// Checks `raw`, reporting every problem into `cx` (the result is only used when `cx`
    /// found none).
    fn validate(raw: &Self::Raw, site: &Site<'_>, cx: &mut Checker<'_>) -> Self;

    /// The AWS name of the resource, when the stack decides it.
    fn aws_name(&self) -> Option<&str>;

    /// Every reference it makes.
    fn references(&self) -> Vec<Reference> {
        Vec::new()
    }

    /// What can be known offline of `attribute` besides `name`; `None` for values AWS assigns.
    fn static_attribute(&self, attribute: &str) -> Option<String> {
        let _ = attribute;
        None
    }
}

macro_rules! define_kinds {
    ($( $(#[doc = $doc:literal])* $module:ident :: $Type:ident = $key:literal, )+) => {
        $( pub mod $module; )+

        /// A resource kind.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Kind {
            $(
                #[doc = concat!("`", $key, "`")]
                $Type,
            )+
        }

        impl Kind {
            /// Every kind, in registry order.
            pub const ALL: &'static [Kind] = &[$(Kind::$Type),+];

            /// The key that names the kind in `stack.yaml`.
            pub fn name(self) -> &'static str {
                match self {
                    $( Kind::$Type => $key, )+
                }
            }

            /// The attributes a resource of this kind exports.
            pub fn attributes(self) -> &'static [Attribute] {
                match self {
                    $( Kind::$Type => <$module::$Type as KindSpec>::ATTRIBUTES, )+
                }
            }
        }

        /// A resource body as written: a mapping with exactly one key naming the kind.
        #[derive(Debug, Deserialize, JsonSchema)]
        pub enum RawResource {
            $(
                $(#[doc = $doc])*
                #[serde(rename = $key)]
                $Type(<$module::$Type as KindSpec>::Raw),
            )+
        }

        impl RawResource {
            /// The kind of this body.
            pub fn kind(&self) -> Kind {
                match self {
                    $( RawResource::$Type(_) => Kind::$Type, )+
                }
            }

            /// Validates the body declared at `site`.
            pub fn validate(&self, site: &Site<'_>, cx: &mut Checker<'_>) -> ResourceSpec {
                match self {
                    $( RawResource::$Type(raw) => ResourceSpec::$Type(KindSpec::validate(raw, site, cx)), )+
                }
            }
        }

        /// A checked resource body.
        #[derive(Debug, Clone, PartialEq)]
        pub enum ResourceSpec {
            $(
                #[doc = concat!("See [`", stringify!($module), "::", stringify!($Type), "`].")]
                $Type($module::$Type),
            )+
        }

        impl ResourceSpec {
            /// The AWS name of the resource, when the stack decides it.
            pub fn aws_name(&self) -> Option<&str> {
                match self {
                    $( ResourceSpec::$Type(s) => s.aws_name(), )+
                }
            }

            /// What can be known offline of `attribute`, e.g. a name; `None` for values AWS
            /// assigns.
            pub fn static_attribute(&self, attribute: &str) -> Option<String> {
                if attribute == "name" {
                    return self.aws_name().map(str::to_owned);
                }
                match self {
                    $( ResourceSpec::$Type(s) => s.static_attribute(attribute), )+
                }
            }

            /// Every reference this resource makes.
            pub fn references(&self) -> Vec<Reference> {
                match self {
                    $( ResourceSpec::$Type(s) => s.references(), )+
                }
            }
        }
    };
}

with_kinds!(define_kinds);

/// Stack-wide values kinds use for their defaults.
#[derive(Debug, Clone)]
pub struct Defaults {
    /// The stack name (after variables).
    pub stack: String,
}

impl Kind {
    /// The kind named `name` in `stack.yaml`.
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| k.name() == name)
    }

    /// Whether this kind exports `attribute`.
    pub fn exports(self, attribute: &str) -> bool {
        self.attributes().iter().any(|a| a.name == attribute)
    }

    /// The names of the attributes this kind exports.
    pub fn attribute_names(self) -> impl Iterator<Item = &'static str> {
        self.attributes().iter().map(|a| a.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_distinct_key_and_exports_its_arn() {
        let mut keys: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), Kind::ALL.len());
        for kind in Kind::ALL {
            assert_eq!(Kind::from_name(kind.name()), Some(*kind));
            assert!(kind.exports("arn"), "{kind:?}");
        }
    }
}
