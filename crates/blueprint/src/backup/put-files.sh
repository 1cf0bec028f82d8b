# Puts a store's files back from a fetched backup: the directory $FILES becomes exactly
# what the backup held at that path (found below $RESTORE_DIR, where restic restores
# absolute paths): files added since are removed, files changed or removed since come
# back. Nothing is touched unless the backup holds the directory.
set -eu
: "${FILES:?}" "${RESTORE_DIR:?}"
source_dir="$RESTORE_DIR$FILES"
if [ ! -d "$source_dir" ]; then
  echo "the backup holds no $FILES; the files are left as they are" >&2
  exit 1
fi
find "$FILES" -mindepth 1 -delete
cp -a "$source_dir/." "$FILES/"
echo "files restored into $FILES ($(find "$FILES" -type f | wc -l) files)"
