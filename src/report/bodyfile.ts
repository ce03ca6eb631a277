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

export function bodyfileName(finding: Finding): string {
  const where =
    finding.finding === 'live'
      ? `pid ${finding.pid ?? '?'}${finding.comm === null ? '' : ` ${shownComm(finding.comm)}`}${finding.fd === null ? ` ${finding.kind}` : ` fd ${finding.fd}`}, snapshot ${finding.snapshot_id ?? '?'}`
      : `${finding.state ?? 'inode'} in ${finding.image ?? '?'} at sector ${finding.offset_sectors ?? 0}`;
  // An image finding claims no bytes (path_b64 '') for a placeholder (`<inode N>`) or for a name fls
  // printed with '^' where a control byte was: mactime shows only this line, so it says which.
  const inexact = finding.finding === 'image' && finding.path_b64 === '' && finding.path.includes('^') ? "; name as fls printed it, '^' for a control byte" : '';
  // A live item whose name could not be read (longer than PATH_MAX) is no bare " (deleted: ...)": said, no path made up.
  const name = finding.nameMissing == null ? finding.path : '<no name>';
  const why = finding.nameMissing == null ? '' : `; ${finding.nameMissing}`;
  return `${name} (deleted: ${where}${inexact}${why})`.replace(/\|/g, '\\x7c');
}

/** ls-style mode as TSK writes it: "r/rrw-r--r--" (name type / meta type, then permissions). */
export function modeString(mode: number | null): string {
  if (mode === null) return '-/----------';
  const types: Record<number, string> = { 0o100000: 'r', 0o040000: 'd', 0o120000: 'l', 0o020000: 'c', 0o060000: 'b', 0o010000: 'p', 0o140000: 's' };
  const type = types[mode & 0o170000] ?? '-';
  return `${type}/${type}${permissionString(mode)}`;
}

export async function writeBodyfile(input: ReportInput, out: Writable): Promise<void> {
  await writeLines(out, (function* () {
    for (const finding of findings(input.db, input.caseDir)) {
      // An extraction of an inode no scan listed has no times: it is no event of a timeline.
      if (finding.kind === UNLISTED_KIND) continue;
      const fields = [
        '0', bodyfileName(finding), String(finding.inode ?? 0), modeString(finding.mode),
        // An owner not known (an lsof import's plain table, say) is -1 ((uid_t)-1, no owner), never root's 0;
        // mactime drops a line whose UID or GID is not a number, so it cannot be left empty.
        String(finding.uid ?? -1), String(finding.gid ?? -1), String(finding.size ?? 0), String(finding.atime ?? 0),
        String(finding.mtime ?? 0), String(finding.ctime ?? 0), String(finding.crtime ?? 0),
      ];
      yield `${fields.join('|')}\n`;
    }
  })());
}
