//! The workshop's pipeline, wired by hand through the official SDK clients against the local
//! runtime, with the real forwarder (`lambda/`) as the function: PUT the seed's seven records
//! through the API with its key, and they come out of PutEvents — stored for the tracker with
//! the seed's user, item, type and timestamp, exactly once each.
#![allow(clippy::unwrap_used, missing_docs)]

use personalize_stack_test_support as common;

use common::workshop::{self, EVENTS};
use personalize_stack_local::{Config, Profile};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seven_records_put_through_the_api_come_out_of_put_events() {
    let zip = tokio::task::spawn_blocking(workshop::forwarder_zip)
        .await
        .unwrap();
    let poll_interval_ms = 100;
    let local = personalize_stack_local::start(Config {
        port: 0,
        profile: Profile::instant(),
        poll_interval_ms,
        ..Config::default()
    })
    .await
    .unwrap();
    let deployed = workshop::deploy(&local.endpoint_url(), 1, zip).await;

    // PUT the seven records, as the workshop's client does: Data is the event as JSON text.
    let records: Vec<serde_json::Value> = EVENTS
        .iter()
        .map(|(item, ts, ty)| {
            let data =
                serde_json::json!({"userid": "146456223", "itemid": item, "timestamp": ts, "event_type": ty});
            serde_json::json!({"Data": data.to_string(), "PartitionKey": "146456223"})
        })
        .collect();
    let body = serde_json::json!({ "Records": records }).to_string();
    let addr = local.addr();
    let (api_id, key) = (deployed.api_id.clone(), deployed.key.clone());
    let put = move |key: Option<String>| {
        let (api_id, body) = (api_id.clone(), body.clone());
        tokio::task::spawn_blocking(move || workshop::put_records(addr, &api_id, key.as_deref(), &body))
    };
    let (status, _) = put(None).await.unwrap();
    assert_eq!(status, 403, "without the key");
    let started = Instant::now();
    let (status, response) = put(Some(key)).await.unwrap();
    assert_eq!(status, 200, "{response}");
    let response: serde_json::Value = serde_json::from_str(&response).unwrap();
    assert_eq!(response["FailedRecordCount"], 0, "{response}");
    assert_eq!(response["Records"].as_array().unwrap().len(), 7);

    // The mapping polls, the forwarder forwards, PutEvents stores: wait (bounded) for seven.
    let events = loop {
        let tracking_id = deployed.tracking_id.clone();
        let events = tokio::task::spawn_blocking(move || workshop::stored_events(addr, &tracking_id))
            .await
            .unwrap();
        if events.len() >= 7 || started.elapsed() > Duration::from_secs(60) {
            break events;
        }
        tokio::time::sleep(Duration::from_millis(poll_interval_ms / 2)).await;
    };
    eprintln!(
        "seven records from API PUT to stored events in {:?}",
        started.elapsed()
    );
    assert_eq!(events.len(), 7, "{events:#?}");
    for (stored, (item, ts, ty)) in events.iter().zip(EVENTS) {
        let text = stored.to_string();
        assert!(text.contains("146456223"), "user: {stored}");
        assert!(text.contains(item), "item {item}: {stored}");
        assert!(text.contains(&format!("\"{ty}\"")), "type {ty}: {stored}");
        assert!(text.contains(ts), "sentAt {ts}: {stored}");
    }
    let ids: std::collections::BTreeSet<String> = events.iter().map(|e| e.to_string()).collect();
    assert_eq!(ids.len(), 7, "no duplicates");
}
