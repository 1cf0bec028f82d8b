//! The apply engine against kube-sim, the in-process simulated API server: each test
//! starts its own simulator on port 0 and shuts it down at the end.

mod kube {
    mod apply;
    mod credentials;
    mod dry_run;
    mod faults;
    mod fixtures;
    mod memory;
    mod rbac;
    mod readiness;
    mod requests;
    mod teardown;
}
