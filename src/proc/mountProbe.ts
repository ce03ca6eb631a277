// Mounts that may not answer. stat through /proc/PID/fd/N asks the file system for fresh
// attributes: on NFS, CIFS, 9p, Ceph or FUSE that is a request to a server or a daemon, and when it
// is gone (a dead NFS server, a hung sshfs) the call waits forever, killable only by SIGKILL. A
// synchronous walk would hang there with nothing stored; lsof hangs the same way (its -S timeout
// is per call, 15 s by default, on every file).
// So before the walk, each such mount is asked once: `stat` of its root, in a child process killed
// after PROBE_TIMEOUT_MS. The walk does not stat the files of a mount that did not answer (their fd
// rows keep the link text, the process says why), lsof is told to leave it alone (-e), and the
// snapshot's warnings name it. Hosts without such mounts run no probe at all.
import fs from 'node:fs';
import { UnlinkedError } from '../errors.js';
import { run, type CommandRecorder } from '../exec/run.js';
import { parseMountInfo, type MountInfo } from '../../parsers/procfs.js';
import { procDirOf } from './tasks.js';
import type { RawBytes } from './types.js';
import { displayBytes, displayText } from '../util/bytes.js';

/** How long the root of a network or FUSE mount may take to answer one stat. */
export const PROBE_TIMEOUT_MS = 3_000;

/** File system types whose stat depends on something outside this kernel. */
const MAY_WAIT = new Set(['nfs', 'nfs4', 'cifs', 'smb3', 'smbfs', '9p', 'ceph', 'afs', 'lustre', 'gfs2', 'ocfs2', 'glusterfs', 'virtiofs', 'fuse', 'fuseblk']);

export function mayWait(fsType: string): boolean {
  return MAY_WAIT.has(fsType) || fsType.startsWith('fuse.');
}

/** A mount that did not answer: the walk stats nothing below its mount point (in that namespace). */
export interface UnansweredMount {
  mntNs: string;
  mntId: number;
  dev: string;
  mountPoint: RawBytes;
  fsType: string;
  source: string;
}

export function describeUnanswered(mount: UnansweredMount): string {
  // All three are the mounter's to choose (fusermount takes -o fsname= and subtype=): display forms.
  return `${displayBytes(Buffer.from(mount.fsType, 'latin1'))} ${displayText(mount.source)} at ${JSON.stringify(displayBytes(Buffer.from(mount.mountPoint, 'latin1')))}`;
}

export interface ProbeResult {
  unanswered: UnansweredMount[];
  /** Network or FUSE mounts that did answer: the walk stats their files (and may wait on them). */
  answered: number;
  /** The processes of each mount namespace (those whose namespace could be read). */
  pidsByNamespace: Map<string, number[]>;
}

/**
 * Ask the root of every network or FUSE mount of every mount namespace of these processes for its
 * attributes, all at once; the ones that do not answer within the timeout come back.
 */
