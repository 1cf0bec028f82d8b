//! The backup step: a Job that copies a store's database and files into the store's own
//! restic repository, outside its namespace. The same for every engine:
//!
//! ```text
//! init container: the engine's own checkpoint container (its dump, as before an
//!                 upgrade), writing into an emptyDir instead of the checkpoints claim
//! container:      restic (backup.sh): the dump and the files claim, mounted read-only
//!                 where the store's pods mount it, into the repository; then retention
//! ```
//!
//! The pod runs on the node of the pod that mounts the files claim (pod affinity): the
//! claim is ReadWriteOnce, which a pod on another node could not mount. The repository's
//! key is the store's own, generated once into a Secret of the keys namespace (the
//! platform's: [`key_objects`]), created only when absent so it is never replaced, and kept
//! after the store's namespace is gone so a deleted store's backups can still be read; a
//! copy in the store's namespace (`backup-key`) serves its Jobs. Object-store
//! credentials, where the repository needs them, are the platform's, copied into
//! `backup-repository` on each backup so a rotated key reaches every store. None of them
//! ever reaches a manifest the metadata store records, since steps are built when they run.
//!
//! restic writes its summary to the termination message, where the worker reads the
//! snapshot id and sizes.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    Affinity, Container, EnvVar, PodAffinity, PodAffinityTerm, Secret, SecurityContext,
};
use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyPeer, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use storeplane_domain::BackupKind;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use storeplane_domain::StoreId;

use crate::Resource;
use crate::engine::{StepResources, StoreContext, StoreFiles};
use crate::fence::{internet_peer, namespace_peer, port};
use crate::labels::{self, Component};
use crate::parts::{shared_metadata, step_labels, step_metadata};
use crate::pod::{container_security, env, mount, resources, scratch, secret_env};
use crate::settings::ValidatedSettings;
use crate::settings::{Repository, Retention};
use crate::{BuildError, CREATE_ONCE};

const BACKUP_SCRIPT: &str = include_str!("backup/backup.sh");
const FETCH_SCRIPT: &str = include_str!("backup/fetch.sh");
const PUT_FILES_SCRIPT: &str = include_str!("backup/put-files.sh");
/// Where a restore fetches the snapshot to, inside the pod (on the dump's emptyDir).
const FETCHED: &str = "/checkpoints/fetched";

/// The Secret with the store's repository key in its namespace (a copy of the one in the
/// keys namespace, for its Jobs), and its key.
pub const KEY_SECRET: &str = "backup-key";
pub const KEY: &str = "restic-password";
/// The Secret with the key of the repository a restore reads (the store's own, or the
/// store's whose backup becomes a new store).
pub const RESTORE_KEY_SECRET: &str = "restore-key";
/// The Secret with the platform's object-store credentials, copied for the store.
pub const REPOSITORY_SECRET: &str = "backup-repository";
/// The container restic runs in: the worker reads its termination message.
pub const CONTAINER: &str = "restic";
/// Where the dump is written, inside the pod (an emptyDir).
const DUMP_DIR: &str = "/checkpoints";
/// The step label of backup pods, which the repository egress rule selects.
const STEP: &str = "backup";

/// A Secret's values as `data`, not `stringData`: the API server folds `stringData` into
/// `data`, so a server-side apply of `stringData` would never look settled.
fn bytes(values: BTreeMap<String, String>) -> BTreeMap<String, ByteString> {
    values
        .into_iter()
        .map(|(key, value)| (key, ByteString(value.into_bytes())))
        .collect()
}

/// The name of store `id`'s key Secret in the keys namespace.
pub fn key_secret_name(id: StoreId) -> String {
    format!("backup-key-{id}")
}

