//! `storeplane render`: print the Kubernetes objects a store is made of, as the
//! provisioning engine would apply them, without touching any cluster.

use anyhow::Context;
use clap::Args;
use storeplane_blueprint::Blueprint;
use storeplane_domain::{Engine, Plan, ReleaseName, StoreId, StoreName, StoreSpec, StoreTitle};

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

    /// The store's release, from the platform's catalog (default: the engine's default
    /// release).
    #[arg(long, value_name = "RELEASE", value_parser = parse_release)]
    pub release: Option<ReleaseName>,

    /// The shop's title (default: the store's name).
    #[arg(long, value_name = "TITLE", value_parser = parse_title)]
    pub title: Option<StoreTitle>,

    /// The store's id (default: a fresh one).
    #[arg(long, value_name = "UUID")]
    pub id: Option<StoreId>,

    #[command(flatten)]
    pub platform: PlatformArgs,
}

fn parse_release(raw: &str) -> Result<ReleaseName, String> {
    ReleaseName::parse(raw).map_err(|e| e.to_string())
}

fn parse_title(raw: &str) -> Result<StoreTitle, String> {
    StoreTitle::parse(raw).map_err(|e| e.to_string())
}

pub fn run(args: RenderArgs) -> anyhow::Result<()> {
    let blueprint = Blueprint::new(args.platform.settings()?)?;
    if args.print_settings {
        print!(
            "{}",
            serde_saphyr::to_string(&blueprint.settings().effective())?
        );
        return Ok(());
    }
    let name = args.name.context("--name is required")?;
    let spec = StoreSpec {
        name,
        engine: args.engine,
        plan: args.plan,
        release: args.release,
        title: args.title,
    };
    let rendered = blueprint.render(args.id.unwrap_or_else(StoreId::generate), &spec)?;
    print!("{}", rendered.manifest.text);
    Ok(())
}
