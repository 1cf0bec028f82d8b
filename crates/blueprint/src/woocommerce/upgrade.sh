# Migrates the store's data to the release it now runs: WordPress's database schema, then
# WooCommerce's pending updates. Both do nothing when the data is already current, so a
# second run changes nothing. It also follows a restore, whose data may be of an older
# release; the caches go last, so nothing cached from before the new data is served.
set -eu
wp core update-db --url="$STORE_URL"
wp wc update --url="$STORE_URL"
wp cache flush --url="$STORE_URL"
echo "data migrated to the release"
