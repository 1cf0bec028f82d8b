//! [`Applier::job_outputs`]: the public values an engine's setup Job published in its
//! container's termination message, which the kubelet copies into the pod's status. The
//! Job writes a file and needs no Kubernetes credentials; storeplane reads the pod.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::ListParams;
use storeplane_blueprint::OutputsRef;

use crate::apply::{Applier, with_retries};

/// The termination message the kubelet keeps is at most 4096 bytes; anything larger is
/// not ours.
const MAX_MESSAGE: usize = 4096;

/// Why published values could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OutputsError {
    #[error("failed to list the pods of Job {namespace}/{job}: {source}")]
    List {
        namespace: String,
        job: String,
        #[source]
        source: kube::Error,
    },
    /// The container finished but its message is not a JSON object of strings holding
    /// every key.
    #[error(
        "the termination message of {pod}/{container} is not what the step publishes: {reason}"
    )]
    Malformed {
        pod: String,
        container: String,
        reason: String,
    },
}

impl Applier {
    /// The values `outputs` names, read from the termination message of `outputs.container`
    /// in a pod of `outputs.job` that ran it to success: a JSON object holding a string for
    /// every key (other keys are ignored, so nothing unasked for is kept). `None` when no
    /// such pod is there yet (or any more: a completed Job's pods may be removed).
    pub async fn job_outputs(
        &self,
        namespace: &str,
        outputs: &OutputsRef,
    ) -> Result<Option<BTreeMap<String, String>>, OutputsError> {
        self.termination_values(namespace, outputs.job, outputs.container, outputs.keys)
            .await
    }

    /// The string values of `keys` in the termination message of `container` in a pod of
    /// Job `job` that ran it to success, as [`Applier::job_outputs`] reads them, for a Job
    /// named at run time (a backup's).
    pub async fn termination_values(
        &self,
        namespace: &str,
        job: &str,
        container: &str,
        keys: &[&str],
    ) -> Result<Option<BTreeMap<String, String>>, OutputsError> {
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        let params = ListParams::default().labels(&format!("batch.kubernetes.io/job-name={job}"));
        let list = with_retries(|| pods.list(&params))
            .await
            .map_err(|source| OutputsError::List {
                namespace: namespace.to_owned(),
                job: job.to_owned(),
                source,
            })?;
        for pod in &list.items {
            let statuses = pod
                .status
                .iter()
                .flat_map(|s| s.container_statuses.iter().flatten());
            for status in statuses.filter(|s| s.name == container) {
                let Some(done) = status.state.as_ref().and_then(|s| s.terminated.as_ref()) else {
                    continue;
                };
                if done.exit_code != 0 {
                    continue;
                }
                let pod_name = pod.metadata.name.clone().unwrap_or_default();
                let malformed = |reason: String| OutputsError::Malformed {
                    pod: pod_name.clone(),
                    container: container.to_owned(),
                    reason,
                };
                let message = done.message.as_deref().unwrap_or_default();
                return parse(message, keys).map(Some).map_err(malformed);
            }
        }
        Ok(None)
    }
}

/// The string values of `keys` in the JSON object `message`.
fn parse(message: &str, keys: &[&str]) -> Result<BTreeMap<String, String>, String> {
    if message.len() > MAX_MESSAGE {
        return Err(format!("{} bytes, more than {MAX_MESSAGE}", message.len()));
    }
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(message.trim()).map_err(|_| "not a JSON object".to_owned())?;
    keys.iter()
        .map(|key| match object.get(*key) {
            Some(serde_json::Value::String(value)) if !value.is_empty() => {
                Ok(((*key).to_owned(), value.clone()))
            }
            _ => Err(format!("no string {key:?}")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_asked_for_keys_are_kept() {
        let values = parse(
            r#"{"publishable_key":"pk_01","other":"x"}"#,
            &["publishable_key"],
        )
        .unwrap();
        assert_eq!(
            values,
            BTreeMap::from([("publishable_key".to_owned(), "pk_01".to_owned())])
        );
    }

    #[test]
    fn a_message_without_a_key_or_not_json_is_refused_saying_why() {
        assert!(
            parse("{}", &["publishable_key"])
                .unwrap_err()
                .contains("publishable_key")
        );
        assert!(parse(r#"{"publishable_key":7}"#, &["publishable_key"]).is_err());
        assert_eq!(
            parse("migrations done", &["publishable_key"]).unwrap_err(),
            "not a JSON object"
        );
        assert!(
            parse(&"x".repeat(5000), &["k"])
                .unwrap_err()
                .contains("5000")
        );
    }
}
