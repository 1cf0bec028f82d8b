# Fetches backup $SNAPSHOT of the store's restic repository into $RESTORE_DIR (an
# emptyDir), for the restore Job's next containers: the engine's restore script loads the
# dump from there, and put-files.sh puts the files back. restic checks every chunk it
# reads against its hash, so a damaged repository fails here, before anything is touched.
set -eu
: "${RESTIC_REPOSITORY:?}" "${RESTIC_PASSWORD:?}" "${SNAPSHOT:?}" "${RESTORE_DIR:?}"
if [ -e "$RESTORE_DIR/.fetched-$SNAPSHOT" ]; then
  echo "backup $SNAPSHOT was already fetched"
  exit 0
fi
restic restore "$SNAPSHOT" --target "$RESTORE_DIR" --verify
touch "$RESTORE_DIR/.fetched-$SNAPSHOT"
echo "fetched backup $SNAPSHOT ($(du -sk "$RESTORE_DIR" | cut -f1) KiB)"
