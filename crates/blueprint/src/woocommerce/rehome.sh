# Gives a store made from another store's backup its own address: every URL of the source
# store's in the restored database ($FROM_URL) becomes this store's ($STORE_URL), with
# `wp search-replace`, which rewrites serialized PHP data without breaking it (GUIDs stay,
# as WordPress asks), then `home` and `siteurl` are set and the caches flushed. Running it
# again finds nothing left to replace.
set -eu
: "${FROM_URL:?}" "${STORE_URL:?}"
if [ "$FROM_URL" != "$STORE_URL" ]; then
  wp search-replace "$FROM_URL" "$STORE_URL" --all-tables-with-prefix --skip-columns=guid \
    --report-changed-only --url="$FROM_URL"
fi
wp option update home "$STORE_URL" --url="$STORE_URL"
wp option update siteurl "$STORE_URL" --url="$STORE_URL"
wp cache flush --url="$STORE_URL"
echo "the store answers at $STORE_URL (was $FROM_URL)"