/// The keys namespace and store `id`'s key Secret in it, holding `fresh` unless it holds a
/// key already: it is created once and never replaced, and outlives the store's namespace
/// (deleted only when the store's backups are purged).
pub fn key_objects(settings: &ValidatedSettings, id: StoreId, fresh: &str) -> Vec<Resource> {
    let namespace = settings.backups.keys_namespace.clone();
    let mut labels = labels::store_labels(id);
    labels.insert(
        labels::COMPONENT.to_owned(),
        Component::Maintenance.as_str().to_owned(),
    );
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some(key_secret_name(id)),
            namespace: Some(namespace.clone()),
            labels: Some(labels),
            ..ObjectMeta::default()
        },
        data: Some(bytes(BTreeMap::from([(KEY.to_owned(), fresh.to_owned())]))),
        type_: Some("Opaque".to_owned()),
        ..Secret::default()
    };
    // Only its name: applying it changes nothing of a namespace that exists (the chart's
    // release namespace), and makes the one the simulated cluster lacks.
    let keys = Namespace {
        metadata: ObjectMeta {
            name: Some(namespace),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    vec![Resource::from(keys), Resource::from(secret)]
}

/// What a backup needs besides the store: the store's repository key (read from the keys
/// namespace) and the object store's credentials, if any.
#[derive(Clone, PartialEq, Eq)]
pub struct BackupSecrets {
    pub key: String,
    pub s3: Option<S3Credentials>,
}

#[derive(Clone, PartialEq, Eq)]
pub struct S3Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for S3Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("S3Credentials(<redacted>)")
    }
}

impl std::fmt::Debug for BackupSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackupSecrets")
            .field("key", &"<redacted>")
            .field("s3", &self.s3)
            .finish()
    }
}

/// A backup to build: its Job's name (`backup-<short id>`), kind, and the revision the
/// store runs.
#[derive(Debug, Clone, Copy)]
pub struct BackupRequest<'a> {
    pub name: &'a str,
    pub kind: BackupKind,
    pub revision: Option<u32>,
    pub secrets: &'a BackupSecrets,
}

fn secret(
    store: &StoreContext<'_>,
    name: &str,
    data: BTreeMap<String, String>,
    create_once: bool,
) -> Secret {
    let mut metadata = shared_metadata(store, name, Component::Maintenance);
    if !create_once {
        metadata.annotations = Some(BTreeMap::from([(
            CREATE_ONCE.to_owned(),
            "false".to_owned(),
        )]));
    }
    Secret {
        metadata,
        data: Some(bytes(data)),
        type_: Some("Opaque".to_owned()),
        ..Secret::default()
    }
}

/// Backup pods -> the repository: the REST server's namespace on its port, or the object
/// store (public addresses on its port, or its namespace when it runs in the cluster).
fn repository_egress(store: &StoreContext<'_>) -> NetworkPolicy {
    let backups = &store.settings.backups;
    let (peer, number): (NetworkPolicyPeer, u16) = match &backups.repository {
        Repository::Rest(rest) => (namespace_peer(&rest.namespace), rest.port),
        Repository::S3(s3) => match &s3.namespace {
            Some(namespace) => (namespace_peer(namespace), s3.port()),
            None => (internet_peer(), s3.port()),
        },
    };
    let mut selector = labels::component_selector(Component::Maintenance);
    selector.extend(step_labels(STEP));
    NetworkPolicy {
        metadata: shared_metadata(store, "backup-egress", Component::Isolation),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector {
                match_labels: Some(selector),
                ..LabelSelector::default()
            }),
            policy_types: Some(vec!["Egress".to_owned()]),
            egress: Some(vec![NetworkPolicyEgressRule {
                to: Some(vec![peer]),
                ports: Some(vec![port("TCP", i32::from(number))]),
            }]),
            ..NetworkPolicySpec::default()
        }),
    }
}

fn restic_env(
    store: &StoreContext<'_>,
    request: &BackupRequest<'_>,
    files: &StoreFiles,
) -> Vec<EnvVar> {
    let backups = &store.settings.backups;
    let Retention {
        keep_last,
        keep_daily,
        keep_weekly,
    } = backups.retention;
    let mut vars = vec![
        env(
            "RESTIC_REPOSITORY",
            backups.repository.for_store(&store.id.to_string()),
        ),
        secret_env("RESTIC_PASSWORD", KEY_SECRET, KEY),
        env("BACKUP_HOST", store.id.to_string()),
        env("BACKUP_KIND", request.kind.as_str()),
        env("BACKUP_PATHS", format!("{DUMP_DIR} {}", files.path)),
        env("KEEP_LAST", keep_last.to_string()),
        env("KEEP_DAILY", keep_daily.to_string()),
        env("KEEP_WEEKLY", keep_weekly.to_string()),
        env("RESTIC_CACHE_DIR", "/tmp/restic-cache"),
        env("HOME", "/tmp"),
    ];
    if let Some(revision) = request.revision {
        vars.push(env("BACKUP_REVISION", revision.to_string()));
    }
    vars.extend(s3_env(&backups.repository));
    vars
}

