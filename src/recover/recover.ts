// Recover live items: custody checks, the same-file-system rule, one read pass with sha256,
// follow a growing file, record every attempt (and its reason when incomplete).
import fs from 'node:fs';
import path from 'node:path';
import { errnoCode, oneLine, UnlinkedError } from '../errors.js';
import { devString } from '../../parsers/procfs.js';
import type { Db } from '../store/db.js';
import { nowIso } from '../store/db.js';
import type { ItemRow } from '../store/items.js';
import { checkOpenedFile, checkProcess, sourcePath } from './custody.js';
import { copyRange, newCopyState, type CopyState } from './copy.js';
import { displayBytes } from '../util/bytes.js';
import { appendSha256Sums } from '../util/sha256sums.js';
import { commandRecorder } from '../store/commands.js';
import type { CommandRecorder } from '../exec/run.js';
import { mayWait, PROBE_TIMEOUT_MS, statAnswers } from '../proc/mountProbe.js';
import { exactIno, type U64 } from '../util/u64.js';

export interface RecoverOptions {
  outputDir: string;
  follow: boolean;
  /** Seconds; default 600 with --follow. */
  followTimeoutS: number | null;
  /**
   * Items on the output's file system: 'refuse' the whole run (recover), 'skip' them with the reason
   * recorded and copy the rest (triage: the most fragile items must not wait), or 'force'.
   */
  sameFs: 'refuse' | 'skip' | 'force';
  onProgress?: (item: ItemRow, bytes: number) => void;
}

/** A recovered file as CONTRACT.md names its JSON keys. */
export interface RecoveredJson {
  item_id: number;
  pid: number;
  fd: number | null;
  kind: string;
  inode: U64 | null;
  output: string | null;
  bytes: number;
  sha256: string | null;
  complete: boolean;
  note: string | null;
  size_at_start: number | null;
  size_at_end: number | null;
}

const O_NOATIME = fs.constants.O_NOATIME ?? 0;
const FOLLOW_POLL_MS = 200;
const DEFAULT_FOLLOW_TIMEOUT_S = 600;

/**
 * Refuse to write copies onto the file system that holds an item: its free blocks are the
 * deleted file's blocks, and our writes could land on them.
 */
export function sameFsRefusal(outputDir: string, items: readonly Pick<ItemRow, 'id' | 'dev' | 'path'>[]): string | null {
  const outDev = devString(fs.statSync(outputDir).dev);
  const clash = items.find((item) => item.dev === outDev);
  if (clash === undefined) return null;
  return (
    `refusing to write into ${outputDir}: it is on device ${outDev}, the same file system as item ${clash.id} (${displayBytes(clash.path)}), ` +
    `whose freed blocks a copy could overwrite; put the case on another disk (--case /mnt/usb/case) or pass --force-same-fs`
  );
}

export function outputName(item: Pick<ItemRow, 'id' | 'pid' | 'kind' | 'fd' | 'path'>): string {
  const base = path.posix.basename(item.path.toString('latin1'));
  const safe = base.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[-.]+/, '_').slice(0, 80) || 'unnamed';
  return `${item.id}-${item.pid}-${item.kind}${item.fd === null ? '' : String(item.fd)}-${safe}`;
}

