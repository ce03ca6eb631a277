// icat adapter: `icat [-o SECTORS] IMAGE INODE`, an inode's content on stdout. Into an open file
// descriptor (icat writes the file itself, at full speed), through this process (a sparse inode:
// its holes stay holes in the copy), or into memory for small metadata files.
import { run, type CommandRecorder } from '../exec/run.js';
import { SHORT_TIMEOUT_MS, STREAM_STALL_MS, copyTimeoutMs, offsetArgs } from './limits.js';

export async function icatToFd(image: string, offsetSectors: number, inode: number, outputFd: number, sizeBytes: number | null, recorder: CommandRecorder): Promise<void> {
  await run('icat', [...offsetArgs(offsetSectors), image, String(inode)], { timeoutMs: copyTimeoutMs(sizeBytes), recorder, stdoutFd: outputFd, recordFromStart: true });
}

/** The content handed to `consume` chunk by chunk, the next read when the last is consumed (the caller writes holes as holes). */
export async function icatToStream(
  image: string, offsetSectors: number, inode: number, consume: (chunk: Buffer) => Promise<void>, sizeBytes: number | null, recorder: CommandRecorder,
): Promise<void> {
  await run('icat', [...offsetArgs(offsetSectors), image, String(inode)], {
    timeoutMs: copyTimeoutMs(sizeBytes), recorder, streamStdout: { consume, stallMs: STREAM_STALL_MS }, recordFromStart: true,
  });
}

/** A small inode (the orphan file: a few blocks) read into memory, refused above maxBytes. */
export async function icatToBuffer(image: string, offsetSectors: number, inode: number, maxBytes: number, recorder: CommandRecorder): Promise<Buffer> {
  return (await run('icat', [...offsetArgs(offsetSectors), image, String(inode)], { timeoutMs: SHORT_TIMEOUT_MS, recorder, maxBufferBytes: maxBytes })).stdout;
}

/**
 * Drop what the page cache holds of a block device (`dd iflag=nocache count=0`: posix_fadvise
 * DONTNEED on the whole device, opened read-only; pages still dirty are left), so what is read next
 * comes from the disk. A failure is not one of the copy: the copy is then compared as it is.
 */
export async function dropCachedPages(device: string, recorder: CommandRecorder): Promise<void> {
  await run('dd', [`if=${device}`, 'iflag=nocache', 'count=0', 'status=none'], { timeoutMs: SHORT_TIMEOUT_MS, recorder }).catch(() => undefined);
}
