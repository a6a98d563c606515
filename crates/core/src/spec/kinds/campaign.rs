//! `personalize_campaign`: an Amazon Personalize campaign, which serves a trained solution
//! version's recommendations (GetRecommendations, GetPersonalizedRanking). The version and
//! the provisioned throughput are updated in place; a new name replaces it.
//!
//! Exports `arn` and `name`.

use super::{Attribute, KindSpec, Site};
use crate::spec::check::{Checker, Str};
use crate::spec::kinds::Kind;
use crate::spec::names;
use crate::spec::text::{Reference, Text};
use crate::yaml::Spanned;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// The highest `min_provisioned_tps`: the API takes a 32-bit integer and documents no other
/// maximum (the usual cap is the account's GetRecommendations quota, which can be raised).
pub const MAX_TPS: u32 = i32::MAX as u32;

/// `personalize_campaign` as written in `stack.yaml`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Campaign name (1–63 characters: letters, digits, `-`, `_`).
    pub name: Str,
    /// The solution version it serves: `${name.solution_version_arn}` of a
    /// `personalize_solution` (its newest trained version), or an ARN.
    pub solution_version: Str,
    /// Transactions per second provisioned (and billed) whether used or not (at least 1;
    /// default 1).
    pub min_provisioned_tps: Option<Spanned<u32>>,
    /// Tags of the campaign, merged over the stack's tags.
    #[serde(default)]
    pub tags: IndexMap<Str, Str>,
}

/// A checked campaign.
#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    /// AWS name.
    pub name: String,
    /// The solution version's ARN.
    pub solution_version: Text,
    /// `minProvisionedTPS`.
    pub min_provisioned_tps: u32,
    /// Resource tags.
    pub tags: IndexMap<String, String>,
}

impl KindSpec for Campaign {
    type Raw = Spec;

    const ATTRIBUTES: &'static [Attribute] = &[
        Attribute::output("arn"),
        Attribute::reference("name"),
    ];

    fn validate(raw: &Spec, _site: &Site<'_>, cx: &mut Checker<'_>) -> Campaign {
        let solution_version = cx.arn_attribute_of(
            &raw.solution_version,
            Kind::Solution,
            "solution_version_arn",
            "solution_version",
        );
        if let Some(lit) = solution_version.as_literal()
            && names::is_arn(&lit)
            && !(lit.contains(":personalize:") && lit.contains(":solution/") && lit.matches('/').count() >= 2)
        {
            cx.error(
                raw.solution_version.pos(),
                format!(
                    "`{lit}` is not a Personalize solution version ARN (`arn:aws:personalize:<region>:<account>:solution/<name>/<version>`)"
                ),
            );
        }
        Campaign {
            name: cx.name(&raw.name, &names::PERSONALIZE),
            solution_version,
            min_provisioned_tps: raw
                .min_provisioned_tps
                .as_ref()
                .map_or(1, |t| cx.range(t, 1, MAX_TPS, "`min_provisioned_tps`")),
            tags: cx.tags(&raw.tags),
        }
    }

    fn aws_name(&self) -> Option<&str> {
        Some(&self.name)
    }

    fn references(&self) -> Vec<Reference> {
        self.solution_version.references().cloned().collect()
    }
}