export async function recoverItems(db: Db, items: readonly ItemRow[], options: RecoverOptions): Promise<RecoveredJson[]> {
  fs.mkdirSync(options.outputDir, { recursive: true });
  if (options.sameFs === 'refuse') {
    const refusal = sameFsRefusal(options.outputDir, items);
    if (refusal !== null) throw new UnlinkedError('SAME_FS', refusal);
  }
  const outDev = devString(fs.statSync(options.outputDir).dev);
  const insert = db.prepare(`INSERT INTO recoveries (item_id, output, started_at, note) VALUES (?, ?, ?, 'interrupted: the copy did not finish')`);
  const update = db.prepare(
    `UPDATE recoveries SET output = ?, bytes = ?, sha256 = ?, complete = ?, note = ?, size_at_start = ?, size_at_end = ?, sparse = ?, followed = ?, finished_at = ? WHERE id = ?`,
  );
  const results: RecoveredJson[] = [];
  const answering = new AnsweringFileSystems(commandRecorder(db));
  for (const item of items) {
    const output = path.join(options.outputDir, outputName(item));
    const rowId = Number(insert.run(item.id, output, nowIso()).lastInsertRowid);
    let outcome: Outcome;
    if (options.sameFs === 'skip' && item.dev === outDev) {
      outcome = failed(`not copied: it is on ${outDev}, the file system of the case directory, whose writes could overwrite its freed blocks; rerun with --case on another disk (e.g. /mnt/usb/case), or --force-same-fs`);
    } else {
      const silent = await answering.silence(item);
      outcome = silent === null ? await recoverOne(item, output, options) : failed(silent);
    }
    update.run(
      outcome.output, outcome.bytes, outcome.sha256, outcome.complete ? 1 : 0, outcome.note, outcome.sizeAtStart, outcome.sizeAtEnd,
      outcome.sparse ? 1 : 0, outcome.followed ? 1 : 0, nowIso(), rowId,
    );
    if (outcome.output !== null && outcome.sha256 !== null) {
      appendSha256Sums(options.outputDir, outcome.sha256, outcome.output);
    }
    results.push({
      item_id: item.id, pid: item.pid, fd: item.fd, kind: item.kind, inode: item.inode, output: outcome.output, bytes: outcome.bytes,
      sha256: outcome.sha256, complete: outcome.complete, note: outcome.note, size_at_start: outcome.sizeAtStart, size_at_end: outcome.sizeAtEnd,
    });
  }
  return results;
}

/**
 * A network or FUSE file system that stopped answering since the snapshot (a dead NFS server, a
 * hung sshfs) makes open, fstat and read of its files wait for ever: the whole recover (and
 * triage's reports after it) would hang. So each such file system is asked first, once per
 * device: a stat of the item's /proc path in a child process given PROBE_TIMEOUT_MS (mountProbe.ts).
 * One that dies in the middle of a copy still hangs it.
 */
class AnsweringFileSystems {
  private readonly byDev = new Map<string, Promise<boolean>>();

  constructor(private readonly recorder: CommandRecorder) {}

  /** null when the item's file system answered (or is local); else why it is not copied. */
  async silence(item: ItemRow): Promise<string | null> {
    const source = sourcePath(item);
    if (source === null || item.dev === null || item.kind === 'memfd') return null;
    // A file seen by lsof alone has no fs_type: an anonymous device (major 0) may be NFS or FUSE.
    if (item.fs_type === null ? !item.dev.startsWith('0:') : !mayWait(item.fs_type)) return null;
    let answered = this.byDev.get(item.dev);
    if (answered === undefined) {
      answered = statAnswers(source, this.recorder, PROBE_TIMEOUT_MS, true);
      this.byDev.set(item.dev, answered);
    }
    if (await answered) return null;
    const where = item.mount_point === null ? `device ${item.dev}` : `${item.fs_type ?? 'the file system'} at ${JSON.stringify(displayBytes(item.mount_point))}`;
    return `not copied: ${where} did not answer a stat within ${PROBE_TIMEOUT_MS / 1000} s (a server or FUSE daemon that stopped answering); reading it would wait for ever`;
  }
}

interface Outcome {
  output: string | null;
  bytes: number;
  sha256: string | null;
  complete: boolean;
  note: string | null;
  sizeAtStart: number | null;
  sizeAtEnd: number | null;
  sparse: boolean;
  followed: boolean;
}

const failed = (note: string): Outcome => ({ output: null, bytes: 0, sha256: null, complete: false, note, sizeAtStart: null, sizeAtEnd: null, sparse: false, followed: false });

