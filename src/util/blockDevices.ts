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
 * Every device the bytes of deviceId are stored on, however deep (a partition of a loop device whose
 * backing file is on an LVM volume...), each with the step that reached it. A loop device's backing
 * file is stat'ed by the path the kernel shows (in this mount namespace; one of another namespace
 * may name another file here, one that cannot be stat'ed is followed to its folder's device).
 */
export function devicesUnder(deviceId: string): Map<string, StoredOn> {
  const found = new Map<string, StoredOn>();
  const visit = (id: string): void => {
    const dir = sysfsDir(id);
    if (dir === null) return;
    const next: Array<[string, string]> = [];
    const disk = fs.existsSync(path.join(dir, 'partition')) ? deviceIdOf(path.dirname(dir)) : null;
    if (disk !== null) next.push([disk, `a partition of ${disk}`]);
    for (const slave of listed(dir, 'slaves')) next.push([slave, `built on ${slave}`]);
    const backing = loopBacking(dir);
    if (backing !== null) next.push([backing.device, `a loop device whose backing file ${displayBytes(backing.file)} is on ${backing.device}`]);
    for (const [device, how] of next) {
      if (device === deviceId || found.has(device)) continue;
      found.set(device, { from: id, how });
      visit(device);
    }
  };
  visit(deviceId);
  return found;
}

/**
 * Where the writes into a directory land: its own device (st_dev) and every device under it, as
 * devicesUnder, and also those st_dev does not lead to. A directory on an overlay (a container's
 * root) is written into the overlay's upper and work directories, on their file systems; one on
 * btrfs carries the device number of its subvolume, an anonymous one: its blocks are on the mount's
 * source device. Both are read from the directory's own mount (its mnt_id, from /proc/self/fdinfo),
 * and followed further (an upper directory on a loop-mounted image, an overlay on btrfs).
 */
export function devicesUnderDir(dir: string | Buffer): { device: string; under: Map<string, StoredOn> } {
  const device = devString(fs.statSync(dir).dev);
  const under = devicesUnder(device);
  const seen = new Set<number>();
  const follow = (from: string, at: string | Buffer): void => {
    const mount = mountOf(at);
    if (mount === null || seen.has(mount.mntId)) return;
    seen.add(mount.mntId);
    const add = (next: string, how: string): void => {
      if (next === device || under.has(next)) return;
      under.set(next, { from, how });
      for (const [deeper, step] of devicesUnder(next)) if (deeper !== device && !under.has(deeper)) under.set(deeper, step);
    };
    if (mount.fsType === 'overlay') {
      for (const { name, dir: writable } of overlayWritableDirs(mount.superOptions)) {
        const stat = tryOr(() => fs.statSync(writable), null);
        if (stat === null) continue;
        const next = devString(stat.dev);
        add(next, `an overlay whose ${name} ${displayBytes(writable)} is on ${next}`);
        follow(next, writable);
      }
      return;
    }
    const source = sourceDevice(mount.source);
    if (source !== null) add(source, `a ${mount.fsType} file system on ${mount.source}, ${source}`);
  };
  follow(device, dir);
  return { device, under };
}

/** upperdir= and workdir= of an overlay's super options (mountinfo writes a comma, space or backslash of a path as \ooo: seq_show_option). */
export function overlayWritableDirs(superOptions: string): Array<{ name: 'upper directory' | 'work directory'; dir: Buffer }> {
  return superOptions
    .split(',')
    .filter((option) => option.startsWith('upperdir=') || option.startsWith('workdir='))
    .map((option) => ({ name: option.startsWith('upperdir=') ? 'upper directory' : 'work directory', dir: unescapeOctal(option.slice(option.indexOf('=') + 1)) }));
}

/** The block device (MAJ:MIN) a mount's source names in this mount namespace, or null (tmpfs, overlay, a path of another namespace). */
export function sourceDevice(source: string): string | null {
  const stat = source.startsWith('/') ? tryOr(() => fs.statSync(source), null) : null;
  return stat?.isBlockDevice() === true ? devString(stat.rdev) : null;
}

/** The block device a directory's mount names as its source (the device of a btrfs whose subvolume it is in), or null. */
export function mountSourceOf(dir: string | Buffer): { device: string; mount: MountInfo } | null {
  const mount = mountOf(dir);
  const device = mount === null ? null : sourceDevice(mount.source);
  return mount === null || device === null ? null : { device, mount };
}

/** The mount a directory is on, in this process's mount namespace: by the mnt_id of an fd opened on it. */
function mountOf(dir: string | Buffer): MountInfo | null {
  const fd = tryOr(() => fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY), null);
  if (fd === null) return null;
  let mntId: number | null;
  try {
    mntId = tryOr(() => parseFdInfo(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1')).mntId, null);
  } finally {
    fs.closeSync(fd);
  }
  if (mntId === null) return null;
  return tryOr(() => parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'latin1')), [] as MountInfo[]).find((mount) => mount.mntId === mntId) ?? null;
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

/** The backing file of a loop device (its sysfs directory) and the device that holds it; null when not a bound loop device. */
function loopBacking(dir: string): { file: Buffer; device: string } | null {
  const text = tryOr(() => fs.readFileSync(path.join(dir, 'loop', 'backing_file')), null);
  if (text === null) return null;
  const file = text.at(-1) === 0x0a ? text.subarray(0, -1) : text;
  if (file.length === 0) return null;
  // A backing block device (losetup /dev/sdb1) holds the bytes itself: its rdev, not the /dev file's dev.
  const stat = tryOr(() => fs.statSync(file), null);
  if (stat !== null) return { file, device: devString(stat.isBlockDevice() ? stat.rdev : stat.dev) };
  // Deleted since (the kernel shows "PATH (deleted)") or renamed: its blocks are on its folder's file system.
  const folder = tryOr(() => fs.statSync(Buffer.from(path.dirname(file.toString('latin1')), 'latin1')), null);
  return folder === null ? null : { file, device: devString(folder.dev) };
}
