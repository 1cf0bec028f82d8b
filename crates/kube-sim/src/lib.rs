//! kube-sim: a simulated Kubernetes API server (a test double).
