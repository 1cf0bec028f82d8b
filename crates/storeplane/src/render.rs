//! `storeplane render`: print the Kubernetes objects a store is made of, as the
//! provisioning engine would apply them, without touching any cluster.

use clap::Args;
use storeplane_blueprint::{Blueprint, PlatformSettings, SecretKind, StoreSecrets};
use storeplane_domain::{Engine, Plan, StoreId, StoreName, StoreSpec};

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The store's name (it becomes `<name>.<base domain>`).
    #[arg(long, value_name = "NAME")]
    pub name: StoreName,

    /// The store's engine.
    #[arg(long, default_value = "woocommerce", value_name = "ENGINE")]
    pub engine: Engine,

    /// The store's plan: small, medium or large.
    #[arg(long, default_value = "small", value_name = "PLAN")]
    pub plan: Plan,

    /// The store's id (default: a fresh one).
    #[arg(long, value_name = "UUID")]
    pub id: Option<StoreId>,

    /// Stores are reached at `<name>.<base domain>`.
    #[arg(
        long,
        env = "STOREPLANE_BASE_DOMAIN",
        default_value = "127.0.0.1.nip.io",
        value_name = "DOMAIN"
    )]
    pub base_domain: String,
}

/// Stands in for every generated secret: real values are made by the worker, once, inside
/// the cluster, and are never printed.
const PLACEHOLDER: &str = "generated-at-provisioning";

pub fn run(args: RenderArgs) -> anyhow::Result<()> {
    let settings = PlatformSettings {
        base_domain: args.base_domain,
        ..PlatformSettings::default()
    };
    let blueprint = Blueprint::new(settings)?;
    let spec = StoreSpec {
        name: args.name,
        engine: args.engine,
        plan: args.plan,
    };
    let secrets = StoreSecrets::generate(
        Blueprint::secret_requirements(spec.engine)?,
        |requirement| match requirement.kind {
            SecretKind::Random { length } => PLACEHOLDER
                .chars()
                .cycle()
                .take(length.max(PLACEHOLDER.len()))
                .collect(),
            SecretKind::Login { default } => default.to_owned(),
        },
    );
    let resources = blueprint.build(args.id.unwrap_or_else(StoreId::generate), &spec, &secrets)?;
    print!("{}", storeplane_blueprint::to_yaml(&resources)?);
    Ok(())
}
