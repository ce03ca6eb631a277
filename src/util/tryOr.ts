// A read that may fail (a process gone, a link unreadable): its value, or the fallback.
export function tryOr<T, F>(read: () => T, fallback: F): T | F {
  try {
    return read();
  } catch {
    return fallback;
  }
}
