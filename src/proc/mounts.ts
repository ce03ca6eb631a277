// Mount tables per mount namespace (from /proc/PID/mountinfo) and file system UUIDs per device.
import fs from 'node:fs';
import { devString, parseMountInfo, type MountInfo } from '../../parsers/procfs.js';
import type { UnansweredMount } from './mountProbe.js';
import { readBtrfsSuperblockUuid, readExtSuperblockUuid } from './superblock.js';
import { NIL_UUID } from '../../parsers/types.js';
import { btrfsWith, mountedHere, namedDevice, overlayLayers } from '../util/blockDevices.js';
import type { MountRecord, RawBytes } from './types.js';
import { tryOr } from '../util/tryOr.js';

/** A mountinfo entry with its paths as latin1 strings (see RawBytes). */
export interface Mount {
  mntId: number;
  parentId: number;
  dev: string;
  root: RawBytes;
  mountPoint: RawBytes;
  options: string;
  /** The super block's options (an overlay's upperdir=, workdir=, lowerdir=). */
  superOptions: string;
  fsType: string;
  source: string;
}

/** Where an overlay's upper layer is: the device its upper directory is on, and that file system's UUID (null: none known). */
export interface UpperLayer {
  dev: string;
  fsUuid: string | null;
}

/** File systems whose files carry device numbers other than the one mountinfo lists for the mount. */
export const OWN_DEV_FS: ReadonlySet<string> = new Set(['overlay', 'btrfs']);

/** Is the path the mount point itself or below it? */
function isUnder(point: RawBytes, itemPath: RawBytes): boolean {
  return point === '/' || (itemPath.startsWith(point) && (itemPath.length === point.length || itemPath.charCodeAt(point.length) === 0x2f));
}

export class NamespaceMounts {
  private readonly byId = new Map<number, Mount>();
  private readonly byDev = new Map<string, Mount[]>();
  /** Mounts that did not answer a stat before the walk (src/proc/mountProbe.ts), by mnt_id. */
  private readonly unanswered = new Map<number, UnansweredMount>();
  readonly mounts: readonly Mount[];

  /**
   * under: the root of the process the table was read from when it is chrooted (latin1, as the
   * walk's paths): its mountinfo gives mount points relative to that root, the paths of its files
   * (the kernel's names of its fds, as unlinked reads them) are not; prefixed, the two agree.
   */
  constructor(infos: readonly MountInfo[], unanswered: readonly UnansweredMount[] = [], under = '') {
    this.mounts = infos.map((info) => {
      const point = info.mountPoint.toString('latin1');
      return { ...info, root: info.root.toString('latin1'), mountPoint: under === '' ? point : point === '/' ? under : `${under}${point}` };
    });
    for (const mount of this.mounts) {
      this.byId.set(mount.mntId, mount);
      const list = this.byDev.get(mount.dev);
      if (list === undefined) this.byDev.set(mount.dev, [mount]);
      else list.push(mount);
    }
    for (const mount of unanswered) if (this.byId.has(mount.mntId)) this.unanswered.set(mount.mntId, mount);
  }

  get hasUnanswered(): boolean {
    return this.unanswered.size > 0;
  }

  /**
   * The mount that did not answer, when the path lies on it: the mount with the longest mount point
   * above the path (the last one listed of equal points: it is on top) is that one. Else null.
   */
  unansweredAt(itemPath: RawBytes): UnansweredMount | null {
    if (this.unanswered.size === 0) return null;
    const best = this.mountAt(itemPath);
    return best === null ? null : (this.unanswered.get(best.mntId) ?? null);
  }

  /** The mount a path lies on: the longest mount point above it (of equal ones the last listed: it is on top). */
  mountAt(itemPath: RawBytes): Mount | null {
    let best: Mount | null = null;
    for (const mount of this.mounts) {
      if (isUnder(mount.mountPoint, itemPath) && (best === null || mount.mountPoint.length >= best.mountPoint.length)) best = mount;
    }
    return best;
  }

  hasMntId(mntId: number): boolean {
    return this.byId.has(mntId);
  }

