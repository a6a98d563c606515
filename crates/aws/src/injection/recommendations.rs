//! The `recommendations` hop, for a stack that declares a `personalize_campaign`: the
//! campaign's recommendations for the test records' user, asked (GetRecommendations) just
//! before the records are PUT and again once Personalize has taken them.
//!
//! Whether the list changed is information, not a verdict: a model that takes real-time
//! events into account (User-Personalization) usually moves, popularity-count and SIMS do
//! not until retrained. The hop fails only when GetRecommendations itself fails, with the AWS
//! error code.

use super::pipeline::CampaignRef;
use super::{Broken, Outcome, Run};
use personalize_stack_core::engine::{ErrorKind, ProviderError};
use serde::Serialize;
use std::collections::BTreeSet;

/// How many recommendations are asked for.
pub const NUM_RESULTS: i32 = 10;

/// One recommended item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommended {
    /// The item's id.
    pub item_id: String,
    /// Its score, when the recipe gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
}

/// A GetRecommendations call that failed.
#[derive(Debug, Clone, Serialize)]
pub struct CallError {
    /// `before` or `after` the records went in.
    pub when: &'static str,
    /// What kind of failure it was.
    #[serde(skip)]
    pub kind: ErrorKind,
    /// The AWS error code (`ResourceNotFoundException`).
    pub code: String,
    /// AWS's message.
    pub message: String,
}

/// The recommendations before and after, in the report.
#[derive(Debug, Clone, Serialize)]
pub struct Recommendations {
    /// The campaign's logical name.
    pub campaign: String,
    /// Its AWS name.
    pub campaign_name: String,
    /// Its ARN (`None`: not deployed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign_arn: Option<String>,
    /// The user asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The list before the PUT (`None`: not asked, or the call failed).
    pub before: Option<Vec<Recommended>>,
    /// The list after Personalize took the records (`None`: not asked, or the call failed).
    pub after: Option<Vec<Recommended>>,
    /// Whether the item ids (in order) differ; `None` unless both lists are known.
    pub changed: Option<bool>,
    /// The first failed call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<CallError>,
}

impl Recommendations {
    /// Nothing asked yet.
    pub(crate) fn new(campaign: &CampaignRef) -> Recommendations {
        Recommendations {
            campaign: campaign.logical.clone(),
            campaign_name: campaign.name.clone(),
            campaign_arn: campaign.arn.clone(),
            user_id: campaign.user_id.clone(),
            before: None,
            after: None,
            changed: None,
            error: None,
        }
    }

    /// How many items of the list after were not in the list before.
    pub fn new_items(&self) -> Option<usize> {
        let (before, after) = (self.before.as_ref()?, self.after.as_ref()?);
        let seen: BTreeSet<&str> = before.iter().map(|r| r.item_id.as_str()).collect();
        Some(
            after
                .iter()
                .filter(|r| !seen.contains(r.item_id.as_str()))
                .count(),
        )
    }

    /// Records the result of the call made `when`.
    fn record(&mut self, when: &'static str, result: Result<Vec<Recommended>, ProviderError>) {
        match result {
            Ok(list) if when == BEFORE => self.before = Some(list),
            Ok(list) => self.after = Some(list),
            Err(e) => {
                if self.error.is_none() {
                    self.error = Some(CallError {
                        when,
                        kind: e.kind,
                        code: e.code,
                        message: e.message,
                    });
                }
            }
        }
        if let (Some(b), Some(a)) = (&self.before, &self.after) {
            self.changed = Some(b.iter().map(|r| &r.item_id).ne(a.iter().map(|r| &r.item_id)));
        }
    }
}

const BEFORE: &str = "before";
const AFTER: &str = "after";

/// GetRecommendations for `user` from `campaign`.
async fn ask(run: &Run<'_>, campaign: &str, user: &str) -> Result<Vec<Recommended>, ProviderError> {
    let client = &run.aws.clients.personalize_runtime;
    let out = run
        .aws
        .call("GetRecommendations", || {
            client
                .get_recommendations()
                .campaign_arn(campaign)
                .user_id(user)
                .num_results(NUM_RESULTS)
                .send()
        })
        .await?;
    Ok(out
        .item_list()
        .iter()
        .map(|i| Recommended {
            item_id: i.item_id().unwrap_or_default().to_owned(),
            score: i.score(),
        })
        .collect())
}

