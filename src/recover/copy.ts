// Copy bytes out of an open file into a new file, hashing them on the way: one read pass, reads,
// hashing and writes overlapping, all-zero blocks left as holes, memory bounded by a buffer ring.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { promisify } from 'node:util';
import type { SpaceGuard } from '../util/caseSpace.js';

const read = promisify(fs.read);
const write = promisify(fs.write);

const CHUNK = 4 * 1024 * 1024;
const RING = 4;
/**
 * Holes are detected at this granularity, a page and the block of most file systems: a data island
 * smaller than this is written whole (so a copy writes at most its source's blocks, rounded up to it).
 */
export const HOLE_BLOCK = 4096;
/**
 * Holes this large (read and hashed as zeros: about a second per 2 GiB) put a copy after the others:
 * image extract's order, and triage's for a file in memory.
 */
export const SLOW_HOLE_BYTES = 2 ** 30;
/**
 * A point-in-time copy (and each pass of a copy after its holder closed it) reads no further than
 * the file's size when it started and this much more: a writer that appends while it is copied is
 * still caught up with, and a file that grows without end (a memfd its holder truncates 1 GiB
 * larger every millisecond, read as zeros) ends its copy instead of holding it, and every copy after
 * it, for ever.
 */
export const GROWTH_ALLOWANCE_BYTES = 64 * 1024 * 1024;
const ZERO = Buffer.alloc(CHUNK);

/**
 * CHUNK buffers that copies which ended gave back, for the next ones: a ring of fresh 4 MiB buffers
 * per copy (100,000 copies of 10-byte files in one recover) was 16 MiB of external memory per item
 * for the GC to account for, and its full collections, each over everything the run holds, made the
 * run super-linear. A few are kept (what a copy of a large file uses); copies followed side by side
 * that need more take fresh ones, dropped when they end.
 */
const spareChunks: Buffer[] = [];
const SPARE_CHUNKS = RING;
/** Buffers made so far (a test counts them: a run of many small copies makes a ring's worth, not one per copy). */
export const chunkBuffers = { made: 0 };

function takeChunk(): Buffer {
  const spare = spareChunks.pop();
  if (spare !== undefined) return spare;
  chunkBuffers.made++;
  return Buffer.allocUnsafe(CHUNK);
}

/** Called once nothing reads into nor writes from these any more. */
function giveChunks(buffers: ReadonlyArray<Buffer | undefined>): void {
  for (const buffer of buffers) if (buffer !== undefined && spareChunks.length < SPARE_CHUNKS) spareChunks.push(buffer);
}

export interface CopyState {
  hash: crypto.Hash;
  /** Bytes copied so far (the logical size of the output). */
  bytes: number;
  /** Bytes that were skipped as holes. */
  holeBytes: number;
  /** The last TAIL_BYTES copied (fewer at first): read again, they tell whether the file was rewritten. */
  tail: Buffer;
  /** The first TAIL_BYTES copied (fewer at first): read again, they tell whether the file was cut and written again from its start. */
  head: Buffer;
  /** Stops the copy before it fills the case's disk (null: unguarded). */
  guard: SpaceGuard | null;
  /**
   * Where the first write that failed (or was refused by the guard) would have gone, or null. Every
   * byte before it is in the output; after it, writes in flight may have left some: the output is
   * cut back to it, an exact prefix.
   */
  stoppedAt: number | null;
  /** Why: the first failure, which every later write of the copy fails with too. */
  stopReason: unknown;
  /** Asked before each run of bytes is taken: true ends the copy there (a Ctrl-C); null: never. */
  stopWanted: (() => boolean) | null;
  /** The copy ended because stopWanted said so: every byte before state.bytes is copied and hashed, none after. */
  interrupted: boolean;
  /** Reads stop at this offset (null: at the end of the file): a point-in-time copy of a file that grows without end ends. */
  readLimit: number | null;
  /** Reads stop once this time (Date.now() ms) is passed (null: never): a followed copy ends by its --follow-timeout. */
  readUntil: number | null;
  /**
   * Why the last pass stopped before the end of the file (which may hold more), or null (it read to
   * the end, or was stopped otherwise): `limit` at readLimit; `outrun` (a pass with a readLimit) the
   * file grew by as many bytes as the last GROWTH_ALLOWANCE_BYTES read, or more: it grows faster than
   * it is read, and would be read for ever; `time` at readUntil.
   */
  bounded: 'limit' | 'outrun' | 'time' | null;
}

export const TAIL_BYTES = 64 * 1024;

