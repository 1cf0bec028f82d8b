# shellcheck shell=bash
# Helpers shared by the test scripts that start servers of their own
# (scripts/test-medusa-app.sh, scripts/test-backup-steps.sh). Sourced, not run.

# Milliseconds since the epoch.
millis() { date +%s%3N; }
# Seconds (one decimal) since a `millis` reading.
seconds_since() { python3 -c "print(f'{($(millis) - $1) / 1000:.1f}')"; }
# A TCP port free on 127.0.0.1 right now.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# A random URL-safe secret, for passwords and keys that live as long as the test.
random_secret() { python3 -c 'import secrets; print(secrets.token_urlsafe(32))'; }
# The host and port of a postgres:// URL, one per line (127.0.0.1 and 5432 when absent).
pg_host_port() {
    python3 -c 'import sys, urllib.parse; u = urllib.parse.urlsplit(sys.argv[1]); print(u.hostname or "127.0.0.1"); print(u.port or 5432)' "$1"
}
