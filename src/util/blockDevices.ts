// How block devices stack, read from sysfs: what a device's bytes are stored on (a partition's disk,
// a dm or md device's slaves, a loop device's backing file) and what is built on it. Both the live
// half (recover: never write onto the evidence) and the offline half (image: never write the case
// onto the device examined) ask it.
import fs from 'node:fs';
import path from 'node:path';
import { devString, parseFdInfo, parseMountInfo, unescapeOctal, type MountInfo } from '../../parsers/procfs.js';
import { displayBytes } from './bytes.js';
import { tryOr } from './tryOr.js';

/** One step down: `from` is stored on the device it is the key of, and `how` says why, e.g. "a partition of 8:0". */
export interface StoredOn {
  from: string;
  how: string;
}

/**
 * Where the writes into a directory land: its own device (st_dev) and every device its bytes are
 * stored on, however deep (a partition of a loop device whose backing file is on an LVM volume...),
 * each with the step that reached it. From sysfs: a partition's disk, a dm or md volume's slaves, a
 * loop device's backing file (stat'ed by the path the kernel shows, in this mount namespace; one of
 * another namespace may name another file here, one that cannot be stat'ed is followed to its
 * folder's device). From the directory's own mount (its mnt_id from /proc/self/fdinfo, in
 * /proc/self/mountinfo), what st_dev does not lead to: an overlay (a container's root) is written
 * into its upper and work directories, on their file systems; btrfs gives each subvolume an
 * anonymous device number of its own, its blocks are on the mount's source device (and the other
 * devices of a btrfs spanning several). Those are followed further (an upper directory on a
 * loop-mounted image, an overlay on btrfs), as is the folder of a loop device's backing file (an
 * image file in a btrfs subvolume).
 */
export function devicesUnderDir(dir: string | Buffer): { device: string; under: Map<string, StoredOn>; unseen: string[]; loopFiles: Map<string, LoopFile> } {
  const device = devString(fs.statSync(dir).dev);
  const walk = new StackWalk(device, dir);
  return { device, under: walk.found, unseen: walk.unseen, loopFiles: walk.loopFiles };
}

/** A regular file a loop device on the way down reads from: the loop device ("MAJOR:MINOR") and the file's name. */
export interface LoopFile {
  loop: string;
  file: Buffer;
}

/**
 * The regular files loop devices read from, on the way down from a block device (the device itself
 * when it is a loop device, a loop device a partition or volume is on), keyed "DEV/INODE" (see
 * fileKey): two loop devices over one file (one at an offset: a partition of it) write one file.
 */
export function loopFilesUnder(deviceId: string): Map<string, LoopFile> {
  return new StackWalk(deviceId).loopFiles;
}

/** A file's identity as loopFilesUnder keys it. */
export function fileKey(stat: { dev: number | bigint; ino: number | bigint }): string {
  return `${devString(Number(stat.dev))}/${String(stat.ino)}`;
}

/** One step down: to `device`, said as `how`; `dir` a folder on it whose mount is followed in turn. */
interface Step {
  device: string;
  how: string;
  dir: string | Buffer | null;
}

/** The walk down from one device (and, when known, a directory on it): sysfs steps and mount steps. */
class StackWalk {
  readonly found = new Map<string, StoredOn>();
  /** The regular files loop devices on the way read from (see loopFilesUnder). */
  readonly loopFiles = new Map<string, LoopFile>();
  /** What the walk could not follow, said as "on ...": where those writes land is not known. */
  readonly unseen: string[] = [];
  private readonly mountsSeen = new Set<number>();
  /** This mount namespace's mounts, read once for the walk when first needed. */
  private mounts: MountInfo[] | null = null;

  constructor(
    private readonly top: string,
    dir?: string | Buffer,
  ) {
    this.visit(top, dir ?? null);
  }

  private visit(id: string, dir: string | Buffer | null): void {
    const steps: Step[] = [];
    const sysfs = sysfsDir(id);
    if (sysfs !== null) {
      const disk = fs.existsSync(path.join(sysfs, 'partition')) ? deviceIdOf(path.dirname(sysfs)) : null;
      if (disk !== null) steps.push({ device: disk, how: `a partition of ${disk}`, dir: null });
      for (const slave of listed(sysfs, 'slaves')) steps.push({ device: slave, how: `built on ${slave}`, dir: null });
      const backing = loopBacking(sysfs);
      if (backing?.key != null) this.loopFiles.set(backing.key, { loop: id, file: backing.file });
      if (backing !== null) steps.push({ device: backing.device, how: `a loop device whose backing file ${displayBytes(backing.file)} is on ${backing.device}`, dir: backing.folder });
    }
    this.take(id, dir === null ? steps : [...steps, ...this.mountSteps(dir)]);
  }

