//! Medusa's allow rules, on top of the store's default deny and DNS policies:
//!
//! - the front door (the Gateway's data plane or the ingress controller) -> the server,
//!   Medusa's port only; the setup Job -> the server;
//! - the server and the worker -> PostgreSQL on 5432 and Redis on 6379;
//! - the setup Job -> PostgreSQL, Redis and the server;
//! - the server -> internet (80/443) only when the platform allows it (payment providers).
//!
//! The worker admits nothing, and nothing but these pods reaches the database or Redis.

use k8s_openapi::api::networking::v1::NetworkPolicy;

use super::{MEDUSA_PORT, POSTGRES_PORT, REDIS_PORT};
use crate::engine::StoreContext;
use crate::fence::{internet_peer, namespace_peer, pod_peer};
use crate::labels::Component;
use crate::parts::{allow, from, to};

pub fn network_policies(store: &StoreContext<'_>) -> Vec<NetworkPolicy> {
    let settings = store.settings;
    let backends = || {
        vec![
            to(vec![pod_peer(Component::Database)], &[POSTGRES_PORT]),
            to(vec![pod_peer(Component::Cache)], &[REDIS_PORT]),
        ]
    };
    let mut server_egress = backends();
    if settings.allow_internet_egress {
        server_egress.push(to(vec![internet_peer()], &[80, 443]));
    }
    let mut setup_egress = backends();
    setup_egress.push(to(vec![pod_peer(Component::Web)], &[MEDUSA_PORT]));
    let clients = || {
        vec![
            pod_peer(Component::Web),
            pod_peer(Component::Worker),
            pod_peer(Component::Setup),
        ]
    };
    vec![
        allow(
            store,
            "medusa-server-ingress",
            Component::Web,
            vec![
                from(
                    vec![namespace_peer(settings.front_door_namespace())],
                    MEDUSA_PORT,
                ),
                from(vec![pod_peer(Component::Setup)], MEDUSA_PORT),
            ],
            Vec::new(),
        ),
        allow(
            store,
            "medusa-server-egress",
            Component::Web,
            Vec::new(),
            server_egress,
        ),
        allow(
            store,
            "medusa-worker-egress",
            Component::Worker,
            Vec::new(),
            backends(),
        ),
        allow(
            store,
            "postgres-ingress",
            Component::Database,
            vec![from(clients(), POSTGRES_PORT)],
            Vec::new(),
        ),
        allow(
            store,
            "redis-ingress",
            Component::Cache,
            vec![from(clients(), REDIS_PORT)],
            Vec::new(),
        ),
        allow(
            store,
            "setup-egress",
            Component::Setup,
            Vec::new(),
            setup_egress,
        ),
    ]
}
