-- Admin password resets: the generation of the store's admin password that is wanted (bumped
-- by each reset request) and the one the worker has applied. A reset is pending while they
-- differ. Forward-only; existing stores start at 0/0 (their first password, nothing pending).
ALTER TABLE stores ADD COLUMN admin_password_generation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stores ADD COLUMN admin_password_applied INTEGER NOT NULL DEFAULT 0;
