# Starts Redis for Medusa: its event bus, workflow engine, locks and cache. The append-only
# file keeps queued jobs across a restart; `noeviction`, because BullMQ (Medusa's queues)
# loses jobs when keys are evicted; memory capped below the container's limit, so a full
# Redis refuses writes rather than being killed. The password goes into a config file
# written by printf (a shell builtin), never onto a command line.
set -eu
umask 077
printf 'requirepass "%s"\n' "$REDIS_PASSWORD" >/tmp/redis.conf
exec redis-server /tmp/redis.conf --dir /data --appendonly yes \
  --maxmemory "$REDIS_MAXMEMORY" --maxmemory-policy noeviction
