/** How long a second `unlinked` on the same case waits for the first one's write lock. */
export const BUSY_TIMEOUT_MS = 120_000;