  private take(id: string, steps: readonly Step[]): void {
    for (const step of steps) {
      if (step.device === this.top || this.found.has(step.device)) {
        // Reached before, but not through this folder's mount (a loop image's folder, an upper directory).
        if (step.dir !== null) this.take(step.device, this.mountSteps(step.dir));
        continue;
      }
      this.found.set(step.device, { from: id, how: step.how });
      this.visit(step.device, step.dir);
    }
  }

  /** The devices a directory's mount writes to beyond its st_dev: an overlay's upper and work directories', a btrfs's devices. */
  private mountSteps(dir: string | Buffer): Step[] {
    const mount = mountOf(dir, () => (this.mounts ??= ownMounts()));
    if (mount === null || this.mountsSeen.has(mount.mntId)) return [];
    this.mountsSeen.add(mount.mntId);
    if (mount.fsType === 'overlay') {
      return overlayLayers(mount.superOptions).flatMap(({ name, dir: writable, found }) => {
        const device = found[0]?.device ?? null;
        if (device === null) {
          if (name === 'upper directory') this.unseen.push(`an overlay whose upper directory ${displayBytes(writable)} cannot be seen from here (a relative path, or one of another mount namespace)`);
          return [];
        }
        return [{ device, how: `an overlay whose ${name} ${displayBytes(writable)} is on ${device}`, dir: writable }];
      });
    }
    if (mount.fsType.startsWith('fuse.') || mount.fsType === 'fuse') {
      this.unseen.push(`a FUSE file system (${mount.fsType} ${mount.source}), whose daemon decides where its writes go`);
      return [];
    }
    const devices = mountDevices(mount);
    if (devices.length === 0 && mount.fsType === 'btrfs') this.unseen.push(`a btrfs whose device ${mount.source} cannot be found here`);
    return devices.map((device) => ({ device, how: `a ${mount.fsType} file system on ${mount.source}, ${device}`, dir: null }));
  }
}

/**
 * The block devices a mount's source names, in this mount namespace: the source's device node, else
 * the block device of that name in sysfs (a container with a /dev of its own); for btrfs, every
 * device of the file system (/sys/fs/btrfs/FSID/devices), not only the one the source names.
 */
export function mountDevices(mount: Pick<MountInfo, 'source' | 'fsType'>): string[] {
  const named = namedDevice(mount.source);
  if (named === null) return [];
  return mount.fsType === 'btrfs' ? [named, ...(btrfsWith(named)?.devices.filter((id) => id !== named) ?? [])] : [named];
}

/** The btrfs that has `member` among its devices, as sysfs knows it: its fsid (its UUID) and all its devices; null when sysfs does not say. */
export function btrfsWith(member: string): { fsid: string; devices: string[] } | null {
  for (const fsid of tryOr(() => fs.readdirSync('/sys/fs/btrfs'), [] as string[])) {
    const devicesDir = `/sys/fs/btrfs/${fsid}/devices`;
    const devices = tryOr(() => fs.readdirSync(devicesDir), [] as string[])
      .map((name) => deviceIdOf(path.join(devicesDir, name)))
      .filter((id): id is string => id !== null);
    if (devices.includes(member)) return { fsid, devices };
  }
  return null;
}

/**
 * upperdir= and workdir= of an overlay's super options. mountinfo writes a comma, space or backslash
 * of the option as \ooo (seq_show_option); the option itself is as it was given, with overlay's own
 * escapes: a backslash keeps the next character (a comma) in the path (fs/overlayfs ovl_unescape).
 */
/**
 * An overlay's upper and work directories with the devices each is on, looked up under each of
 * `roots` ('' is here; "/proc/PID/root" is a holder's root): none when not found under any, as for
 * a relative path (the mount was made from its folder), a path of another mount namespace (inside a
 * container, its root's upper directory is the host's path), or gone.
 */
export function overlayLayers(superOptions: string, roots: readonly string[] = ['']): Array<{ name: 'upper directory' | 'work directory'; dir: Buffer; found: Array<{ path: Buffer; device: string }> }> {
  return overlayWritableDirs(superOptions).map(({ name, dir }) => {
    const found: Array<{ path: Buffer; device: string }> = [];
    for (const root of dir[0] === 0x2f ? roots : []) {
      const at = Buffer.concat([Buffer.from(root, 'latin1'), dir]);
      const stat = tryOr(() => fs.statSync(at), null);
      const device = stat === null ? null : devString(stat.dev);
      if (device !== null && !found.some((known) => known.device === device)) found.push({ path: at, device });
    }
    return { name, dir, found };
  });
}