  /** The mount of that mnt_id, or null when this table does not list it. */
  mountOf(mntId: number): Mount | null {
    return this.byId.get(mntId) ?? null;
  }

  hasDev(dev: string): boolean {
    return this.byDev.has(dev);
  }

  /** The mounts of that device (MAJ:MIN) this table lists. */
  mountsOf(dev: string): readonly Mount[] {
    return this.byDev.get(dev) ?? [];
  }

  /** By mnt_id when fdinfo gave one; else the mount of that device whose mount point prefixes the path. */
  find(mntId: number | null, dev: string, itemPath: RawBytes): Mount | null {
    if (mntId !== null) {
      const byId = this.byId.get(mntId);
      if (byId !== undefined) return byId;
    }
    const candidates = this.byDev.get(dev);
    if (candidates === undefined) {
      // overlayfs (layers on several file systems) and btrfs (subvolumes) give their files device
      // numbers of their own that mountinfo does not list: the mount the path lies on, when it is one.
      const at = this.mountAt(itemPath);
      return at !== null && OWN_DEV_FS.has(at.fsType) ? at : null;
    }
    let best: Mount | null = null;
    for (const mount of candidates) {
      if (isUnder(mount.mountPoint, itemPath) && (best === null || mount.mountPoint.length > best.mountPoint.length)) best = mount;
    }
    // Under none of its mount points (a chroot's path, a lazily unmounted tree): the device's mount
    // only when it has just one; of several, any would be a guess.
    return best ?? (candidates.length === 1 ? (candidates[0] ?? null) : null);
  }
}

export class MountTable {
  private readonly namespaces = new Map<string, NamespaceMounts | null>();
  /** Namespaces whose processes were searched for one not chrooted. */
  private readonly searched = new Set<string>();
  private readonly uuids = new Map<string, string | null>();
  private byUuidDir: Map<string, string> | null = null;

  /**
   * candidates: /proc directories of the processes walked (in walk order), among which a process
   * of a namespace whose root is the namespace's own is looked for when the first one seen there is
   * chrooted (see forNamespace).
   */
  constructor(
    private readonly unanswered: readonly UnansweredMount[] = [],
    private readonly candidates: readonly string[] = [],
  ) {}

  /**
   * The process's own view of its namespace's mounts, read from its own mountinfo (once per
   * process): /proc/PID/mountinfo lists only the mounts under the process's root, with mount points
   * relative to it, so when the namespace's table was read from a chrooted process, another process
   * of it finds its mounts only here. Asked only when the namespace's table does not know a mount.
   */
  ownView(mntNs: string, procDir: string): NamespaceMounts | null {
    const key = `${mntNs}\0${procDir}`;
    if (this.namespaces.has(key)) return this.namespaces.get(key) ?? null;
    const root = rootOf(procDir);
    const table = this.read(mntNs, procDir, root !== null && root.startsWith('/') && root !== '/' ? root : '');
    this.namespaces.set(key, table);
    return table;
  }

  /**
   * The mount table of a namespace, read from the first process seen in it (see ownView for a
   * chroot). procDir: that process's /proc directory, or a live thread's (a zombie leader's own
   * mountinfo cannot be read: EINVAL).
   */
  forNamespace(mntNs: string, procDir: string): NamespaceMounts | null {
    const known = this.namespaces.get(mntNs);
    if (known !== undefined && known !== null) return known;
    // A chrooted process sees only the mounts under its root: the namespace's table is read from
    // one of its processes whose root is "/" (a chrooted first process left its own items, and
    // everyone's, without a mount), else this partial view serves this process alone.
    const root = rootOf(procDir);
    let whole: string | undefined = procDir;
    if (root !== null && root !== '/') {
      // Looked for once per namespace: a namespace of chrooted processes only keeps their own views.
      whole = this.searched.has(mntNs) ? undefined : this.candidates.find((dir) => rootOf(dir) === '/' && tryOr(() => fs.readlinkSync(`${dir}/ns/mnt`), null) === mntNs);
      this.searched.add(mntNs);
      if (whole === undefined) return this.ownView(mntNs, procDir);
    }
    // null when vanished or unreadable: tried again with the next process of this namespace.
    const table = this.read(mntNs, whole);
    this.namespaces.set(mntNs, table);
    return table;
  }

