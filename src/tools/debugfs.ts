// debugfs adapter: only ever `debugfs -c` (catastrophic mode: read-only, bitmaps not read), never -w;
// with -n, so an inode whose metadata checksum does not match is still described, not refused (a
// damaged or tampered inode is exactly what an examiner wants to see).
// A partition inside an image is named "IMAGE?offset=BYTES" (e2fsprogs unix_io option).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { onSignalExit } from '../util/interrupt.js';
import { run, type CommandRecorder } from '../exec/run.js';
import { UnlinkedError } from '../errors.js';
import { parseDebugfsStats, parseInodeDumps, type DebugfsInode, type InodeDump } from '../../parsers/debugfsStats.js';
import type { ParseResult } from '../../parsers/types.js';
import { SHORT_TIMEOUT_MS, STREAM_STALL_MS, WALK_TIMEOUT_MS, copyTimeoutMs } from './limits.js';
import { KEEP_FREE_BYTES, freeBytes } from '../util/caseSpace.js';
import { sweepLeftovers } from '../util/leftovers.js';

/** Inodes per debugfs process: about 600 bytes of output each, so a batch stays near 12 MB. */
const STAT_BATCH = 20_000;

/** Room counted per inode of a batch on the case disk: its output, with a margin (a long extent list). */
const STAT_OUTPUT_BYTES = 2048;

/**
 * How debugfs is to name the image: "?" starts unix_io's options, so a path holding one is reached
 * through a symbolic link in the scratch directory instead (debugfs opens what it points at), by
 * its name there: debugfs runs in the scratch directory (IN_SCRATCH), whose own path may hold a "?".
 */
function device(image: string, offsetSectors: number, scratch: string): string {
  let name = image;
  if (image.includes('?')) {
    name = 'image';
    if (!fs.existsSync(path.join(scratch, name))) fs.symlinkSync(image, path.join(scratch, name));
  }
  return offsetSectors === 0 ? name : `${name}?offset=${offsetSectors * 512}`;
}

/** run() options for debugfs in the scratch directory: the names device() and dump give are relative to it. */
const inScratch = (scratch: string) => ({ cwd: scratch });

/** A private scratch directory in workDir (the case directory), removed after fn. */
async function withScratch<T>(workDir: string, fn: (dir: string) => Promise<T>): Promise<T> {
  // Those of scans that were killed (SIGKILL leaves no chance to clean up).
  sweepLeftovers(workDir, { pattern: /^\.debugfs-(\d+)-[A-Za-z0-9]{6}$/, folders: true });
  const dir = fs.mkdtempSync(path.join(workDir, `${SCRATCH_PREFIX}${process.pid}-`));
  const remove = (): void => fs.rmSync(dir, { recursive: true, force: true });
  // A signal stops the run without unwinding: the folder (a stat batch's text, MBs) goes then too.
  const unhook = onSignalExit(remove);
  try {
    return await fn(dir);
  } finally {
    unhook();
    remove();
  }
}

/**
 * debugfs prints every time it shows through localtime(), which with TZ unset re-checks /etc/localtime
 * each time: five stat calls per inode, a quarter of a 10,000-inode batch. With TZ=GMT it formats
 * them with gmtime() instead (e2fsprogs debugfs/util.c time_to_string). Only the text after "--"
 * changes, and the parser reads the hexadecimal value before it.
 */
const DEBUGFS_ENV = { TZ: 'GMT' } as const;

/** Scratch directories are named `.debugfs-PID-XXXXXX`, PID that of the unlinked process that made it. */
const SCRATCH_PREFIX = '.debugfs-';

/**
 * `stat <N>` of many inodes, one debugfs process per batch. The command and output files go into a
 * private directory under `workDir`, the case directory: never the system's temp directory, which
 * may be on the very file system being examined (a live host's root device).
 */
export interface DebugfsBatch<T> extends ParseResult<T> {
  /**
   * What debugfs said on stderr (its banner aside), once each, "while reading inode N" folded into a
   * count: of the file system itself (`A block group is missing an inode table` when the group
   * descriptors are clobbered), which its stdout never shows.
   */
  complaints: string[];
  /** Inodes whose description debugfs was stopped in (a block list that repeats itself, or past DESCRIPTION_MAX_BYTES): why, one line each. */
  cuts: string[];
}

export type DebugfsStats = DebugfsBatch<DebugfsInode>;