export function overlayWritableDirs(superOptions: string): Array<{ name: 'upper directory' | 'work directory'; dir: Buffer }> {
  return superOptions
    .split(',')
    .filter((option) => option.startsWith('upperdir=') || option.startsWith('workdir='))
    .map((option) => ({
      name: option.startsWith('upperdir=') ? 'upper directory' : 'work directory',
      dir: Buffer.from(unescapeOctal(option.slice(option.indexOf('=') + 1)).toString('latin1').replace(/\\(.)/gs, '$1'), 'latin1'),
    }));
}

/**
 * The block device (MAJ:MIN) a mount's source names: its device node here, else the block device of
 * that name in sysfs (a container with a /dev of its own); null for tmpfs, overlay and the like.
 */
export function namedDevice(source: string): string | null {
  const stat = source.startsWith('/') ? tryOr(() => fs.statSync(source), null) : null;
  if (stat?.isBlockDevice() === true) return devString(stat.rdev);
  return source.startsWith('/dev/') ? deviceIdOf(`/sys/class/block/${path.basename(source)}`) : null;
}

/** The block devices a directory's mount names as its source (the devices of a btrfs whose subvolume it is in), and the mount. */
export function mountSourceOf(dir: string | Buffer): { devices: string[]; mount: MountInfo } | null {
  const mount = mountOf(dir, ownMounts);
  return mount === null ? null : { devices: mountDevices(mount), mount };
}

/** The mount a directory is on, among `mounts` (this process's namespace's): by the mnt_id of an fd opened on it. */
function mountOf(dir: string | Buffer, mounts: () => MountInfo[]): MountInfo | null {
  const fd = tryOr(() => fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY), null);
  if (fd === null) return null;
  let mntId: number | null;
  try {
    mntId = tryOr(() => parseFdInfo(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1')).mntId, null);
  } finally {
    fs.closeSync(fd);
  }
  return mntId === null ? null : (mounts().find((mount) => mount.mntId === mntId) ?? null);
}

/** A mount of device DEV (MAJ:MIN) in this process's mount namespace, or null. */
export function ownMountOfDevice(dev: string): MountInfo | null {
  return ownMounts().find((mount) => mount.dev === dev) ?? null;
}

/**
 * The mounts of block device DEV (MAJ:MIN) in this process's mount namespace: by their device number,
 * or by the device their source names (btrfs shows an anonymous device number of its own).
 */
export function ownMountsOfDevice(dev: string): MountInfo[] {
  return ownMounts().filter((mount) => mount.dev === dev || (mount.source.startsWith('/') && mountDevices(mount).includes(dev)));
}

/** Whether a file system of that type with those super options (one superblock) is mounted in this process's mount namespace. */
export function mountedHere(fsType: string, superOptions: string): boolean {
  return ownMounts().some((mount) => mount.fsType === fsType && mount.superOptions === superOptions);
}

/** This process's mount namespace's mounts (none when unreadable). */
function ownMounts(): MountInfo[] {
  return tryOr(() => parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'latin1')), [] as MountInfo[]);
}

/** "8:1, a partition of 8:0, built on 7:0": how deviceId comes to be stored on `reached` (a key of devicesUnder). */
export function storedOnChain(deviceId: string, reached: string, under: ReadonlyMap<string, StoredOn>): string {
  const steps: string[] = [];
  for (let at = reached; at !== deviceId; ) {
    const step = under.get(at);
    if (step === undefined) break;
    steps.unshift(step.how);
    at = step.from;
  }
  return [deviceId, ...steps].join(', ');
}

/** What is built on a device, recursively: its partitions, and the dm or md devices holding it. */
export function devicesBuiltOn(deviceId: string): Set<string> {
  const found = new Set<string>();
  const visit = (id: string): void => {
    const dir = sysfsDir(id);
    if (dir === null) return;
    const partitions = tryOr(() => fs.readdirSync(dir), [] as string[])
      .filter((name) => fs.existsSync(path.join(dir, name, 'partition')))
      .map((name) => deviceIdOf(path.join(dir, name)))
      .filter((id_): id_ is string => id_ !== null);
    for (const device of [...listed(dir, 'holders'), ...partitions]) {
      if (found.has(device)) continue;
      found.add(device);
      visit(device);
    }
  };
  visit(deviceId);
  return found;
}

/**
 * The block devices that may show this device's bytes, or whose bytes it shows (at some offset), as
 * sysfs says now: itself, what it is built on (dm or md slaves, a loop device's backing device),
 * what is built on any of those (partitions, volumes), and the loop devices over the same file as a
 * loop device among them. A file system seen through one of them may be the one on this device; a
 * device outside the set holds other bytes (a clone's, when the UUID is the same).
 */
