// Run as a child (argv: CASE_DIR PID): snapshots PID in-process and prints how many links of its
// threads' fd tables (/proc/PID/task/TID/fd/N) were read, with the process's read_error, as JSON.
import fs from 'node:fs';
import { openCase } from '../../src/store/db.js';
import { takeSnapshot } from '../../src/proc/snapshot.js';

const [caseDir = '', pidText = ''] = process.argv.slice(2);
const pid = Number(pidText);
const readlink = fs.readlinkSync;
let taskLinks = 0;
// The walk calls fs.readlinkSync through node:fs's module object: counted there.
Object.assign(fs, {
  readlinkSync: (file: fs.PathLike, options?: fs.EncodingOption) => {
    if (String(file).startsWith(`/proc/${pid}/task/`)) taskLinks++;
    return readlink(file, options);
  },
});
const kase = openCase(caseDir, { create: true });
try {
  await takeSnapshot(kase, { pids: [pid], lsof: false });
  const row = kase.db.prepare('SELECT read_error AS readError FROM processes WHERE pid = ?').get(pid) as { readError: string | null } | undefined;
  process.stdout.write(`${JSON.stringify({ taskLinks, readError: row?.readError ?? null })}\n`);
} finally {
  kase.close();
}
