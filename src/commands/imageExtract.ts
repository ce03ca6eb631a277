// `unlinked image extract IMAGE (--inode N)... | --all [--offset SECTORS]`: inode contents into <case>/extracted/.
import { EXIT, usageError, type ExitCode } from '../errors.js';
import type { CommandContext } from '../cli/context.js';
import { requireTool } from '../exec/run.js';
import { openCase } from '../store/db.js';
import { commandRecorder } from '../store/commands.js';
import { extractInodes } from '../image/extract.js';
import { allTargets, namedTargets } from '../image/targets.js';
import { checkOffset, liveWarning, openImageSource, refuseCaseOnEvidence } from '../image/source.js';
import { IMAGE_COMMAND_ADDRESS_SPACE, requireAddressSpace } from '../util/addressSpace.js';

export interface ImageExtractOptions {
  inode?: number[];
  all?: boolean;
  offset?: number;
}

export async function imageExtractCommand(ctx: CommandContext, image: string, options: ImageExtractOptions): Promise<ExitCode> {
  const named = options.inode ?? [];
  if (options.all !== true && named.length === 0) throw usageError('name the inodes to extract with --inode N (repeatable), or use --all');
  if (options.all === true && named.length > 0) throw usageError('--all and --inode exclude each other');
  for (const tool of ['icat', 'debugfs', 'ils', 'mmls'] as const) requireTool(tool);
  requireAddressSpace('image extract', IMAGE_COMMAND_ADDRESS_SPACE, 'each copy is hashed in a worker thread, whose V8 reserves address space');
  const source = openImageSource(image);
  // Before the case is made: bad input leaves nothing behind.
  checkOffset(source, options.offset);
  for (const warning of refuseCaseOnEvidence(source, ctx.caseDir)) ctx.warn(warning);
  if (source.mounted) {
    ctx.warn(source.isDevice
      ? `${source.path} is mounted (itself, a partition of it, a volume built on it, or a loop device reading the same file): what it holds may lag behind the page cache (see the notes of each copy)`
      : liveWarning(source));
  }
  const kase = openCase(ctx.caseDir, { create: true, onLockWait: (text) => ctx.info(text) });
  try {
    const recorder = commandRecorder(kase.db);
    const choice = options.all === true
      ? await allTargets(kase.db, source, options.offset, recorder, kase.paths.dir)
      : await namedTargets(kase.db, source, named, options.offset, recorder, kase.paths.dir);
    choice.notes.forEach((note) => ctx.info(note));
    choice.warnings.forEach((warning) => ctx.warn(warning));
    const results = await extractInodes(kase.db, source, choice.targets, kase.paths.extracted, recorder, {
      onResult: (result) => {
        const where = `inode ${result.inode} at sector ${result.offset_sectors}`;
        if (!result.complete) ctx.warn(`${where}: ${result.note ?? 'incomplete'}`);
        else ctx.info(`${where}: ${result.bytes} bytes, sha256 ${result.sha256 ?? '?'}${result.note === null ? '' : ` (${result.note})`}`);
      },
      onSlow: (message) => ctx.info(message),
      lastStep: true,
    });
    const complete = results.filter((result) => result.complete).length;
    ctx.info(`extracted ${complete} of ${results.length} inodes completely into ${kase.paths.extracted}`);
    if (ctx.json) ctx.out(JSON.stringify(results));
    // The scan made first that did not see everything (a journal not replayed, a cut image): partly done too.
    return complete === results.length && !choice.partial ? EXIT.ok : EXIT.partial;
  } finally {
    kase.close();
  }
}
