-- Dashboard sign-in and the reveal-once record of a store's initial admin credentials.

-- When the store's initial admin credentials were revealed; they are shown only once.
ALTER TABLE stores ADD COLUMN credentials_revealed_at BIGINT;

-- One-time login links: hash of the link's token, consumed on first use.
CREATE TABLE login_tokens (
    token_hash   TEXT    PRIMARY KEY,
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at   BIGINT  NOT NULL,
    created_at   BIGINT  NOT NULL
);

-- Dashboard sessions: hash of the cookie's session id, and the CSRF token that
-- cookie-authenticated changes must echo.
CREATE TABLE sessions (
    token_hash   TEXT    PRIMARY KEY,
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   TEXT    NOT NULL,
    expires_at   BIGINT  NOT NULL,
    created_at   BIGINT  NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);
