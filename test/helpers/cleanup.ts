// Undo a test's set-up step by step, last first: one step that fails (busy, already gone) is said
// and does not leave the others (a mount, a loop device) in place.
export function undoEach(steps: Array<() => void>): void {
  for (const step of steps.reverse()) {
    try {
      step();
    } catch (error) {
      process.stderr.write(`# cleanup: ${String(error)}\n`);
    }
  }
}
