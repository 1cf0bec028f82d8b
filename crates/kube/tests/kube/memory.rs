//! What the applier remembers between passes: bounded, whatever the number of stores.

use std::num::NonZeroUsize;

use storeplane_kube::Outcome;

use super::fixtures::{self, store_numbered};

#[tokio::test]
async fn the_applier_remembers_as_many_objects_after_six_stores_as_after_two() -> anyhow::Result<()>
{
    let (sim, applier) = fixtures::sim().await?;
    let bound = NonZeroUsize::new(30).expect("not zero");
    let applier = applier.remembering(bound);

    let mut remembered = Vec::new();
    for n in 0..6 {
        applier.apply(&store_numbered(n).into_ordered()).await?;
        remembered.push(applier.remembered_objects());
    }

    // A store has about twenty objects: two of them already fill the memory.
    assert_eq!(remembered[1..], [bound.get(); 5], "{remembered:?}");
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn the_objects_applied_last_are_remembered_so_a_repeated_pass_is_unchanged()
-> anyhow::Result<()> {
    let (sim, applier) = fixtures::sim().await?;
    let applier = applier.remembering(NonZeroUsize::new(30).expect("not zero"));
    for n in 0..5 {
        applier.apply(&store_numbered(n).into_ordered()).await?;
    }

    // Within the same second, an object the applier forgot would be judged by its
    // timestamps and reported created; the last store's objects are still remembered.
    let again = applier.apply(&store_numbered(4).into_ordered()).await?;

    assert!(
        again.iter().all(|a| a.outcome == Outcome::Unchanged),
        "{again:?}"
    );
    sim.shutdown().await;
    Ok(())
}
