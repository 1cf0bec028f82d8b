# Restores the checkpoint at $CHECKPOINT into the store's database: read whole first, every
# data block (nothing is dropped for a broken or cut-short file), then the public schema
# is dropped and made again (tables a newer release added must not outlive the restore)
# and the archive loaded, all in one transaction: a restore that fails leaves the database as it was. Everything
# written since the checkpoint is lost. $RESTORED marks a restore that finished, so a second
# run of the same Job (keyed by its revision) does not restore again over orders taken
# since. The connection comes from the PG* variables, the password from PGPASSWORD.
set -euo pipefail
if [ -e "$RESTORED" ]; then
  echo "checkpoint $CHECKPOINT was already restored"
  exit 0
fi
if [ ! -s "$CHECKPOINT" ]; then
  echo "checkpoint $CHECKPOINT is missing" >&2
  exit 1
fi
if ! pg_restore --file=/dev/null "$CHECKPOINT"; then
  echo "checkpoint $CHECKPOINT is damaged; nothing restored" >&2
  exit 1
fi
{
  echo 'BEGIN;'
  # Not one NOTICE per dropped object in the Job's log.
  echo 'SET LOCAL client_min_messages = warning;'
  echo 'DROP SCHEMA IF EXISTS public CASCADE;'
  echo 'CREATE SCHEMA public;'
  pg_restore --no-owner --no-privileges --file=- "$CHECKPOINT"
  echo 'COMMIT;'
} | psql --quiet --no-psqlrc --set=ON_ERROR_STOP=1 >/dev/null
touch "$RESTORED"
echo "restored $PGDATABASE from $CHECKPOINT"
