// Is the /proc we walk the host's? A snapshot of a /proc that is no procfs (a tmpfs mounted over it),
// or another PID namespace's procfs, would be an empty, "clean" result: refused. A mount over one
// process's /proc/PID (a rootkit's way to hide it) or a PID namespace that is not the host's leaves
// processes out: said in a warning, so that a clean result is not taken for the whole host.
// One statfs, two readlinks and one read of our own mountinfo: nothing per process.
import fs from 'node:fs';
import { errnoCode, UnlinkedError } from '../errors.js';
import { parseMountInfo, type MountInfo } from '../../parsers/procfs.js';
import { displayBytes, displayText } from '../util/bytes.js';
import { tryOr } from '../util/tryOr.js';
import { CAP, hasCapability } from '../util/caps.js';

/** statfs f_type of procfs (linux/magic.h). */
export const PROC_SUPER_MAGIC = 0x9fa0;
/** The inode of the initial (the host's) PID namespace, fixed since Linux 3.8 (linux/proc_ns.h). */
export const PROC_PID_INIT_INO = 0xeffffffc;

/** A mount on /proc/PID or below it: what /proc shows of that process is the mount's, not the kernel's. */
export interface CoveredProcess {
  pid: number;
  mountPoint: Buffer;
  fsType: string;
  source: string;
}

export interface ProcView {
  /** Processes whose /proc entry (or a part of it) a mount covers, in mountinfo order. */
  covered: CoveredProcess[];
  /** Our PID namespace ("pid:[N]") when it is not the host's, else null. */
  foreignPidNs: string | null;
  /** The procfs's hidepid= option when it hides other users' processes from this one (not listed at all), else null. */
  hidepid: Hidepid | null;
}

/** A procfs mounted with hidepid=invisible (or 2, or ptraceable): processes this one may not ptrace-read are not in its listing. */
export interface Hidepid {
  /** The option as mountinfo shows it ("invisible"; "2" before Linux 5.8; "ptraceable" since 5.8). */
  mode: string;
  /** Its gid= option: members of that group see every process (not under ptraceable). */
  gid: number | null;
}


/**
 * Checks /proc before a snapshot: throws (exit 1) when it is no procfs or does not show this process
 * as the process it is; else what of it is hidden.
 */
export function readProcView(procRoot = '/proc'): ProcView {
  let type: number;
  try {
    type = fs.statfsSync(procRoot).type;
  } catch (error) {
    throw new UnlinkedError('FAILED', `${procRoot} cannot be read (${errnoCode(error) ?? String(error)}): no process can be walked; nothing stored`, { cause: error });
  }
  if (type !== PROC_SUPER_MAGIC) {
    throw new UnlinkedError(
      'FAILED',
      `${procRoot} is not a procfs (its file system type is 0x${type.toString(16)}, procfs is 0x${PROC_SUPER_MAGIC.toString(16)}): something is mounted over it, ` +
        `and the processes it would show are not those of this host; nothing stored (mount -t proc proc ${procRoot} in a mount namespace of its own)`,
    );
  }
  // A procfs names /proc/self by our PID in its own PID namespace: ours when it is our namespace's.
  const self = tryOr(() => fs.readlinkSync(`${procRoot}/self`), null);
  if (self !== String(process.pid)) {
    throw new UnlinkedError(
      'FAILED',
      `${procRoot} is the procfs of another PID namespace: it ${self === null ? 'does not show this process' : `shows this process as PID ${self}, not ${process.pid}`}, ` +
        `so its PIDs are not those this process sees; nothing stored (mount this namespace's own: mount -t proc proc ${procRoot}, in a mount namespace of its own)`,
    );
  }
  const mounts = tryOr(() => parseMountInfo(fs.readFileSync(`${procRoot}/self/mountinfo`, 'latin1')), null);
  return { covered: coveredProcesses(procRoot, mounts), foreignPidNs: foreignPidNamespace(procRoot), hidepid: hidingFromUs(procRoot, mounts) };
}

/**
 * The hidepid= of the procfs on procRoot (the top one of the mounts there) when it hides processes from
 * this one: invisible (2) lists only the processes it may read; without CAP_SYS_PTRACE, and outside
 * its gid= group, those of other users are not listed (noaccess, 1, lists them: the walk counts them unreadable).
 */
function hidingFromUs(procRoot: string, mounts: MountInfo[] | null): Hidepid | null {
  const hidepid = hidingOption(procRoot, mounts);
  if (hidepid === null) return null;
  const { gid } = hidepid;
  if (gid !== null && (process.getegid?.() === gid || (process.getgroups?.() ?? []).includes(gid))) return null;
  // With CAP_SYS_PTRACE hidepid hides nothing (the kernel's ptrace_may_access check).
  if (hasCapability(CAP.SYS_PTRACE, procRoot) === true) return null;
  return hidepid;
}