/// The object store's credentials (from the store's copy of them) and region, for restic
/// containers of an S3 repository; nothing for another.
fn s3_env(repository: &Repository) -> Vec<EnvVar> {
    let Repository::S3(s3) = repository else {
        return Vec::new();
    };
    let mut vars = vec![
        secret_env("AWS_ACCESS_KEY_ID", REPOSITORY_SECRET, "access-key-id"),
        secret_env(
            "AWS_SECRET_ACCESS_KEY",
            REPOSITORY_SECRET,
            "secret-access-key",
        ),
    ];
    if let Some(region) = &s3.region {
        vars.push(env("AWS_DEFAULT_REGION", region.clone()));
    }
    vars
}

/// A restore to build: the revision that restores it, and the snapshot in the repository
/// of store `source` (the store itself, or the store whose backup becomes a new store),
/// read with `source_key`.
#[derive(Clone, Copy)]
pub struct RestoreRequest<'a> {
    pub revision: u32,
    /// restic's snapshot id.
    pub snapshot: &'a str,
    pub source: StoreId,
    pub source_key: &'a str,
    /// The restoring store's own key and the object store's credentials.
    pub secrets: &'a BackupSecrets,
}

impl std::fmt::Debug for RestoreRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestoreRequest")
            .field("revision", &self.revision)
            .field("snapshot", &self.snapshot)
            .field("source", &self.source)
            .field("source_key", &"<redacted>")
            .field("secrets", &self.secrets)
            .finish()
    }
}

/// Where a restore's fetch puts the dump a backup took with the engine's checkpoint Job
/// `checkpoint`: below the fetch's directory, at the path it was backed up from.
pub fn fetched_dump(checkpoint: &Job) -> String {
    format!(
        "{FETCHED}{DUMP_DIR}/database.{}",
        dump_extension(checkpoint)
    )
}

/// The engine's extension of a dump (`sql.gz`, `dump`), from its checkpoint Job.
fn dump_extension(checkpoint: &Job) -> String {
    let env = checkpoint
        .spec
        .as_ref()
        .and_then(|spec| spec.template.spec.as_ref())
        .and_then(|pod| pod.containers.first())
        .and_then(|c| c.env.as_ref())
        .and_then(|env| env.iter().find(|v| v.name == "CHECKPOINT"))
        .and_then(|v| v.value.clone())
        .unwrap_or_default();
    let file = env.rsplit('/').next().unwrap_or_default();
    file.split_once('.')
        .map_or_else(String::new, |(_, ext)| ext.to_owned())
}

/// The first container of `job`'s pod, running as the pod's user.
fn first_container(job: &Job, step: &'static str) -> Result<Container, BuildError> {
    let pod = job
        .spec
        .as_ref()
        .and_then(|spec| spec.template.spec.as_ref());
    let mut container =
        pod.and_then(|pod| pod.containers.first().cloned())
            .ok_or(BuildError::Step {
                step,
                reason: "the engine's step Job has no container",
            })?;
    if let Some(security) = pod.and_then(|pod| pod.security_context.as_ref()) {
        container.security_context = Some(SecurityContext {
            run_as_user: security.run_as_user,
            run_as_group: security.run_as_group,
            ..container_security()
        });
    }
    Ok(container)
}

/// On the node of the pods that mount the files claim, which is ReadWriteOnce.
fn beside(store: &StoreContext<'_>, files: &StoreFiles) -> Affinity {
    Affinity {
        pod_affinity: Some(PodAffinity {
            required_during_scheduling_ignored_during_execution: Some(vec![PodAffinityTerm {
                label_selector: Some(LabelSelector {
                    match_labels: Some(store.labels(files.component)),
                    ..LabelSelector::default()
                }),
                topology_key: "kubernetes.io/hostname".to_owned(),
                ..PodAffinityTerm::default()
            }]),
            ..PodAffinity::default()
        }),
        ..Affinity::default()
    }
}

/// The store's repository key, copied from the keys namespace, and for an S3 repository
/// the platform's credentials copied for it (both applied every time, so the namespace
/// holds what the platform holds, a rotation included).
fn repository_secrets(
    store: &StoreContext<'_>,
    secrets: &BackupSecrets,
) -> Result<Vec<Secret>, BuildError> {
    let mut objects = vec![secret(
        store,
        KEY_SECRET,
        BTreeMap::from([(KEY.to_owned(), secrets.key.clone())]),
        false,
    )];
    if matches!(store.settings.backups.repository, Repository::S3(_)) {
        let s3 = secrets.s3.as_ref().ok_or(BuildError::Step {
            step: "backup",
            reason: "the S3 backup repository needs the platform's credentials, and none were given",
        })?;
        objects.push(secret(
            store,
            REPOSITORY_SECRET,
            BTreeMap::from([
                ("access-key-id".to_owned(), s3.access_key_id.clone()),
                ("secret-access-key".to_owned(), s3.secret_access_key.clone()),
            ]),
            false,
        ));
    }
    Ok(objects)
}

