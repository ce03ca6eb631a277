// The Sleuth Kit adapters: build argv, run with a timeout, hand text to a parser. Images are only
// ever read: TSK opens them read-only.
import fs from 'node:fs';
import { run, type CommandRecorder } from '../exec/run.js';
import { parseMmls, type MmlsResult } from '../../parsers/mmls.js';
import { UnlinkedError } from '../errors.js';

/** A large image takes a while to walk; a hung tool must not hang the scan forever. */
export const TSK_TIMEOUT_MS = 30 * 60_000;

const offsetArgs = (offset: number): string[] => (offset === 0 ? [] : ['-o', String(offset)]);

/** null when mmls finds no partition table (a bare file system). */
export async function mmls(image: string, recorder: CommandRecorder): Promise<MmlsResult | null> {
  try {
    const result = await run('mmls', [image], { timeoutMs: TSK_TIMEOUT_MS, recorder });
    const parsed = parseMmls(result.stdout.toString('latin1'));
    return parsed.records.length === 0 ? null : parsed;
  } catch (error) {
    if (error instanceof UnlinkedError && error.code === 'TOOL_FAILED') return null; // "Cannot determine partition type"
    throw error;
  }
}

/** fsstat follows the orphan chain itself and prints it forever when the chain loops: cap its output. */
export async function fsstat(image: string, offset: number, recorder: CommandRecorder): Promise<string> {
  return (await run('fsstat', [...offsetArgs(offset), image], { timeoutMs: 120_000, recorder, maxBufferBytes: 16 * 1024 * 1024 })).stdout.toString('latin1');
}

export async function ils(image: string, offset: number, flags: readonly string[], recorder: CommandRecorder): Promise<string> {
  return (await run('ils', [...flags, ...offsetArgs(offset), image], { timeoutMs: TSK_TIMEOUT_MS, recorder })).stdout.toString('latin1');
}

export async function fls(image: string, offset: number, recorder: CommandRecorder): Promise<string> {
  return (await run('fls', ['-r', '-d', '-p', ...offsetArgs(offset), image], { timeoutMs: TSK_TIMEOUT_MS, recorder })).stdout.toString('latin1');
}

export async function istat(image: string, offset: number, inode: number, recorder: CommandRecorder): Promise<string> {
  return (await run('istat', [...offsetArgs(offset), image, String(inode)], { timeoutMs: 60_000, recorder })).stdout.toString('latin1');
}

/** icat into a file it writes itself (its stdout is the file: no pipe through node), or into memory when outFile is null. */
export async function icat(image: string, offset: number, inode: number, outFile: string | null, recorder: CommandRecorder): Promise<Buffer> {
  const args = [...offsetArgs(offset), image, String(inode)];
  if (outFile === null) return (await run('icat', args, { timeoutMs: TSK_TIMEOUT_MS, recorder })).stdout;
  // O_EXCL: an existing output is never overwritten.
  const fd = fs.openSync(outFile, 'wx', 0o600);
  try {
    await run('icat', args, { timeoutMs: TSK_TIMEOUT_MS, recorder, stdoutFd: fd });
  } finally {
    fs.closeSync(fd);
  }
  return Buffer.alloc(0);
}