/**
 * The hidepid= option of the procfs on procRoot (the top one of the mounts there) when it hides
 * processes (not in the listing: invisible, 2; ptraceable), with the gid= group that sees them all
 * anyway (null: none, or one that does not count). Before Linux 5.8 mountinfo shows the number
 * ("hidepid=2", 5.4.214 fs/proc/inode.c:113), since the word ("hidepid=invisible", 5.10.13
 * fs/proc/inode.c:188; a mount given "hidepid=2" shows that too). ptraceable (5.8 and later) hides the
 * same way, the gid= group included: fs/proc/base.c has_pid_permissions asks ptrace_may_access alone
 * for HIDEPID_NOT_PTRACEABLE (5.10.13), before looking at the group.
 */
export function hidingOption(procRoot: string, mounts: readonly MountInfo[] | null): Hidepid | null {
  const here = (mounts ?? []).filter((mount) => mount.mountPoint.toString('latin1') === procRoot);
  const top = here.find((mount) => !here.some((other) => other.parentId === mount.mntId));
  const options = new Map((top?.superOptions ?? '').split(',').map((option) => [option.split('=')[0] ?? '', option.split('=')[1] ?? '']));
  const mode = options.get('hidepid');
  if (mode !== 'invisible' && mode !== '2' && mode !== 'ptraceable') return null;
  return { mode, gid: options.has('gid') && mode !== 'ptraceable' ? Number(options.get('gid')) : null };
}

/** Mounts of our own mount namespace whose mount point is PROCROOT/<digits> or below it. */
function coveredProcesses(procRoot: string, mounts: MountInfo[] | null): CoveredProcess[] {
  const prefix = `${procRoot}/`;
  // null, mountinfo unreadable: a mount over our own entry would do that (it is then not the kernel's).
  const covered: CoveredProcess[] = [];
  for (const mount of mounts ?? []) {
    const point = mount.mountPoint.toString('latin1');
    if (!point.startsWith(prefix)) continue;
    const match = /^(\d+)(?:\/|$)/.exec(point.slice(prefix.length));
    if (match?.[1] !== undefined) covered.push({ pid: Number(match[1]), mountPoint: mount.mountPoint, fsType: mount.fsType, source: mount.source });
  }
  return covered;
}

/** Our PID namespace when it is not the host's: an inode other than the initial one's, or PIDs in more than one namespace. */
function foreignPidNamespace(procRoot: string): string | null {
  const link = tryOr(() => fs.readlinkSync(`${procRoot}/self/ns/pid`), null);
  const nsPids = tryOr(() => /^NSpid:\t(.*)$/m.exec(fs.readFileSync(`${procRoot}/self/status`, 'latin1'))?.[1]?.split('\t').length ?? 1, 1);
  const inode = link === null ? null : /^pid:\[(\d+)\]$/.exec(link)?.[1];
  if ((inode !== undefined && inode !== null && Number(inode) !== PROC_PID_INIT_INO) || nsPids > 1) return link ?? 'unknown';
  return null;
}

/** What a mount over a process's /proc entry hides, as a warning (and as the reason an asked-for PID is missing). */
export function coveredWarning(covered: CoveredProcess, procRoot = '/proc'): string {
  const point = displayBytes(covered.mountPoint);
  const what = point === `${procRoot}/${covered.pid}` ? 'its /proc entry is covered by a mount' : `${point}, in its /proc entry, is covered by a mount`;
  return `process ${covered.pid} is hidden: ${what} (${covered.fsType} from ${displayText(covered.source)}), so what /proc shows there is not the process's, ` +
    'and the deleted files it holds are not in this snapshot (a rootkit hides a process this way; ' +
    `unmount it in a mount namespace of its own to see the process: unshare -m, umount ${point}, snapshot again; docs/limits.md)`;
}

export function hidepidWarning(hidepid: Hidepid): string {
  const uid = process.geteuid?.() ?? -1;
  return `/proc is mounted with hidepid=${hidepid.mode}: the kernel lists to this user (uid ${uid}) only the processes it may read, so other users' processes are not ` +
    `even counted as unreadable, and the deleted files they hold are not in this snapshot: a clean result here is not one of the whole host; run as root ` +
    `(or with CAP_SYS_PTRACE${hidepid.gid === null ? '' : `, or in group ${hidepid.gid}`}) for that (docs/limits.md)`;
}

export function foreignPidNsWarning(pidNs: string): string {
  return `this /proc shows only the processes of PID namespace ${pidNs}, not the host's (pid:[${PROC_PID_INIT_INO}]): unlinked runs inside a container or a PID namespace of its own, ` +
    'and the other processes of the host (and the deleted files they hold) are not in this snapshot: a clean result here is not one of the whole host; ' +
    'run it on the host itself, in its initial PID namespace, for that (docs/limits.md)';
}
