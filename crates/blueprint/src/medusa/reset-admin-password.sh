# Sets the admin's password to MEDUSA_ADMIN_PASSWORD through Medusa's auth module; the
# password is read from the environment, never an argument, and never printed.
set -eu
medusa exec ./src/scripts/reset-admin-password.js
