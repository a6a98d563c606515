//! `personalize_solution`: an Amazon Personalize solution (a recipe and what to train it on)
//! together with its trained model, a solution version. A solution cannot be changed once
//! created, so a new name, group, recipe, event type or threshold replaces it.
//!
//! Exports `arn`, `name` and `solution_version_arn` (its newest trained version, what a
//! `personalize_campaign` serves).

use super::{Attribute, KindSpec, Site};
use crate::spec::check::{Checker, Str};
use crate::spec::kinds::Kind;
use crate::spec::names;
use crate::spec::text::{Reference, Text};
use crate::yaml::Spanned;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// The recipes a solution may use: the ones the local runtime trains too, so a stack behaves
/// the same on both.
pub const RECIPES: &[&str] = &[
    "aws-user-personalization",
    "aws-user-personalization-v2",
    "aws-personalized-ranking",
    "aws-personalized-ranking-v2",
    "aws-popularity-count",
    "aws-sims",
];

/// How a recipe's short name becomes its ARN (recipes belong to no region or account).
pub const RECIPE_ARN_PREFIX: &str = "arn:aws:personalize:::recipe/";

/// `personalize_solution` as written in `stack.yaml`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Solution name (1–63 characters: letters, digits, `-`, `_`).
    pub name: Str,
    /// The dataset group whose interactions it trains on: `${name.arn}` of a
    /// `personalize_dataset_group`, or an ARN.
    pub dataset_group: Str,
    /// The recipe: a short name (`aws-user-personalization`, `aws-user-personalization-v2`,
    /// `aws-personalized-ranking`, `aws-personalized-ranking-v2`, `aws-popularity-count`,
    /// `aws-sims`) or its ARN (`arn:aws:personalize:::recipe/<name>`).
    pub recipe: Str,
    /// Train on the interactions of this event type only (e.g. `click`).
    pub event_type: Option<Str>,
    /// Train only on interactions whose `EVENT_VALUE` is at least this.
    pub event_value_threshold: Option<Spanned<f64>>,
    /// Tags of the solution and its versions, merged over the stack's tags.
    #[serde(default)]
    pub tags: IndexMap<Str, Str>,
}

/// A checked solution.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    /// AWS name.
    pub name: String,
    /// Dataset group ARN.
    pub dataset_group: Text,
    /// The recipe's ARN.
    pub recipe_arn: String,
    /// The event type to train on, if only one.
    pub event_type: Option<String>,
    /// The minimum event value to train on.
    pub event_value_threshold: Option<f64>,
    /// Resource tags.
    pub tags: IndexMap<String, String>,
}

impl Solution {

    /// The threshold as Personalize takes it (`solutionConfig.eventValueThreshold` is a
    /// string): Rust's shortest round-trip form, so `0.5` stays `0.5`.
    pub fn event_value_threshold_text(&self) -> Option<String> {
        self.event_value_threshold.map(|t| t.to_string())
    }
}

/// The short name of a recipe given as a short name or an ARN, if it is one of [`RECIPES`].
pub fn recipe_name(recipe: &str) -> Option<&'static str> {
    let name = match recipe.strip_prefix("arn:") {
        // arn:<partition>:personalize:::recipe/<name>: recipes have no region or account.
        Some(_) => {
            let parts: Vec<&str> = recipe.splitn(6, ':').collect();
            match parts.as_slice() {
                ["arn", _, "personalize", "", "", resource] => resource.strip_prefix("recipe/")?,
                _ => return None,
            }
        }
        None => recipe,
    };
    RECIPES.iter().copied().find(|r| *r == name)
}

impl KindSpec for Solution {
    type Raw = Spec;

    const ATTRIBUTES: &'static [Attribute] = &[
        Attribute::output("arn"),
        Attribute::output("solution_version_arn"),
        Attribute::reference("name"),
    ];

    fn validate(raw: &Spec, _site: &Site<'_>, cx: &mut Checker<'_>) -> Solution {
        let recipe = &raw.recipe.value;
        let recipe_arn = match recipe_name(recipe) {
            Some(_) if recipe.starts_with("arn:") => recipe.clone(),
            Some(name) => format!("{RECIPE_ARN_PREFIX}{name}"),
            // An unknown `${variable}` was reported where it is.
            None if recipe.contains("${") => recipe.clone(),
            None => {
                let given = recipe.rsplit('/').next().unwrap_or(recipe);
                let hint = match crate::yaml::de::closest(given, RECIPES.iter().copied()) {
                    Some(c) => format!("did you mean `{c}`?"),
                    None => format!(
                        "recipes: {}",
                        RECIPES
                            .iter()
                            .map(|r| format!("`{r}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                cx.error_hint(raw.recipe.pos(), format!("unknown recipe `{recipe}`"), hint);
                recipe.clone()
            }
        };
        let event_type = raw.event_type.as_ref().map(|t| {
            let len = t.value.chars().count();
            if len == 0 || len > 256 {
                cx.error(
                    t.pos(),
                    format!("`event_type` must be 1–256 characters (got {len})"),
                );
            }
            t.value.clone()
        });
        let event_value_threshold = raw.event_value_threshold.as_ref().map(|t| {
            if !t.value.is_finite() {
                cx.error_hint(
                    t.pos(),
                    format!(
                        "`event_value_threshold` must be a finite number (got {})",
                        t.value
                    ),
                    "interactions whose EVENT_VALUE is at least this are trained on, e.g. `0.5`",
                );
            }
            t.value
        });
        Solution {
            name: cx.name(&raw.name, &names::PERSONALIZE),
            dataset_group: cx.arn_of(&raw.dataset_group, Kind::DatasetGroup, "dataset_group"),
            recipe_arn,
            event_type,
            event_value_threshold,
            tags: cx.tags(&raw.tags),
        }
    }

    fn aws_name(&self) -> Option<&str> {
        Some(&self.name)
    }

    fn references(&self) -> Vec<Reference> {
        self.dataset_group.references().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::recipe_name;

    #[test]
    fn recipes_by_short_name_or_arn() {
        assert_eq!(recipe_name("aws-sims"), Some("aws-sims"));
        assert_eq!(
            recipe_name("arn:aws:personalize:::recipe/aws-user-personalization-v2"),
            Some("aws-user-personalization-v2")
        );
        assert_eq!(recipe_name("arn:aws:personalize:::recipe/aws-trending-now"), None);
        assert_eq!(
            recipe_name("arn:aws:personalize:us-east-1::recipe/aws-sims"),
            None
        );
        assert_eq!(recipe_name("aws-simz"), None);
    }
}
