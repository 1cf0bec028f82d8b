// Ids as people read them beside the server's own messages.

/** A backup as the timeline names it ("backup e204f8f0 restored"): the last 8 hex digits of
 * its id, since its first ones are the time it was made. */
export function shortBackupId(id: string): string {
  return id.replaceAll("-", "").slice(-8);
}

/** A restic snapshot as restic prints it ("007dbc7d"): the first 8 hex digits of its id. */
export function shortSnapshot(snapshot: string): string {
  return snapshot.slice(0, 8);
}
