//! WooCommerce's allow rules, on top of the store's default deny and DNS policies:
//!
//! - the front door (the Gateway's data plane or the ingress controller) -> WordPress, web
//!   port only;
//! - WordPress -> MariaDB on 3306 (egress on one side, ingress on the other: with both
//!   directions denied by default, a flow needs both);
//! - setup Job -> MariaDB and WordPress;
//! - WordPress -> internet (80/443) only when the platform allows it, and the setup Job ->
//!   internet (443) only when it must download WooCommerce from wordpress.org.

use k8s_openapi::api::networking::v1::NetworkPolicy;

use super::{DB_PORT, WEB_PORT};
use crate::engine::StoreContext;
use crate::fence::{internet_peer, namespace_peer, pod_peer};
use crate::labels::Component;
use crate::parts::{allow as policy, from, to};
use crate::settings::WooCommerceRelease;

pub fn network_policies(
    store: &StoreContext<'_>,
    release: &WooCommerceRelease,
) -> Vec<NetworkPolicy> {
    let settings = store.settings;
    let mut web_egress = vec![to(vec![pod_peer(Component::Database)], &[DB_PORT])];
    if settings.allow_internet_egress {
        web_egress.push(to(vec![internet_peer()], &[80, 443]));
    }
    let mut setup_egress = vec![
        to(vec![pod_peer(Component::Database)], &[DB_PORT]),
        to(vec![pod_peer(Component::Web)], &[WEB_PORT]),
    ];
    if !release.woocommerce_baked() {
        setup_egress.push(to(vec![internet_peer()], &[443]));
    }
    vec![
        policy(
            store,
            "wordpress-ingress",
            Component::Web,
            vec![
                from(
                    vec![namespace_peer(settings.front_door_namespace())],
                    WEB_PORT,
                ),
                from(vec![pod_peer(Component::Setup)], WEB_PORT),
            ],
            Vec::new(),
        ),
        policy(
            store,
            "wordpress-egress",
            Component::Web,
            Vec::new(),
            web_egress,
        ),
        policy(
            store,
            "mariadb-ingress",
            Component::Database,
            vec![from(
                vec![pod_peer(Component::Web), pod_peer(Component::Setup)],
                DB_PORT,
            )],
            Vec::new(),
        ),
        policy(
            store,
            "setup-egress",
            Component::Setup,
            Vec::new(),
            setup_egress,
        ),
    ]
}
