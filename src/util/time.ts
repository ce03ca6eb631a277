// Times as the kernel gives them (ns since the epoch, bigint) to whole seconds as stat(1) and The
// Sleuth Kit count them: floored, so 1969-12-31 23:59:58.5 is -2, not -1 (BigInt division truncates).

const NS_PER_SECOND = 1_000_000_000n;

/** The second an instant of `ns` nanoseconds since the epoch falls in (floored, also before 1970). */
export function floorSeconds(ns: bigint): bigint {
  return ns / NS_PER_SECOND - (ns < 0n && ns % NS_PER_SECOND !== 0n ? 1n : 0n);
}

/** The longest delay setTimeout takes (2^31 - 1 ms, about 24.8 days): node fires a longer one at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
