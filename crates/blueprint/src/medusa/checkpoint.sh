# Takes a checkpoint: a consistent dump of the store's database (pg_dump reads one
# snapshot while the shop keeps selling), in pg_dump's compressed custom format, at
# $CHECKPOINT. Written to a partial file first and renamed only once pg_restore can read
# it whole, so a dump killed midway never leaves a file that looks like a checkpoint. A
# checkpoint already taken is kept as it is: the Job is keyed by its revision, and a second
# run (a retried pod) must not replace the data from before the change with data from
# after it. The connection comes from PGHOST, PGPORT, PGUSER, PGDATABASE and PGPASSWORD.
set -euo pipefail
if [ -s "$CHECKPOINT" ]; then
  echo "checkpoint $CHECKPOINT was already taken"
  exit 0
fi
partial="$CHECKPOINT.partial"
pg_dump --format=custom --no-owner --no-privileges --file="$partial"
# The archive's table of contents is written last; a truncated file has none.
if ! pg_restore --list "$partial" >/dev/null; then
  echo "the dump of $PGDATABASE is incomplete; no checkpoint taken" >&2
  exit 1
fi
sync
mv -f "$partial" "$CHECKPOINT"
sync
echo "checkpoint taken: $CHECKPOINT ($(wc -c <"$CHECKPOINT") bytes)"
