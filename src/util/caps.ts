// The capabilities this process has in effect (CapEff of /proc/self/status), as the kernel checks them.
import fs from 'node:fs';
import { tryOr } from './tryOr.js';

/** CAP_SYS_PTRACE, CAP_SYS_ADMIN, CAP_CHECKPOINT_RESTORE (linux/capability.h). */
export const CAP = { SYS_PTRACE: 19n, SYS_ADMIN: 21n, CHECKPOINT_RESTORE: 40n } as const;

/** Whether capability `bit` is in effect; null when CapEff cannot be read. */
export function hasCapability(bit: bigint, procRoot = '/proc'): boolean | null {
  const hex = tryOr(() => /^CapEff:\s*([0-9a-f]+)$/m.exec(fs.readFileSync(`${procRoot}/self/status`, 'latin1'))?.[1] ?? null, null);
  return hex === null ? null : ((BigInt(`0x${hex}`) >> bit) & 1n) === 1n;
}
