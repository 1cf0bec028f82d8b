//! Runs kube-sim (a test double, not a cluster) from the command line, for trying it out
//! with kubectl: `cargo run -p kube-sim --example serve -- --kubeconfig-out kube-sim.yaml`.

use clap::Parser;

#[derive(Debug, Parser)]
#[command(about = kube_sim::TEST_DOUBLE_NOTICE)]
struct Cli {
    #[command(flatten)]
    sim: kube_sim::SimArgs,
}

#[tokio::main]
async fn main() -> Result<(), kube_sim::SimError> {
    let cli = Cli::parse();
    println!("{}", kube_sim::TEST_DOUBLE_NOTICE);
    kube_sim::run(&cli.sim, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
