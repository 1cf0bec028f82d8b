//! Watches: event streams, resuming after a disconnect, bookmarks and 410 Gone.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{
    Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube_sim::SimConfig;
use serde_json::json;

use crate::fixtures::{config_map, sim, sim_with};

/// `(type, name)` of a watch event.
fn describe(event: &WatchEvent<ConfigMap>) -> (String, String) {
    let name = |m: &ConfigMap| m.metadata.name.clone().unwrap_or_default();
    match event {
        WatchEvent::Added(m) => ("ADDED".into(), name(m)),
        WatchEvent::Modified(m) => ("MODIFIED".into(), name(m)),
        WatchEvent::Deleted(m) => ("DELETED".into(), name(m)),
        WatchEvent::Bookmark(_) => ("BOOKMARK".into(), String::new()),
        WatchEvent::Error(e) => ("ERROR".into(), e.reason.clone()),
    }
}

fn pair(kind: &str, name: &str) -> (String, String) {
    (kind.to_string(), name.to_string())
}

async fn next_events(
    stream: &mut (impl futures::Stream<Item = Result<WatchEvent<ConfigMap>, kube::Error>> + Unpin),
    n: usize,
) -> Vec<WatchEvent<ConfigMap>> {
    let mut out = Vec::new();
    while out.len() < n {
        let event = tokio::time::timeout(Duration::from_secs(5), stream.try_next())
            .await
            .expect("event arrives in time")
            .expect("stream is healthy")
            .expect("stream stays open");
        out.push(event);
    }
    out
}

#[tokio::test]
async fn a_watch_reports_additions_changes_and_deletions_in_order() {
    let sim = sim().await;
    let maps: Api<ConfigMap> = sim.api("default");
    let rv = maps
        .list(&ListParams::default())
        .await
        .expect("listed")
        .metadata
        .resource_version;
    let mut stream = maps
        .watch(&WatchParams::default(), rv.as_deref().unwrap_or("0"))
        .await
        .expect("watch opens")
        .boxed();
    maps.create(&PostParams::default(), &config_map("a"))
        .await
        .expect("created");
    let patch = Patch::Merge(json!({"data": {"k": "v"}}));
    maps.patch("a", &PatchParams::default(), &patch)
        .await
        .expect("patched");
    maps.delete("a", &DeleteParams::default())
        .await
        .expect("deleted");
    let events: Vec<_> = next_events(&mut stream, 3)
        .await
        .iter()
        .map(describe)
        .collect();
    assert_eq!(
        events,
        [
            pair("ADDED", "a"),
            pair("MODIFIED", "a"),
            pair("DELETED", "a")
        ]
    );
}

#[tokio::test]
async fn a_watch_resumed_after_a_disconnect_misses_nothing() {
    let sim = sim().await;
    let maps: Api<ConfigMap> = sim.api("default");
    let mut stream = maps
        .watch(&WatchParams::default(), "0")
        .await
        .expect("opens")
        .boxed();
    maps.create(&PostParams::default(), &config_map("before"))
        .await
        .expect("created");
    let seen = next_events(&mut stream, 1).await;
    let WatchEvent::Added(last) = &seen[0] else {
        panic!("expected ADDED")
    };
    let resume_from = last.metadata.resource_version.clone().expect("versioned");
    drop(stream);

    maps.create(&PostParams::default(), &config_map("during-1"))
        .await
        .expect("created");
    maps.create(&PostParams::default(), &config_map("during-2"))
        .await
        .expect("created");

    let mut resumed = maps
        .watch(&WatchParams::default(), &resume_from)
        .await
        .expect("reopens")
        .boxed();
    let events: Vec<_> = next_events(&mut resumed, 2)
        .await
        .iter()
        .map(describe)
        .collect();
    assert_eq!(
        events,
        [pair("ADDED", "during-1"), pair("ADDED", "during-2")]
    );
}

#[tokio::test]
async fn a_watch_that_allows_bookmarks_receives_them() {
    let sim = sim_with(SimConfig {
        bookmark_interval: Duration::from_millis(20),
        ..SimConfig::default()
    })
    .await;
    let maps: Api<ConfigMap> = sim.api("default");
    let created = maps
        .create(&PostParams::default(), &config_map("a"))
        .await
        .expect("created");
    let rv = created.metadata.resource_version.expect("versioned");
    // kube-rs asks for bookmarks by default (`allowWatchBookmarks=true`).
    let mut stream = maps
        .watch(&WatchParams::default(), &rv)
        .await
        .expect("opens")
        .boxed();
    let events = next_events(&mut stream, 1).await;
    let WatchEvent::Bookmark(bookmark) = &events[0] else {
        panic!("expected a bookmark")
    };
    assert_eq!(bookmark.metadata.resource_version, rv);
}

