import { EXIT, UnlinkedError, type ExitCode } from '../errors.js';
import type { CommandContext } from '../cli/context.js';
import { openCase } from '../store/db.js';
import { commandRecorder } from '../store/commands.js';
import { imageInodesOf, latestImageId } from '../store/images.js';
import { scanImage } from '../image/scan.js';
import { openImageSource } from '../image/source.js';
import { extractInodes, type ExtractTarget } from '../image/extract.js';
import { istat } from '../tools/tsk.js';
import { parseIstat } from '../../parsers/istat.js';

export interface ImageExtractOptions {
  inode?: number[];
  all?: boolean;
  offset?: number;
}

export async function imageExtractCommand(ctx: CommandContext, image: string, options: ImageExtractOptions): Promise<ExitCode> {
  if (options.all !== true && (options.inode === undefined || options.inode.length === 0)) {
    throw new UnlinkedError('USAGE', 'name the inodes to extract with --inode N (repeatable), or use --all');
  }
  const kase = openCase(ctx.caseDir, { create: true });
  try {
    const recorder = commandRecorder(kase.db);
    const source = openImageSource(image);
    // Sizes and data blocks come from a scan: without one, an empty output could not be told from lost content.
    let imageId = latestImageId(kase.db, source.path);
    if (imageId === null) {
      ctx.info(`no scan of ${source.path} in the case yet: scanning first`);
      imageId = (await scanImage(kase.db, source.path, options.offset, recorder)).imageId;
    }
    const scanned = imageInodesOf(kase.db, imageId).filter((inode) => options.offset === undefined || inode.offset_sectors === options.offset);
    const filesystems = [...new Set(scanned.map((inode) => `${inode.offset_sectors}|${inode.fs_uuid ?? ''}`))];
    let targets: ExtractTarget[];
    if (options.all === true) {
      targets = scanned
        .filter((inode) => inode.state === 'orphan' || inode.recoverable)
        .map((inode) => ({ offsetSectors: inode.offset_sectors, inode: inode.inode, size: inode.size, recoverable: inode.recoverable, fsUuid: inode.fs_uuid, imageInodeId: inode.image_inode_id }));
    } else {
      targets = [];
      for (const number of options.inode ?? []) {
        const matches = scanned.filter((inode) => inode.inode === number);
        if (matches.length > 1) throw new UnlinkedError('USAGE', `inode ${number} was found in ${matches.length} file systems of ${source.path}: give --offset SECTORS`);
        const match = matches[0];
        if (match !== undefined) {
          targets.push({ offsetSectors: match.offset_sectors, inode: number, size: match.size, recoverable: match.recoverable, fsUuid: match.fs_uuid, imageInodeId: match.image_inode_id });
          continue;
        }
        // Not an orphan or deleted inode: still extractable (a live file on a device, say).
        const offset = options.offset ?? (filesystems.length <= 1 ? Number((filesystems[0] ?? '0|').split('|')[0]) : null);
        if (offset === null) throw new UnlinkedError('USAGE', `${source.path} holds several file systems: give --offset SECTORS for inode ${number}`);
        const details = parseIstat(await istat(source.path, offset, number, recorder));
        const fsUuid = (filesystems.find((entry) => entry.startsWith(`${offset}|`)) ?? '').split('|')[1] || null;
        targets.push({ offsetSectors: offset, inode: number, size: details.size, recoverable: details.blocks > 0 || details.size === 0, fsUuid, imageInodeId: null });
      }
    }
    const results = await extractInodes(kase.db, source, targets, kase.paths.extracted, recorder);
    for (const result of results) {
      if (!result.complete) ctx.warn(`inode ${result.inode} at sector ${result.offset_sectors}: ${result.note ?? 'incomplete'}`);
      else if (result.note !== null) ctx.info(`inode ${result.inode}: ${result.note}`);
    }
    const complete = results.filter((result) => result.complete).length;
    ctx.info(`extracted ${complete} of ${results.length} inodes completely into ${kase.paths.extracted}`);
    if (ctx.json) ctx.out(JSON.stringify(results));
    return complete === results.length ? EXIT.ok : EXIT.partial;
  } finally {
    kase.close();
  }
}
