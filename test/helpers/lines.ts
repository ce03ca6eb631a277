// The first line a child prints. A 'data' event is not a line: with PYTHONUNBUFFERED=1 (set on
// these machines) python writes print()'s pieces separately.
import type { ChildProcess } from 'node:child_process';

export function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (data: Buffer): void => {
      text += data.toString();
      const newline = text.indexOf('\n');
      if (newline >= 0) {
        child.stdout?.off('data', onData);
        resolve(text.slice(0, newline).trim());
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`child exited with ${String(code)} before printing a line`)));
  });
}
