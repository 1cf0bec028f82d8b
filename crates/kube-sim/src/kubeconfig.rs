//! A kubeconfig that points kubectl (or any client) at the simulator.

/// The context, cluster and user name written into the kubeconfig.
pub const CONTEXT: &str = "kube-sim";

/// A kubeconfig for the simulator at `url` (`http://127.0.0.1:PORT`), with one context
/// named `kube-sim` selected. The simulator needs no credentials, so the user is empty.
pub fn kubeconfig_yaml(url: &str) -> String {
    format!(
        "# kube-sim: a simulated Kubernetes API server (a test double, not a cluster).\n\
         apiVersion: v1\n\
         kind: Config\n\
         clusters:\n\
         - name: {CONTEXT}\n  \
           cluster:\n    \
             server: {url}\n\
         contexts:\n\
         - name: {CONTEXT}\n  \
           context:\n    \
             cluster: {CONTEXT}\n    \
             user: {CONTEXT}\n    \
             namespace: default\n\
         current-context: {CONTEXT}\n\
         users:\n\
         - name: {CONTEXT}\n  \
           user: {{}}\n\
         preferences: {{}}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kubeconfig_selects_the_kube_sim_context() {
        let yaml = kubeconfig_yaml("http://127.0.0.1:1234");
        let parsed: serde_json::Value = serde_saphyr::from_str(&yaml).expect("valid yaml");
        assert_eq!(parsed["current-context"], "kube-sim");
        assert_eq!(
            parsed["clusters"][0]["cluster"]["server"],
            "http://127.0.0.1:1234"
        );
        assert_eq!(parsed["contexts"][0]["context"]["cluster"], "kube-sim");
    }
}
