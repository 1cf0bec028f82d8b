//! Revisions for the decision tests: `rev(3).release("b").deployed()`.

use chrono::{DateTime, TimeZone, Utc};

use super::{Checkpoint, Revision, RevisionNumber, RevisionStatus};
use crate::{Actor, Engine, Plan, ReleaseName, StoreId, StoreName, StoreSpec, StoreTitle};

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap()
}

pub fn n(number: u32) -> RevisionNumber {
    RevisionNumber::new(number).unwrap()
}

pub fn release(name: &str) -> ReleaseName {
    ReleaseName::parse(name).unwrap()
}

pub fn title(text: &str) -> StoreTitle {
    StoreTitle::parse(text).unwrap()
}

/// Revision `number` of store `shop`: small plan, release `a`, superseded.
pub fn rev(number: u32) -> Revision {
    Revision {
        store_id: StoreId::from_uuid(uuid::Uuid::nil()),
        number: n(number),
        spec: StoreSpec {
            name: StoreName::parse("shop").unwrap(),
            engine: Engine::WooCommerce,
            plan: Plan::Small,
            release: Some(release("a")),
            title: None,
        },
        platform_digest: "p".repeat(64),
        manifest_digest: format!("{number:064}"),
        manifest_kept: true,
        actor: Actor::User("alice".into()),
        reason: "test".into(),
        status: RevisionStatus::Superseded,
        failure: None,
        created_at: t0(),
        started_at: Some(t0()),
        finished_at: Some(t0()),
        checkpoint: None,
        rollback_of: None,
        restores: None,
        restores_backup: None,
        migrates_data: false,
    }
}

pub fn checkpoint(number: u32) -> Checkpoint {
    Checkpoint {
        job: format!("checkpoint-{number}"),
        claim: "checkpoints".into(),
        path: format!("/checkpoints/{number}.sql"),
        taken_at: t0(),
    }
}

impl Revision {
    pub fn status(mut self, status: RevisionStatus) -> Self {
        self.status = status;
        self
    }

    pub fn deployed(self) -> Self {
        self.status(RevisionStatus::Deployed)
    }

    pub fn release(mut self, name: &str) -> Self {
        self.spec.release = Some(release(name));
        self
    }

    pub fn plan(mut self, plan: Plan) -> Self {
        self.spec.plan = plan;
        self
    }

    /// Its release differs from the one before it: the upgrade step ran.
    pub fn migrating(mut self) -> Self {
        self.migrates_data = true;
        self
    }

    /// It restored a backup in place (with a checkpoint first, as a restore always takes).
    pub fn restoring_backup(mut self) -> Self {
        self.restores_backup = Some(crate::BackupId::from_uuid(uuid::Uuid::nil()));
        self.migrates_data = true;
        self.with_checkpoint()
    }

    pub fn with_checkpoint(mut self) -> Self {
        self.checkpoint = Some(checkpoint(self.number.get()));
        self
    }

    pub fn rollback_of(mut self, target: u32) -> Self {
        self.rollback_of = Some(n(target));
        self
    }

    pub fn pruned(mut self) -> Self {
        self.manifest_kept = false;
        self
    }
}
