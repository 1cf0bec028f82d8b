//! Fixed inputs: a store built by the real blueprint, recognisable secrets, and a fresh
//! simulator with an [`Applier`] talking to it.

use kube_sim::{SimConfig, SimHandle};
use storeplane_blueprint::{
    Blueprint, Engine, FrontDoor, Plan, PlatformSettings, SecretKind, StoreId, StoreResources,
    StoreSecrets, StoreSpec, StoreTitle,
};
use storeplane_kube::{Applier, ObjectRef};

pub const STORE_ID: &str = "01936f3e-8b7a-7c2d-9e4f-0123456789ab";

pub fn store_id() -> StoreId {
    STORE_ID.parse().expect("a valid store id")
}

pub fn namespace() -> String {
    store_id().namespace()
}

/// Every secret a WooCommerce store needs, each value starting with `prefix`.
pub fn secrets(prefix: &str) -> StoreSecrets {
    let requirements = Blueprint::secret_requirements(Engine::WooCommerce).expect("woocommerce");
    StoreSecrets::generate(requirements, |requirement| match requirement.kind {
        SecretKind::Random { length } => {
            format!("{:0<length$}", format!("{prefix}-{}-", requirement.key))
        }
        SecretKind::Login { default } => default.to_owned(),
    })
}

/// The demo store, with secrets starting with `prefix`.
pub fn store_with(prefix: &str) -> StoreResources {
    store_behind(FrontDoor::default(), prefix)
}

/// The demo store with `front_door`, with secrets starting with `prefix`.
pub fn store_behind(front_door: FrontDoor, prefix: &str) -> StoreResources {
    let settings = PlatformSettings {
        front_door,
        ..PlatformSettings::default()
    };
    let spec = StoreSpec {
        name: "demo".parse().expect("a valid name"),
        engine: Engine::WooCommerce,
        plan: Plan::Small,
        release: None,
        title: None,
    };
    Blueprint::new(settings)
        .expect("default settings are valid")
        .build(store_id(), &spec, &secrets(prefix))
        .expect("the demo store builds")
}

/// The demo store with `title` as its shop's title, which its setup Job's pod template
/// carries (so a new title is a changed, immutable, template).
pub fn store_titled(title: &str) -> StoreResources {
    let spec = StoreSpec {
        name: "demo".parse().expect("a valid name"),
        engine: Engine::WooCommerce,
        plan: Plan::Small,
        release: None,
        title: Some(StoreTitle::parse(title).expect("a valid title")),
    };
    Blueprint::new(PlatformSettings::default())
        .expect("default settings are valid")
        .build(store_id(), &spec, &secrets("first"))
        .expect("the titled store builds")
}

/// Another store than the demo store: store number `n`, in its own namespace.
pub fn store_numbered(n: u64) -> StoreResources {
    let id: StoreId = format!("01936f3e-8b7a-7c2d-9e4f-{n:012x}")
        .parse()
        .expect("a valid store id");
    let spec = StoreSpec::new(
        format!("shop-{n}").parse().expect("a valid name"),
        Engine::WooCommerce,
        Plan::Small,
    );
    Blueprint::new(PlatformSettings::default())
        .expect("default settings are valid")
        .build(id, &spec, &secrets("numbered"))
        .expect("the store builds")
}

pub fn store() -> StoreResources {
    store_with("first")
}

pub fn refs(resources: &[storeplane_blueprint::Resource]) -> Vec<ObjectRef> {
    resources.iter().map(ObjectRef::from).collect()
}

/// A simulator with default settings (workloads become ready at once) and an applier.
pub async fn sim() -> anyhow::Result<(SimHandle, Applier)> {
    let sim = SimHandle::start(SimConfig::default()).await?;
    let applier = Applier::new(sim.client()?);
    Ok((sim, applier))
}
