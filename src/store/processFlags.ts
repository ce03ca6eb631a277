// What a responder is told of a live item's process at a glance, decided from what the snapshot
// stored (processes, items): a process named like a kernel thread that is none, and one run from a
// memfd. Shown in list --json, the JSON, CSV and HTML reports (process_flags); never a verdict.
import type { Db } from './db.js';
import { ofMemfd, type ItemRow } from './items.js';

/**
 * One thing to know of a process: `flag` a stable code, `why` one line that starts with the flag's
 * badge and a colon (fixed words and numbers only, never a `|`: the names are in comm, exe and cmdline).
 */
export interface ProcessFlag {
  flag: 'kernel-thread-name' | 'memfd-exe';
  why: string;
}

/** Each flag's badge in the HTML report: what it says, in a few words. */
export const FLAG_BADGES: Readonly<Record<ProcessFlag['flag'], string>> = {
  'kernel-thread-name': 'named like a kernel thread',
  'memfd-exe': 'runs from a memfd (fileless)',
};

/** What the flags are decided from, as the snapshot stored it (a thread with an fd table of its own: its process's exe and command line). */
export interface ProcessFacts {
  pid: number;
  ppid: number | null;
  /** processes.comm (the display form), else the item's (an lsof import has no process row). */
  comm: string | null;
  /** processes.exe was read: readlink of /proc/PID/exe gave a name (a kernel thread has none: ENOENT). */
  hasExe: boolean;
  /** The length of processes.cmdline in bytes (a kernel thread's is 0); null: not read. */
  cmdlineBytes: number | null;
  /** The command line's first argument (its bytes up to the first NUL); null: not read. */
  argv0: Buffer | null;
  /** Its executable is a memfd (ofMemfd of its exe item). */
  memfdExe: boolean;
}

/** kthreadd: every kernel thread is it or its child. */
const KTHREADD = 2;

/**
 * A kernel thread's form as `ps` shows it, "[kworker/0:1]": ps puts the name of a process with an
 * empty command line (a kernel thread) in brackets. A real kernel thread's comm never has them and
 * its command line is empty, so a comm or argv[0] written so is a process dressing as one. Trailing
 * blanks (padding written over the rest of argv) do not hide it; brackets inside a name do not count.
 */
function kernelThreadForm(name: string): boolean {
  const trimmed = name.replace(/[ \t]+$/, '');
  return trimmed.length >= 3 && trimmed.startsWith('[') && trimmed.endsWith(']');
}

/**
 * The names of Linux's kernel threads that malware takes without brackets (`prctl(PR_SET_NAME,
 * "kworker/0:1")`): a family whose threads are numbered after a `/` (a name from exec, the file's,
 * never holds one) and what the kernel puts there (digits, letters, `:.+-_`), or one kernel thread's
 * own name. Names a userland daemon also goes by (`watchdog`, `watchdogd`) are left out: a flag must
 * not fire on a host's own programs.
 */
const KERNEL_THREAD_NAME = new RegExp(
  '^(?:(?:kworker|ksoftirqd|migration|cpuhp|watchdog|irq|idle_inject|jbd2|rcuc|rcuob|rcuop|rcuos|events|kblockd|scsi_eh)/[\\w:.+-]+$' +
  '|(?:kthreadd|kswapd\\d+|kcompactd\\d+|khugepaged|khungtaskd|kdevtmpfs|kauditd|oom_reaper|ksmd|khelper|kintegrityd|kthrotld|kblockd' +
  '|rcu_(?:sched|preempt|bh|gp|par_gp|tasks_kthread|tasks_rude_kthread|tasks_trace_kthread)|kdamond\\.\\d+|scsi_eh_\\d+|scsi_tmf_\\d+)$)',
);

function kernelThreadName(name: string): boolean {
  return KERNEL_THREAD_NAME.test(name.replace(/[ \t]+$/, ''));
}

export function processFlags(facts: ProcessFacts): ProcessFlag[] {
  const flags: ProcessFlag[] = [];
  // argv[0] as bytes read as latin1: '[' and ']' are one byte each whatever the rest holds.
  const names: Array<[string, string | null]> = [['comm', facts.comm], ['argv[0]', facts.argv0 === null ? null : facts.argv0.toString('latin1')]];
  const bracketed = names.filter(([, name]) => name !== null && kernelThreadForm(name)).map(([what]) => what);
  const bare = names.filter(([what, name]) => name !== null && !bracketed.includes(what) && kernelThreadName(name)).map(([what]) => what);
  const named = [
    bracketed.length > 0 ? `${bracketed.join(' and ')} in brackets` : null,
    bare.length > 0 ? `${bare.join(' and ')} ${bare.length > 1 ? 'are' : 'is'} a kernel thread's name` : null,
  ].filter((what): what is string => what !== null);
  if (named.length > 0) {
    // Only what was read counts against it: an exe not readable (EACCES as non-root) is no evidence either way.
    const against = [
      facts.hasExe ? 'an executable' : null,
      facts.cmdlineBytes !== null && facts.cmdlineBytes > 0 ? 'a command line' : null,
      facts.ppid !== null && facts.ppid !== KTHREADD && facts.pid !== KTHREADD ? `parent PID ${facts.ppid}` : null,
    ].filter((what): what is string => what !== null);
    if (against.length > 0) {
      flags.push({
        flag: 'kernel-thread-name',
        why: `${FLAG_BADGES['kernel-thread-name']}: ${named.join(' and ')}, yet it has ${listed(against)} (a kernel thread has no executable, an empty command line and kthreadd, PID 2, as its parent)`,
      });
    }
  }
  if (facts.memfdExe) {
    flags.push({ flag: 'memfd-exe', why: `${FLAG_BADGES['memfd-exe']}: its executable is a memfd, a file in memory only, on no file system (fexecve or execveat of a memfd)` });
  }
  return flags;
}

