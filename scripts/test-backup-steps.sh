#!/usr/bin/env bash
# Runs the backup steps' scripts (crates/blueprint/src/backup/*.sh) for real, with the
# engines' own dump and load scripts (checkpoint.sh, restore.sh of each engine), restic,
# the local MariaDB and PostgreSQL, and a real S3-compatible server started here (moto's
# server mode, from PyPI). Exits non-zero at the first failure, naming it:
#   1. WooCommerce-shaped data (10,000 generated orders and their items, uploaded files)
#      -> dump -> backup to S3 -> data destroyed -> fetch -> load -> files put back: the
#      same rows and files, checksums equal;
#   2. a second backup of unchanged data adds almost nothing (restic's deduplication);
#   3. a backup killed midway leaves the previous backup the latest, and restorable; the
#      next backup succeeds;
#   4. retention keeps what the policy says (newest; newest of each of the last N days and
#      weeks) and nothing else, on a repository on a backup volume (a directory);
#   5. Medusa-shaped data on PostgreSQL through the same steps, to the volume;
#   6. the repository holds no plaintext, and the encryption key and the object store's
#      secret appear in no output, termination message or process argument;
# and prints its figures: backup and restore times and sizes for 10,000 orders, and the
# size of a second, unchanged backup.
#
# Needs: restic, mariadb and mariadb-dump, psql, pg_dump and pg_restore, python3 with
# venv (moto is installed into ~/.cache/storeplane-tools; STOREPLANE_TOOLS_CACHE moves it).
# KEEP_WORK=1 keeps the work directory (logs, repositories) for a look after a failure.
set -eEuo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
backup_steps="${root}/crates/blueprint/src/backup"
woo_steps="${root}/crates/blueprint/src/woocommerce"
medusa_steps="${root}/crates/blueprint/src/medusa"
pg_admin="${STOREPLANE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
MOTO_VERSION=5.2.5

started="$(date +%s)"
work="$(mktemp -d)"
pids=()
woo_db="storeplane_backup_$$"
pg_db="storeplane_backup_$$"
cleanup() {
    for pid in "${pids[@]}"; do
        kill "${pid}" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    mariadb --host=127.0.0.1 --user=root -e "DROP DATABASE IF EXISTS ${woo_db}" >/dev/null 2>&1 || true
    psql "${pg_admin}" -qX -c "DROP DATABASE IF EXISTS ${pg_db} WITH (FORCE)" >/dev/null 2>&1 || true
    if [ -n "${KEEP_WORK:-}" ]; then
        echo "work directory kept: ${work}" >&2
    else
        rm -rf "${work}"
    fi
}
trap cleanup EXIT
step() { echo "==> [$(($(date +%s) - started))s] $*"; }
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
trap 'fail "line ${LINENO}: ${BASH_COMMAND} exited $?"' ERR
# shellcheck source=scripts/test-helpers.sh
source "${root}/scripts/test-helpers.sh"
# shellcheck source=scripts/tools.sh
source "${root}/scripts/tools.sh"
for tool in restic mariadb mariadb-dump psql pg_dump pg_restore python3 curl; do
    command -v "${tool}" >/dev/null 2>&1 || fail "${tool} is required"
done
kib() { echo $(($1 / 1024)); }

# --- An S3-compatible server ---
venv="$(tools_pypi "moto[server]==${MOTO_VERSION}")"
s3_port="$(free_port)"
"${venv}/bin/moto_server" -H 127.0.0.1 -p "${s3_port}" >"${work}/moto.log" 2>&1 &
pids+=("$!")
for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:${s3_port}/" 2>/dev/null && break
    sleep 0.1
done
curl -fsS -o /dev/null "http://127.0.0.1:${s3_port}/" || fail "moto's S3 server did not start"

# What a store's backup Jobs get: the platform's object-store credentials (from the Secret
# the platform team provides) and the store's own repository and key.
export AWS_ACCESS_KEY_ID="storeplane-test" AWS_DEFAULT_REGION="us-east-1"
AWS_SECRET_ACCESS_KEY="$(random_secret)"
RESTIC_PASSWORD="$(random_secret)"
export AWS_SECRET_ACCESS_KEY RESTIC_PASSWORD
export RESTIC_CACHE_DIR="${work}/restic-cache" TMPDIR="${work}/tmp"
mkdir -p "${TMPDIR}"
store_id="01936f3e-8b7a-7c2d-9e4f-0123456789ab"
s3_repository="s3:http://127.0.0.1:${s3_port}/storeplane-backups/stores/${store_id}"

