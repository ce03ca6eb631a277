// icat adapter: `icat [-o SECTORS] IMAGE INODE`, an inode's content on stdout. Into an open file
// descriptor (icat writes the file itself, at full speed), or into memory for small metadata files.
import { run, type CommandRecorder } from '../exec/run.js';
import { SHORT_TIMEOUT_MS, copyTimeoutMs, offsetArgs } from './limits.js';

export async function icatToFd(image: string, offsetSectors: number, inode: number, outputFd: number, sizeBytes: number | null, recorder: CommandRecorder): Promise<void> {
  await run('icat', [...offsetArgs(offsetSectors), image, String(inode)], { timeoutMs: copyTimeoutMs(sizeBytes), recorder, stdoutFd: outputFd });
}

/** A small inode (the orphan file: a few blocks) read into memory, refused above maxBytes. */
export async function icatToBuffer(image: string, offsetSectors: number, inode: number, maxBytes: number, recorder: CommandRecorder): Promise<Buffer> {
  return (await run('icat', [...offsetArgs(offsetSectors), image, String(inode)], { timeoutMs: SHORT_TIMEOUT_MS, recorder, maxBufferBytes: maxBytes })).stdout;
}