/// Asks before the PUT, when there is a deployed campaign and a user to ask for.
pub(crate) async fn before(run: &Run<'_>, recs: &mut Recommendations) {
    if let (Some(arn), Some(user)) = (recs.campaign_arn.clone(), recs.user_id.clone()) {
        let result = ask(run, &arn, &user).await;
        recs.record(BEFORE, result);
    }
}

/// Asks again after Personalize took the records, and judges the hop.
pub(crate) async fn after(run: &Run<'_>, recs: &mut Recommendations) -> Outcome {
    let Some(arn) = recs.campaign_arn.clone() else {
        return Outcome::Failed(
            Broken::new(format!("campaign `{}` is not deployed", recs.campaign))
                .cause("run `personalize-stack up`: the campaign is created once its solution is trained"),
        );
    };
    let Some(user) = recs.user_id.clone() else {
        return Outcome::Skipped(
            "the test records carry no `userid` (or `userId`) to ask recommendations for".to_owned(),
        );
    };
    let result = ask(run, &arn, &user).await;
    recs.record(AFTER, result);
    if let Some(e) = &recs.error {
        let cause = match e.kind {
            ErrorKind::NotFound => format!(
                "campaign `{}` does not exist or is not ACTIVE: run `personalize-stack up`",
                recs.campaign_name
            ),
            ErrorKind::AccessDenied => {
                "the credentials in use lack personalize:GetRecommendations on the campaign".to_owned()
            }
            ErrorKind::Validation => format!(
                "Personalize refused the request for user `{user}`: the campaign's recipe may not take a user (SIMS and personalized-ranking need an item or a list)"
            ),
            _ => "see the error code; run the test again if it was transient".to_owned(),
        };
        return Outcome::Failed(
            Broken::new(format!(
                "GetRecommendations {} the PUT failed: {}: {}",
                e.when, e.code, e.message
            ))
            .cause(cause)
            .evidence(format!("campaign {arn}, user {user}, numResults {NUM_RESULTS}")),
        );
    }
    let count = |l: &Option<Vec<Recommended>>| l.as_ref().map_or(0, Vec::len);
    let verdict = match (recs.changed, recs.new_items()) {
        (Some(true), Some(n)) => format!("changed ({n} new)"),
        (Some(true), None) => "changed".to_owned(),
        _ => "unchanged".to_owned(),
    };
    Outcome::Passed(format!(
        "campaign `{}` for user {user}: {} items before the events, {} after; {verdict}",
        recs.campaign_name,
        count(&recs.before),
        count(&recs.after),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(ids: &[&str]) -> Vec<Recommended> {
        ids.iter()
            .map(|i| Recommended {
                item_id: (*i).to_owned(),
                score: Some(0.5),
            })
            .collect()
    }

    #[test]
    fn changed_compares_the_ordered_ids_and_counts_new_items() {
        let campaign = CampaignRef {
            logical: "campaign".into(),
            name: "c".into(),
            arn: Some("arn:c".into()),
            user_id: Some("u".into()),
        };
        let mut recs = Recommendations::new(&campaign);
        recs.record(BEFORE, Ok(list(&["a", "b", "c"])));
        assert_eq!(recs.changed, None);
        recs.record(AFTER, Ok(list(&["b", "a", "d"])));
        assert_eq!((recs.changed, recs.new_items()), (Some(true), Some(1)));
        recs.record(AFTER, Ok(list(&["a", "b", "c"])));
        assert_eq!((recs.changed, recs.new_items()), (Some(false), Some(0)));

        let mut failed = Recommendations::new(&campaign);
        failed.record(
            BEFORE,
            Err(crate::call::error(
                "GetRecommendations",
                "ResourceNotFoundException",
                "gone",
            )),
        );
        failed.record(AFTER, Err(crate::call::error("GetRecommendations", "Other", "x")));
        let e = failed.error.unwrap_or_else(|| panic!("an error"));
        assert_eq!((e.when, e.code.as_str()), ("before", "ResourceNotFoundException"));
        let json = serde_json::to_value(&recs).unwrap_or_default();
        assert_eq!(json["before"][0]["item_id"], "a");
        assert_eq!(json["changed"], false);
    }
}
