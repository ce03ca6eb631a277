// Progress on stderr: one rewritten line, only on a TTY (ctx.progressEnabled), at most 10 times a second.
import type { CommandContext } from './context.js';

export interface Progress {
  (label: string, bytes: number): void;
  done(): void;
}

export function progressPrinter(ctx: CommandContext): Progress {
  let last = 0;
  let shown = false;
  const started = Date.now();
  const print = ((label: string, bytes: number) => {
    if (!ctx.progressEnabled) return;
    const now = Date.now();
    if (now - last < 100) return;
    last = now;
    const rate = bytes / Math.max((now - started) / 1000, 0.001);
    process.stderr.write(`\r\x1b[K${label}: ${formatBytes(bytes)} (${formatBytes(rate)}/s)`);
    shown = true;
  }) as Progress;
  print.done = () => {
    if (shown) process.stderr.write('\r\x1b[K');
  };
  return print;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
