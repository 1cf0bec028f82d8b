//! The store's Secrets: the PostgreSQL and Redis passwords, Medusa's JWT and cookie
//! secrets (kept stable, so sessions and tokens survive a restart), and the admin login.

use k8s_openapi::api::core::v1::Secret;

use crate::engine::StoreContext;
use crate::parts::secret;
use crate::secrets::{SecretKind, SecretRequirement, StoreSecrets};

pub const DATABASE_SECRET: &str = "postgres";
pub const DB_PASSWORD: &str = "postgres-password";
pub const REDIS_SECRET: &str = "redis";
pub const REDIS_PASSWORD: &str = "redis-password";
pub const KEYS_SECRET: &str = "medusa-keys";
pub const JWT_SECRET: &str = "jwt-secret";
pub const COOKIE_SECRET: &str = "cookie-secret";
pub const ADMIN_SECRET: &str = "medusa-admin";
pub const ADMIN_EMAIL: &str = "medusa-admin-email";
pub const ADMIN_PASSWORD: &str = "medusa-admin-password";

const PASSWORD: SecretKind = SecretKind::Random { length: 32 };
const KEY: SecretKind = SecretKind::Random { length: 64 };

const fn requirement(key: &'static str, kind: SecretKind) -> SecretRequirement {
    SecretRequirement { key, kind }
}

/// Every value a Medusa store needs.
pub const REQUIREMENTS: &[SecretRequirement] = &[
    requirement(DB_PASSWORD, PASSWORD),
    requirement(REDIS_PASSWORD, PASSWORD),
    requirement(JWT_SECRET, KEY),
    requirement(COOKIE_SECRET, KEY),
    // Medusa signs its admins in by email; `example.com` is reserved and reaches no one.
    requirement(
        ADMIN_EMAIL,
        SecretKind::Login {
            default: "admin@example.com",
        },
    ),
    requirement(ADMIN_PASSWORD, PASSWORD),
];

pub fn secrets(store: &StoreContext<'_>, values: &StoreSecrets) -> Vec<Secret> {
    vec![
        secret(store, DATABASE_SECRET, &[DB_PASSWORD], values),
        secret(store, REDIS_SECRET, &[REDIS_PASSWORD], values),
        secret(store, KEYS_SECRET, &[JWT_SECRET, COOKIE_SECRET], values),
        secret(store, ADMIN_SECRET, &[ADMIN_EMAIL, ADMIN_PASSWORD], values),
    ]
}
