# Restores the checkpoint at $CHECKPOINT into the store's database: checked whole first
# (nothing is dropped for a broken file), then every table and view of the database is
# dropped (tables a newer release added must not outlive the restore) and the dump
# loaded. Everything written since the checkpoint is lost. $RESTORED marks a restore that
# finished, so a second run of the same Job (keyed by its revision) does not restore again
# over orders taken since. The password comes from the environment (MYSQL_PWD).
set -euo pipefail
if [ -e "$RESTORED" ]; then
  echo "checkpoint $CHECKPOINT was already restored"
  exit 0
fi
if [ ! -s "$CHECKPOINT" ]; then
  echo "checkpoint $CHECKPOINT is missing" >&2
  exit 1
fi
if ! gzip -dc "$CHECKPOINT" | tail -n 1 | grep -q '^-- Dump completed'; then
  echo "checkpoint $CHECKPOINT is damaged; nothing restored" >&2
  exit 1
fi
db() {
  mariadb --host="$DB_HOST" --port="$DB_PORT" --user="$DB_USER" "$@" "$DB_NAME"
}
drops="$(db --batch --skip-column-names -e "
  SELECT CONCAT(IF(table_type = 'VIEW', 'DROP VIEW IF EXISTS ', 'DROP TABLE IF EXISTS '),
                '\`', REPLACE(table_name, '\`', '\`\`'), '\`;')
  FROM information_schema.tables WHERE table_schema = DATABASE()")"
printf 'SET FOREIGN_KEY_CHECKS = 0;\n%s\n' "$drops" | db
gzip -dc "$CHECKPOINT" | db
touch "$RESTORED"
echo "restored $DB_NAME from $CHECKPOINT"
