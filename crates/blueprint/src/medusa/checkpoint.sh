# Takes a checkpoint: a consistent dump of the store's database (pg_dump reads one
# snapshot while the shop keeps selling), in pg_dump's compressed custom format, at
# $CHECKPOINT. Written to a partial file first and renamed only once pg_restore has read
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
# Read whole, every data block: the table of contents alone (`pg_restore --list`) is at
# the start of the file and survives a cut.
if ! pg_restore --file=/dev/null "$partial"; then
  echo "the dump of $PGDATABASE is incomplete; no checkpoint taken" >&2
  exit 1
fi
sync
mv -f "$partial" "$CHECKPOINT"
sync
echo "checkpoint taken: $CHECKPOINT ($(wc -c <"$CHECKPOINT") bytes)"
