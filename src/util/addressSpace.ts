// The address-space limit (ulimit -v, RLIMIT_AS). Each worker thread's V8 reserves hundreds of MiB
// of address space as it starts (its code range, its heap); one that cannot aborts the whole process
// inside V8 ("Fatal process OOM in Failed to reserve virtual memory for CodeRange", SIGTRAP, exit
// 133), uncatchable, with a case half written. So a worker is started only where it fits.
import fs from 'node:fs';
import { UnlinkedError } from '../errors.js';

const MiB = 1 << 20;

/**
 * Address space a worker thread needs beyond what the process holds. Measured with node 20 on x86-64
 * (a worker that starts, then stays idle): it starts with 575 MiB free, not with 526 MiB; the hash
 * worker of image scan needed 604 MiB. A margin for the work it does, and other node builds.
 */
export const WORKER_ADDRESS_SPACE = 768 * MiB;

/**
 * What image scan and image extract need in all, whatever their image: they always start a worker
 * (the image's hash; the hash of each copy). Measured with node 20 on x86-64: image scan of a 16 MiB
 * ext4 image fails at 1590 MiB, works at 1611 MiB (the process holds 1008 MiB when its worker starts);
 * image extract the same. A margin (what the tools' output needs grows with the image).
 */
export const IMAGE_COMMAND_ADDRESS_SPACE = 1800 * MiB;

/** The soft limit of a resource of /proc/self/limits ("Max open files", "Max address space"), or null when unlimited or unreadable. */
export function processLimit(name: string): number | null {
  try {
    const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((entry) => entry.startsWith(name));
    const soft = line?.slice(name.length).trim().split(/\s+/)[0];
    return soft === undefined || soft === 'unlimited' || !/^\d+$/.test(soft) ? null : Number(soft);
  } catch {
    return null;
  }
}

/** Address space this process holds now (VmSize), in bytes, or null when unreadable. */
function addressSpaceUsed(): number | null {
  try {
    const kib = /^VmSize:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'latin1'))?.[1];
    return kib === undefined ? null : Number(kib) * 1024;
  } catch {
    return null;
  }
}

/** A worker thread can start: no address-space limit, or room for one under it. */
export function workerFits(): boolean {
  const limit = processLimit('Max address space');
  if (limit === null) return true;
  const used = addressSpaceUsed();
  return used === null || used + WORKER_ADDRESS_SPACE <= limit;
}

/** Refuses a command that starts worker threads under an address-space limit too low for them, before it does anything. */
export function requireAddressSpace(command: string, needed: number, why: string): void {
  const limit = processLimit('Max address space');
  if (limit === null || limit >= needed) return;
  const kib = (bytes: number): number => Math.ceil(bytes / 1024);
  throw new UnlinkedError(
    'FAILED',
    `the address-space limit (ulimit -v) is ${kib(limit)} KiB; ${command} needs at least ${kib(needed)} KiB (${Math.round(needed / MiB)} MiB: ${why}): raise it, e.g. \`ulimit -v ${kib(needed + 200 * MiB)}\` or \`ulimit -v unlimited\`; nothing was done`,
  );
}
