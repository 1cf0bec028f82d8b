# Backs a store up with restic into the store's own repository ($RESTIC_REPOSITORY: a
# prefix of the platform's S3 bucket, or a directory on the backup volume), encrypted with
# the store's own key ($RESTIC_PASSWORD, from the store's backup Secret). What it backs up
# is $BACKUP_PATHS, space-separated directories: the database dump, written there first
# by the engine's own checkpoint script, and the store's files (WordPress's wp-content,
# Medusa's uploads). restic cuts them into
# content-defined chunks and stores each chunk once, so a backup of data that has not
# changed adds almost nothing.
#
# A backup becomes visible only when restic writes its snapshot, at the very end: a backup
# killed midway leaves the previous one the latest. Then the retention policy of this
# backup's kind is applied to this store's snapshots of that kind ($KEEP_LAST,
# $KEEP_DAILY, $KEEP_WEEKLY; 0 turns a rule off), so that scheduled backups never push out
# a manual one or a checkpoint, and what no snapshot needs is pruned. Pruning takes an
# exclusive lock, which a backup killed within the last half hour may still hold: then
# retention waits for the next backup, and the backup itself still succeeds.
#
# Its last act writes the snapshot's id and sizes to the termination message
# ($TERMINATION_LOG), where storeplane reads them:
#   {"snapshot_id": "...", "bytes_added": "...", "bytes_processed": "...", "files": "..."}
# Credentials come from the environment only (RESTIC_PASSWORD, AWS_ACCESS_KEY_ID,
# AWS_SECRET_ACCESS_KEY); restic prints neither.
set -eu
: "${RESTIC_REPOSITORY:?}" "${RESTIC_PASSWORD:?}" "${BACKUP_HOST:?}" "${BACKUP_KIND:?}"
: "${BACKUP_PATHS:?}"
summary="${TMPDIR:-/tmp}/backup-summary.json"

# A new store's first backup makes its repository. `cat config` fails for a repository
# that is not there, and for one restic cannot open; init then fails too, saying why.
if ! restic cat config >/dev/null 2>&1; then
  restic init
fi

set -- --host "$BACKUP_HOST" --tag "kind=$BACKUP_KIND"
if [ -n "${BACKUP_REVISION:-}" ]; then
  set -- "$@" --tag "revision=$BACKUP_REVISION"
fi
if [ -n "${BACKUP_TIME:-}" ]; then
  set -- "$@" --time "$BACKUP_TIME"
fi
# shellcheck disable=SC2086 # BACKUP_PATHS is a list of directories
restic backup --json "$@" $BACKUP_PATHS >"$summary.partial"
grep '"message_type":"summary"' "$summary.partial" >"$summary"
rm -f "$summary.partial"

field() {
  sed -n "s/.*\"$1\":\\(\"\\{0,1\\}\\)\\([^\",}]*\\)\\1.*/\\2/p" "$summary"
}
snapshot="$(field snapshot_id)"
if [ -z "$snapshot" ]; then
  echo "restic reported no snapshot" >&2
  exit 1
fi
echo "backup $snapshot: $(field data_added) bytes added of $(field total_bytes_processed)"

if restic forget --host "$BACKUP_HOST" --tag "kind=$BACKUP_KIND" --group-by host \
  --keep-last "${KEEP_LAST:-1}" --keep-daily "${KEEP_DAILY:-7}" \
  --keep-weekly "${KEEP_WEEKLY:-4}" --prune >"${TMPDIR:-/tmp}/forget.log" 2>&1; then
  echo "retention applied to $BACKUP_KIND backups: last ${KEEP_LAST:-1}, daily ${KEEP_DAILY:-7}, weekly ${KEEP_WEEKLY:-4}"
else
  echo "retention postponed to the next backup: $(tail -n 1 "${TMPDIR:-/tmp}/forget.log")"
fi

printf '{"snapshot_id":"%s","bytes_added":"%s","bytes_processed":"%s","files":"%s"}' \
  "$snapshot" "$(field data_added)" "$(field total_bytes_processed)" \
  "$(field total_files_processed)" >"${TERMINATION_LOG:-/dev/termination-log}"
