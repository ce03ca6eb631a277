import path from 'node:path';
import { EXIT, type ExitCode } from '../errors.js';
import type { CommandContext } from '../cli/context.js';
import { openCase } from '../store/db.js';
import { captureFile, importLsof } from '../lsof/import.js';

export interface LsofImportOptions {
  host?: string;
}

export async function lsofImportCommand(ctx: CommandContext, file: string, options: LsofImportOptions): Promise<ExitCode> {
  captureFile(file); // bad input is refused before a case is created for it
  const kase = openCase(ctx.caseDir, { create: true });
  try {
    const result = await importLsof(kase.db, file, options.host ?? null, path.join(kase.paths.dir, 'lsof'));
    for (const warning of result.warnings.filter((entry) => entry.message !== 'lsof warning').slice(0, 20)) {
      ctx.warn(`line ${warning.line}: ${warning.message}`);
    }
    ctx.info(`snapshot ${result.snapshotId} (lsof ${result.format} output, ${result.lines} lines): ${result.records} records, ${result.items} deleted-but-open items (${result.stored} records stored), ${result.unreadable} unreadable lines`);
    if (ctx.json) {
      ctx.out(JSON.stringify({ snapshot_id: result.snapshotId, format: result.format, lines: result.lines, records: result.records, items: result.items, unreadable_lines: result.unreadable, sha256: result.sha256 }));
    }
    return result.unreadable > 0 ? EXIT.partial : EXIT.ok;
  } finally {
    kase.close();
  }
}