/// The dump container of the engine's checkpoint Job, made to write `<DUMP_DIR>/database
/// .<ext>` (the engine's own extension) on the pod's emptyDir.
fn dump_container(checkpoint: &Job) -> Result<Container, BuildError> {
    // The pod's user may differ from the dump's (restic reads the files as their owner):
    // the dump runs as the user its image expects.
    let mut container = first_container(checkpoint, "backup")?;
    for var in container.env.iter_mut().flatten() {
        if var.name == "CHECKPOINT" {
            var.value = Some(format!(
                "{DUMP_DIR}/database.{}",
                dump_extension(checkpoint)
            ));
        }
    }
    Ok(container)
}

/// The backup step's objects for `request`, given the engine's checkpoint step (its Job's
/// container dumps the database, its policies reach the database) and the store's files.
pub fn backup(
    store: &StoreContext<'_>,
    request: &BackupRequest<'_>,
    checkpoint: StepResources,
    files: &StoreFiles,
) -> Result<StepResources, BuildError> {
    let dump = dump_container(&checkpoint.job)?;
    let pod_security = checkpoint
        .job
        .spec
        .as_ref()
        .and_then(|spec| spec.template.spec.as_ref())
        .and_then(|pod| pod.security_context.clone());
    let restic = Container {
        name: CONTAINER.to_owned(),
        image: Some(store.settings.backups.image.clone()),
        command: Some(vec![
            "/bin/sh".to_owned(),
            "-c".to_owned(),
            BACKUP_SCRIPT.to_owned(),
        ]),
        env: Some(restic_env(store, request, files)),
        resources: Some(resources(&store.plan().setup)),
        // As the owner of the files, which it only reads.
        security_context: Some(SecurityContext {
            run_as_user: Some(files.uid),
            run_as_group: Some(files.uid),
            ..container_security()
        }),
        volume_mounts: Some(vec![
            mount("checkpoints", DUMP_DIR),
            k8s_openapi::api::core::v1::VolumeMount {
                read_only: Some(true),
                ..mount("files", files.path)
            },
            mount("tmp", "/tmp"),
        ]),
        termination_message_policy: Some("File".to_owned()),
        ..Container::default()
    };
    let mut files_volume = crate::pod::claim("files", files.claim);
    if let Some(source) = files_volume.persistent_volume_claim.as_mut() {
        source.read_only = Some(true);
    }
    let metadata = step_metadata(store, request.name, Component::Maintenance, STEP);
    let job = Job {
        metadata: metadata.clone(),
        spec: Some(k8s_openapi::api::batch::v1::JobSpec {
            // restic is safe to run again: a snapshot appears only once complete.
            backoff_limit: Some(2),
            active_deadline_seconds: Some(
                i64::try_from(store.settings.backups.deadline_seconds).unwrap_or(i64::MAX),
            ),
            template: k8s_openapi::api::core::v1::PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: metadata.labels,
                    ..Default::default()
                }),
                spec: Some(k8s_openapi::api::core::v1::PodSpec {
                    restart_policy: Some("Never".to_owned()),
                    init_containers: Some(vec![dump]),
                    containers: vec![restic],
                    security_context: pod_security,
                    affinity: Some(beside(store, files)),
                    automount_service_account_token: Some(false),
                    enable_service_links: Some(false),
                    volumes: Some(vec![scratch("checkpoints"), files_volume, scratch("tmp")]),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Job::default()
    };
    let secrets = repository_secrets(store, request.secrets)?;
    let mut network_policies = checkpoint.network_policies;
    network_policies.push(repository_egress(store));
    Ok(StepResources {
        network_policies,
        secrets,
        claim: None,
        job,
        checkpoint: None,
    })
}

/// The restore step's objects for `request`: the snapshot fetched (and checked) into an
/// emptyDir, the engine's own restore container loading the dump from there, then the
/// files claim made exactly what the backup held (`put-files.sh`). Keyed by the revision
/// that restores it: `restore-backup-r<N>`, so a worker killed midway finds the same Job.
/// `restore` is the engine's restore step (its container and its database policies), built
/// to load [`fetched_dump`].
pub fn restore(
    store: &StoreContext<'_>,
    request: &RestoreRequest<'_>,
    restore: StepResources,
    files: &StoreFiles,
) -> Result<StepResources, BuildError> {
    let name = format!("restore-backup-r{}", request.revision);
    let backups = &store.settings.backups;
    let pod_security = restore
        .job
        .spec
        .as_ref()
        .and_then(|spec| spec.template.spec.as_ref())
        .and_then(|pod| pod.security_context.clone());
    let mut load = first_container(&restore.job, "restore")?;
    load.name = "load".to_owned();
    for var in load.env.iter_mut().flatten() {
        // The engine marks a restore done beside its checkpoint; here the fetch is fresh
        // in every pod, and so is the mark.
        if var.name == "RESTORED" {
            var.value = Some(format!("{DUMP_DIR}/restored"));
        }
    }
    let mut restic_vars = vec![
        env(
            "RESTIC_REPOSITORY",
            backups.repository.for_store(&request.source.to_string()),
        ),
        secret_env("RESTIC_PASSWORD", RESTORE_KEY_SECRET, KEY),
        env("RESTIC_CACHE_DIR", "/tmp/restic-cache"),
        env("HOME", "/tmp"),
        env("SNAPSHOT", request.snapshot),
        env("RESTORE_DIR", FETCHED),
    ];
    restic_vars.extend(s3_env(&backups.repository));
    let as_files_owner = SecurityContext {
        run_as_user: Some(files.uid),
        run_as_group: Some(files.uid),
        ..container_security()
    };
    let fetch = Container {
        name: "fetch".to_owned(),
        image: Some(backups.image.clone()),
        command: Some(vec![
            "/bin/sh".to_owned(),
            "-c".to_owned(),
            FETCH_SCRIPT.to_owned(),
        ]),
        env: Some(restic_vars),
        resources: Some(resources(&store.plan().setup)),
        security_context: Some(as_files_owner.clone()),
        volume_mounts: Some(vec![mount("checkpoints", DUMP_DIR), mount("tmp", "/tmp")]),
        ..Container::default()
    };
    let put_files = Container {
        name: "put-files".to_owned(),
        image: Some(backups.image.clone()),
        command: Some(vec![
            "/bin/sh".to_owned(),
            "-c".to_owned(),
            PUT_FILES_SCRIPT.to_owned(),
        ]),
        env: Some(vec![env("FILES", files.path), env("RESTORE_DIR", FETCHED)]),
        resources: Some(resources(&store.plan().setup)),
        security_context: Some(as_files_owner),
        volume_mounts: Some(vec![
            mount("checkpoints", DUMP_DIR),
            mount("files", files.path),
            mount("tmp", "/tmp"),
        ]),
        ..Container::default()
    };
    let metadata = step_metadata(store, &name, Component::Maintenance, STEP);
    let job = Job {
        metadata: metadata.clone(),
        spec: Some(k8s_openapi::api::batch::v1::JobSpec {
            // Each container is safe to run again: the fetch checks every chunk, the load
            // replaces the database in one transaction, the files are made exactly the
            // backup's.
            backoff_limit: Some(2),
            active_deadline_seconds: Some(
                i64::try_from(backups.deadline_seconds).unwrap_or(i64::MAX),
            ),
            template: k8s_openapi::api::core::v1::PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: metadata.labels,
                    ..Default::default()
                }),
                spec: Some(k8s_openapi::api::core::v1::PodSpec {
                    restart_policy: Some("Never".to_owned()),
                    init_containers: Some(vec![fetch, load]),
                    containers: vec![put_files],
                    security_context: pod_security,
                    affinity: Some(beside(store, files)),
                    automount_service_account_token: Some(false),
                    enable_service_links: Some(false),
                    volumes: Some(vec![
                        scratch("checkpoints"),
                        crate::pod::claim("files", files.claim),
                        scratch("tmp"),
                    ]),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Job::default()
    };
    let mut network_policies = restore.network_policies;
    network_policies.push(repository_egress(store));
    let mut secrets = repository_secrets(store, request.secrets)?;
    secrets.push(secret(
        store,
        RESTORE_KEY_SECRET,
        BTreeMap::from([(KEY.to_owned(), request.source_key.to_owned())]),
        false,
    ));
    Ok(StepResources {
        network_policies,
        secrets,
        claim: None,
        job,
        checkpoint: None,
    })
}
