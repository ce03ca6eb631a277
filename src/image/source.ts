// The evidence itself: check it is something we can read, hash it, read its superblocks, all read-only.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { UnlinkedError, errnoCode } from '../errors.js';
import { backupSuperblockShift, parseExtSuperblock, type ExtSuperblock } from '../../parsers/extSuperblock.js';
import { devString } from '../../parsers/procfs.js';
import { devicesBuiltOn, devicesUnderDir, fileKey, loopDevicesReading, loopFilesUnder, ownMountsOfDevice, storedOnChain } from '../util/blockDevices.js';
import { displayBytes } from '../util/bytes.js';
import { absolutePath } from '../util/cwd.js';
import { tryOr } from '../util/tryOr.js';
import { workerFits } from '../util/addressSpace.js';

export interface ImageSource {
  path: string;
  isDevice: boolean;
  size: number;
  /** "MAJOR:MINOR" of a block device (what live items record as their dev), null for an image file. */
  deviceId: string | null;
  /** An image file as it was when opened (null for a device: writes to one leave no such trace). */
  stamp: FileStamp | null;
  /**
   * A live file system on it (asked once, when first needed): a device mounted (see isMounted), or an
   * image file read by a loop device that is (see liveLoops).
   */
  readonly mounted: boolean;
  /** An image file: the loop devices reading it that are mounted (their /dev nodes); none for a device. */
  readonly liveLoops: readonly string[];
}

/** What any write to a file changes: its size, mtime and ctime (ns), or its identity when replaced. */
export interface FileStamp {
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  dev: bigint;
  ino: bigint;
}

function stampOf(stat: fs.BigIntStats): FileStamp {
  return { size: stat.size, mtimeNs: stat.mtimeNs, ctimeNs: stat.ctimeNs, dev: stat.dev, ino: stat.ino };
}

/**
 * What changed in an image file since it was opened, or null when nothing did. Every write moves
 * mtime and ctime (to the nanosecond), and nothing but a change of the system clock can set ctime
 * back: the same stamp after the scan means no write reached the file meanwhile.
 */
export function changedSinceOpened(source: ImageSource): string | null {
  if (source.stamp === null) return null;
  let now: FileStamp;
  try {
    now = stampOf(fs.statSync(source.path, { bigint: true }));
  } catch (error) {
    return `it cannot be looked at any more: ${errnoCode(error) ?? String(error)}`;
  }
  const before = source.stamp;
  const changes: string[] = [];
  if (now.dev !== before.dev || now.ino !== before.ino) changes.push('it is another file now (device or inode differ)');
  if (now.size !== before.size) changes.push(`size ${before.size} -> ${now.size}`);
  if (now.mtimeNs !== before.mtimeNs) changes.push('mtime moved');
  if (now.ctimeNs !== before.ctimeNs) changes.push('ctime moved');
  return changes.length === 0 ? null : changes.join(', ');
}

const DEV_BLOCK = /^\/dev\/block\/(\d+):(\d+)$/;