# --- 1. WooCommerce-shaped data ---
step "a WooCommerce database with 10,000 orders, and uploaded files"
mariadb --host=127.0.0.1 --user=root -e "DROP DATABASE IF EXISTS ${woo_db}; CREATE DATABASE ${woo_db}"
python3 - "${woo_db}" >"${work}/orders.sql" <<'PY'
import random, sys
random.seed(7)
print("CREATE TABLE wp_wc_orders (id BIGINT UNSIGNED PRIMARY KEY, status VARCHAR(20) NOT NULL,"
      " currency CHAR(3), total_amount DECIMAL(26,8), billing_email VARCHAR(320),"
      " date_created_gmt DATETIME) ENGINE=InnoDB;")
print("CREATE TABLE wp_woocommerce_order_items (order_item_id BIGINT UNSIGNED AUTO_INCREMENT"
      " PRIMARY KEY, order_item_name TEXT NOT NULL, order_item_type VARCHAR(200),"
      " order_id BIGINT UNSIGNED NOT NULL, KEY order_id (order_id)) ENGINE=InnoDB;")
statuses = ["wc-processing", "wc-completed", "wc-on-hold", "wc-refunded"]
products = ["Sample product", "Mug", "T-shirt", "Poster", "Sticker pack"]
for start in range(1, 10001, 500):
    rows = []
    items = []
    for order in range(start, start + 500):
        rows.append(f"({order}, '{random.choice(statuses)}', 'USD', {random.randint(100, 50000) / 100},"
                    f" 'buyer{order}@example.com', '2026-0{random.randint(1, 9)}-1{random.randint(0, 9)} 12:00:00')")
        for _ in range(random.randint(1, 4)):
            items.append(f"('{random.choice(products)}', 'line_item', {order})")
    print("INSERT INTO wp_wc_orders VALUES " + ",".join(rows) + ";")
    print("INSERT INTO wp_woocommerce_order_items (order_item_name, order_item_type, order_id) VALUES "
          + ",".join(items) + ";")
PY
mariadb --host=127.0.0.1 --user=root "${woo_db}" <"${work}/orders.sql"
files="${work}/wp-content"
mkdir -p "${files}/uploads/2026/11" "${files}/plugins/shop-extras"
# Product photos: a store's files outweigh its database.
for n in $(seq 1 40); do
    head -c $((480 * 1024 + n * 1024)) /dev/urandom >"${files}/uploads/2026/11/photo-${n}.jpg"
done
echo '<?php // a plugin file' >"${files}/plugins/shop-extras/shop-extras.php"

