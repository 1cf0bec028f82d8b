# Sets the admin's password to the one in the store's admin Secret. The password comes
# from the environment and reaches wp-cli on its standard input, never an argument; wp-cli
# prints prompted values back, so its output goes nowhere: the password never reaches the
# pod's log.
set -eu
if printf '%s\n' "$WORDPRESS_ADMIN_PASSWORD" |
  wp user update "$WORDPRESS_ADMIN_USER" --prompt=user_pass --skip-email --url="$STORE_URL" >/dev/null 2>&1; then
  echo "admin password of $WORDPRESS_ADMIN_USER reset"
else
  echo "failed to reset the admin password of $WORDPRESS_ADMIN_USER (wp user update exited $?)" >&2
  exit 1
fi