function listed(parts: readonly string[]): string {
  return parts.length <= 1 ? (parts[0] ?? '') : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1) ?? ''}`;
}

/**
 * A reader of each item's process's flags, kept for the last process asked: rows come by snapshot
 * and pid. Reads only argv[0] and the command line's length, not the whole (a Java class path can
 * be hundreds of KB). `comm` is the item's, for an item with no process row (an lsof import).
 */
export function processFlagReader(db: Db): (snapshotId: number, pid: number, comm: string | null) => ProcessFlag[] {
  const processOf = db.prepare(`SELECT p.pid, p.ppid, p.comm, coalesce(p.thread_of, p.pid) AS process, coalesce(p.exe, q.exe) IS NOT NULL AS has_exe,
      length(coalesce(p.cmdline, q.cmdline)) AS cmdline_bytes,
      CASE WHEN instr(coalesce(p.cmdline, q.cmdline), x'00') > 0 THEN substr(coalesce(p.cmdline, q.cmdline), 1, instr(coalesce(p.cmdline, q.cmdline), x'00') - 1)
        ELSE coalesce(p.cmdline, q.cmdline) END AS argv0
    FROM processes p LEFT JOIN processes q ON q.snapshot_id = p.snapshot_id AND q.pid = p.thread_of WHERE p.snapshot_id = ? AND p.pid = ?`);
  // The exe item is its process's (a thread's own fd table holds none).
  const exeItems = db.prepare(`SELECT kind, in_proc, fs_type, mount_point, path FROM items WHERE snapshot_id = ? AND pid = ? AND kind = 'exe'`);
  let last: { key: string; flags: ProcessFlag[] } = { key: '', flags: [] };
  return (snapshotId, pid, comm) => {
    const key = `${snapshotId}/${pid}`;
    if (last.key === key) return last.flags;
    const row = processOf.get(snapshotId, pid) as
      { pid: number; ppid: number | null; comm: string | null; process: number; has_exe: number; cmdline_bytes: number | null; argv0: Buffer | string | null } | undefined;
    const exes = exeItems.all(snapshotId, row?.process ?? pid) as Array<Pick<ItemRow, 'kind' | 'in_proc' | 'fs_type' | 'mount_point' | 'path'>>;
    const flags = processFlags({
      pid,
      ppid: row?.ppid ?? null,
      comm: row?.comm ?? comm,
      hasExe: row?.has_exe === 1,
      cmdlineBytes: row?.cmdline_bytes ?? null,
      // substr of a BLOB is a BLOB; of a command line stored as text (never by unlinked), text.
      argv0: row?.argv0 === null || row?.argv0 === undefined ? null : Buffer.isBuffer(row.argv0) ? row.argv0 : Buffer.from(row.argv0, 'latin1'),
      memfdExe: exes.some(ofMemfd),
    });
    last = { key, flags };
    return flags;
  };
}

/** A process holding items of the case whose flags are not empty. */
export interface FlaggedProcess {
  snapshot_id: number;
  pid: number;
  /** The items' comm (an lsof import has no process row). */
  comm: string | null;
  flags: ProcessFlag[];
}

/**
 * The processes holding items that have flags, by snapshot and pid: of one snapshot (triage's), or
 * of every finished snapshot of the case (the reports).
 */
export function flaggedProcesses(db: Db, snapshots: number | 'finished'): FlaggedProcess[] {
  const flagsOf = processFlagReader(db);
  const of = snapshots === 'finished' ? 'snapshot_id IN (SELECT id FROM snapshots WHERE finished_at IS NOT NULL)' : 'snapshot_id = ?';
  const rows = db.prepare(`SELECT snapshot_id, pid, min(comm) AS comm FROM items WHERE ${of} GROUP BY snapshot_id, pid ORDER BY snapshot_id, pid`)
    .iterate(...(snapshots === 'finished' ? [] : [snapshots])) as IterableIterator<Omit<FlaggedProcess, 'flags'>>;
  const flagged: FlaggedProcess[] = [];
  for (const row of rows) {
    const flags = flagsOf(row.snapshot_id, row.pid, row.comm);
    if (flags.length > 0) flagged.push({ ...row, flags });
  }
  return flagged;
}