export function openImageSource(image: string): ImageSource {
  let absolute = absolutePath(image);
  // /dev/block/MAJ:MIN is a udev link; without udev, find the node through sysfs.
  const byNumber = DEV_BLOCK.exec(absolute);
  if (byNumber !== null && !fs.existsSync(absolute)) absolute = deviceNodeFor(`${byNumber[1]}:${byNumber[2]}`) ?? absolute;
  // Major 0: an anonymous device number (btrfs, tmpfs, overlay...), which list shows as an item's dev: no block device.
  if (byNumber?.[1] === '0' && !fs.existsSync(absolute)) {
    throw new UnlinkedError('BAD_INPUT', `${absolute}: major 0 is an anonymous device number (btrfs, tmpfs, overlay, proc...), with no block device behind it to read: ` +
      'copy a file of it from the live host with `unlinked recover --item ID` (a btrfs is on the block devices its mount names, not an ext file system image extract can read)');
  }
  // bigint: the stamp of an image file keeps its times to the nanosecond.
  let stat: fs.BigIntStats;
  try {
    stat = fs.statSync(absolute, { bigint: true });
    // One image, one path: reached through a symbolic link (/dev/disk/by-id/..., a link to the
    // evidence) it is recorded, and found again, under its real path.
    absolute = fs.realpathSync(absolute);
  } catch (error) {
    const code = errnoCode(error);
    throw new UnlinkedError('BAD_INPUT', `cannot read ${absolute}: ${code === 'ENOENT' ? 'no such file or device' : code === 'EACCES' ? 'permission denied' : (code ?? String(error))}`);
  }
  if (stat.isDirectory()) throw new UnlinkedError('BAD_INPUT', `${absolute} is a directory, not a disk image or block device`);
  if (!stat.isFile() && !stat.isBlockDevice()) {
    // A character device (/dev/zero, a tape, /dev/sg*) or a FIFO streams its bytes: read once, gone; no offset to seek to.
    const what = stat.isCharacterDevice() ? 'a character device' : stat.isFIFO() ? 'a FIFO' : stat.isSocket() ? 'a socket' : 'not a regular file';
    throw new UnlinkedError('BAD_INPUT', `${absolute} is ${what}, not a disk image or block device: only those can be read at any offset (copy a stream to an image file first)`);
  }
  const deviceId = stat.isBlockDevice() ? devString(Number(stat.rdev)) : null;
  let size: number;
  try {
    // Opened read-only, like every tool that reads it after us.
    const fd = fs.openSync(absolute, fs.constants.O_RDONLY);
    fs.closeSync(fd);
    size = deviceId === null ? Number(stat.size) : Number(fs.readFileSync(`/sys/dev/block/${deviceId}/size`, 'utf8').trim()) * 512;
  } catch (error) {
    throw new UnlinkedError('BAD_INPUT', `cannot open ${absolute} read-only: ${errnoCode(error) ?? String(error)}`);
  }
  if (size === 0) throw new UnlinkedError('BAD_INPUT', `${absolute} is empty (0 bytes)`);
  let mounted: boolean | null = null;
  let liveLoops: string[] | null = null;
  return {
    path: absolute, isDevice: deviceId !== null, size, deviceId, stamp: deviceId === null ? stampOf(stat) : null,
    get mounted() {
      return (mounted ??= deviceId !== null ? isMounted(deviceId) || claimed(absolute) : this.liveLoops.length > 0);
    },
    get liveLoops() {
      // Mounted in any mount namespace, or a partition of it: the kernel claims the loop device (see claimed).
      return (liveLoops ??= deviceId !== null ? [] : loopDevicesReading(fileKey(stat)).filter((loop) => isMounted(loop.id) || claimed(loop.node)).map((loop) => loop.node));
    },
  };
}

function deviceNodeFor(deviceId: string): string | null {
  try {
    const devname = /^DEVNAME=(.+)$/m.exec(fs.readFileSync(`/sys/dev/block/${deviceId}/uevent`, 'utf8'))?.[1];
    return devname === undefined ? null : path.join('/dev', devname);
  } catch {
    return null;
  }
}

export interface HashJob {
  done: Promise<{ sha256: string; bytes: number }>;
  /** Stop reading (the scan failed): the worker must not keep a large device busy for nothing. */
  stop(): void;
}

const HASH_WORKER = new URL('./hashWorker.js', import.meta.url);

/** sha256 of a whole file or device, read once, in a worker thread. */
export function startHash(file: string): HashJob {
  if (!workerFits()) return hashHere(file);
  const worker = new Worker(HASH_WORKER, { workerData: { file } });
  let stopped = false;
  const done = new Promise<{ sha256: string; bytes: number }>((resolve, reject) => {
    worker.once('message', (result: { sha256: string; bytes: number }) => resolve(result));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(stopped ? `hashing ${file} stopped` : `hashing ${file} failed (worker exit ${code})`));
    });
  });
  done.catch(() => undefined);
  return {
    done,
    stop: () => {
      stopped = true;
      void worker.terminate();
    },
  };
}

