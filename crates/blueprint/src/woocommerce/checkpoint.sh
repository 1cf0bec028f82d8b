# Takes a checkpoint: a consistent dump of the store's database (one transaction, so
# InnoDB tables are read as of one instant while the shop keeps selling), gzip'd, at
# $CHECKPOINT. Written to a partial file first and renamed only once the dump is known to
# be whole, so a dump killed midway never leaves a file that looks like a checkpoint.
# A checkpoint already taken is kept as it is: the Job is keyed by its revision, and a
# second run (a retried pod) must not replace the data from before the change with data
# from after it. The password comes from the environment (MYSQL_PWD), never an argument.
set -euo pipefail
if [ -s "$CHECKPOINT" ]; then
  echo "checkpoint $CHECKPOINT was already taken"
  exit 0
fi
partial="$CHECKPOINT.partial"
mariadb-dump --host="$DB_HOST" --port="$DB_PORT" --user="$DB_USER" \
  --single-transaction --quick --no-tablespaces "$DB_NAME" | gzip -c >"$partial"
# mariadb-dump ends a dump that ran to completion with this comment.
if ! gzip -dc "$partial" | tail -n 1 | grep -q '^-- Dump completed'; then
  echo "the dump of $DB_NAME is incomplete; no checkpoint taken" >&2
  exit 1
fi
sync
mv -f "$partial" "$CHECKPOINT"
sync
echo "checkpoint taken: $CHECKPOINT ($(wc -c <"$CHECKPOINT") bytes)"
