import type { CommandRecord, CommandRecorder, CommandStart } from '../exec/run.js';
import type { Db } from './db.js';
import { beforeWrite } from './lockWait.js';

/**
 * What a command's row says until the program ends (its exit code and finished_at empty): read in a
 * case after unlinked was killed while it ran, it is what happened (the program was killed with it:
 * its parent-death signal), and what it wrote into the case is partial.
 */
export const COMMAND_NOT_ENDED = 'not ended: still running, or unlinked was killed while it ran (the program was killed with it), and what it wrote is partial';

/**
 * Provenance: every external command goes into the `commands` table as it ends; one whose output
 * goes into the case (RunOptions.recordFromStart) as it starts too: one insert, one update.
 */
export function commandRecorder(db: Db): CommandRecorder {
  const insert = db.prepare(
    `INSERT INTO commands (program, path, version, argv, requests, exit_code, error, started_at, finished_at)
     VALUES (@program, @path, @version, @argv, @requests, @exitCode, @error, @startedAt, @finishedAt)`,
  );
  const update = db.prepare(
    `UPDATE commands SET version = coalesce(@version, version), exit_code = @exitCode, error = @error, finished_at = @finishedAt WHERE id = @id`,
  );
  const recorder: CommandRecorder = (record: CommandRecord) => {
    beforeWrite(db);
    insert.run({ ...record, argv: JSON.stringify(record.argv) });
  };
  recorder.start = (started: CommandStart) => {
    beforeWrite(db);
    const id = insert.run({ ...started, argv: JSON.stringify(started.argv), exitCode: null, error: COMMAND_NOT_ENDED, finishedAt: null }).lastInsertRowid;
    return (record: CommandRecord) => {
      beforeWrite(db);
      update.run({ id, version: record.version, exitCode: record.exitCode, error: record.error, finishedAt: record.finishedAt });
    };
  };
  return recorder;
}
