import fs from 'node:fs';
import path from 'node:path';
import { EXIT, UnlinkedError, type ExitCode } from '../errors.js';
import type { CommandContext } from '../cli/context.js';
import { openCase } from '../store/db.js';
import { reportDestination, writeReport, type ReportFormatName } from '../report/registry.js';
import { liveItemsRefusal } from '../recover/recover.js';
import { absolutePath } from '../util/cwd.js';
import { tryOr } from '../util/tryOr.js';
import { beginStep, stepStored } from '../util/interrupt.js';
import { displayText } from '../util/bytes.js';

export interface ReportCommandOptions {
  format: ReportFormatName;
  out?: string;
  forceSameFs?: boolean;
}

export async function reportCommand(ctx: CommandContext, options: ReportCommandOptions): Promise<ExitCode> {
  const kase = openCase(ctx.caseDir, { create: false, readsOnly: true, onLockWait: (text) => ctx.info(text) });
  try {
    if (kase.readOnly === true && options.out === undefined) {
      throw new UnlinkedError('BAD_INPUT', `the case database ${kase.paths.database} ${kase.readOnlyWhy ?? 'cannot be written'}: name where the report goes (--out FILE, or - for stdout)`);
    }
    if (options.out !== undefined && options.out !== '-' && options.forceSameFs !== true) {
      // A report written beside the deleted files of the case's live items could take their freed blocks.
      // Where the report lands: through a symbolic link, the folder of what it leads to.
      const dir = path.dirname(reportDestination(options.out));
      // Into the case's own folder it goes where the report without --out goes: where the case already is.
      const real = (where: string): string => tryOr(() => fs.realpathSync(where), where);
      const inCase = path.relative(real(kase.paths.dir), real(dir)).split(path.sep)[0] !== '..';
      const refusal = fs.existsSync(dir) && !inCase ? liveItemsRefusal(kase.db, dir, 'whose freed blocks the report could overwrite; write it to another disk, or pass --force-same-fs') : null;
      if (refusal !== null) throw new UnlinkedError('SAME_FS', refusal);
    }
    beginStep(options.out === '-' ? 'the report on stdout is cut short' : 'the report under way is not written (its file is left as it was)');
    const written = await writeReport(kase.db, kase.paths, options.format, options.out);
    // Nothing but a line on stderr is left: a signal from now on does not stop the run.
    stepStored(written === '-' ? 'the report' : `the report ${displayText(written)}`, true);
    // Through a symbolic link (--out LINK), the file it leads to is named: that is what was written.
    if (written !== '-') ctx.info(`${options.format} report: ${written}${options.out !== undefined && written !== absolutePath(options.out) ? ` (--out ${options.out} leads there)` : ''}`);
    return EXIT.ok;
  } finally {
    kase.close();
  }
}
