# Sets a Medusa store up, safe to run again at any point: migrates the database (with
# --execute-safe-links, or a links change waits for an answer and the Job hangs), then
# bootstraps the shop, creating only what is missing, and writes the publishable key to
# the termination message.
set -eu
medusa db:migrate --execute-safe-links
medusa exec ./src/scripts/bootstrap.js
