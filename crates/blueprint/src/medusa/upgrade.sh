# Migrates a Medusa store's database to its (new) release; idempotent.
set -eu
medusa db:migrate --execute-safe-links