/** With `take`, each batch's descriptions are handed to it as the batch is read, and not kept (`records` empty): a batch at a time in memory. */
export function debugfsStatMany(image: string, offsetSectors: number, inodes: readonly number[], recorder: CommandRecorder, workDir: string, take?: (record: DebugfsInode) => void): Promise<DebugfsStats> {
  return debugfsBatches(image, offsetSectors, inodes, 'stat', parseDebugfsStats, recorder, workDir, take);
}

/** `inode_dump <N>` of many inodes: each one's raw bytes (`inodeSize`, s_inode_size), for what `stat` does not print. */
export function debugfsInodeDumps(image: string, offsetSectors: number, inodes: readonly number[], inodeSize: number, recorder: CommandRecorder, workDir: string): Promise<DebugfsBatch<InodeDump>> {
  return debugfsBatches(image, offsetSectors, inodes, 'inode_dump', (text, batch, marker) => parseInodeDumps(text, batch, marker, inodeSize), recorder, workDir);
}

/**
 * One debugfs -f process per batch of `COMMAND <N>` lines, each after a comment line `# MARKER N`
 * that debugfs copies to its output: MARKER is random for each batch, so nothing an inode holds (a
 * symlink target is printed raw) can pass for the start of another inode's answer.
 */
async function debugfsBatches<T>(
  image: string, offsetSectors: number, inodes: readonly number[], command: 'stat' | 'inode_dump',
  parse: (text: string, batch: readonly number[], marker: string) => ParseResult<T>, recorder: CommandRecorder, workDir: string, take?: (record: T) => void,
): Promise<DebugfsBatch<T>> {
  const result: DebugfsBatch<T> = { records: [], warnings: [], complaints: [], cuts: [] };
  if (inodes.length === 0) return result;
  const said = new Map<string, number>();
  return withScratch(workDir, async (dir) => {
    for (let start = 0; start < inodes.length; ) {
      // Each batch's output goes into the case directory and is removed once read: on a small case
      // disk the batches shrink to what fits beside the case database, never filling the disk.
      const room = freeBytes(workDir);
      const fits = room === null ? STAT_BATCH : Math.floor((room - KEEP_FREE_BYTES) / STAT_OUTPUT_BYTES);
      if (fits < 1) throw new UnlinkedError('TOOL_FAILED', `no room on the case's disk for debugfs's output (${room ?? '?'} bytes free, ${KEEP_FREE_BYTES >> 20} MiB kept for the case database)`);
      const batchStart = start;
      const batch = inodes.slice(start, start + Math.min(STAT_BATCH, fits));
      start += batch.length;
      const timeoutMs = batch.length > 100 ? WALK_TIMEOUT_MS : SHORT_TIMEOUT_MS;
      const marker = crypto.randomBytes(16).toString('hex');
      const commands = path.join(dir, `${command}-${start}.txt`);
      const requests = batch.map((inode) => `# ${marker} ${inode}\n${command} <${inode}>\n`).join('');
      fs.writeFileSync(commands, requests, { mode: 0o600 });
      // Tens of MB of output: into a file, debugfs writing it itself (through a pipe its many small
      // writes made the batch 2.5 times as long), looked at as it grows (see watchDescriptions) and
      // read back in one piece.
      const outputFile = path.join(dir, `${command}-${start}.out`);
      const outputFd = fs.openSync(outputFile, 'wx+', 0o600);
      const watch = watchDescriptions(outputFd, marker, batch);
      const stop = new AbortController();
      // Set by look(), in a timer too (typed so, not narrowed to its first null).
      let cut = null as DescriptionCut | null;
      let lookedTo = 0;
      const piece = Buffer.allocUnsafe(LOOK_PIECE_BYTES);
      /**
       * What debugfs wrote since the last look, watched, in pieces of LOOK_PIECE_BYTES at fixed
       * offsets (whole ones while it writes, the last one once it ended): the same output is cut at
       * the same byte however the looks fell. A cut stops it.
       */
      const look = (ended: boolean): void => {
        const size = fs.fstatSync(outputFd).size;
        const upTo = ended ? size : size - (size % LOOK_PIECE_BYTES);
        while (cut === null && lookedTo < upTo) {
          const got = fs.readSync(outputFd, piece, 0, Math.min(upTo - lookedTo, LOOK_PIECE_BYTES), lookedTo);
          if (got === 0) break;
          lookedTo += got;
          cut = watch.take(piece.subarray(0, got));
        }
        if (cut !== null) stop.abort(cut);
      };
      const looking = setInterval(() => look(false), LOOK_EVERY_MS);
      let output: Awaited<ReturnType<typeof run>> | null = null;
      try {
        output = await run('debugfs', ['-c', '-n', '-f', path.basename(commands), device(image, offsetSectors, dir)], {
          timeoutMs, recorder, stdoutFd: outputFd, cancelSignal: stop.signal, env: DEBUGFS_ENV, requests, ...inScratch(dir),
        });
        // What it wrote after the last look is looked at too (a list that repeats itself ends a description as well).
        look(true);
      } catch (error) {
        if (cut === null || error !== cut) throw error;
      } finally {
        clearInterval(looking);
        fs.closeSync(outputFd);
      }
      // Stopped: what came before the cut is read; the inodes after it go to the next process.
      let described = batch;
      if (cut !== null) {
        // Its stderr is of inodes given to the next process too: not counted twice.
        output = null;
        fs.truncateSync(outputFile, cut.keepBytes);
        described = batch.slice(0, cut.described);
        start = batchStart + cut.described;
        if (cut.why !== null) result.cuts.push(cut.why);
      }
      const parsed = parse(fs.readFileSync(outputFile, 'latin1'), described, marker);
      fs.rmSync(outputFile);
      fs.rmSync(commands);
      if (take === undefined) result.records.push(...parsed.records);
      else parsed.records.forEach((record) => take(record));
      result.warnings.push(...parsed.warnings);
      if (output === null) continue;
      // debugfs names a file system it could not open only on stderr, and still exits 0.
      if (parsed.records.length === 0) {
        const reason = output.stderr.split('\n').map((line) => line.trim()).find((line) => /while trying to open|while opening|Filesystem not open/.test(line));
        if (reason !== undefined) throw new UnlinkedError('TOOL_FAILED', `debugfs could not read the inodes: ${reason}`);
      }
      for (const line of output.stderr.split('\n').map((text) => text.trim())) {
        if (line === '' || /^debugfs \d/.test(line)) continue;
        const message = line.replace(/^(stat|inode_dump): /, '').replace(/ while reading inode \d+$/, '');
        said.set(message, (said.get(message) ?? 0) + 1);
      }
    }
    result.complaints = [...said].map(([message, times]) => (times > 1 ? `${message} (said ${times} times)` : message));
    return result;
  });
}