export function devicesSharingBytes(deviceId: string): Set<string> {
  const below = new Set<string>([deviceId]);
  const down = (id: string): void => {
    const dir = sysfsDir(id);
    if (dir === null) return;
    const backing = loopBacking(dir);
    const under = [...listed(dir, 'slaves'), ...(backing !== null && backing.key === undefined && backing.folder === null ? [backing.device] : [])];
    if (backing?.key !== undefined) under.push(...loopDevicesReading(backing.key).map((loop) => loop.id));
    for (const device of under) {
      if (below.has(device)) continue;
      below.add(device);
      down(device);
    }
  };
  down(deviceId);
  const found = new Set(below);
  for (const device of below) for (const built of devicesBuiltOn(device)) found.add(built);
  return found;
}

/** A block device's sysfs directory (its own, through /sys/dev/block/MAJ:MIN), or null. */
function sysfsDir(deviceId: string): string | null {
  return tryOr(() => fs.realpathSync(`/sys/dev/block/${deviceId}`), null);
}

function deviceIdOf(dir: string): string | null {
  return tryOr(() => fs.readFileSync(path.join(dir, 'dev'), 'utf8').trim(), null);
}

/** The devices named in a sysfs list directory (holders/ or slaves/): their MAJ:MIN. */
function listed(dir: string, list: 'holders' | 'slaves'): string[] {
  return tryOr(() => fs.readdirSync(path.join(dir, list)), [] as string[])
    .map((name) => deviceIdOf(`/sys/class/block/${name}`))
    .filter((id): id is string => id !== null);
}

/** The backing file of a loop device (its sysfs directory), the device that holds it and its folder; null when not a bound loop device. */
function loopBacking(dir: string): { file: Buffer; device: string; folder: Buffer | null; key?: string } | null {
  const text = tryOr(() => fs.readFileSync(path.join(dir, 'loop', 'backing_file')), null);
  if (text === null) return null;
  const file = text.at(-1) === 0x0a ? text.subarray(0, -1) : text;
  if (file.length === 0) return null;
  // A backing block device (losetup /dev/sdb1) holds the bytes itself: its rdev, not the /dev file's dev.
  const folder = Buffer.from(path.dirname(file.toString('latin1')), 'latin1');
  const stat = tryOr(() => fs.statSync(file), null);
  if (stat !== null) return stat.isBlockDevice() ? { file, device: devString(stat.rdev), folder: null } : { file, device: devString(stat.dev), folder, key: fileKey(stat) };
  // Deleted since (the kernel shows "PATH (deleted)") or renamed: its blocks are on its folder's file system.
  const folderStat = tryOr(() => fs.statSync(folder), null);
  return folderStat === null ? null : { file, device: devString(folderStat.dev), folder };
}

/**
 * The loop devices that read the file of this identity (fileKey of its stat), each attached over it
 * (at any offset: a partition of a disk image attached alone), as MAJ:MIN and its /dev node. The
 * kernel's name of the backing file is stat'ed here: one attached in another mount namespace under
 * a path that names another file here is not found.
 */
export function loopDevicesReading(key: string, sysBlock = '/sys/block'): Array<{ id: string; node: string }> {
  const found: Array<{ id: string; node: string }> = [];
  for (const name of tryOr(() => fs.readdirSync(sysBlock), [] as string[])) {
    if (!name.startsWith('loop')) continue;
    const dir = path.join(sysBlock, name);
    const id = deviceIdOf(dir);
    if (id !== null && loopBacking(dir)?.key === key) found.push({ id, node: `/dev/${name}` });
  }
  return found;
}

/**
 * Loop devices whose backing file the kernel names "... (deleted)": a file deleted while a loop
 * device still reads from it (a hidden disk image) is held by the kernel, not by a process: no fd,
 * no mapping, so the /proc walk cannot list it. Only the kernel's name says it (a loop device keeps
 * no fd a stat could reach), so this is a hint: a file may be named so, or keep another link.
 */
export function deletedLoopBackings(sysBlock = '/sys/block'): Array<{ device: string; backing: Buffer; offset: number }> {
  const found: Array<{ device: string; backing: Buffer; offset: number }> = [];
  for (const name of tryOr(() => fs.readdirSync(sysBlock), [] as string[])) {
    if (!name.startsWith('loop')) continue;
    const text = tryOr(() => fs.readFileSync(path.join(sysBlock, name, 'loop', 'backing_file')), null);
    if (text === null) continue; // not attached
    const backing = text.subarray(0, text[text.length - 1] === 0x0a ? text.length - 1 : text.length);
    if (!backing.toString('latin1').endsWith(' (deleted)')) continue;
    const offset = Number(tryOr(() => fs.readFileSync(path.join(sysBlock, name, 'loop', 'offset'), 'latin1').trim(), '0'));
    found.push({ device: `/dev/${name}`, backing, offset: Number.isSafeInteger(offset) ? offset : 0 });
  }
  return found;
}
