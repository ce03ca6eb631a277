import { EXIT, type ExitCode } from '../errors.js';
import type { CommandContext } from '../cli/context.js';
import { openCase } from '../store/db.js';
import { commandRecorder } from '../store/commands.js';
import { imageInodesOf } from '../store/images.js';
import { scanImage } from '../image/scan.js';

export interface ImageScanOptions {
  offset?: number;
}

export async function imageScanCommand(ctx: CommandContext, image: string, options: ImageScanOptions): Promise<ExitCode> {
  const kase = openCase(ctx.caseDir, { create: true });
  try {
    const scan = await scanImage(kase.db, image, options.offset, commandRecorder(kase.db));
    const inodes = imageInodesOf(kase.db, scan.imageId);
    for (const fs of scan.filesystems) {
      if (fs.error !== null) ctx.warn(`sector ${fs.offsetSectors}: skipped: ${fs.error}`);
      for (const warning of fs.warnings) ctx.warn(`sector ${fs.offsetSectors}: ${warning}`);
      const found = inodes.filter((inode) => inode.offset_sectors === fs.offsetSectors);
      if (fs.error === null) {
        ctx.info(
          `sector ${fs.offsetSectors}: ${fs.fsType ?? '?'} ${fs.superblock?.uuid ?? ''}: ${found.filter((inode) => inode.state === 'orphan').length} orphan, ` +
            `${found.filter((inode) => inode.state === 'deleted').length} deleted (${found.filter((inode) => inode.recoverable).length} recoverable)`,
        );
      }
    }
    for (const inode of inodes.filter((entry) => entry.live.length > 0)) {
      const holder = inode.live[0];
      ctx.info(`inode ${inode.inode} at sector ${inode.offset_sectors} was held open by pid ${holder?.pid} (${holder?.comm ?? '?'}) in snapshot ${holder?.snapshot_id}${inode.live_ambiguous ? ' (ambiguous: several holders or a reused inode number)' : ''}`);
    }
    ctx.info(`image sha256 ${scan.sha256}`);
    if (ctx.json) ctx.out(JSON.stringify(inodes.map(({ image_inode_id: _id, ...contract }) => contract)));
    return scan.filesystems.some((fs) => fs.error !== null && !fs.notExt) ? EXIT.partial : EXIT.ok;
  } finally {
    kase.close();
  }
}
