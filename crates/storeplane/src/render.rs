//! `storeplane render`: print the Kubernetes objects a store is made of, as the
//! provisioning engine would apply them, without touching any cluster.

use anyhow::Context;
use clap::Args;
use storeplane_blueprint::{Blueprint, SecretKind, StoreSecrets};
use storeplane_domain::{Engine, Plan, StoreId, StoreName, StoreSpec};

use crate::provisioning::PlatformArgs;

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The store's name (it becomes `<name>.<base domain>`).
    #[arg(long, value_name = "NAME", required_unless_present = "print_settings")]
    pub name: Option<StoreName>,

    /// Print the effective platform settings (defaults, the settings file, then flags) as
    /// YAML instead: a starting point for a `--platform-config` file.
    #[arg(long)]
    pub print_settings: bool,

    /// The store's engine.
    #[arg(long, default_value = "woocommerce", value_name = "ENGINE")]
    pub engine: Engine,

    /// The store's plan: small, medium or large.
    #[arg(long, default_value = "small", value_name = "PLAN")]
    pub plan: Plan,

    /// The store's id (default: a fresh one).
    #[arg(long, value_name = "UUID")]
    pub id: Option<StoreId>,

    #[command(flatten)]
    pub platform: PlatformArgs,
}

/// Stands in for every generated secret: real values are made by the worker, once, inside
/// the cluster, and are never printed.
const PLACEHOLDER: &str = "generated-at-provisioning";

pub fn run(args: RenderArgs) -> anyhow::Result<()> {
    let settings = args.platform.settings()?;
    if args.print_settings {
        print!("{}", serde_saphyr::to_string(&settings)?);
        return Ok(());
    }
    let name = args.name.context("--name is required")?;
    let blueprint = Blueprint::new(settings)?;
    let spec = StoreSpec {
        name,
        engine: args.engine,
        plan: args.plan,
        release: None,
        title: None,
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
