// Real ext2/ext4 images built by the tests: mkfs on a loop device (loopfs.ts), files held open by a
// real process and unlinked, the file system frozen (fsfreeze) and the image copied: the copy carries
// the orphans exactly as a disk imaged on a live host does. These are the tests' own images, not
// evidence, so mounting them is fine. Everything is undone even when a test fails.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { makeTempDir, startHolder, type Holder } from './holder.js';
import { loopFs } from './loopfs.js';

export const sha256 = (data: Buffer): string => crypto.createHash('sha256').update(data).digest('hex');
export const sha256File = (file: string): string => sha256(fs.readFileSync(file));

const run = (program: string, args: readonly string[]): string => execFileSync(program, [...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

export interface OrphanSpec {
  name: string;
  content: Buffer;
  /** Written with its all-zero 4 KiB blocks left as holes (data and holes taking turns: an extent each). */
  sparse?: boolean;
}

/** Write CONTENT to FILE leaving its all-zero 4 KiB blocks unwritten (holes), its size whole. */
function writeSparse(file: string, content: Buffer): void {
  const fd = fs.openSync(file, 'w');
  try {
    for (let at = 0; at < content.length; at += 4096) {
      const block = content.subarray(at, at + 4096);
      if (block.some((byte) => byte !== 0)) fs.writeSync(fd, block, 0, block.length, at);
    }
    fs.ftruncateSync(fd, content.length);
  } finally {
    fs.closeSync(fd);
  }
}

export interface OrphanImage {
  /** The frozen copy: the evidence the test scans. */
  image: string;
  orphans: Array<{ inode: number; sha256: string; size: number }>;
  fsUuid: string;
  /** Called while the orphans are held, before the copy (e.g. to take a live snapshot). */
}

export interface OrphanImageOptions {
  dir: string;
  fsType: 'ext2' | 'ext4';
  sizeMiB: number;
  features?: string[];
  orphans: OrphanSpec[];
  /** Build inside an MBR partition table: [first partition sectors, second partition sectors]; the fs goes into the second. */
  mbr?: { first: number; second: number };
  /** Directories made before the files (the kernel spreads top-level ones over the block groups): orphans may be named `DIR/NAME`. */
  directories?: string[];
  whileHeld?: (holder: Holder, mountPoint: string) => void | Promise<void>;
}

export async function makeOrphanImage(options: OrphanImageOptions): Promise<OrphanImage> {
  const image = path.join(options.dir, 'evidence.img');
  const partition = options.mbr === undefined ? {} : {
    table: `label: dos\nstart=2048, size=${options.mbr.first}, type=83\nstart=${2048 + options.mbr.first}, size=${options.mbr.second}, type=83\n`,
    offset: (2048 + options.mbr.first) * 512,
    sizeLimit: options.mbr.second * 512,
  };
  const device = loopFs({
    dir: options.dir, sizeMiB: options.sizeMiB, ...partition,
    fsType: options.fsType, mkfsArgs: options.features === undefined ? [] : ['-O', options.features.join(',')],
  });
  const { backing, loop, mountPoint } = device;
  let holder: Holder | null = null;
  try {
    // Large and sparse contents are written here and only opened by the holder (its stdin carries the small ones).
    const writtenHere = (orphan: OrphanSpec): boolean => orphan.content.length > 16 << 20 || orphan.sparse === true;
    for (const directory of options.directories ?? []) fs.mkdirSync(path.join(mountPoint, directory));
    for (const orphan of options.orphans) {
      if (orphan.sparse === true) writeSparse(path.join(mountPoint, orphan.name), orphan.content);
      else if (writtenHere(orphan)) fs.writeFileSync(path.join(mountPoint, orphan.name), orphan.content);
    }
    holder = await startHolder(
      mountPoint,
      options.orphans.map((orphan) => ({ kind: writtenHere(orphan) ? ('existing' as const) : ('fd' as const), name: orphan.name, content: orphan.content })),
    );
    run('sync', ['-f', mountPoint]);
    if (options.whileHeld !== undefined) await options.whileHeld(holder, mountPoint);
    frozenCopy(mountPoint, backing, image);
    const fsUuid = run('blkid', ['-s', 'UUID', '-o', 'value', loop]).trim();
    return {
      image,
      orphans: holder.files.map((file, index) => ({ inode: file.inode, sha256: file.sha256, size: options.orphans[index]?.content.length ?? 0 })),
      fsUuid,
    };
  } finally {
    if (holder !== null) await holder.stop();
    device.cleanup();
  }
}

/** An image with one deleted (not open) file. ext2: blocks kept (debugfs kill_file, as the old ext2 driver did); ext4: the kernel's unlink. */
export function makeDeletedImage(dir: string, fsType: 'ext2' | 'ext4', content: Buffer): { image: string; inode: number } {
  const image = path.join(dir, `deleted-${fsType}.img`);
  fs.writeFileSync(image, '');
  fs.truncateSync(image, 16 * 1024 * 1024);
  run(`mkfs.${fsType}`, ['-q', '-F', image]);
  const source = path.join(dir, 'gone.bin');
  fs.writeFileSync(source, content);
  if (fsType === 'ext2') {
    // This kernel's ext2 driver (ext4 code) zeroes block pointers on unlink; debugfs kill_file frees
    // the inode and its blocks and leaves the pointers, like ext2 always did. Our own test image.
    run('debugfs', ['-w', '-R', `write ${source} gone.bin`, image]);
    execFileSync('debugfs', ['-w', '-f', '-', image], { input: 'kill_file gone.bin\nunlink gone.bin\n', stdio: ['pipe', 'ignore', 'ignore'] });
  } else {
    const device = loopFs({ dir, image, mountPoint: path.join(dir, 'mnt-deleted') });
    try {
      fs.writeFileSync(path.join(device.mountPoint, 'gone.bin'), content);
      run('sync', ['-f', device.mountPoint]);
      fs.unlinkSync(path.join(device.mountPoint, 'gone.bin'));
      run('sync', ['-f', device.mountPoint]);
    } finally {
      device.cleanup();
    }
  }
  fs.rmSync(source, { force: true });
  return { image, inode: 12 };
}

/** Our own image built by debugfs (-w, never mounted): the files written, then `commands` run (kill_file, unlink, set_inode_field). */
export function debugfsBuilt(dir: string, mkfs: string[], files: Record<string, Buffer>, commands: string): string {
  const image = path.join(dir, 'built.img');
  fs.writeFileSync(image, '');
  fs.truncateSync(image, 32 << 20);
  execFileSync(mkfs[0] ?? 'mkfs.ext4', ['-q', '-F', ...mkfs.slice(1), image], { stdio: 'ignore' });
  const writes = Object.entries(files).map(([name, content]) => {
    const source = path.join(dir, `${name}.src`);
    fs.writeFileSync(source, content);
    return `write ${source} ${name}\n`;
  });
  execFileSync('debugfs', ['-w', '-f', '-', image], { input: writes.join('') + commands, stdio: ['pipe', 'ignore', 'ignore'] });
  return image;
}

/** A folder for a test's image and its case in another (on /dev/shm: never on the image's file system), both removed after. */
export function imageWorkDirs(t: { after: (fn: () => void) => void }, name: string): { dir: string; caseDir: string } {
  const dir = makeTempDir(name);
  const caseDir = makeTempDir(`${name}-case`, '/dev/shm');
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(caseDir, { recursive: true, force: true });
  });
  return { dir, caseDir };
}

/** Sets the byte at `offset` of the one place `marker` is in the image: a name byte debugfs cannot type (a newline). */
export function patchMarker(image: string, marker: string, offset: number, byte: number): void {
  const bytes = fs.readFileSync(image);
  const at = bytes.indexOf(marker);
  if (at < 0 || bytes.indexOf(marker, at + 1) >= 0) throw new Error(`${marker} is not in ${image} exactly once`);
  bytes[at + offset] = byte;
  fs.writeFileSync(image, bytes);
}

/** The file system at `mountPoint` frozen (fsfreeze) while its backing file is copied to `image`: a consistent copy, as of a frozen host. */
export function frozenCopy(mountPoint: string, backing: string, image: string): void {
  run('fsfreeze', ['-f', mountPoint]);
  try {
    fs.copyFileSync(backing, image);
  } finally {
    run('fsfreeze', ['-u', mountPoint]);
  }
}