export async function probeMounts(pids: readonly number[], procRoot: string, recorder: CommandRecorder | null, timeoutMs = PROBE_TIMEOUT_MS): Promise<ProbeResult> {
  const pidsByNamespace = new Map<string, number[]>();
  const probes: Array<Promise<UnansweredMount | null>> = [];
  /** One probe per file system (device): the namespaces of containers share most of them. */
  const byDev = new Map<string, Promise<boolean>>();
  /** Views already read: a namespace as seen from one root (a chrooted process sees only what is under its root). */
  const views = new Set<string>();
  /** Each mount once, whichever view found it first. */
  const seenMounts = new Set<string>();
  for (const pid of pids) {
    let mntNs: string;
    let mountinfo: string;
    let dir = `${procRoot}/${pid}`;
    try {
      try {
        mntNs = fs.readlinkSync(`${dir}/ns/mnt`);
      } catch (error) {
        // A zombie leader's namespace links cannot be read: a live thread of it answers instead.
        dir = procDirOf(procRoot, pid);
        if (dir === `${procRoot}/${pid}`) throw error;
        mntNs = fs.readlinkSync(`${dir}/ns/mnt`);
      }
      const known = pidsByNamespace.get(mntNs);
      if (known !== undefined) known.push(pid);
      else pidsByNamespace.set(mntNs, [pid]);
      const view = `${mntNs}\0${fs.readlinkSync(`${dir}/root`, 'latin1')}`;
      if (views.has(view)) continue;
      views.add(view);
      mountinfo = fs.readFileSync(`${dir}/mountinfo`, 'latin1');
    } catch {
      continue; // vanished or unreadable: the walk says so
    }
    const mounts = parseMountInfo(mountinfo);
    const byId = new Map(mounts.map((info) => [info.mntId, info]));
    for (const info of mounts) {
      if (!mayWait(info.fsType) || seenMounts.has(`${mntNs}\0${info.mntId}`)) continue;
      seenMounts.add(`${mntNs}\0${info.mntId}`);
      const mountPoint = info.mountPoint.toString('latin1');
      const mount: UnansweredMount = { mntNs, mntId: info.mntId, dev: info.dev, mountPoint, fsType: info.fsType, source: info.source };
      let answered = byDev.get(info.dev);
      if (answered === undefined) {
        answered = answersStat(`${dir}/root`, info.mountPoint, recorder, timeoutMs, belowMayWait(info, byId));
        byDev.set(info.dev, answered);
      }
      probes.push(answered.then((ok) => (ok ? null : mount)));
    }
  }
  const asked = await Promise.all(probes);
  const unanswered = asked.filter((mount): mount is UnansweredMount => mount !== null);
  return { unanswered, answered: asked.length - unanswered.length, pidsByNamespace };
}

/** O_PATH (asm-generic, x86 and arm alike): not in fs.constants. */
const O_PATH = 0o10000000;

/** Is a network or FUSE mount on the way to this one (a lookup of its mount point would ask that one)? */
function belowMayWait(info: MountInfo, byId: ReadonlyMap<number, MountInfo>): boolean {
  const seen = new Set<number>();
  for (let parent = byId.get(info.parentId); parent !== undefined && !seen.has(parent.mntId); parent = byId.get(parent.parentId)) {
    if (mayWait(parent.fsType)) return true;
    seen.add(parent.mntId);
  }
  return false;
}

/** Does `stat ROOT/MOUNTPOINT` come back within the timeout? An error (ENOENT, EACCES) is an answer. */
async function answersStat(root: string, mountPoint: Buffer, recorder: CommandRecorder | null, timeoutMs: number, belowSilent: boolean): Promise<boolean> {
  const text = mountPoint.toString('utf8');
  if (Buffer.from(text, 'utf8').equals(mountPoint)) return statAnswers(`${root}${text}`, recorder, timeoutMs);
  // An argument travels as UTF-8: a mount point that is not (a FUSE mount's is its mounter's to name)
  // is named by a descriptor of this process. Opened O_PATH, which looks the path up and asks the
  // mounted file system nothing; the stat through it, in the child, does. A lookup through another
  // network or FUSE mount would ask that one, here, where no timeout stops it: not asked, taken as silent.
  if (belowSilent) return false;
  let fd: number;
  try {
    fd = fs.openSync(Buffer.concat([Buffer.from(root), mountPoint]), O_PATH);
  } catch {
    return true;
  }
  try {
    return await statAnswers(`/proc/${process.pid}/fd/${fd}`, recorder, timeoutMs, ['-L']);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Does `stat FILE` come back within the timeout (run in a child process: a stat that waits for ever
 * is left behind)?
 */
async function statAnswers(file: string, recorder: CommandRecorder | null, timeoutMs: number, follow: readonly string[] = []): Promise<boolean> {
  try {
    // A stat waiting on a FUSE daemon that already read the request cannot be killed: left behind.
    await run('stat', [...follow, '--format=%d:%i', '--', file], { timeoutMs, recorder, okExitCodes: [0, 1], abandonAfterMs: 500 });
    return true;
  } catch (error) {
    return !(error instanceof UnlinkedError && error.code === 'TOOL_TIMEOUT');
  }
}
