//! Platform-settings changes: a catalog edit changes no running store; a setting that
//! alters what a store renders becomes a `system:platform` revision, carried out at once.

use std::time::Duration;

use storeplane_blueprint::{EngineReleases, PlatformSettings, ReleaseCatalog};
use storeplane_domain::{Plan, RevisionStatus, StoreStatus};

use super::harness::{Harness, NEW, OLD, STORE_KINDS, release, two_releases};

/// Every object of the store with its uid and generation (its resourceVersion for kinds
/// without one), to tell that nothing was written: status updates by the cluster's
/// controllers move resourceVersions but not generations.
async fn versions(harness: &Harness, store: &storeplane_domain::Store) -> Vec<(String, String)> {
    let mut all = Vec::new();
    for (api_version, kind) in STORE_KINDS {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let resource = kube::core::ApiResource::from_gvk(&kube::core::GroupVersionKind::gvk(
            group, version, kind,
        ));
        let api: kube::Api<kube::api::DynamicObject> = kube::Api::namespaced_with(
            harness.sim.client().unwrap(),
            &store.namespace(),
            &resource,
        );
        for object in api.list(&Default::default()).await.unwrap() {
            let version = match object.metadata.generation {
                Some(generation) => generation.to_string(),
                None => object.metadata.resource_version.unwrap_or_default(),
            };
            all.push((
                format!("{kind}/{}", object.metadata.name.unwrap_or_default()),
                format!("{} {version}", object.metadata.uid.unwrap_or_default()),
            ));
        }
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_catalog_edit_changes_no_running_store_and_a_vanished_release_keeps_its_manifest() {
    let one_release = {
        let mut settings = two_releases();
        if let Some(catalog) = settings.releases.as_mut() {
            catalog.woocommerce.available.truncate(1);
        }
        settings
    };
    let mut harness = Harness::start(one_release).await;
    let store = harness.ready_store("acme", Plan::Small).await;
    harness.drift_pass(store.id).await;
    let before = versions(&harness, &store).await;
    let events_before = harness.events(store.id).await.len();

    // A new release is added and made the default.
    let mut edited = two_releases();
    if let Some(catalog) = edited.releases.as_mut() {
        catalog.woocommerce.default = release(NEW);
    }
    harness.next_second().await;
    harness.stop_worker().await;
    harness.start_worker(edited);
    harness.drift_pass(store.id).await;
    harness.drift_pass(store.id).await;

    let revisions = harness.repo.store_revisions(store.id).await.unwrap();
    assert_eq!(revisions.latest.map(|r| r.number.get()), Some(1));
    assert_eq!(
        versions(&harness, &store).await,
        before,
        "no object written"
    );
    assert_eq!(
        harness.events(store.id).await.len(),
        events_before,
        "{}",
        harness.timeline(store.id).await
    );
    assert_eq!(
        harness.store(store.id).await.spec.release,
        Some(release(OLD))
    );

    // The store's release leaves the catalog: drift passes keep applying its manifest.
    let mut vanished = two_releases();
    vanished.releases = Some(ReleaseCatalog {
        woocommerce: EngineReleases {
            default: release(NEW),
            available: vanished
                .releases
                .unwrap()
                .woocommerce
                .available
                .into_iter()
                .filter(|r| r.name == release(NEW))
                .collect(),
        },
        ..ReleaseCatalog::default()
    });
    harness.next_second().await;
    harness.stop_worker().await;
    harness.start_worker(vanished);
    harness.drift_pass(store.id).await;
    let namespace = store.namespace();
    let policies: kube::Api<k8s_openapi::api::networking::v1::NetworkPolicy> =
        kube::Api::namespaced(harness.sim.client().unwrap(), &namespace);
    policies
        .delete("default-deny", &Default::default())
        .await
        .unwrap();
    harness.drift_pass(store.id).await;
    let store_now = harness.store(store.id).await;
    assert_eq!(store_now.status, StoreStatus::Ready);
    harness
        .assert_cluster_is(&store_now, &harness.manifest(store.id, 1).await)
        .await;
    let restored = harness
        .events_saying(
            store.id,
            storeplane_domain::EventKind::DriftRestored,
            "default-deny was missing; restored",
        )
        .await;
    assert_eq!(restored.len(), 1, "{}", harness.timeline(store.id).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_new_base_domain_is_recorded_as_a_platform_revision_and_applied() {
    let mut harness = Harness::start(PlatformSettings::default()).await;
    let store = harness.ready_store("acme", Plan::Small).await;

    let moved = PlatformSettings {
        base_domain: "shops.example.test".to_owned(),
        ..PlatformSettings::default()
    };
    harness.stop_worker().await;
    harness.start_worker(moved);
    harness
        .repo
        .enqueue(
            store.id,
            storeplane_domain::JobKind::Reconcile,
            5,
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let revision = harness
        .wait_revision(
            store.id,
            2,
            RevisionStatus::Deployed,
            Duration::from_secs(30),
        )
        .await;

    assert_eq!(revision.actor.to_string(), "system:platform");
    assert_eq!(revision.reason, "platform settings changed");
    assert_eq!(revision.spec, harness.revision(store.id, 1).await.spec);
    let route = harness
        .object(
            &store,
            "gateway.networking.k8s.io/v1",
            "HTTPRoute",
            "storefront",
        )
        .await;
    assert_eq!(route["spec"]["hostnames"][0], "acme.shops.example.test");
    let store_now = harness.store(store.id).await;
    assert_eq!(store_now.status, StoreStatus::Ready);
    harness
        .assert_cluster_is(&store_now, &harness.manifest(store.id, 2).await)
        .await;
    // The next pass finds nothing more to record.
    harness.drift_pass(store.id).await;
    let revisions = harness.repo.store_revisions(store.id).await.unwrap();
    assert_eq!(revisions.latest.map(|r| r.number.get()), Some(2));
}
