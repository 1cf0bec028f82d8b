//! Database URLs: which backend, where, and how to print one without its password.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Where the metadata store lives. Its `Display` and `Debug` never show a password.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file (created if absent).
    Sqlite(PathBuf),
    /// A private in-memory SQLite database (tests only: it vanishes with the process).
    SqliteMemory,
    /// A PostgreSQL server, as a `postgres://` URL.
    Postgres(String),
}

impl DatabaseUrl {
    /// The default: `storeplane.db` in the data directory.
    pub fn in_data_dir(data_dir: &Path) -> Self {
        Self::Sqlite(data_dir.join("storeplane.db"))
    }

    /// The URL with any password replaced by `***`, for logs and error messages.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite://{}", path.display()),
            Self::SqliteMemory => "sqlite::memory:".to_owned(),
            Self::Postgres(url) => redact_password(url),
        }
    }
}

fn redact_password(url: &str) -> String {
    // scheme://user:password@host/...: hide what lies between the first ':' after the
    // scheme and the '@', if there is an '@' before the path.
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{path}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

impl FromStr for DatabaseUrl {
    type Err = InvalidDatabaseUrl;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let invalid = |reason: &str| InvalidDatabaseUrl {
            url: redact_password(raw),
            reason: reason.to_owned(),
        };
        let raw = raw.trim();
        if raw == "sqlite::memory:" || raw == "sqlite://:memory:" {
            return Ok(Self::SqliteMemory);
        }
        if let Some(path) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err(invalid(
                    "a sqlite URL needs a file path, as in sqlite:///var/lib/storeplane/storeplane.db",
                ));
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            let rest = raw
                .split_once("://")
                .map(|(_, rest)| rest)
                .unwrap_or_default();
            let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
            if host.is_empty() || host.starts_with('/') || host.starts_with('?') {
                return Err(invalid(
                    "a postgres URL needs a host, as in postgres://user@db.example:5432/storeplane",
                ));
            }
            // Let the driver check the rest (port, options) now, so a typo fails at parse
            // time with its reason rather than at first connection.
            raw.parse::<sqlx::postgres::PgConnectOptions>()
                .map_err(|e| invalid(&e.to_string().replace(raw, "<url>")))?;
            return Ok(Self::Postgres(raw.to_owned()));
        }
        Err(invalid(
            "expected a URL starting with sqlite:// or postgres://",
        ))
    }
}

/// A database URL that cannot be used; the message shows it without its password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid database URL {url:?}: {reason}")]
pub struct InvalidDatabaseUrl {
    pub url: String,
    pub reason: String,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_and_postgres_urls_parse() {
        assert_eq!(
            "sqlite:///tmp/x.db".parse(),
            Ok(DatabaseUrl::Sqlite("/tmp/x.db".into()))
        );
        assert_eq!(
            "sqlite://data/x.db".parse(),
            Ok(DatabaseUrl::Sqlite("data/x.db".into()))
        );
        assert_eq!("sqlite::memory:".parse(), Ok(DatabaseUrl::SqliteMemory));
        let pg: DatabaseUrl = "postgres://app:pw@127.0.0.1:5432/test".parse().unwrap();
        assert!(matches!(pg, DatabaseUrl::Postgres(_)));
    }

    #[test]
    fn passwords_never_show_when_printed() {
        let pg: DatabaseUrl = "postgres://app:s3cret@db:5432/test".parse().unwrap();
        assert_eq!(pg.to_string(), "postgres://app:***@db:5432/test");
        assert!(!format!("{pg:?}").contains("s3cret"));
    }

    #[test]
    fn malformed_urls_are_rejected_with_a_reason() {
        for (raw, reason) in [
            (
                "mysql://localhost/x",
                "expected a URL starting with sqlite:// or postgres://",
            ),
            ("sqlite://", "needs a file path"),
            ("postgres://", "needs a host"),
            ("postgres://u:pw@db:notaport/x", "invalid port number"),
            ("", "expected a URL"),
        ] {
            let err = raw.parse::<DatabaseUrl>().unwrap_err();
            assert!(err.to_string().contains(reason), "{raw}: {err}");
        }
    }

    #[test]
    fn a_rejected_url_does_not_echo_its_password() {
        let err = "postgres://u:hunter2@db:notaport/x"
            .parse::<DatabaseUrl>()
            .unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