export function newCopyState(guard: SpaceGuard | null = null, stopWanted: (() => boolean) | null = null): CopyState {
  return { hash: crypto.createHash('sha256'), bytes: 0, holeBytes: 0, tail: Buffer.alloc(0), head: Buffer.alloc(0), guard, stoppedAt: null, stopReason: null, stopWanted, interrupted: false, readLimit: null, readUntil: null, bounded: null };
}

/** Thrown by streamInto's consume once the copy was asked to stop (state.interrupted): its producer stops sending. */
export class CopyStopped extends Error {
  constructor() {
    super('the copy was stopped (interrupted)');
  }
}

/**
 * The copy reached state.readUntil: its producer (dd, whose run() deadline is readUntil: killed then,
 * also in a read not answered yet) is stopped with it (the copy is bounded, not interrupted).
 */
export class CopyBounded extends Error {
  constructor() {
    super('the copy reached the time it was allowed to read until');
  }
}

/** The copy reached its readUntil (its --follow-timeout): marked bounded, and the error that stops its producer. */
export function boundedByTime(state: CopyState): CopyBounded {
  state.bounded = 'time';
  return new CopyBounded();
}

/**
 * How many bytes the next read at `position` may take (at most `most`): 0 once the copy reached its
 * readLimit or readUntil (and marks it bounded).
 */
export function readAllowance(state: CopyState, position: number, most: number): number {
  if (state.readLimit !== null && position >= state.readLimit) {
    state.bounded = 'limit';
    return 0;
  }
  if (state.readUntil !== null && Date.now() >= state.readUntil) {
    state.bounded = 'time';
    return 0;
  }
  return state.readLimit === null ? most : Math.min(most, state.readLimit - position);
}

/** Whether the copy must end before the next bytes (and marks it interrupted). */
function stopNow(state: CopyState): boolean {
  if (state.stopWanted?.() === true) state.interrupted = true;
  return state.interrupted;
}

/** Hash the bytes that come next and keep the first and last TAIL_BYTES of the copy (copied: the buffers are reused). */
function take(state: CopyState, data: Buffer): void {
  state.hash.update(data);
  if (state.head.length < TAIL_BYTES) state.head = Buffer.concat([state.head, data.subarray(0, TAIL_BYTES - state.head.length)]);
  state.tail = data.length >= TAIL_BYTES ? Buffer.from(data.subarray(data.length - TAIL_BYTES)) : Buffer.concat([state.tail, data]).subarray(-TAIL_BYTES);
}

export interface CopyProgress {
  (bytes: number): void;
}

/**
 * Copy from `input` (read at explicit positions) to `output` starting at state.bytes until EOF.
 * Returns when a read returns 0, when state.stopWanted says so (state.interrupted), or at
 * state.readLimit or state.readUntil (state.bounded). Callers may call again to follow a growing file.
 */
export async function copyRange(input: number, output: number, state: CopyState, onProgress?: CopyProgress): Promise<void> {
  // Each slot taken when first used: a copy of a small file takes two buffers (its read, and the read that finds EOF).
  const ring: Array<Buffer | undefined> = Array.from({ length: RING }, () => undefined);
  const slotBuffer = (index: number): Buffer => (ring[index] ??= takeChunk());
  const writes: Array<Promise<unknown>> = Array.from({ length: RING }, () => Promise.resolve());
  let slot = 0;
  state.bounded = null;
  // A point-in-time pass (a readLimit) looks at the file's size every GROWTH_ALLOWANCE_BYTES read:
  // grown by as many as were read since (or more), it outruns the copy, which ends there.
  let checkedAt = state.bytes;
  let leftAtCheck = state.readLimit === null ? 0 : fs.fstatSync(input).size - checkedAt;
  const outrun = (at: number): boolean => {
    if (state.readLimit === null || at - checkedAt < GROWTH_ALLOWANCE_BYTES) return false;
    const left = fs.fstatSync(input).size - at;
    if (left >= leftAtCheck) return true;
    [checkedAt, leftAtCheck] = [at, left];
    return false;
  };
  // Not past the bound: a read that would start there is not made, and counts as the end.
  const readAt = (buffer: Buffer, at: number): Promise<number> => {
    if (outrun(at)) {
      state.bounded = 'outrun';
      return Promise.resolve(0);
    }
    const length = readAllowance(state, at, buffer.length);
    return length === 0 ? Promise.resolve(0) : handled(readInto(input, buffer.subarray(0, length), at));
  };
  let nextRead = readAt(slotBuffer(0), state.bytes);
  let position = state.bytes;
  try {
    for (;;) {
      const bytesRead = await nextRead;
      // Stopped: what was just read is not taken (nor hashed), the copy is the bytes before it.
      if (bytesRead === 0 || stopNow(state)) break;
      const buffer = slotBuffer(slot);
      const nextSlot = (slot + 1) % RING;
      // The next buffer is reused only when its previous write is done.
      await writes[nextSlot];
      nextRead = readAt(slotBuffer(nextSlot), position + bytesRead);
      const data = buffer.subarray(0, bytesRead);
      take(state, data);
      writes[slot] = handled(writeNonZero(output, data, position, state));
      position += bytesRead;
      state.bytes = position;
      onProgress?.(position);
      slot = nextSlot;
    }
    await Promise.all(writes);
  } catch (error) {
    // Nothing may still be reading or writing once the caller closes the fds (a closed fd number is
    // soon another file's): let every read and write in flight end first.
    await Promise.allSettled([nextRead, ...writes]);
    giveChunks(ring);
    throw error;
  }
  // No read nor write of the ring is in flight any more: its buffers serve the next copy.
  giveChunks(ring);
}

