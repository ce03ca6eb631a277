import path from 'node:path';
import { EXIT, usageError, type ExitCode } from '../errors.js';
import type { CommandContext } from '../cli/context.js';
import { openCase } from '../store/db.js';
import { captureFile, importLsof } from '../lsof/import.js';
import { displayText } from '../util/bytes.js';

/** Kinds of warning said one a line; the rest are counted (all are in parse_warnings). */
const MAX_KINDS_SAID = 20;

export interface LsofImportOptions {
  host?: string;
}

export async function lsofImportCommand(ctx: CommandContext, file: string, options: LsofImportOptions): Promise<ExitCode> {
  // node reads arguments as UTF-8, putting U+FFFD in place of other bytes: the name would not be the one given.
  if (options.host === '') throw usageError('--host is empty: give the name of the host the capture comes from, or leave --host out');
  if (options.host?.includes('\ufffd') === true) throw usageError('--host is not valid UTF-8 (node reads arguments as UTF-8, and its other bytes would be lost): give the host name in UTF-8');
  captureFile(file); // bad input is refused before a case is created for it
  const kase = openCase(ctx.caseDir, { create: true, onLockWait: (text) => ctx.info(text) });
  try {
    const result = await importLsof(kase.db, file, options.host ?? null, path.join(kase.paths.dir, 'lsof'), true);
    // Said on stderr and in the JSON's `warnings` alike: why the exit is 3 (the unreadable lines, by kind and where).
    const warnings: string[] = [];
    const warn = (message: string): void => {
      warnings.push(message);
      ctx.warn(message);
    };
    // lsof's own warnings (captured with 2>&1): what it could not read is not in the capture. Counted
    // by the parser whatever else the capture holds, as every kind of warning is.
    const { count: lsofCount, first: firstSaid } = result.lsofWarned;
    if (firstSaid !== null) {
      warn(`lsof itself warned ${lsofCount} time${lsofCount === 1 ? '' : 's'} in the capture (the first, line ${firstSaid.line}: ${displayText(firstSaid.text ?? '')}): what it could not read is not in it`);
    }
    // One line per kind of warning (a capture of lsof -K holds thousands of its own rows for what it
    // could not read), with where it was first seen; every one kept is in parse_warnings. A kind is
    // the message without the value it quotes (`cannot place "x" under a header column`).
    const shownKinds = result.kinds.slice(0, MAX_KINDS_SAID);
    for (const { first, count } of shownKinds) {
      warn(count === 1 ? `line ${first.line}: ${first.message}` : `${count} lines of this kind (the first, line ${first.line}): ${first.message}`);
    }
    if (result.kinds.length > shownKinds.length) warn(`and ${result.kinds.length - shownKinds.length} more kinds of warning (in parse_warnings)`);
    if (result.notKept > 0) warn(`${result.notKept} of these warnings are counted but not kept in parse_warnings (it keeps the first 10,000 of lsof's own and of the others)`);
    // Stored with the snapshot's warnings too (importLsof), so the reports say it.
    if (result.alreadyInCase !== null) warn(result.alreadyInCase);
    ctx.info(`snapshot ${result.snapshotId} (lsof ${result.format} output, ${result.lines} lines): ${result.records} records, ${result.items} deleted-but-open items (${result.stored} records stored), ${result.unreadable} unreadable lines`);
    if (ctx.json) {
      ctx.out(JSON.stringify({ snapshot_id: result.snapshotId, format: result.format, lines: result.lines, records: result.records, items: result.items, unreadable_lines: result.unreadable, sha256: result.sha256, warnings }));
    }
    return result.unreadable > 0 ? EXIT.partial : EXIT.ok;
  } finally {
    kase.close();
  }
}
