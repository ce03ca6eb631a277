// Leases (fcntl F_SETLEASE) and NFS server delegations on files, from /proc/locks. Any owner of a
// file may take a write lease on it; an open of the file by anyone else, O_NONBLOCK or not, breaks
// it: the kernel signals the holder (SIGIO by default) and holds the open up to
// /proc/sys/fs/lease-break-time seconds (45) for it to give the lease up, time in which the holder
// may change or cut the file. recover's open of /proc/PID/fd/N is such an open.
import fs from 'node:fs';
import { parseProcLocks, type ProcLock } from '../../parsers/procfs.js';
import type { U64 } from '../../parsers/types.js';
import { tryOr } from '../util/tryOr.js';

/** A lease on a file that an open for reading would break, or waits on (see LeaseTable). */
export interface Lease {
  /** /proc/locks' words for it: "LEASE ACTIVE WRITE", "LEASE BREAKING READ", "DELEG ACTIVE WRITE". */
  state: string;
  /** The process that set it (in the PID namespace of the /proc read): it may have passed the file on since, or exited. */
  pid: number;
}

/** What an open for reading breaks (a write lease or delegation), or waits on (one being broken: the holder is signalled already). */
function breaksOnRead(lock: ProcLock): boolean {
  if (lock.lockClass !== 'LEASE' && lock.lockClass !== 'DELEG') return false;
  return lock.state === 'BREAKING' || lock.state === 'BREAKER' || (lock.state === 'ACTIVE' && lock.type === 'WRITE');
}

/**
 * The leases of /proc/locks, read once, by the file they are on: its super block's device and inode.
 * /proc/locks lists only the locks of processes visible in the PID namespace of the procfs read
 * (since Linux 4.9), by their PIDs there: read from a container's /proc, a lease of a process outside
 * it is not there.
 */
export class LeaseTable {
  private readonly byFile = new Map<string, Lease>();
  /** The numbers of the lines of /proc/locks that did not read as a lock (a format this parser does not know). */
  readonly unreadable: number[];

  constructor(text: string) {
    const { locks, unreadable } = parseProcLocks(text);
    this.unreadable = unreadable;
    /** A waiter (an open waiting as BREAKER) names no file: it waits on the lock of its number. */
    const fileOf = new Map<number, string>();
    for (const lock of locks) {
      const file = lock.dev !== null && lock.inode !== null ? `${lock.dev}/${String(lock.inode)}` : lock.waiting ? fileOf.get(lock.id) : undefined;
      if (file === undefined) continue;
      if (!lock.waiting) fileOf.set(lock.id, file);
      if (!breaksOnRead(lock) || this.byFile.has(file)) continue;
      this.byFile.set(file, { state: `${lock.lockClass} ${lock.state} ${lock.type}`, pid: lock.pid });
    }
  }

  /** /proc/locks as it is now (an empty table when it cannot be read: no lease is known then). */
  static read(procRoot = '/proc'): LeaseTable {
    return new LeaseTable(tryOr(() => fs.readFileSync(`${procRoot}/locks`, 'latin1'), ''));
  }

  /**
   * The lease on inode INODE of any of DEVS, or null. /proc/locks names the super block's device,
   * which is not st_dev on a btrfs subvolume or an overlay (st_dev their own): the caller gives both,
   * st_dev and the device its mount shows in mountinfo (the super block's).
   */
  on(devs: ReadonlyArray<string | null>, inode: U64 | null): Lease | null {
    if (inode === null || this.byFile.size === 0) return null;
    for (const dev of devs) {
      const lease = dev === null ? undefined : this.byFile.get(`${dev}/${String(inode)}`);
      if (lease !== undefined) return lease;
    }
    return null;
  }
}

/** A lease being broken by another open (BREAKING, BREAKER), not one an open of ours would break. */
export function isBreaking(lease: Lease): boolean {
  return lease.state.includes(' BREAK');
}

/** "process 18015", or "a process" where /proc/locks gives no PID. */
export function leaseHolder(lease: Lease): string {
  return lease.pid > 0 ? `process ${lease.pid}` : 'a process';
}

/**
 * What an open of the file does to the holder, said after leaseHeld. A lease being broken
 * (BREAKING) may be a write lease, which makes any open wait, or a read lease broken by a writer,
 * which a read open neither signals nor waits for: /proc/locks words both the same.
 */
export function openEffect(lease: Lease): string {
  return isBreaking(lease)
    ? 'an open of the file may wait for the holder to give it up (a write lease being broken; /proc/locks does not tell it from a read lease a writer is breaking, which a read neither signals nor waits for), time in which the holder can change or cut it'
    : 'an open of the file signals the holder, which can change or cut it before it is read';
}

/** "process 18015 holds a write lease on it (/proc/locks: LEASE ACTIVE WRITE)", said of an item. */
export function leaseHeld(lease: Lease): string {
  const holder = leaseHolder(lease);
  const what = lease.state.startsWith('DELEG ')
    ? `${holder} (an NFS server) holds a delegation on it that is broken by an open`
    : isBreaking(lease)
      ? `a lease of ${holder} on it is being broken by another open (its holder has been signalled)`
      : `${holder} holds a write lease on it`;
  return `${what} (/proc/locks: ${lease.state})`;
}