#[tokio::test]
async fn watching_from_a_compacted_version_is_gone_with_reason_expired() {
    let sim = sim_with(SimConfig {
        watch_history: 2,
        ..SimConfig::default()
    })
    .await;
    let maps: Api<ConfigMap> = sim.api("default");
    for i in 0..5 {
        maps.create(&PostParams::default(), &config_map(&format!("cm-{i}")))
            .await
            .expect("created");
    }
    let mut stream = maps
        .watch(&WatchParams::default(), "1")
        .await
        .expect("opens")
        .boxed();
    let events = next_events(&mut stream, 1).await;
    let WatchEvent::Error(status) = &events[0] else {
        panic!("expected an ERROR event")
    };
    assert_eq!((status.code, status.reason.as_str()), (410, "Expired"));
}

#[tokio::test]
async fn a_label_selected_watch_sees_only_matching_objects() {
    let sim = sim().await;
    let maps: Api<ConfigMap> = sim.api("default");
    let mut stream = maps
        .watch(&WatchParams::default().labels("app=shop"), "0")
        .await
        .expect("opens")
        .boxed();
    let mut other = config_map("other");
    other.metadata.labels = None;
    maps.create(&PostParams::default(), &other)
        .await
        .expect("created");
    maps.create(&PostParams::default(), &config_map("shop"))
        .await
        .expect("created");
    let events: Vec<_> = next_events(&mut stream, 1)
        .await
        .iter()
        .map(describe)
        .collect();
    assert_eq!(events, [pair("ADDED", "shop")]);
}

#[tokio::test]
async fn the_kube_runtime_watcher_works_with_streaming_lists() {
    use kube::runtime::watcher::{self, Event};
    let sim = sim().await;
    let maps: Api<ConfigMap> = sim.api("default");
    maps.create(&PostParams::default(), &config_map("existing"))
        .await
        .expect("created");
    let config = watcher::Config::default().streaming_lists();
    let mut events = watcher::watcher(maps.clone(), config).boxed();
    let mut initial = Vec::new();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(5), events.try_next())
            .await
            .expect("event arrives")
            .expect("watcher healthy")
            .expect("watcher open");
        match event {
            Event::Init => {}
            Event::InitApply(cm) => initial.extend(cm.metadata.name),
            Event::InitDone => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(initial, ["existing"]);
    maps.create(&PostParams::default(), &config_map("later"))
        .await
        .expect("created");
    let next = tokio::time::timeout(Duration::from_secs(5), events.try_next())
        .await
        .expect("event arrives")
        .expect("watcher healthy")
        .expect("watcher open");
    assert!(matches!(next, Event::Apply(cm) if cm.metadata.name.as_deref() == Some("later")));
}

#[tokio::test]
async fn a_watch_on_one_name_starts_with_that_object_in_its_namespace_or_in_each() {
    let sim = sim().await;
    for ns in ["a", "b"] {
        sim.namespace(ns).await;
        let maps: Api<ConfigMap> = sim.api(ns);
        for name in ["same", "other"] {
            maps.create(&PostParams::default(), &config_map(name))
                .await
                .expect("created");
        }
    }
    let by_name = WatchParams::streaming_lists().fields("metadata.name=same");
    let initial = |api: Api<ConfigMap>, n: usize| {
        let by_name = by_name.clone();
        async move {
            let mut stream = api.watch(&by_name, "0").await.expect("opens").boxed();
            next_events(&mut stream, n)
                .await
                .iter()
                .map(|event| match event {
                    WatchEvent::Added(m) => format!(
                        "{}/{}",
                        m.metadata.namespace.as_deref().unwrap_or_default(),
                        m.metadata.name.as_deref().unwrap_or_default()
                    ),
                    other => describe(other).0,
                })
                .collect::<Vec<_>>()
        }
    };

    assert_eq!(initial(sim.api("a"), 2).await, ["a/same", "BOOKMARK"]);
    assert_eq!(
        initial(Api::all(sim.client.clone()), 3).await,
        ["a/same", "b/same", "BOOKMARK"]
    );
}
