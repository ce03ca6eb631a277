import { EXIT, UnlinkedError, type ExitCode } from '../errors.js';
import type { CommandContext } from '../cli/context.js';
import { openCase } from '../store/db.js';
import { writeReport, type ReportFormatName } from '../report/registry.js';

export interface ReportCommandOptions {
  format: ReportFormatName;
  out?: string;
}

export async function reportCommand(ctx: CommandContext, options: ReportCommandOptions): Promise<ExitCode> {
  const kase = openCase(ctx.caseDir, { create: false, readsOnly: true });
  try {
    if (kase.readOnly === true && options.out === undefined) {
      throw new UnlinkedError('BAD_INPUT', `the case ${kase.paths.dir} cannot be written (read-only media, or a folder this user may not write): name where the report goes (--out FILE, or - for stdout)`);
    }
    const written = await writeReport(kase.db, kase.paths, options.format, options.out);
    if (written !== '-') ctx.info(`${options.format} report: ${written}`);
    return EXIT.ok;
  } finally {
    kase.close();
  }
}
