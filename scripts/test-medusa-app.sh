#!/usr/bin/env bash
# Runs storeplane's Medusa application (images/medusa) for real on this machine, as a
# Medusa store's pods run it on a cluster: the same build as the image's Dockerfile, the
# same scripts as the setup and step Jobs (crates/blueprint/src/medusa/*.sh, unchanged),
# the same environment variables, and the server and worker as two processes, against a
# fresh PostgreSQL database and role and a Redis of its own (with a password, the
# append-only file and `noeviction`, as the store's Redis runs). Then, exiting non-zero at
# the first failure, naming it:
#   1. the setup (migrations, then the bootstrap) runs twice: the second run makes
#      nothing, every table it fills keeps its row count, the publishable key stays;
#   2. a secret missing from the environment stops `medusa start`, naming it; /health
#      answers on the server and on the worker; the server serves the admin at
#      /app; neither they nor the Jobs' scripts write anything into the application's
#      directory (the image's root filesystem is read-only) but uploads;
#   3. scripts/medusa-checkout.mjs buys the sample product through the Store API with the
#      publishable key and finds the order through the Admin API, signed in as the admin;
#      the order's event reaches the worker through Redis;
#   4. the password reset script sets a new password: the old one is refused, the new one
#      signs in;
#   5. a checkpoint (checkpoint.sh) is taken, a second order placed, the checkpoint
#      restored (restore.sh) under the running processes: the second order is gone, the
#      first is there, a second run of the restore does nothing, and the shop still sells;
#   6. the upgrade step (upgrade.sh) on the current database migrates nothing and loses
#      nothing;
# and prints its figures: install and build times, setup, time to ready, checkout, and
# the peak memory (RSS) of the server and the worker while doing so.
#
# Needs: node (20.19+) and npm, psql, pg_dump and pg_restore, redis-server and redis-cli,
# curl, python3.
# PostgreSQL: STOREPLANE_TEST_DATABASE_URL (postgres://postgres@127.0.0.1:5432/test), a
# role that may create roles and databases. npm's cache (~/.npm) makes a second run's
# install fast. MEDUSA_KEEP_BUILD=1 reuses an earlier build in images/medusa.
set -eEuo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
app="${root}/images/medusa"
steps="${root}/crates/blueprint/src/medusa"
admin_url="${STOREPLANE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"