  private read(mntNs: string, procDir: string, under = ''): NamespaceMounts | null {
    try {
      return new NamespaceMounts(
        parseMountInfo(fs.readFileSync(`${procDir}/mountinfo`, 'latin1')),
        this.unanswered.filter((mount) => mount.mntNs === mntNs),
        under,
      );
    } catch {
      return null;
    }
  }

  /**
   * UUID of the file system on a block device (null: none, or the nil UUID): /dev/disk/by-uuid first, else an ext superblock. A
   * btrfs mount shows an anonymous device number (0:NN): its UUID is that of the device its source
   * names (by-uuid, else the fsid of /sys/fs/btrfs, else the btrfs superblock).
   */
  uuidFor(mount: Mount): string | null {
    const cached = this.uuids.get(mount.dev);
    if (cached !== undefined) return cached;
    let uuid: string | null = null;
    if (!mount.dev.startsWith('0:')) {
      // udev's links first; without udev (containers, fresh loop devices) the superblock itself.
      uuid = this.byUuid().get(mount.dev) ?? readExtSuperblockUuid(`/dev/block/${mount.dev}`) ?? this.uuidFromSource(mount);
    } else if (mount.fsType === 'btrfs') {
      // udev's link, else the fsid sysfs names the file system by, else the superblock itself.
      const device = namedDevice(mount.source);
      if (device !== null) uuid = this.byUuid().get(device) ?? btrfsWith(device)?.fsid ?? readBtrfsSuperblockUuid(mount.source);
    }
    // The nil UUID (tune2fs -U clear) is no UUID, wherever it was read: never an identity to match by.
    if (uuid === NIL_UUID) uuid = null;
    this.uuids.set(mount.dev, uuid);
    return uuid;
  }

  private readonly uppers = new Map<string, UpperLayer | null>();

  /**
   * The file system an overlay's upper directory is on (its device and UUID), as the process at
   * procDir sees it (from its root, and from here when the same overlay is mounted here too, as a
   * container runtime's is); null when it is not found, or found on two devices (which one the
   * overlay writes to cannot be told). A deleted file held through an overlay is in its upper
   * layer (one deleted from a lower layer keeps its link there: docs/limits.md).
   */
  upperOf(mount: Mount, procDir: string): UpperLayer | null {
    const key = `${mount.superOptions}\0${procDir}`;
    const known = this.uppers.get(key);
    if (known !== undefined) return known;
    const roots = mountedHere('overlay', mount.superOptions) ? ['', `${procDir}/root`] : [`${procDir}/root`];
    const upper = overlayLayers(mount.superOptions, roots).find((layer) => layer.name === 'upper directory');
    const device = upper?.found.length === 1 ? (upper.found[0]?.device ?? null) : null;
    let found: UpperLayer | null = null;
    if (device !== null) {
      // Its mount, where a namespace walked lists one (a btrfs upper has an anonymous device: its source names the disk).
      const its = [...this.namespaces.values()].flatMap((table) => (table === null ? [] : table.mountsOf(device)))[0];
      found = { dev: device, fsUuid: this.uuidFor(its ?? { mntId: -1, parentId: -1, dev: device, root: '/', mountPoint: '', options: '', superOptions: '', fsType: '', source: '' }) };
    }
    this.uppers.set(key, found);
    return found;
  }

  /** The block device node with that MAJOR:MINOR: the mount's source (e.g. /dev/loop3), else any node in /dev. */
  private uuidFromSource(mount: Mount): string | null {
    const candidates = [mount.source, ...this.devNodes()];
    for (const candidate of candidates) {
      try {
        const stat = fs.statSync(candidate);
        if (stat.isBlockDevice() && devString(stat.rdev) === mount.dev) return readExtSuperblockUuid(candidate);
      } catch {
        // not a device node
      }
    }
    return null;
  }

  private nodes: string[] | null = null;

