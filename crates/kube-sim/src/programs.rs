//! What the programs in simulated containers leave behind. kube-sim runs no container, so
//! where a controller reads a program's output (a container's termination message, which
//! the kubelet copies from the file the program wrote), a rule here says what that program
//! writes on success. Storeplane's Medusa setup publishes its publishable API key this
//! way; the default rules say so, with a fresh key for every pod as a real bootstrap would
//! make one per store.

use serde::{Deserialize, Serialize};

/// One rule: the message a successful container `container` of a pod of Job `job` leaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminationMessage {
    /// The Job's name, or its beginning followed by `*` (`backup-*`: every backup Job).
    pub job: String,
    pub container: String,
    /// `{token}` is replaced by 32 random lowercase hex digits.
    pub message: String,
}

/// Every rule the simulated kubelet follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Programs {
    pub termination_messages: Vec<TerminationMessage>,
}

impl Default for Programs {
    fn default() -> Self {
        Self {
            termination_messages: vec![
                TerminationMessage {
                    job: "medusa-setup".to_owned(),
                    container: "setup".to_owned(),
                    message: r#"{"publishable_key":"pk_{token}"}"#.to_owned(),
                },
                // restic's summary, as storeplane's backup script writes it: the sizes of
                // a small shop's first backup.
                TerminationMessage {
                    job: "backup-*".to_owned(),
                    container: "restic".to_owned(),
                    message: r#"{"snapshot_id":"{token}{token}","bytes_added":"20761421","bytes_processed":"20761421","files":"1843"}"#.to_owned(),
                },
            ],
        }
    }
}

impl Programs {
    /// The message container `container` of Job `job`'s pod leaves when it succeeds.
    pub fn termination_message(&self, job: &str, container: &str) -> Option<String> {
        self.termination_messages
            .iter()
            .find(|rule| {
                let named = match rule.job.strip_suffix('*') {
                    Some(prefix) => job.starts_with(prefix),
                    None => rule.job == job,
                };
                named && rule.container == container
            })
            .map(|rule| {
                let token = format!(
                    "{:016x}{:016x}",
                    crate::random::next_u64(),
                    crate::random::next_u64()
                );
                rule.message.replace("{token}", &token)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_medusa_setup_publishes_a_fresh_key_per_pod_and_nothing_else_does() {
        let programs = Programs::default();
        let first = programs
            .termination_message("medusa-setup", "setup")
            .unwrap();
        let second = programs
            .termination_message("medusa-setup", "setup")
            .unwrap();
        assert!(first.starts_with(r#"{"publishable_key":"pk_"#), "{first}");
        assert_ne!(first, second);
        assert_eq!(
            programs.termination_message("woocommerce-setup", "wp-cli"),
            None
        );
    }

    #[test]
    fn every_backup_job_leaves_a_restic_summary_with_its_own_snapshot() {
        let programs = Programs::default();
        let first = programs
            .termination_message("backup-4f1c2a9b", "restic")
            .unwrap();
        let second = programs
            .termination_message("backup-00000001", "restic")
            .unwrap();
        assert!(first.contains(r#""bytes_processed":"20761421""#), "{first}");
        assert_ne!(first, second);
        assert_eq!(
            programs.termination_message("backup-4f1c2a9b", "dump"),
            None
        );
        assert_eq!(programs.termination_message("nobackup-1", "restic"), None);
    }
}