/**
 * One inode's description past this is cut there (killed, the rest of its batch given to a new
 * process): debugfs prints every leaf extent the tree reaches, and a tree whose index blocks are
 * shared (each entry of one level pointing at the one block of the next: a DAG of depth 3 is four
 * blocks) reaches 4 * 340^3 extents: 1.8 GB of text from a 16 MiB image, 600 GB at depth 4. 16 MiB
 * is about 700,000 extents: more than any file but one fragmented past all use has.
 */
export const DESCRIPTION_MAX_BYTES = 16 << 20;

/** A description this long (then at each doubling) is looked at for a tree that repeats itself, which no real one does. */
const DESCRIPTION_CHECK_BYTES = 64 << 10;

/** A batch's output read back at most (its text is one string, which V8 makes only below 512 MiB): the rest goes to the next process. */
const BATCH_OUTPUT_MAX_BYTES = 256 << 20;

/** debugfs was stopped part-way through a batch: the first `described` inodes' text is the file's first `keepBytes` bytes. */
class DescriptionCut extends Error {
  constructor(readonly described: number, readonly keepBytes: number, readonly why: string | null) {
    super(why ?? 'batch output split');
  }
}

/**
 * Why an inode's block list (the text of its description) cannot be a real one, or null: an index
 * or indirect block listed twice (debugfs prints each tree block once, on its first visit), or a
 * logical block range that does not come after the one before it (a tree lists them in order).
 */
export function repeatingListWhy(description: string): { why: string; at: number } | null {
  const list = description.search(/^(EXTENTS|BLOCKS):/m);
  if (list < 0) return null;
  const seen = new Set<string>();
  let after = -1;
  let before = '';
  for (const match of description.slice(list).matchAll(/\((ETB\d+|IND|DIND|TIND|\d+)(?:-(\d+))?(?:\[u\])?\):(\d+)/g)) {
    const [entry = '', what = '', last, physical = ''] = match;
    const at = list + match.index;
    if (!/^\d/.test(what)) {
      if (seen.has(physical)) return { at, why: `its ${what === 'IND' || what === 'DIND' || what === 'TIND' ? 'block map' : 'extent tree'} lists block ${physical} as one of its own blocks twice (${what}): blocks of the tree shared or looping, crafted or corrupt` };
      seen.add(physical);
      continue;
    }
    const first = Number(what);
    if (first <= after) return { at, why: `its block list goes back to logical block ${first} after ${before}: ranges overlapping or repeating (a tree whose blocks are shared or loop), crafted or corrupt` };
    after = last === undefined ? first : Number(last);
    before = entry;
  }
  return null;
}