orders_sum() {
    mariadb --host=127.0.0.1 --user=root --batch --skip-column-names "${woo_db}" -e "
        SELECT o.id, o.status, o.total_amount, o.billing_email, COUNT(i.order_item_id)
        FROM wp_wc_orders o LEFT JOIN wp_woocommerce_order_items i ON i.order_id = o.id
        GROUP BY o.id ORDER BY o.id" | sha256sum | cut -d' ' -f1
}
tables() {
    mariadb --host=127.0.0.1 --user=root --batch --skip-column-names "${woo_db}" -e "SHOW TABLES" | tr '\n' ' '
}
files_sum() { # dir
    (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}
order_count="$(mariadb --host=127.0.0.1 --user=root --batch --skip-column-names "${woo_db}" -e "SELECT COUNT(*) FROM wp_wc_orders")"
[ "${order_count}" = 10000 ] || fail "the test database holds ${order_count} orders, not 10000"
before_orders="$(orders_sum)"
before_tables="$(tables)"
before_files="$(files_sum "${files}")"

# The dump: the WooCommerce checkpoint script, with the environment its Job gets, writing
# into the backup Job's emptyDir.
dump_dir="${work}/dump"
woo_dump() {
    rm -rf "${dump_dir}" && mkdir -p "${dump_dir}"
    env DB_HOST=127.0.0.1 DB_PORT=3306 DB_USER=root DB_NAME="${woo_db}" MYSQL_PWD="" \
        CHECKPOINT="${dump_dir}/database.sql.gz" bash "${woo_steps}/checkpoint.sh" >>"${work}/steps.log" 2>&1 ||
        fail "the WooCommerce dump failed"
}
# backup.sh as the backup Job's restic container runs it; its termination message in $1.
backup() { # termination-file kind [extra env...]
    local out="$1" kind="$2"
    shift 2
    env RESTIC_REPOSITORY="${repository}" BACKUP_HOST="store-${store_id}" BACKUP_KIND="${kind}" \
        BACKUP_PATHS="${dump_dir} ${files}" TERMINATION_LOG="${out}" "$@" \
        sh "${backup_steps}/backup.sh" >>"${work}/steps.log" 2>&1
}
json_field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
snapshots() { restic --repo "${repository}" snapshots --json | python3 -c 'import json, sys; print(" ".join(s["short_id"] for s in json.load(sys.stdin)))'; }
latest_snapshot() { restic --repo "${repository}" snapshots --json --latest 1 | python3 -c 'import json, sys; print(json.load(sys.stdin)[-1]["short_id"])'; }

repository="${s3_repository}"
step "backup of 10,000 orders and the files, to S3"
woo_dump
dump_bytes="$(wc -c <"${dump_dir}/database.sql.gz")"
t="$(millis)"
backup "${work}/backup-1.json" manual BACKUP_REVISION=3 || fail "the first backup failed"
backup_s="$(seconds_since "${t}")"
first="$(json_field "${work}/backup-1.json" snapshot_id)"
first_added="$(json_field "${work}/backup-1.json" bytes_added)"
restic --repo "${repository}" snapshots --json | grep -q '"kind=manual"' || fail "the backup is not tagged with its kind"
restic --repo "${repository}" snapshots --json | grep -q '"revision=3"' || fail "the backup is not tagged with its revision"

# --- 2. An unchanged second backup ---
step "a second backup of unchanged data"
woo_dump
t="$(millis)"
backup "${work}/backup-2.json" scheduled || fail "the second backup failed"
second_s="$(seconds_since "${t}")"
second="$(json_field "${work}/backup-2.json" snapshot_id)"
second_added="$(json_field "${work}/backup-2.json" bytes_added)"
# What changes between two dumps of the same data is the dump's time at its end: at most
# a chunk or two (restic's chunks average 1 MiB).
[ "${second_added}" -lt $((first_added / 20)) ] || fail "the unchanged second backup added ${second_added} bytes (first: ${first_added})"
[ "${second_added}" -lt $((2 * 1024 * 1024)) ] ||
    fail "the unchanged second backup added ${second_added} bytes (first: ${first_added}); not almost nothing"

# --- Destroy, then restore from the first backup ---
step "destroying orders and files, then restoring the first backup"
mariadb --host=127.0.0.1 --user=root "${woo_db}" -e "
    DELETE FROM wp_wc_orders WHERE id % 3 = 0;
    UPDATE wp_wc_orders SET status = 'wc-cancelled' WHERE id % 7 = 0;
    CREATE TABLE wp_plugin_junk (id INT PRIMARY KEY) ENGINE=InnoDB;"
rm -f "${files}"/uploads/2026/11/photo-1*.jpg
echo changed >"${files}/plugins/shop-extras/shop-extras.php"
echo new >"${files}/uploads/added-after.txt"
[ "$(orders_sum)" != "${before_orders}" ] || fail "destroying the data changed nothing"

restore_dir="${work}/restore"
t="$(millis)"
env RESTIC_REPOSITORY="${repository}" SNAPSHOT="${first}" RESTORE_DIR="${restore_dir}" \
    sh "${backup_steps}/fetch.sh" >>"${work}/steps.log" 2>&1 || fail "fetching the backup failed"
env DB_HOST=127.0.0.1 DB_PORT=3306 DB_USER=root DB_NAME="${woo_db}" MYSQL_PWD="" \
    CHECKPOINT="${restore_dir}${dump_dir}/database.sql.gz" RESTORED="${restore_dir}/.restored" \
    bash "${woo_steps}/restore.sh" >>"${work}/steps.log" 2>&1 || fail "loading the fetched dump failed"
env FILES="${files}" RESTORE_DIR="${restore_dir}" sh "${backup_steps}/put-files.sh" >>"${work}/steps.log" 2>&1 ||
    fail "putting the files back failed"
restore_s="$(seconds_since "${t}")"
[ "$(orders_sum)" = "${before_orders}" ] || fail "the restored orders differ from the backed-up ones"
[ "$(tables)" = "${before_tables}" ] || fail "the restored database has other tables: $(tables)"
[ "$(files_sum "${files}")" = "${before_files}" ] || fail "the restored files differ from the backed-up ones"

# --- 3. A backup killed midway ---
step "a backup killed midway"
head -c $((256 * 1024 * 1024)) /dev/urandom >"${files}/uploads/big-video.mp4"
(
    trap - ERR
    backup "${work}/backup-killed.json" manual
) &
killed_pid=$!
killed=""
for _ in $(seq 1 200); do
    restic_pid="$(pgrep -n -f "restic backup --json" || true)"
    if [ -n "${restic_pid}" ]; then
        # The key and the object store's secret are nowhere in the process's arguments.
        if tr '\0' ' ' <"/proc/${restic_pid}/cmdline" | grep -qF -e "${RESTIC_PASSWORD}" -e "${AWS_SECRET_ACCESS_KEY}"; then
            fail "a secret is in restic's process arguments"
        fi
        sleep 2
        kill -9 "${restic_pid}" 2>/dev/null && killed=1
        break
    fi
    sleep 0.05
done
wait "${killed_pid}" 2>/dev/null && fail "the backup to be killed finished first"
[ -n "${killed}" ] || fail "the backup was never caught running"
[ "$(latest_snapshot)" = "${second}" ] || fail "after a killed backup the latest is not the previous good one"
rm -f "${files}/uploads/big-video.mp4"
rm -rf "${restore_dir}"
env RESTIC_REPOSITORY="${repository}" SNAPSHOT=latest RESTORE_DIR="${restore_dir}" \
    sh "${backup_steps}/fetch.sh" >>"${work}/steps.log" 2>&1 || fail "the latest backup is not restorable after a killed one"
[ "$(files_sum "${restore_dir}${files}")" = "${before_files}" ] || fail "the latest backup's files are not the good ones"
backup "${work}/backup-3.json" manual || fail "a backup after a killed one failed"

# --- 4. Retention, on a backup volume ---
step "retention: 24 daily backups on a volume, keeping 1 last, 7 daily, 4 weekly"
repository="${work}/backup-volume/stores/${store_id}"
mkdir -p "${work}/backup-volume/stores"
# Small files, so that thirty backups are quick: retention is about snapshots, not sizes.
shop_files="${files}"
files="${work}/retention-files"
mkdir -p "${files}" && echo "a file" >"${files}/readme.txt"
: >"${work}/times"
for day in $(seq 23 -1 0); do
    when="$(date -u -d "$(date -u +%F) 12:00 ${day} days ago" '+%Y-%m-%d %H:%M:%S')"
    echo "${when}" >>"${work}/times"
    backup "${work}/retention.json" scheduled BACKUP_TIME="${when}" KEEP_LAST=1 KEEP_DAILY=7 KEEP_WEEKLY=4 ||
        fail "the retention run's backup of ${when} failed"
done
restic --repo "${repository}" snapshots --json | python3 -c '
import json, sys
print("\n".join(sorted(s["time"][:10] for s in json.load(sys.stdin))))' >"${work}/kept"
# What the policy keeps, from its definition: the newest backup; the newest of each of the
# 7 newest days that have one; the newest of each of the 4 newest ISO weeks that have one.
python3 - "${work}/times" <<'PY' >"${work}/expected"
import datetime, sys
times = sorted((datetime.datetime.strptime(line.strip(), "%Y-%m-%d %H:%M:%S")
                for line in open(sys.argv[1]) if line.strip()), reverse=True)
keep = {times[0]}
for bucket, count in ((lambda t: t.date(), 7), (lambda t: t.isocalendar()[:2], 4)):
    seen = []
    for t in times:
        b = bucket(t)
        if b not in seen and len(seen) < count:
            seen.append(b)
            keep.add(t)
print("\n".join(sorted(t.strftime("%Y-%m-%d") for t in keep)))
PY
diff -u "${work}/expected" "${work}/kept" >&2 || fail "retention kept other backups than the policy says"
kept_count="$(wc -l <"${work}/kept")"
files="${shop_files}"

# --- 5. Medusa-shaped data on PostgreSQL, to the volume ---
step "a Medusa database (PostgreSQL) and uploads, through the same steps"
pg_password="$(random_secret)"
psql "${pg_admin}" -qX -v ON_ERROR_STOP=1 >/dev/null <<SQL
SET client_min_messages = warning;
DROP DATABASE IF EXISTS ${pg_db} WITH (FORCE);
DROP ROLE IF EXISTS ${pg_db};
CREATE ROLE ${pg_db} LOGIN PASSWORD '${pg_password}';
CREATE DATABASE ${pg_db} OWNER ${pg_db};
SQL
{ read -r pg_host; read -r pg_port; } < <(pg_host_port "${pg_admin}")
export PGHOST="${pg_host}" PGPORT="${pg_port}" PGUSER="${pg_db}" PGDATABASE="${pg_db}" PGPASSWORD="${pg_password}"
psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE TABLE "order" (id text PRIMARY KEY, email text, currency_code text, created_at timestamptz DEFAULT now());
CREATE TABLE order_item (id serial PRIMARY KEY, order_id text REFERENCES "order"(id), title text, quantity int);
INSERT INTO "order" SELECT 'order_' || n, 'buyer' || n || '@example.com', 'usd', now() FROM generate_series(1, 2000) n;
INSERT INTO order_item (order_id, title, quantity) SELECT 'order_' || (n % 2000 + 1), 'Sample T-shirt', n % 3 + 1 FROM generate_series(1, 5000) n;
SQL
pg_sum() { psql -qAtX -c 'SELECT o.id, o.email, count(i.id), sum(i.quantity) FROM "order" o LEFT JOIN order_item i ON i.order_id = o.id GROUP BY o.id ORDER BY o.id' | sha256sum | cut -d' ' -f1; }
pg_before="$(pg_sum)"
files="${work}/medusa-static"
mkdir -p "${files}"
head -c 200000 /dev/urandom >"${files}/product-image.png"
medusa_files_before="$(files_sum "${files}")"
repository="${work}/backup-volume/stores/medusa-${store_id}"
rm -rf "${dump_dir}" && mkdir -p "${dump_dir}"
env CHECKPOINT="${dump_dir}/database.dump" bash "${medusa_steps}/checkpoint.sh" >>"${work}/steps.log" 2>&1 ||
    fail "the Medusa dump failed"
backup "${work}/medusa-backup.json" manual || fail "the Medusa backup failed"
medusa_snapshot="$(json_field "${work}/medusa-backup.json" snapshot_id)"
psql -qX -c 'DELETE FROM order_item; DELETE FROM "order" WHERE id > '"'order_5'"'; CREATE TABLE newer_release (id int);' >/dev/null
rm -f "${files}/product-image.png"
rm -rf "${restore_dir}"
env RESTIC_REPOSITORY="${repository}" SNAPSHOT="${medusa_snapshot}" RESTORE_DIR="${restore_dir}" \
    sh "${backup_steps}/fetch.sh" >>"${work}/steps.log" 2>&1 || fail "fetching the Medusa backup failed"
env CHECKPOINT="${restore_dir}${dump_dir}/database.dump" RESTORED="${restore_dir}/.restored" \
    bash "${medusa_steps}/restore.sh" >>"${work}/steps.log" 2>&1 || fail "loading the Medusa dump failed"
env FILES="${files}" RESTORE_DIR="${restore_dir}" sh "${backup_steps}/put-files.sh" >>"${work}/steps.log" 2>&1 ||
    fail "putting Medusa's uploads back failed"
[ "$(pg_sum)" = "${pg_before}" ] || fail "the restored Medusa orders differ from the backed-up ones"
[ -z "$(psql -qAtX -c "SELECT 1 FROM pg_tables WHERE tablename = 'newer_release'")" ] ||
    fail "a table made after the backup outlived the restore"
[ "$(files_sum "${files}")" = "${medusa_files_before}" ] || fail "Medusa's restored uploads differ"

# --- 6. Encrypted, and no secret in any output ---
step "the repository is encrypted; no secret in any output"
if grep -rqaF "buyer1@example.com" "${work}/backup-volume"; then
    fail "the backup volume holds an order's email in plaintext"
fi
for secret in "${RESTIC_PASSWORD}" "${AWS_SECRET_ACCESS_KEY}" "${pg_password}"; do
    if grep -rqaF -e "${secret}" "${work}/steps.log" "${work}"/*.json; then
        fail "a secret is in the steps' output or termination messages"
    fi
done
grep -q "retention applied" "${work}/steps.log" || fail "no backup ever applied retention"

step "backup steps OK"
cat <<EOF
| figure | value |
|---|---|
| orders | 10,000 (and their items; MariaDB dump ${dump_bytes} bytes gzip'd) |
| first backup: time / added to the repository | ${backup_s} s / $(kib "${first_added}") KiB |
| second backup, unchanged data: time / added | ${second_s} s / $(kib "${second_added}") KiB |
| restore (fetch, load, files): time | ${restore_s} s |
| retention: 24 daily backups, kept (last 1, daily 7, weekly 4) | ${kept_count} |
EOF