started="$(date +%s)"
work="$(mktemp -d)"
pids=()
database=""
cleanup() {
    # Newest first: the Medusa processes before the Redis they would keep reconnecting to
    # (a graceful shutdown waits for it); anything still running after 10 s is killed.
    local i
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill "${pids[i]}" 2>/dev/null || true
    done
    for _ in $(seq 1 50); do
        kill -0 "${pids[@]}" 2>/dev/null || break
        sleep 0.2
    done
    for pid in "${pids[@]}"; do
        kill -9 "${pid}" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    if [ -n "${database}" ]; then
        psql "${admin_url}" -qX -v ON_ERROR_STOP=1 >/dev/null 2>&1 <<SQL || true
DROP DATABASE IF EXISTS ${database} WITH (FORCE);
DROP ROLE IF EXISTS ${database};
SQL
    fi
    rm -rf "${work}"
}
trap cleanup EXIT
step() { echo "==> [$(($(date +%s) - started))s] $*"; }
fail() {
    echo "FAIL: $*" >&2
    for log in "${work}"/*.log; do
        [ -e "${log}" ] || continue
        echo "--- last lines of $(basename "${log}")" >&2
        tail -n 30 "${log}" >&2
    done
    exit 1
}
trap 'fail "line ${LINENO}: ${BASH_COMMAND} exited $?"' ERR
# shellcheck source=scripts/test-helpers.sh
source "${root}/scripts/test-helpers.sh"
for tool in node npm psql pg_dump pg_restore redis-server redis-cli curl python3; do
    command -v "${tool}" >/dev/null 2>&1 || fail "${tool} is required"
done

# --- 1. Build, as the Dockerfile does ---
server_dir="${app}/.medusa/server"
if [ "${MEDUSA_KEEP_BUILD:-}" = 1 ] && [ -x "${server_dir}/node_modules/.bin/medusa" ]; then
    step "reusing the build in ${server_dir#"${root}/"}"
    install_s="-"
    build_s="-"
    server_install_s="-"
else
    step "npm ci (images/medusa)"
    t="$(millis)"
    (cd "${app}" && npm ci --no-audit --no-fund --loglevel=error) >"${work}/npm-ci.log" 2>&1 ||
        fail "npm ci failed"
    install_s="$(seconds_since "${t}")"
    step "medusa build"
    t="$(millis)"
    (cd "${app}" && npx medusa build) >"${work}/build.log" 2>&1 || fail "medusa build failed"
    grep -q "completed with errors" "${work}/build.log" && fail "medusa build reported errors"
    build_s="$(seconds_since "${t}")"
    step "npm ci --omit=dev (the built server)"
    t="$(millis)"
    (cd "${server_dir}" && npm ci --omit=dev --no-audit --no-fund --loglevel=error) \
        >"${work}/npm-server.log" 2>&1 || fail "npm ci in the built server failed"
    server_install_s="$(seconds_since "${t}")"
    rm -f "${work}"/npm-ci.log "${work}"/build.log "${work}"/npm-server.log
fi
[ -f "${server_dir}/src/scripts/bootstrap.js" ] || fail "the build has no src/scripts/bootstrap.js"

# --- A fresh database and role, and a Redis of the store's own kind ---
database="medusa_test_$$"
db_password="$(random_secret)"
# The password goes in on standard input, not on psql's command line.
psql "${admin_url}" -qX -v ON_ERROR_STOP=1 >/dev/null <<SQL ||
CREATE ROLE ${database} LOGIN PASSWORD '${db_password}';
CREATE DATABASE ${database} OWNER ${database};
SQL
    fail "could not make the database ${database}"
{ read -r db_host; read -r db_port; } < <(pg_host_port "${admin_url}")

redis_port="$(free_port)"
redis_password="$(random_secret)"
mkdir -p "${work}/redis"
# The settings of the store's Redis (crates/blueprint/src/medusa/redis.sh), on a port and
# in a directory of this test's own.
(umask 077 && printf 'requirepass "%s"\nport %s\nbind 127.0.0.1\ndir %s\nappendonly yes\nmaxmemory 192mb\nmaxmemory-policy noeviction\n' \
    "${redis_password}" "${redis_port}" "${work}/redis" >"${work}/redis.conf")
redis-server "${work}/redis.conf" >"${work}/redis.log" 2>&1 &
pids+=("$!")

server_port="$(free_port)"
worker_port="$(free_port)"
origin="http://127.0.0.1:${server_port}"
admin_email="admin@example.com"
admin_password="$(random_secret)"
export PATH="${server_dir}/node_modules/.bin:${PATH}"
# What crates/blueprint/src/medusa.rs gives every Medusa process, with this machine's
# addresses; secrets as the store's Secrets hold them.
export NODE_ENV=production MEDUSA_DISABLE_TELEMETRY=true HOME="${work}/home"
export DATABASE_HOST="${db_host}" DATABASE_PORT="${db_port}" DATABASE_NAME="${database}" \
    DATABASE_USER="${database}" DATABASE_PASSWORD="${db_password}"
export REDIS_HOST=127.0.0.1 REDIS_PORT="${redis_port}" REDIS_PASSWORD="${redis_password}"
JWT_SECRET="$(random_secret)"
COOKIE_SECRET="$(random_secret)"
export JWT_SECRET COOKIE_SECRET
export STORE_CORS="${origin}" ADMIN_CORS="${origin}" AUTH_CORS="${origin}" \
    MEDUSA_BACKEND_URL="${origin}" COOKIE_SECURE=false
mkdir -p "${HOME}"
for _ in $(seq 1 50); do
    REDISCLI_AUTH="${redis_password}" redis-cli -p "${redis_port}" ping 2>/dev/null | grep -q PONG && break
    sleep 0.1
done

# Resident memory (KiB) of a process and its children.
rss_of_tree() { # pid -> KiB
    python3 - "$1" <<'PY'
import os, sys
root = int(sys.argv[1])
children = {}
for entry in os.listdir("/proc"):
    if entry.isdigit():
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
        except OSError:
            pass
total, todo = 0, [root]
while todo:
    pid = todo.pop()
    todo.extend(children.get(pid, []))
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    except OSError:
        pass
print(total)
PY
}
# The peak resident memory of a process and its children, sampled every 200 ms until it
# exits, written to a file (KiB) as it rises. Run in the background, where a failure is
# not the test's.
watch_peak() { # pid file
    trap - ERR
    local peak=0 now
    echo 0 >"$2"
    while kill -0 "$1" 2>/dev/null; do
        now="$(rss_of_tree "$1" 2>/dev/null)" || break
        if [ "${now}" -gt "${peak}" ]; then
            peak="${now}"
            echo "${peak}" >"$2.tmp" && mv "$2.tmp" "$2"
        fi
        sleep 0.2
    done
}

# --- 2. The setup, twice ---
# The setup Job's own additions.
setup_env=(MEDUSA_ADMIN_EMAIL="${admin_email}" MEDUSA_ADMIN_PASSWORD="${admin_password}"
    MEDUSA_STORE_NAME="Test Shop" TERMINATION_LOG="${work}/termination-log" PORT="${server_port}")
run_setup() {
    local pid
    (cd "${server_dir}" && exec env "${setup_env[@]}" sh "${steps}/setup.sh") >"${work}/setup-$1.log" 2>&1 &
    pid=$!
    watch_peak "${pid}" "${work}/setup-$1.rss" &
    wait "${pid}" || fail "setup run $1 failed"
    wait "$!" || true
}
# Every table the bootstrap fills, with its row count.
counts() {
    PGPASSWORD="${db_password}" psql -h "${db_host}" -p "${db_port}" -U "${database}" -d "${database}" -qAtX -v ON_ERROR_STOP=1 -c "
        SELECT 'store', count(*) FROM store UNION ALL
        SELECT 'region', count(*) FROM region UNION ALL
        SELECT 'tax_region', count(*) FROM tax_region UNION ALL
        SELECT 'sales_channel', count(*) FROM sales_channel UNION ALL
        SELECT 'stock_location', count(*) FROM stock_location UNION ALL
        SELECT 'fulfillment_set', count(*) FROM fulfillment_set UNION ALL
        SELECT 'service_zone', count(*) FROM service_zone UNION ALL
        SELECT 'shipping_option', count(*) FROM shipping_option UNION ALL
        SELECT 'api_key', count(*) FROM api_key UNION ALL
        SELECT 'product', count(*) FROM product UNION ALL
        SELECT 'inventory_level', count(*) FROM inventory_level UNION ALL
        SELECT 'user', count(*) FROM \"user\" UNION ALL
        SELECT 'provider_identity', count(*) FROM provider_identity"
}
# Whatever the setup and the processes write into the application's directory from here
# on would fail on the image's read-only root filesystem; checked at the end.
touch "${work}/before-start"
step "setup, first run (migrations, bootstrap)"
t="$(millis)"
run_setup 1
setup_first_s="$(seconds_since "${t}")"
key="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["publishable_key"])' "${work}/termination-log")"
case "${key}" in pk_*) ;; *) fail "the termination message holds no publishable key" ;; esac
counts >"${work}/counts-1"
grep -q "bootstrap made:" "${work}/setup-1.log" || fail "the first bootstrap made nothing"
while IFS='|' read -r table count; do
    [ "${count}" -ge 1 ] || fail "the bootstrap left ${table} empty"
done <"${work}/counts-1"
grep -qF "${admin_password}" "${work}/setup-1.log" && fail "the setup printed the admin password"

step "setup, second run: must change nothing"
t="$(millis)"
run_setup 2
setup_second_s="$(seconds_since "${t}")"
grep -q "bootstrap: nothing to do" "${work}/setup-2.log" ||
    fail "the second bootstrap made something: $(grep -o 'bootstrap made:.*' "${work}/setup-2.log")"
counts >"${work}/counts-2"
diff -u "${work}/counts-1" "${work}/counts-2" >&2 || fail "the second setup changed row counts"
second_key="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["publishable_key"])' "${work}/termination-log")"
[ "${second_key}" = "${key}" ] || fail "the second setup published another key"

# A secret missing from a store's pod stops Medusa at once, naming it (not a shop that
# fails later, nor one signing tokens with a known default).
step "a missing secret stops medusa start, naming it"
missing_rc=0
(cd "${server_dir}" && exec env -u JWT_SECRET MEDUSA_WORKER_MODE=server PORT="$(free_port)" \
    timeout 120 medusa start) >"${work}/missing-secret.log" 2>&1 || missing_rc=$?
if [ "${missing_rc}" = 0 ] || [ "${missing_rc}" = 124 ]; then
    fail "medusa start without JWT_SECRET exited ${missing_rc} (124: still running after 120 s)"
fi
grep -q "JWT_SECRET is not set" "${work}/missing-secret.log" ||
    fail "medusa start without JWT_SECRET did not name it"
rm -f "${work}/missing-secret.log"

# --- 3. Server and worker, two processes ---
start_process() { # name mode admin-disabled port
    (cd "${server_dir}" && exec env MEDUSA_WORKER_MODE="$2" DISABLE_MEDUSA_ADMIN="$3" PORT="$4" \
        medusa start) >"${work}/$1.log" 2>&1 &
    pids+=("$!")
    started_pid=$!
}
wait_health() { # name port pid
    for _ in $(seq 1 240); do
        curl -fsS -o /dev/null "http://127.0.0.1:$2/health" 2>/dev/null && return 0
        kill -0 "$3" 2>/dev/null || fail "the $1 exited before answering /health"
        sleep 0.5
    done
    fail "the $1 did not answer /health within 120 s"
}
step "medusa start: server and worker"
t="$(millis)"
start_process server server false "${server_port}"
server_pid="${started_pid}"
start_process worker worker true "${worker_port}"
worker_pid="${started_pid}"
wait_health server "${server_port}" "${server_pid}"
server_ready_s="$(seconds_since "${t}")"
wait_health worker "${worker_port}" "${worker_pid}"
ready_s="$(seconds_since "${t}")"

idle_server_kib="$(rss_of_tree "${server_pid}")"
idle_worker_kib="$(rss_of_tree "${worker_pid}")"
watch_peak "${server_pid}" "${work}/server.rss" &
pids+=("$!")
watch_peak "${worker_pid}" "${work}/worker.rss" &
pids+=("$!")

status="$(curl -sS -o "${work}/app.html" -w '%{http_code}' "${origin}/app")"
if [ "${status}" != 200 ] || ! grep -qi "<html" "${work}/app.html"; then
    fail "the server does not serve the admin at /app (HTTP ${status})"
fi
status="$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:${worker_port}/app")"
[ "${status}" != 200 ] || fail "the worker serves the admin, which it must not"

# --- 4. A checkout through the Store API, the order through the Admin API ---
export MEDUSA_URL="${origin}" MEDUSA_PUBLISHABLE_KEY="${key}" MEDUSA_ADMIN_EMAIL="${admin_email}"
step "checkout through the Store API"
MEDUSA_ADMIN_PASSWORD="${admin_password}" node "${root}/scripts/medusa-checkout.mjs" >"${work}/order-1.json" ||
    fail "the checkout failed"
first_order="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["order_id"])' "${work}/order-1.json")"
checkout_ms="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["checkout_ms"])' "${work}/order-1.json")"
echo "    order ${first_order}: $(cat "${work}/order-1.json")"
# The order's event goes through Redis to the worker (images/medusa's subscriber logs it),
# never to the server.
for _ in $(seq 1 50); do
    grep -q "order placed: ${first_order}" "${work}/worker.log" && break
    sleep 0.2
done
grep -q "order placed: ${first_order}" "${work}/worker.log" || fail "the worker never heard of the order"
grep -q "order placed:" "${work}/server.log" && fail "the server handled the order's event, not the worker"

# --- 5. Password reset ---
step "password reset"
new_password="$(random_secret)"
(cd "${server_dir}" && env MEDUSA_ADMIN_EMAIL="${admin_email}" MEDUSA_ADMIN_PASSWORD="${new_password}" \
    sh "${steps}/reset-admin-password.sh") >"${work}/reset.log" 2>&1 || fail "the password reset failed"
grep -qF "${new_password}" "${work}/reset.log" && fail "the reset printed the new password"
if MEDUSA_ADMIN_PASSWORD="${admin_password}" node "${root}/scripts/medusa-checkout.mjs" sign-in; then
    fail "the old password still signs in after the reset"
fi
MEDUSA_ADMIN_PASSWORD="${new_password}" node "${root}/scripts/medusa-checkout.mjs" sign-in ||
    fail "the new password does not sign in"
admin_password="${new_password}"
export MEDUSA_ADMIN_PASSWORD="${admin_password}"

# --- 6. Checkpoint, a second order, restore ---
step "checkpoint (pg_dump), a second order, restore"
export PGHOST="${db_host}" PGPORT="${db_port}" PGUSER="${database}" PGDATABASE="${database}" \
    PGPASSWORD="${db_password}" CHECKPOINT="${work}/checkpoint.dump" RESTORED="${work}/checkpoint.restored"
bash "${steps}/checkpoint.sh" >"${work}/checkpoint.log" 2>&1 || fail "checkpoint.sh failed"
node "${root}/scripts/medusa-checkout.mjs" >"${work}/order-2.json" || fail "the second checkout failed"
[ "$(node "${root}/scripts/medusa-checkout.mjs" orders)" = 2 ] || fail "the store does not list 2 orders"
# As storeplane's restore step runs: while the server and the worker keep running.
bash "${steps}/restore.sh" >"${work}/restore.log" 2>&1 || fail "restore.sh failed"
bash "${steps}/restore.sh" >"${work}/restore-again.log" 2>&1 || fail "a second restore.sh failed"
grep -q "already restored" "${work}/restore-again.log" || fail "a second restore.sh restored again"
[ "$(node "${root}/scripts/medusa-checkout.mjs" orders)" = 1 ] ||
    fail "after the restore the store does not list exactly its first order"
curl -fsS -o /dev/null "http://127.0.0.1:${worker_port}/health" || fail "the worker is unhealthy after the restore"
# And the shop still sells.
node "${root}/scripts/medusa-checkout.mjs" >"${work}/order-3.json" || fail "a checkout after the restore failed"

# --- 7. The upgrade step on a current database: nothing to migrate, nothing lost ---
step "upgrade step (medusa db:migrate) on a current database"
(cd "${server_dir}" && sh "${steps}/upgrade.sh") >"${work}/upgrade.log" 2>&1 || fail "upgrade.sh failed"
[ "$(node "${root}/scripts/medusa-checkout.mjs" orders)" = 2 ] || fail "the upgrade step changed the store's orders"

# Nothing written into the application's directory but uploads (static/), by the Jobs'
# scripts or by the processes.
written="$(find "${server_dir}" -path "${server_dir}/node_modules" -prune -o -path "${server_dir}/static" -prune -o \
    -newer "${work}/before-start" -print | grep -vx "${server_dir}" || true)"
[ -z "${written}" ] || fail "the setup or the processes wrote into the application's directory: ${written}"

peak_server_kib="$(cat "${work}/server.rss")"
peak_worker_kib="$(cat "${work}/worker.rss")"
peak_setup_kib="$(cat "${work}/setup-1.rss")"
mib() { echo $(($1 / 1024)); }
step "Medusa application OK"
cat <<EOF
| step | figure |
|---|---|
| npm ci (images/medusa) | ${install_s} s |
| medusa build | ${build_s} s |
| npm ci --omit=dev (built server) | ${server_install_s} s |
| setup, first run (migrations + bootstrap) | ${setup_first_s} s |
| setup, second run (nothing to do) | ${setup_second_s} s |
| medusa start to /health: server / server and worker | ${server_ready_s} s / ${ready_s} s |
| checkout through the Store API (10 requests) | ${checkout_ms} ms |
| server RSS: idle / peak | $(mib "${idle_server_kib}") MiB / $(mib "${peak_server_kib}") MiB |
| worker RSS: idle / peak | $(mib "${idle_worker_kib}") MiB / $(mib "${peak_worker_kib}") MiB |
| setup RSS, first run: peak | $(mib "${peak_setup_kib}") MiB |
EOF
