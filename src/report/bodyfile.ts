// The Sleuth Kit 3.x bodyfile for mactime: MD5|name|inode|mode_as_string|UID|GID|size|atime|mtime|ctime|crtime.
// The whole name is in the display form (\xHH for controls, invalid UTF-8 and the backslash), and
// '|' is written \x7c, so every line has exactly 11 fields: comm and the image path (in the display
// form in every finding) are text from the case too, and a process can name itself anything but NUL
// with prctl(PR_SET_NAME), a newline included, which would split the line and make mactime lose entries.
import type { Writable } from 'node:stream';
import type { ReportInput } from './registry.js';
import { UNLISTED_KIND, findings, type Finding } from './rows.js';
import { writeLines } from './stream.js';
import { displayBytes, parseDisplayBytes } from '../util/bytes.js';
import { permissionString } from '../store/images.js';

/**
 * comm is stored in the display form already (walk and lsof): escaping it again would write its
 * "\x0a" as "\x5cx0a". Read back to bytes and shown again it is unchanged, and a raw newline or
 * backslash in a comm an older unlinked stored as decoded text still comes out escaped.
 */
const shownComm = (comm: string): string => displayBytes(parseDisplayBytes(comm));

/**
 * The last second mactime (TSK 4.11, Perl) can date: Perl's localtime and gmtime refuse a time past
 * 67767976233316800 (the year 2,147,483,647), and mactime then prints " Jan 0 1900 0:0:0" with a page
 * of warnings. Such a time (touch -d @9223372036854775807 on a live file) is written 0, TSK's "no
 * time", and its exact value said in the name: the line keeps it, and mactime stays clean.
 */
export const MACTIME_LAST_SECOND = 67767976233316800n;

const TIME_FIELDS = ['atime', 'mtime', 'ctime', 'crtime'] as const;

/** A time as its bodyfile field: the seconds, or 0 where not known or past what mactime can date (see MACTIME_LAST_SECOND). */
function timeField(time: number | bigint | null): string {
  return time === null || BigInt(time) > MACTIME_LAST_SECOND ? '0' : String(time);
}

/** What the name says of the times written 0 because mactime cannot date them: each with its exact value. */
function undatable(finding: Finding): string {
  const past = TIME_FIELDS.filter((field) => finding[field] !== null && BigInt(finding[field] ?? 0) > MACTIME_LAST_SECOND);
  return past.length === 0 ? '' : `; ${past.map((field) => `${field} ${String(finding[field])}`).join(', ')} past what mactime can date (year 2147483647): written 0`;
}

/**
 * The file's name as TSK's `fls -m /` writes it: an image inode's deleted name (fls' path from the
 * file system's root) after the mount point `/`, as `/sub/=inner`; a live item's path is absolute
 * already. An inode with no name is `<inode N>`, no path (ils -m writes `<IMAGE-dead-N>`).
 */
function bodyfilePath(finding: Finding): string {
  if (finding.nameMissing != null) return '<no name>';
  return finding.finding === 'image' && finding.unnamed !== true ? `/${finding.path}` : finding.path;
}

export function bodyfileName(finding: Finding): string {
  const where =
    finding.finding === 'live'
      ? `pid ${finding.pid ?? '?'}${finding.comm === null ? '' : ` ${shownComm(finding.comm)}`}${finding.fd === null ? ` ${finding.kind}` : ` fd ${finding.fd}`}, snapshot ${finding.snapshot_id ?? '?'}`
      : `${finding.state ?? 'inode'} in ${finding.image ?? '?'} at sector ${finding.offset_sectors ?? 0}`;
  // An image finding claims no bytes (path_b64 '') for a placeholder (`<inode N>`) or for a name fls
  // printed with '^' where a control byte was: mactime shows only this line, so it says which.
  const inexact = finding.finding === 'image' && finding.path_b64 === '' && finding.path.includes('^') ? "; name as fls printed it, '^' for a control byte" : '';
  // A live item whose name could not be read (longer than PATH_MAX) is no bare " (deleted: ...)": said, no path made up.
  const why = finding.nameMissing == null ? '' : `; ${finding.nameMissing}`;
  return `${bodyfilePath(finding)} (deleted: ${where}${inexact}${why}${undatable(finding)})`.replace(/\|/g, '\\x7c');
}

/** TSK's letter of a file type (tsk_fs_meta_type_str): `-` for type bits that are no file type (or none). */
function typeLetter(mode: number): string {
  const types: Record<number, string> = { 0o100000: 'r', 0o040000: 'd', 0o120000: 'l', 0o020000: 'c', 0o060000: 'b', 0o010000: 'p', 0o140000: 's' };
  return types[mode & 0o170000] ?? '-';
}

/**
 * ls-style mode as TSK's `fls -m` writes it (tsk_fs_name_print_mac): the type of the name's directory
 * entry, `/`, then the inode's type and permissions (tsk_fs_meta_make_ls): "r/rrw-r--r--". nameType:
 * the entry's type as fls printed it, `-` for no name (an orphan, `<inode N>`: ils -m writes
 * `-/rrw-r--r--`); undefined or null: the inode's own type (a live file's name, or a scan that did
 * not keep its entry's type). No mode known: `----------` after the name's type.
 */
export function modeString(mode: number | null, nameType?: string | null): string {
  const name = nameType ?? (mode === null ? '-' : typeLetter(mode));
  return mode === null ? `${name}/----------` : `${name}/${typeLetter(mode)}${permissionString(mode)}`;
}

export async function writeBodyfile(input: ReportInput, out: Writable): Promise<void> {
  await writeLines(out, (function* () {
    for (const finding of findings(input.db, input.caseDir)) {
      // An extraction of an inode no scan listed has no times: it is no event of a timeline.
      if (finding.kind === UNLISTED_KIND) continue;
      const fields = [
        '0', bodyfileName(finding), String(finding.inode ?? 0), modeString(finding.mode, finding.nameType),
        // An owner not known (an lsof import's plain table, say) is -1 ((uid_t)-1, no owner), never root's 0;
        // mactime drops a line whose UID or GID is not a number, so it cannot be left empty.
        String(finding.uid ?? -1), String(finding.gid ?? -1), String(finding.size ?? 0), ...TIME_FIELDS.map((field) => timeField(finding[field])),
      ];
      yield `${fields.join('|')}\n`;
    }
  })());
}
