# Puts WordPress where wp-cli expects it: the core files from the WordPress image into
# the Job's scratch /var/www/html, its env-driven wp-config.php, and the bundled plugins
# and themes into the shared wp-content when missing (as the image's entrypoint does).
set -eu
cd /usr/src/wordpress
tar --create --file - --exclude ./wp-content . |
  tar --extract --file - --no-overwrite-dir --directory /var/www/html
cp wp-config-docker.php /var/www/html/wp-config.php
for src in wp-content/*/*; do
  [ -e "/var/www/html/$src" ] && continue
  mkdir -p "/var/www/html/${src%/*}"
  cp -a "$src" "/var/www/html/$src"
done