/** How often a batch's output is looked at while debugfs writes it, and the pieces it is looked at in. */
const LOOK_EVERY_MS = 50;
const LOOK_PIECE_BYTES = 64 << 10;

/**
 * Watches a debugfs batch's output, written into `fd`, handed to `take` in order as it grows: each
 * inode's description starts at its marker line. One that grows past DESCRIPTION_MAX_BYTES, or whose
 * list repeats itself, is a cut (the caller stops the process): that inode is kept as far as it came,
 * with why; a batch whose text passes BATCH_OUTPUT_MAX_BYTES is cut before the inode under way.
 */
function watchDescriptions(fd: number, marker: string, batch: readonly number[]): { take(chunk: Buffer): DescriptionCut | null } {
  const pattern = Buffer.from(`\n# ${marker} `, 'latin1');
  // The stream's last bytes, where a marker line may have begun; a virtual newline before the first.
  let carry = Buffer.from('\n');
  let written = 0;
  let markers = 0;
  let markerAt = 0;
  let nextCheck = DESCRIPTION_CHECK_BYTES;
  /** Its text is kept to `keep` (where it first repeats, or all that came): the list there is one line, and its entries are counted as far as they go. */
  const cutInode = (past: number, why: string, keep: number): DescriptionCut => {
    const inode = batch[markers - 1] ?? 0;
    return new DescriptionCut(markers, keep, `debugfs was stopped once its description of inode ${inode} passed ${past} bytes: ${why}; ` +
      `its data blocks are counted only as far as ${keep === written ? 'it came' : 'the list first repeats'} (a lower bound)`);
  };
  return {
    take: (chunk) => {
      const base = written - carry.length;
      const seen = Buffer.concat([carry, chunk]);
      for (let at = seen.indexOf(pattern); at >= 0; at = seen.indexOf(pattern, at + 1)) {
        markers++;
        markerAt = base + at + 1;
        nextCheck = DESCRIPTION_CHECK_BYTES;
      }
      written += chunk.length;
      carry = seen.subarray(Math.max(0, seen.length - (pattern.length - 1)));
      const mine = written - markerAt;
      if (markers > 0 && mine >= nextCheck) {
        const past = nextCheck;
        nextCheck *= 2;
        const text = Buffer.alloc(mine);
        fs.readSync(fd, text, 0, mine, markerAt);
        const repeats = repeatingListWhy(text.toString('latin1'));
        if (repeats !== null) return cutInode(past, repeats.why, markerAt + repeats.at);
        if (mine >= DESCRIPTION_MAX_BYTES) return cutInode(past, `longer than ${DESCRIPTION_MAX_BYTES} bytes (an extent tree or block map of about a million entries or more: a tree crafted to repeat itself, or a file fragmented past all use)`, written);
      }
      // Cut before the inode under way: its text begins the next process's.
      if (written > BATCH_OUTPUT_MAX_BYTES && markers > 1) return new DescriptionCut(markers - 1, markerAt, null);
      return null;
    },
  };
}

/** `cat <N>`: the content on stdout, handed to `consume` chunk by chunk (the caller writes holes as holes). */
export async function debugfsCatToStream(
  image: string, offsetSectors: number, inode: number, consume: (chunk: Buffer) => Promise<void>, sizeBytes: number | null, recorder: CommandRecorder, workDir: string,
): Promise<void> {
  await withScratch(workDir, async (dir) => {
    await run('debugfs', ['-c', '-n', '-R', `cat <${inode}>`, device(image, offsetSectors, dir)], {
      ...inScratch(dir),
      timeoutMs: copyTimeoutMs(sizeBytes), recorder, streamStdout: { consume, stallMs: STREAM_STALL_MS }, complaintOf, recordFromStart: true,
    });
  });
}

/** A small inode (the orphan file) read into memory with `cat <N>`, refused above maxBytes: where icat cannot read the file system. */
export async function debugfsCatToBuffer(image: string, offsetSectors: number, inode: number, maxBytes: number, recorder: CommandRecorder, workDir: string): Promise<Buffer> {
  return withScratch(workDir, async (dir) => {
    const result = await run('debugfs', ['-c', '-n', '-R', `cat <${inode}>`, device(image, offsetSectors, dir)], {
      timeoutMs: SHORT_TIMEOUT_MS, recorder, maxBufferBytes: maxBytes, complaintOf, ...inScratch(dir),
    });
    return result.stdout;
  });
}

