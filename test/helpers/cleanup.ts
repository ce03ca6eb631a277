// Undo a test's set-up step by step, last first: one step that fails (busy, already gone) is said
// and does not leave the others (a mount, a loop device) in place. The failures are returned for a
// caller that must not go on as if all were undone.
export function undoEach(steps: Array<() => void>): unknown[] {
  const failures: unknown[] = [];
  for (const step of steps.reverse()) {
    try {
      step();
    } catch (error) {
      process.stderr.write(`# cleanup: ${String(error)}\n`);
      failures.push(error);
    }
  }
  return failures;
}
