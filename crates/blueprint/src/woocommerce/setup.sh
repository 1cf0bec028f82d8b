# Makes a store sellable: WordPress installed, WooCommerce active with its pages,
# cash on delivery, pretty permalinks and one product to buy. Every step checks before it
# creates, or sets a value that is already right, so running it twice changes nothing.
# Credentials come from the environment (Secrets) and never reach a command line, and a
# command that is handed one says nothing: wp-cli echoes every prompted value, so its
# output would put the secret in the pod log (see `quietly`).
set -eu
admin="--user=$WORDPRESS_ADMIN_USER"

# Runs a command that reads a secret on stdin with all its output held back. On failure it
# says what failed and passes on only wp-cli's own `Error:` lines that mention no password
# (awk reads the secret from the environment, not from its arguments).
quietly() {
  what=$1
  shift
  if ! output=$("$@" 2>&1); then
    echo "failed to $what; its output is withheld, as it repeats the secret it was given" >&2
    printf '%s\n' "$output" | awk '
      /^Error:/ && index($0, ENVIRON["WORDPRESS_ADMIN_PASSWORD"]) == 0 &&
        index($0, ENVIRON["WORDPRESS_DB_PASSWORD"]) == 0 && tolower($0) !~ /password/
    ' >&2
    return 1
  fi
}

echo "waiting for the database"
until php -r '
  mysqli_report(MYSQLI_REPORT_OFF);
  [$host, $port] = array_pad(explode(":", getenv("WORDPRESS_DB_HOST")), 2, 3306);
  exit(@mysqli_connect($host, getenv("WORDPRESS_DB_USER"),
    getenv("WORDPRESS_DB_PASSWORD"), getenv("WORDPRESS_DB_NAME"), (int) $port) ? 0 : 1);
'; do
  sleep 3
done

install_wordpress() {
  printf '%s\n' "$WORDPRESS_ADMIN_PASSWORD" | wp core install --prompt=admin_password \
    --url="$STORE_URL" --title="$STORE_TITLE" --admin_user="$WORDPRESS_ADMIN_USER" \
    --admin_email="$WORDPRESS_ADMIN_EMAIL" --skip-email
}

if ! wp core is-installed --url="$STORE_URL"; then
  echo "installing WordPress"
  quietly "install WordPress (wp core install)" install_wordpress
  echo "WordPress installed"
fi
wp option update blogname "$STORE_TITLE" # every run: a store's title can change

if ! wp plugin is-installed woocommerce; then
  if [ -z "${WOOCOMMERCE_VERSION:-}" ]; then
    echo "WooCommerce is not in the image and no version to download is set" >&2
    exit 1
  fi
  wp plugin install woocommerce --version="$WOOCOMMERCE_VERSION"
fi
wp plugin is-active woocommerce || wp plugin activate woocommerce

# Creates only the shop, cart, checkout and my-account pages that are missing.
wp wc tool run install_pages "$admin"

[ "$(wp option get permalink_structure)" = '/%postname%/' ] ||
  wp rewrite structure '/%postname%/'

wp wc payment_gateway update cod --enabled=true "$admin" >/dev/null
# New WooCommerce sites start in "coming soon" mode, which hides the shop from visitors.
wp option update woocommerce_coming_soon no

# Virtual: it needs no shipping zone or method, so it can be ordered as soon as the
# store is up; cash on delivery accepts virtual orders by default.
if [ -z "$(wp wc product list --sku=storeplane-sample --field=id "$admin")" ]; then
  wp wc product create --name='Sample product' --sku=storeplane-sample --type=simple \
    --virtual=true --status=publish --regular_price=19.99 "$admin"
fi
echo "store is set up"
