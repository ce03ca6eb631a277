// File types out of st_mode / i_mode.

const SPECIAL: ReadonlyMap<number, string> = new Map([
  [0o010000, 'FIFO'],
  [0o020000, 'character device'],
  [0o060000, 'block device'],
  [0o140000, 'socket'],
]);

/** The type of a special file (no content of its own to copy), or null for any other mode. */
export function specialFileType(mode: number | null | undefined): string | null {
  return mode === null || mode === undefined ? null : (SPECIAL.get(mode & 0o170000) ?? null);
}