async function recoverOne(item: ItemRow, output: string, options: RecoverOptions): Promise<Outcome> {
  const source = sourcePath(item);
  if (source === null) return failed(`no /proc path reaches this ${item.kind} item (no fd and no mapping range)`);
  const processProblem = checkProcess(item);
  if (processProblem !== null) return failed(processProblem);
  let input: number;
  try {
    input = openSource(source);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT') return failed(`${source} is gone: the ${item.fd === null ? item.kind : `fd ${item.fd}`} was closed after the snapshot`);
    if (code === 'EPERM' || code === 'EACCES') {
      return failed(`${code} opening ${source}${item.kind === 'map' ? ' (map_files needs CAP_SYS_ADMIN: run as root)' : ''}`);
    }
    return failed(`cannot open ${source}: ${oneLine(error)}`);
  }
  let outputFd: number | null = null;
  try {
    // Check again after opening: the PID or fd could have been reused between check and open.
    const reused = checkOpenedFile(input, item) ?? checkProcess(item);
    if (reused !== null) return failed(reused);
    const sizeAtStart = fs.fstatSync(input).size;
    try {
      outputFd = fs.openSync(output, 'wx', 0o400);
    } catch (error) {
      if (errnoCode(error) === 'EEXIST') return failed(`${output} exists already: never overwritten`);
      throw error;
    }
    const state = newCopyState();
    await copyRange(input, outputFd, state, (bytes) => options.onProgress?.(item, bytes));
    let followed = false;
    let followNote: string | null = null;
    if (options.follow && item.fd !== null) {
      followed = true;
      followNote = await follow(item, input, outputFd, state, options);
    }
    const sizeAtEnd = fs.fstatSync(input).size;
    // A file that ends in a hole: the output must still have the logical size.
    fs.ftruncateSync(outputFd, state.bytes);
    fs.fsyncSync(outputFd);
    const notes: string[] = [];
    if (followNote !== null) notes.push(followNote);
    let complete = state.bytes === sizeAtEnd && followNote === null;
    if (state.bytes < sizeAtEnd) {
      notes.push(`point-in-time copy: the file grew from ${sizeAtStart} to ${sizeAtEnd} bytes while it was copied; ${state.bytes} bytes copied${options.follow ? '' : ' (use --follow)'}`);
      complete = false;
    } else if (state.bytes > sizeAtEnd) {
      notes.push(`the file shrank to ${sizeAtEnd} bytes while it was copied (${state.bytes} bytes copied)`);
      complete = false;
    }
    return {
      output,
      bytes: state.bytes,
      sha256: state.hash.digest('hex'),
      complete,
      note: notes.length === 0 ? null : notes.join('; '),
      sizeAtStart,
      sizeAtEnd,
      sparse: state.holeBytes > 0,
      followed,
    };
  } catch (error) {
    if (outputFd === null) return failed(`copy failed: ${oneLine(error)}`);
    // A copy that stopped half-way (ENOSPC on the case disk, EIO): what was written stays and is
    // named, never counted complete, never hashed as if it were the file.
    let partial = 0;
    try {
      partial = fs.fstatSync(outputFd).size;
    } catch {
      // the size of what is there is a detail: the note still says where it is
    }
    return { ...failed(`copy failed: ${oneLine(error)}; ${partial} bytes of it were written to ${output} before that (kept, not hashed)`), output };
  } finally {
    fs.closeSync(input);
    if (outputFd !== null) fs.closeSync(outputFd);
  }
}

function openSource(source: string): number {
  try {
    return fs.openSync(source, fs.constants.O_RDONLY | O_NOATIME);
  } catch (error) {
    // O_NOATIME is allowed only to the file's owner (or CAP_FOWNER).
    if (errnoCode(error) === 'EPERM' && O_NOATIME !== 0) return fs.openSync(source, fs.constants.O_RDONLY);
    throw error;
  }
}

/**
 * Keep copying while the holder keeps the file open, like `tail -c +0 -f`. Returns null when the
 * writer closed it (or exited) and every byte was copied; else why the copy may be short.
 */
async function follow(item: ItemRow, input: number, output: number, state: CopyState, options: RecoverOptions): Promise<string | null> {
  const timeoutS = options.followTimeoutS ?? DEFAULT_FOLLOW_TIMEOUT_S;
  const deadline = Date.now() + timeoutS * 1000;
  const holderPath = `/proc/${item.pid}/fd/${item.fd}`;
  for (;;) {
    await copyRange(input, output, state, (bytes) => options.onProgress?.(item, bytes));
    if (!stillHeld(holderPath, item)) {
      // The writer is done: whatever it wrote last is in the file now.
      await copyRange(input, output, state, (bytes) => options.onProgress?.(item, bytes));
      return null;
    }
    if (Date.now() >= deadline) return `still held open by process ${item.pid} after following for ${timeoutS} s: the file may still grow`;
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
  }
}

function stillHeld(holderPath: string, item: ItemRow): boolean {
  if (checkProcess(item) !== null) return false;
  try {
    const stat = fs.statSync(holderPath);
    return exactIno(stat, () => fs.statSync(holderPath, { bigint: true })) === item.inode && devString(stat.dev) === item.dev;
  } catch {
    return false;
  }
}