  private devNodes(): string[] {
    if (this.nodes === null) {
      try {
        this.nodes = fs.readdirSync('/dev').map((name) => `/dev/${name}`);
      } catch {
        this.nodes = [];
      }
    }
    return this.nodes;
  }

  private byUuid(): Map<string, string> {
    if (this.byUuidDir !== null) return this.byUuidDir;
    const map = new Map<string, string>();
    const dir = '/dev/disk/by-uuid';
    try {
      for (const name of fs.readdirSync(dir)) {
        try {
          const stat = fs.statSync(`${dir}/${name}`);
          if (stat.isBlockDevice()) map.set(devString(stat.rdev), name.toLowerCase());
        } catch {
          // dangling link
        }
      }
    } catch {
      // no udev (containers, minimal systems): fall back to reading superblocks
    }
    this.byUuidDir = map;
    return map;
  }

  records(): MountRecord[] {
    const records: MountRecord[] = [];
    const stored = new Set<string>();
    // The namespaces' tables first, then the processes' own views (a chroot's repeats some mounts, as seen from inside).
    const views = [...this.namespaces].sort(([a], [b]) => Number(a.includes('\0')) - Number(b.includes('\0')));
    for (const [key, table] of views) {
      if (table === null) continue;
      const mntNs = key.split('\0')[0] ?? key;
      for (const mount of table.mounts) {
        if (stored.has(`${mntNs}\0${mount.mntId}`)) continue;
        stored.add(`${mntNs}\0${mount.mntId}`);
        records.push({
          mntNs,
          mntId: mount.mntId,
          parentId: mount.parentId,
          dev: mount.dev,
          root: mount.root,
          mountPoint: mount.mountPoint,
          fsType: mount.fsType,
          source: mount.source,
          fsUuid: this.uuids.get(mount.dev) ?? null,
          options: mount.options,
          superOptions: mount.superOptions,
        });
      }
    }
    return records;
  }
}

/** The process's root directory as the kernel names it ("/" unless chrooted), or null. */
function rootOf(procDir: string): string | null {
  return tryOr(() => fs.readlinkSync(`${procDir}/root`, 'latin1'), null);
}

/** What mountinfo appends to a mount's root when the file or directory bind-mounted there was deleted since. */
const DELETED_ROOT = '//deleted';

export interface DeletedBindMount {
  dev: string;
  fsType: string;
  /** The deleted file's path: within its file system (mountinfo's root), and as a mount of that file system's root showed it, when one did. */
  root: Buffer;
  path: Buffer | null;
  /** Where it is mounted, each with its mount namespace. */
  mountPoints: Array<{ mountPoint: Buffer; mntNs: string }>;
}

/**
 * Mounts whose root was deleted after it was bind-mounted (`mount --bind FILE TARGET; rm FILE`, a
 * container's bind-mounted file replaced on the host): the kernel keeps the file for the mount,
 * even when no process holds it open. Once per file system and root, with every mount point.
 */
export function deletedBindMounts(mounts: readonly MountRecord[]): DeletedBindMount[] {
  const found = new Map<string, DeletedBindMount>();
  for (const mount of mounts) {
    if (!mount.root.endsWith(DELETED_ROOT)) continue;
    const root = mount.root.slice(0, -DELETED_ROOT.length);
    const key = `${mount.dev}\0${root}`;
    let known = found.get(key);
    if (known === undefined) {
      // The file system's root mounted in the same namespace: where the file was, as its processes saw it.
      const whole = mounts.find((other) => other.mntNs === mount.mntNs && other.dev === mount.dev && other.root === '/');
      const path = whole === undefined ? null : Buffer.from(`${whole.mountPoint === '/' ? '' : whole.mountPoint}${root}`, 'latin1');
      known = { dev: mount.dev, fsType: mount.fsType, root: Buffer.from(root, 'latin1'), path, mountPoints: [] };
      found.set(key, known);
    }
    const mountPoint = Buffer.from(mount.mountPoint, 'latin1');
    if (!known.mountPoints.some((seen) => seen.mntNs === mount.mntNs && seen.mountPoint.equals(mountPoint))) known.mountPoints.push({ mountPoint, mntNs: mount.mntNs });
  }
  return [...found.values()];
}
