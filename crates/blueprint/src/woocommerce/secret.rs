//! The store's Secrets: database passwords, the WordPress admin login, and the eight
//! WordPress keys and salts (kept stable so sessions survive a pod restart).

use k8s_openapi::api::core::v1::Secret;

use crate::engine::StoreContext;
use crate::parts::secret;
use crate::secrets::{SecretKind, SecretRequirement, StoreSecrets};

pub const DATABASE_SECRET: &str = "mariadb";
pub const ROOT_PASSWORD: &str = "mariadb-root-password";
pub const DB_PASSWORD: &str = "mariadb-password";
pub const ADMIN_SECRET: &str = "wordpress-admin";
pub const ADMIN_USER: &str = "wordpress-admin-user";
pub const ADMIN_PASSWORD: &str = "wordpress-admin-password";
pub const SALTS_SECRET: &str = "wordpress-salts";

/// Each salt's key in the Secret and the variable the WordPress image reads it from.
pub const SALTS: [(&str, &str); 8] = [
    ("auth-key", "WORDPRESS_AUTH_KEY"),
    ("secure-auth-key", "WORDPRESS_SECURE_AUTH_KEY"),
    ("logged-in-key", "WORDPRESS_LOGGED_IN_KEY"),
    ("nonce-key", "WORDPRESS_NONCE_KEY"),
    ("auth-salt", "WORDPRESS_AUTH_SALT"),
    ("secure-auth-salt", "WORDPRESS_SECURE_AUTH_SALT"),
    ("logged-in-salt", "WORDPRESS_LOGGED_IN_SALT"),
    ("nonce-salt", "WORDPRESS_NONCE_SALT"),
];

const PASSWORD: SecretKind = SecretKind::Random { length: 32 };
/// WordPress's own generator makes 64-character salts.
const SALT: SecretKind = SecretKind::Random { length: 64 };

const fn requirement(key: &'static str, kind: SecretKind) -> SecretRequirement {
    SecretRequirement { key, kind }
}

/// Every value a WooCommerce store needs.
pub const REQUIREMENTS: &[SecretRequirement] = &[
    requirement(ROOT_PASSWORD, PASSWORD),
    requirement(DB_PASSWORD, PASSWORD),
    requirement(ADMIN_USER, SecretKind::Login { default: "admin" }),
    requirement(ADMIN_PASSWORD, PASSWORD),
    requirement(SALTS[0].0, SALT),
    requirement(SALTS[1].0, SALT),
    requirement(SALTS[2].0, SALT),
    requirement(SALTS[3].0, SALT),
    requirement(SALTS[4].0, SALT),
    requirement(SALTS[5].0, SALT),
    requirement(SALTS[6].0, SALT),
    requirement(SALTS[7].0, SALT),
];

pub fn secrets(store: &StoreContext<'_>, values: &StoreSecrets) -> Vec<Secret> {
    let salts = SALTS.map(|(key, _)| key);
    vec![
        secret(
            store,
            DATABASE_SECRET,
            &[ROOT_PASSWORD, DB_PASSWORD],
            values,
        ),
        secret(store, ADMIN_SECRET, &[ADMIN_USER, ADMIN_PASSWORD], values),
        secret(store, SALTS_SECRET, &salts, values),
    ]
}