/**
 * The same hash on this thread, read in a stream: for an address-space limit (ulimit -v) that leaves
 * no room for a worker (one that cannot start aborts the process).
 */
function hashHere(file: string): HashJob {
  const stopping = new AbortController();
  const done = (async () => {
    const hash = crypto.createHash('sha256');
    let bytes = 0;
    for await (const chunk of fs.createReadStream(file, { highWaterMark: 64 << 10, signal: stopping.signal })) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    return { sha256: hash.digest('hex'), bytes };
  })();
  done.catch(() => undefined);
  return { done, stop: () => stopping.abort() };
}

/**
 * A standing worker that hashes files while another process writes them: `follow(file)` returns
 * the hash and a `writerDone()` to call once the writer has exited. One job at a time.
 */
export class FollowHasher {
  private readonly worker = new Worker(HASH_WORKER, { workerData: { file: null } });
  private failure: Error | null = null;
  private pending: { resolve: (result: { sha256: string; bytes: number }) => void; reject: (error: Error) => void } | null = null;

  constructor() {
    this.worker.on('message', (reply: { ok?: { sha256: string; bytes: number }; error?: string }) => {
      const pending = this.pending;
      this.pending = null;
      if (reply.ok !== undefined) pending?.resolve(reply.ok);
      else pending?.reject(new Error(`hashing failed: ${reply.error ?? 'unknown error'}`));
    });
    // A worker that dies must not leave a copy waiting for its hash forever.
    const fail = (error: Error) => {
      this.failure = error;
      this.pending?.reject(error);
      this.pending = null;
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the hashing worker exited (code ${code})`)));
  }

  follow(file: string): { done: Promise<{ sha256: string; bytes: number }>; writerDone: () => void } {
    const flag = new SharedArrayBuffer(4);
    let accepted = false;
    const done = new Promise<{ sha256: string; bytes: number }>((resolve, reject) => {
      if (this.failure !== null) reject(this.failure);
      else if (this.pending !== null) reject(new Error('one file at a time'));
      else {
        this.pending = { resolve, reject };
        accepted = true;
      }
    });
    if (accepted) this.worker.postMessage({ file, follow: flag });
    return {
      done,
      writerDone: () => {
        const view = new Int32Array(flag);
        Atomics.store(view, 0, 1);
        Atomics.notify(view, 0);
      },
    };
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

/**
 * Writing the case onto the device being examined would overwrite evidence (deleted blocks first of
 * all): refuse when the case directory lives on that device, on one of its partitions, or on
 * anything built on it (LVM and other device-mapper volumes, md RAID, a loop device whose backing
 * file is there, an overlay whose upper layer is there, btrfs on it), however deep. What could not
 * be followed (an overlay whose upper directory is not visible here, FUSE) comes back as warnings.
 */
export function refuseCaseOnEvidence(source: ImageSource, caseDir: string): string[] {
  let dir = absolutePath(caseDir);
  while (!fs.existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  const { device, under, unseen, loopFiles } = devicesUnderDir(dir);
  if (source.deviceId !== null && (device === source.deviceId || under.has(source.deviceId))) {
    // Directly, or through what is built on it (a loop device whose backing file is there, a partition, a volume): the chain said.
    const where = device === source.deviceId ? `${source.path} itself` : `device ${storedOnChain(device, source.deviceId, under)} (${source.path})`;
    throw new UnlinkedError('SAME_FS', `the case directory ${path.resolve(caseDir)} is on ${where}: writing there could overwrite the evidence; use --case DIR on another disk`);
  }
  // A loop device over the image file itself (a partition of it mounted with losetup -o), or over the
  // file the examined loop device reads: the case's writes would land in the evidence's bytes.
  const evidenceFiles = new Set<string>(source.stamp !== null ? [fileKey(source.stamp)] : source.deviceId !== null ? loopFilesUnder(source.deviceId).keys() : []);
  for (const [key, { loop, file }] of loopFiles) {
    if (!evidenceFiles.has(key)) continue;
    const what = source.stamp !== null ? `the image ${source.path} itself` : `the file ${displayBytes(file)}, which ${source.path} reads from too`;
    throw new UnlinkedError('SAME_FS', `the case directory ${path.resolve(caseDir)} is on loop device ${loop}, whose backing file is ${what}: writing there would change the evidence; use --case DIR on another disk`);
  }
  if (source.deviceId === null) return [];
  // Returned: warnings, when where the case's writes land could not be followed all the way down.
  return unseen.map((where) => `cannot tell whether the case directory ${path.resolve(caseDir)} is on ${source.path}: it is on ${where}; use --case DIR on a disk of its own`);
}

/** What a live file system on the evidence means for what is read of it (a scan's warning, an extraction's). */
export function liveWarning(source: ImageSource): string {
  if (source.isDevice) {
    return `${source.path} is mounted (itself, a partition of it, a volume built on it, or a loop device reading the same file; or in use by the kernel: unmounted lazily while its files stay open, or claimed by a volume): ` +
      'a live file system changes while it is read, and data still in the page cache is not on the device yet';
  }
  const loops = source.liveLoops.join(', ');
  return `${source.path} is the backing file of loop device ${loops}, which ${source.liveLoops.length === 1 ? 'is' : 'are'} mounted (in this or another mount namespace, or a partition of it; ` +
    'or in use by the kernel): a live file system is on this file: it changes while it is read, and what that file system holds (data still in the page cache) may not be in the file yet';
}

/**
 * Is the block device claimed by the kernel: mounted in any mount namespace, or still after a lazy
 * umount (`umount -l`) while processes hold its files, a swap, a device-mapper or md member? An
 * exclusive open (O_EXCL: no write, closed at once) is refused with EBUSY then.
 */
function claimed(device: string): boolean {
  try {
    fs.closeSync(fs.openSync(device, fs.constants.O_RDONLY | fs.constants.O_EXCL));
    return false;
  } catch (error) {
    return errnoCode(error) === 'EBUSY';
  }
}

/**
 * Is this block device mounted (in our mount namespace), or a partition of it, a volume built on
 * it, or another loop device reading the same file? Then a live file system is on it, changing
 * while it is read.
 */
function isMounted(deviceId: string): boolean {
  let mountinfo: string;
  try {
    mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return false;
  }
  const mounted = new Set(mountinfo.split('\n').map((line) => line.split(' ')[2]).filter((id): id is string => id !== undefined && id !== ''));
  if (mounted.has(deviceId) || [...devicesBuiltOn(deviceId)].some((id) => mounted.has(id))) return true;
  // A loop device reads a file that another loop device (a partition of it attached with -o, say)
  // reads too, and that one is mounted: the same bytes are live.
  const files = loopFilesUnder(deviceId);
  if (files.size === 0) return false;
  return [...mounted].some((id) => !id.startsWith('0:') && [...loopFilesUnder(id).keys()].some((key) => files.has(key)));
}

/**
 * Where no ext superblock is found: ": it is mounted as btrfs (at /mnt)" when the block device
 * holding that offset (see filesystemDevice) is mounted here as another type (a btrfs, an XFS), else ''.
 */
export function mountedAsOtherType(source: Pick<ImageSource, 'deviceId'>, offsetSectors: number): string {
  const device = filesystemDevice(source, offsetSectors);
  const mounted = device === null ? undefined : ownMountsOfDevice(device).find((mount) => !/^ext[234]$/.test(mount.fsType));
  return mounted === undefined ? '' : `: it is mounted as ${mounted.fsType} (at ${displayBytes(mounted.mountPoint)})`;
}

/** The ext superblock of the file system starting at `offsetSectors`, or null when there is none. */
export function readSuperblock(source: ImageSource, offsetSectors: number): ExtSuperblock | null {
  const buffer = readAt(source, offsetSectors * 512 + 1024, 1024);
  return buffer === null ? null : parseExtSuperblock(buffer);
}

/**
 * A superblock read at `offsetSectors` whose `s_block_group_nr` is not 0. `refuse`: it is a backup
 * copy found by a wrong --offset (TSK reads it as a file system and lists garbage): the start it
 * implies lies inside the image and holds the primary superblock of the same file system. `warn`:
 * nothing says it is a backup (the start it implies is outside the image, or holds no such
 * superblock): read as the primary, said. The kernel and e2fsck ignore that field on a primary, so
 * two bytes (0x45A) of an image would otherwise refuse its whole scan. null: the field is 0.
 */
export function backupSuperblockAt(source: ImageSource, superblock: ExtSuperblock, offsetSectors: number): { refuse: string } | { warn: string } | null {
  const shift = backupSuperblockShift(superblock);
  if (shift === null) return null;
  const startBytes = offsetSectors * 512 - shift;
  const inside = shift > 0 && startBytes >= 0 && startBytes % 512 === 0;
  const primary = inside ? readSuperblock(source, startBytes / 512) : null;
  if (primary !== null && primary.uuid === superblock.uuid && primary.blockGroupNr === 0) {
    return { refuse: `this is the backup superblock of block group ${superblock.blockGroupNr}, not the start of a file system: the file system starts at sector ${startBytes / 512} (--offset ${startBytes / 512})` };
  }
  const where = inside
    ? `sector ${startBytes / 512}, which holds no primary superblock of this file system`
    : `byte ${startBytes} of the image, which is no sector start before this one inside it`;
  return {
    warn: `the superblock says it is the backup of block group ${superblock.blockGroupNr} (s_block_group_nr), but its file system would then start at ${where}: ` +
      'read as the primary superblock (the kernel and e2fsck ignore that field; a damaged or crafted value), or this image starts inside a file system, ' +
      'at one of its backup superblocks, and what is listed is garbage (The Sleuth Kit reads a backup as a file system)',
  };
}

/** `length` bytes of the image at `position` (opened read-only), or null when it ends before them. */
export function readAt(source: ImageSource, position: number, length: number): Buffer | null {
  const fd = fs.openSync(source.path, fs.constants.O_RDONLY);
  try {
    const buffer = Buffer.alloc(length);
    return fs.readSync(fd, buffer, 0, length, position) === length ? buffer : null;
  } finally {
    fs.closeSync(fd);
  }
}

/** An offset must lie inside the image. */
export function checkOffset(source: ImageSource, offset: number | undefined): void {
  if (offset !== undefined && offset * 512 >= source.size) {
    throw new UnlinkedError('BAD_INPUT', `offset ${offset} sectors is past the end of ${source.path} (${Math.floor(source.size / 512)} sectors)`);
  }
}

/**
 * The block device (MAJ:MIN) that holds the file system at `offsetSectors` of a device scanned: the
 * device itself at 0, else its partition that starts there (sysfs `start`, in 512-byte sectors);
 * null for an image file, or a start no partition of the device has (an --offset into a disk
 * whose table the kernel did not read).
 */
export function filesystemDevice(source: Pick<ImageSource, 'deviceId'>, offsetSectors: number): string | null {
  if (source.deviceId === null) return null;
  if (offsetSectors === 0) return source.deviceId;
  const dir = `/sys/dev/block/${source.deviceId}`;
  for (const name of tryOr(() => fs.readdirSync(dir), [] as string[])) {
    const start = tryOr(() => Number(fs.readFileSync(path.join(dir, name, 'start'), 'utf8').trim()), null);
    if (start !== offsetSectors || !fs.existsSync(path.join(dir, name, 'partition'))) continue;
    return tryOr(() => fs.readFileSync(path.join(dir, name, 'dev'), 'utf8').trim(), null);
  }
  return null;
}