/** Bytes of content per `dump` batch: what one debugfs process leaves in the scratch directory at most. */
const DUMP_BATCH_BYTES = 64 << 20;

/**
 * `dump <N> N` of many small inodes (directories), one debugfs process per batch, each file handed to
 * `consume` and removed. `inodes` carry their size (from `stat`), so a batch never holds more than
 * DUMP_BATCH_BYTES (one inode larger than that alone) and is refused when the case disk has no room.
 * An inode whose file is missing or not `size` bytes long is not handed over: it is in `unread`.
 */
export async function debugfsDumpMany(
  image: string, offsetSectors: number, inodes: ReadonlyArray<{ inode: number; size: number }>, consume: (inode: number, content: Buffer) => void,
  recorder: CommandRecorder, workDir: string,
): Promise<{ unread: number[]; complaints: string[] }> {
  const unread: number[] = [];
  const said = new Set<string>();
  if (inodes.length === 0) return { unread, complaints: [] };
  await withScratch(workDir, async (dir) => {
    for (let start = 0; start < inodes.length; ) {
      let bytes = 0;
      let end = start;
      while (end < inodes.length && (end === start || bytes + (inodes[end]?.size ?? 0) <= DUMP_BATCH_BYTES)) bytes += inodes[end++]?.size ?? 0;
      const batch = inodes.slice(start, end);
      start = end;
      const room = freeBytes(workDir);
      if (room !== null && room - KEEP_FREE_BYTES < bytes) throw new UnlinkedError('TOOL_FAILED', `no room on the case's disk for debugfs's dump of ${batch.length} directories (${bytes} bytes; ${room} bytes free, ${KEEP_FREE_BYTES >> 20} MiB kept for the case database)`);
      const commands = path.join(dir, 'dump.txt');
      const requests = batch.map(({ inode }) => `dump <${inode}> ${inode}\n`).join('');
      fs.writeFileSync(commands, requests, { mode: 0o600 });
      const output = await run('debugfs', ['-c', '-n', '-f', path.basename(commands), device(image, offsetSectors, dir)], {
        timeoutMs: batch.length > 100 ? WALK_TIMEOUT_MS : SHORT_TIMEOUT_MS, recorder, requests, ...inScratch(dir),
      });
      for (const { inode, size } of batch) {
        const file = path.join(dir, String(inode));
        const content = fs.existsSync(file) ? fs.readFileSync(file) : null;
        fs.rmSync(file, { force: true });
        if (content === null || content.length !== size) unread.push(inode);
        else consume(inode, content);
      }
      fs.rmSync(commands);
      for (const line of output.stderr.split('\n').map((text) => text.trim())) if (line !== '' && !/^debugfs \d/.test(line)) said.add(line);
    }
  });
  return { unread, complaints: [...said] };
}

/** What debugfs dumps into, in the scratch directory it runs in: a request is one line of text, parsed
 * by debugfs (quotes, spaces), so the name is relative and plain whatever the case directory's path. */
const DUMP_NAME = 'dump.out';

/**
 * `dump <N> OUT`: debugfs writes OUT itself, here a name of its own in the scratch directory (a
 * request is one line of text: a path with a quote or a newline could not be named), then moved to
 * `output`, which the caller reserved. debugfs exits 0 even when the dump failed: what it said on
 * stderr (other than its version banner) comes back as the error; the caller judges what it wrote.
 */
export async function debugfsDump(image: string, offsetSectors: number, inode: number, output: string, sizeBytes: number | null, recorder: CommandRecorder, workDir: string): Promise<void> {
  await withScratch(workDir, async (dir) => {
    const written = path.join(dir, DUMP_NAME);
    try {
      await run('debugfs', ['-c', '-n', '-R', `dump <${inode}> ${DUMP_NAME}`, device(image, offsetSectors, dir)], {
        timeoutMs: copyTimeoutMs(sizeBytes), recorder, complaintOf, recordFromStart: true, ...inScratch(dir),
      });
    } finally {
      // What it wrote is the caller's to judge, complaint or not.
      if (fs.existsSync(written)) fs.renameSync(written, output);
    }
  });
}

/** debugfs exits 0 whatever happened to a -R request: a line on stderr other than its banner is the failure. */
function complaintOf(stderr: string): string | null {
  return stderr.split('\n').map((line) => line.trim()).find((line) => line !== '' && !/^debugfs \d/.test(line)) ?? null;
}
