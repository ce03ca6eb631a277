import path from 'node:path';
import { EXIT, usageError, type ExitCode } from '../errors.js';
import type { CommandContext } from '../cli/context.js';
import { openCase } from '../store/db.js';
import { captureFile, importLsof } from '../lsof/import.js';
import { displayText } from '../util/bytes.js';

export interface LsofImportOptions {
  host?: string;
}

export async function lsofImportCommand(ctx: CommandContext, file: string, options: LsofImportOptions): Promise<ExitCode> {
  // node reads arguments as UTF-8, putting U+FFFD in place of other bytes: the name would not be the one given.
  if (options.host === '') throw usageError('--host is empty: give the name of the host the capture comes from, or leave --host out');
  if (options.host?.includes('\ufffd') === true) throw usageError('--host is not valid UTF-8 (node reads arguments as UTF-8, and its other bytes would be lost): give the host name in UTF-8');
  captureFile(file); // bad input is refused before a case is created for it
  const kase = openCase(ctx.caseDir, { create: true });
  try {
    const result = await importLsof(kase.db, file, options.host ?? null, path.join(kase.paths.dir, 'lsof'));
    // One line per kind of warning (a capture of lsof -K holds thousands of its own rows for what it
    // could not read), with where it was first seen; every one is in parse_warnings.
    const kinds = new Map<string, { first: number; count: number }>();
    // lsof's own warnings (captured with 2>&1): what it could not read is not in the capture.
    const lsofSaid = result.warnings.filter((warning) => warning.message === 'lsof warning');
    const firstSaid = lsofSaid[0];
    if (firstSaid !== undefined) {
      ctx.warn(`lsof itself warned ${lsofSaid.length} time${lsofSaid.length === 1 ? '' : 's'} in the capture (the first, line ${firstSaid.line}: ${displayText(firstSaid.text ?? '')}): what it could not read is not in it`);
    }
    for (const warning of result.warnings) {
      if (warning.message === 'lsof warning') continue;
      const kind = kinds.get(warning.message);
      if (kind === undefined) kinds.set(warning.message, { first: warning.line, count: 1 });
      else kind.count++;
    }
    for (const [message, { first, count }] of [...kinds].slice(0, 20)) {
      ctx.warn(count === 1 ? `line ${first}: ${message}` : `${count} lines (the first: line ${first}): ${message}`);
    }
    const before = kase.db.prepare(`SELECT id FROM snapshots WHERE import_sha256 = ? AND id != ? AND finished_at IS NOT NULL ORDER BY id`).pluck().all(result.sha256, result.snapshotId) as number[];
    if (before.length > 0) {
      ctx.warn(`this capture (sha256 ${result.sha256}) was imported before, as snapshot ${before.join(', ')}: its items are in the case ${before.length + 1} times now (list --snapshot N shows one import)`);
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
