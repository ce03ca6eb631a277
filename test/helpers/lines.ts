// The first lines a child prints. A 'data' event is not a line: with PYTHONUNBUFFERED=1 (set on
// these machines) python writes print()'s pieces separately.
import type { ChildProcess } from 'node:child_process';

export function firstLine(child: ChildProcess): Promise<string> {
  return lines(child, 1).then(([line]) => line ?? '');
}

/** The first `count` lines a child prints (trimmed). */
export function lines(child: ChildProcess, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (data: Buffer): void => {
      text += data.toString();
      const parts = text.split('\n');
      if (parts.length > count) {
        child.stdout?.off('data', onData);
        resolve(parts.slice(0, count).map((line) => line.trim()));
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`child exited with ${String(code)} before printing ${count} line(s)`)));
  });
}
