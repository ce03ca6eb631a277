// A test's own ext2/ext4 (or btrfs) on a loop device (ours, not evidence): a sparse backing file (or an image
// given), `losetup`, mkfs, mount. Its cleanup undoes exactly the steps that were done, last first,
// each even when another fails: it unmounts only what it mounted and detaches only the loop device
// it attached, by name. A set-up that fails part-way undoes itself before it throws.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { undoEach } from './cleanup.js';

const run = (program: string, args: readonly string[]): string => execFileSync(program, [...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

export interface LoopFsOptions {
  /** Where a new backing file (backing.img) and the mount point (mnt) go when they are not named. */
  dir?: string;
  /** A new sparse backing file of this many MiB, made here and removed by cleanup ... */
  sizeMiB?: number;
  /** ... or an image that exists, attached as it is and kept. */
  image?: string;
  /** The new backing file's path (default dir/backing.img). */
  backing?: string;
  /** A partition table (an sfdisk script) written to the new backing file before it is attached. */
  table?: string;
  /** Attach with -P and wait for /dev/loopNp1 to pN (partx -a where the kernel does not read the table). */
  partitions?: number;
  /** The loop device's window in the file, in bytes (losetup -o, --sizelimit): one partition of it. */
  offset?: number;
  sizeLimit?: number;
  /** losetup -r */
  readOnly?: boolean;
  /** Attach at this loop device (one the test detached: the same device number) instead of the first free one. */
  device?: string;
  /** mkfs.<fsType> -q -F (-f for btrfs) ...mkfsArgs on the loop device. Default: ext4 on a new backing file without a table, none otherwise. */
  fsType?: 'ext2' | 'ext4' | 'btrfs' | null;
  mkfsArgs?: string[];
  /** Where the loop device is mounted (default dir/mnt, made if missing); false: not mounted. */
  mountPoint?: string | false;
  /** umount -l: a process the cleanup has just killed may hold the file system a moment longer. */
  lazyUnmount?: boolean;
}

export interface LoopDevice {
  backing: string;
  /** /dev/loopN */
  loop: string;
  /** Mounts a device (a partition of this one) on mountPoint, made if missing; cleanup unmounts it first. */
  mount(device: string, mountPoint: string): string;
  /** Undoes what is still done (once undone, a step is not run again); throws, once every step was tried, if one failed. */
  cleanup(): void;
}

export interface MountedLoopFs extends LoopDevice {
  mountPoint: string;
}

export function loopFs(options: LoopFsOptions & { mountPoint: false }): LoopDevice;
export function loopFs(options: LoopFsOptions): MountedLoopFs;
export function loopFs(options: LoopFsOptions): LoopDevice | MountedLoopFs {
  if ((options.sizeMiB === undefined) === (options.image === undefined)) throw new Error('loopFs: give one of sizeMiB (a new backing file) and image (one that exists)');
  const inDir = (name: string): string => {
    if (options.dir === undefined) throw new Error(`loopFs: no dir for the default ${name}`);
    return path.join(options.dir, name);
  };
  const backing = options.image ?? options.backing ?? inDir('backing.img');
  const steps: Array<() => void> = [];
  const mount = (device: string, mountPoint: string): string => {
    if (fs.mkdirSync(mountPoint, { recursive: true }) !== undefined) steps.push(() => fs.rmdirSync(mountPoint));
    run('mount', [device, mountPoint]);
    steps.push(() => run('umount', [...(options.lazyUnmount === true ? ['-l'] : []), mountPoint]));
    return mountPoint;
  };
  const cleanup = (): void => {
    // A step that failed (a busy mount) stays, to be tried again by the next call (the test's t.after).
    const failed: Array<() => void> = [];
    const failures = undoEach(steps.splice(0).map((step) => () => {
      try {
        step();
      } catch (error) {
        failed.unshift(step);
        throw error;
      }
    }));
    steps.push(...failed);
    if (failures.length > 0) throw new Error(`cleanup of the loop device on ${backing}: ${failures.map(String).join('; ')}`);
  };
  try {
    if (options.sizeMiB !== undefined) {
      fs.writeFileSync(backing, '', { flag: 'wx' });
      steps.push(() => fs.rmSync(backing, { force: true }));
      fs.truncateSync(backing, options.sizeMiB * 1024 * 1024);
      if (options.table !== undefined) execFileSync('sfdisk', ['-q', backing], { input: options.table, stdio: ['pipe', 'pipe', 'pipe'] });
    }
    const flags = [
      ...(options.readOnly === true ? ['-r'] : []),
      ...(options.offset === undefined ? [] : ['-o', String(options.offset)]),
      ...(options.sizeLimit === undefined ? [] : ['--sizelimit', String(options.sizeLimit)]),
      ...(options.partitions === undefined ? [] : ['-P']),
    ];
    const loop = options.device ?? run('losetup', ['-f', '--show', ...flags, backing]).trim();
    if (options.device !== undefined) run('losetup', [...flags, options.device, backing]);
    steps.push(() => run('losetup', ['-d', loop]));
    if (options.partitions !== undefined) {
      steps.push(() => run('partx', ['-d', loop]));
      waitForPartitions(loop, options.partitions);
    }
    const fsType = options.fsType !== undefined ? options.fsType : options.sizeMiB !== undefined && options.table === undefined ? 'ext4' : null;
    if (fsType !== null) run(`mkfs.${fsType}`, ['-q', fsType === 'btrfs' ? '-f' : '-F', ...(options.mkfsArgs ?? []), loop]);
    const device: LoopDevice = { backing, loop, mount, cleanup };
    return options.mountPoint === false ? device : { ...device, mountPoint: mount(loop, options.mountPoint ?? inDir('mnt')) };
  } catch (error) {
    undoEach(steps.splice(0));
    throw error;
  }
}

/** loopFs, undone by t.after. node:test runs after hooks first-registered first: a hook registered before
 *  this call runs before this cleanup (it must not remove the folder of the mount point), one registered
 *  after runs after it (it must not be the one that stops a process holding files there). */
export function loopFsFor(t: { after: (fn: () => void) => void }, options: LoopFsOptions & { mountPoint: false }): LoopDevice;
export function loopFsFor(t: { after: (fn: () => void) => void }, options: LoopFsOptions): MountedLoopFs;
export function loopFsFor(t: { after: (fn: () => void) => void }, options: LoopFsOptions): LoopDevice | MountedLoopFs {
  const made = loopFs(options);
  t.after(() => made.cleanup());
  return made;
}

/** losetup -P asks the kernel to read the table; where that does not happen (seen here), partx adds them. */
function waitForPartitions(loop: string, count: number): void {
  const deadline = Date.now() + 10_000;
  while (!fs.existsSync(`${loop}p${count}`)) {
    if (Date.now() >= deadline) throw new Error(`${loop}p${count} did not appear`);
    execFileSync('partx', ['-a', loop], { stdio: 'ignore' });
    execFileSync('sleep', ['0.05']);
  }
}
