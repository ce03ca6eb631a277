import type { CommandRecord, CommandRecorder } from '../exec/run.js';
import type { Db } from './db.js';
import { beforeWrite } from './lockWait.js';

/** Provenance: every external command goes into the `commands` table as soon as it ends. */
export function commandRecorder(db: Db): CommandRecorder {
  const insert = db.prepare(
    `INSERT INTO commands (program, path, version, argv, exit_code, error, started_at, finished_at)
     VALUES (@program, @path, @version, @argv, @exitCode, @error, @startedAt, @finishedAt)`,
  );
  return (record: CommandRecord) => {
    beforeWrite(db);
    insert.run({ ...record, argv: JSON.stringify(record.argv) });
  };
}