/**
 * The same copy for bytes that arrive in a stream (a child process reading a file this process must
 * not touch: see recover.ts): chunks are gathered into CHUNK-sized runs, hashed and written at
 * their positions from state.bytes on, all-zero blocks left as holes. Call end() after the last.
 */
export function streamInto(output: number, state: CopyState, onProgress?: CopyProgress): { consume(chunk: Buffer): Promise<void>; end(): Promise<void> } {
  const run = Buffer.allocUnsafe(CHUNK);
  let filled = 0;
  const flush = async (): Promise<void> => {
    if (filled === 0) return;
    const data = run.subarray(0, filled);
    take(state, data);
    await writeNonZero(output, data, state.bytes, state);
    state.bytes += filled;
    filled = 0;
    onProgress?.(state.bytes);
  };
  return {
    async consume(chunk: Buffer): Promise<void> {
      if (stopNow(state)) throw new CopyStopped();
      let offset = 0;
      while (offset < chunk.length) {
        const taken = chunk.copy(run, filled, offset);
        filled += taken;
        offset += taken;
        if (filled === CHUNK) await flush();
      }
    },
    end: flush,
  };
}

/**
 * A read or write that fails (ENOSPC on a full case disk, EIO) while the loop awaits another one
 * would be an unhandled rejection, which ends node with a stack trace: mark it handled here; the
 * loop still meets the error when it awaits that promise, and the copy fails with its reason.
 */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

async function readInto(fd: number, buffer: Buffer, position: number): Promise<number> {
  // A short read is not EOF: keep reading until the buffer is full or read returns 0.
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await read(fd, buffer, filled, buffer.length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

/** Write the data's non-zero runs (in HOLE_BLOCK units) at their positions; all-zero runs stay holes. */
async function writeNonZero(fd: number, data: Buffer, position: number, state: CopyState): Promise<void> {
  if (data.equals(ZERO.subarray(0, data.length))) {
    state.holeBytes += data.length;
    return;
  }
  let runStart = -1;
  for (let offset = 0; offset <= data.length; offset += HOLE_BLOCK) {
    const end = Math.min(offset + HOLE_BLOCK, data.length);
    // compare() with ranges: no Buffer made per block.
    const isZero = offset >= data.length || ZERO.compare(data, offset, end, 0, end - offset) === 0;
    if (!isZero && runStart < 0) runStart = offset;
    if ((isZero || end === data.length) && runStart >= 0) {
      const runEnd = isZero ? offset : end;
      await writeRun(fd, data.subarray(runStart, runEnd), position + runStart, state);
      runStart = -1;
    }
    if (isZero && offset < data.length) state.holeBytes += end - offset;
  }
}

/** One run, claimed from the guard; once a write of this copy failed, none after it is made. */
async function writeRun(fd: number, data: Buffer, position: number, state: CopyState): Promise<void> {
  const stop = (error: unknown): never => {
    if (state.stoppedAt === null) state.stopReason = error;
    state.stoppedAt = Math.min(state.stoppedAt ?? position, position);
    throw state.stopReason;
  };
  if (state.stoppedAt !== null) stop(state.stopReason);
  try {
    state.guard?.claim(data.length);
  } catch (error) {
    stop(error);
  }
  try {
    await writeAll(fd, data, position);
  } catch (error) {
    stop(error);
  } finally {
    state.guard?.release(data.length);
  }
}

async function writeAll(fd: number, data: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < data.length) {
    const { bytesWritten } = await write(fd, data, written, data.length - written, position + written);
    written += bytesWritten;
  }
}
