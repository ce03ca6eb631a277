// Pure parsers for the text files of Linux /proc (kernel 4.x-6.x formats).
//   /proc/PID/stat       "4242 (nginx: worker) S 1 4242 4242 0 -1 4194560 ... 22nd field starttime ..."
//   /proc/PID/fdinfo/N   "pos:\t12\nflags:\t02100002\nmnt_id:\t27\nino:\t2146482\n"
//   /proc/PID/maps       "7f4d5b7d0000-7f4d5b7d2000 rw-s 00000000 fe:00 2146498   /tmp/t/mapped (deleted)"
//   /proc/PID/mountinfo  "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue"
//   /proc/locks          "9: LEASE  BREAKING  READ 32740 fe:00:15343645 0 EOF" (a waiter: "9: -> LEASE  BREAKER   READ 329 <none>:0 0 EOF")
import { parseTskOff, parseU64, type U64 } from './types.js';

export interface ProcStat {
  comm: string;
  state: string;
  ppid: number;
  /** Field 22: start time in clock ticks since boot; with the pid it names a process uniquely. */
  startTime: number;
  /** Field 20: the process's threads (null if unreadable): more than one may mean fd tables of their own. */
  numThreads: number | null;
}

/** comm may hold spaces and ')' itself: it runs to the LAST ')' of the line. */
export function parseProcStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state); field N is fields[N - 3].
  const state = fields[0];
  const ppid = Number(fields[1]);
  const startTime = Number(fields[19]);
  if (state === undefined || !Number.isInteger(ppid) || !Number.isInteger(startTime)) return null;
  const numThreads = Number(fields[17]);
  return { comm: text.slice(open + 1, close), state, ppid, startTime, numThreads: Number.isInteger(numThreads) ? numThreads : null };
}

export interface FdInfo {
  pos: U64 | null;
  flags: number | null;
  mntId: number | null;
  /** The open file's inode (kernels since 5.14 print it): tells whether the fd still names the file stat saw. */
  ino: U64 | null;
}

export function parseFdInfo(text: string): FdInfo {
  const info: FdInfo = { pos: null, flags: null, mntId: null, ino: null };
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (key === 'pos') info.pos = parseU64(value);
    else if (key === 'flags') info.flags = toInt(value, 8);
    else if (key === 'mnt_id') info.mntId = toInt(value, 10);
    else if (key === 'ino') info.ino = parseU64(value);
  }
  return info;
}

/** open(2) flag bits as fdinfo shows them (octal); __O_TMPFILE marks a file opened with O_TMPFILE. */
export const O_TMPFILE_BIT = 0o20000000;

export interface MapsEntry {
  range: string;
  perms: string;
  offset: bigint;
  /** As maps prints it: hex "fe:00". */
  mapsDev: string;
  inode: U64;
  /** The path bytes, " (deleted)" suffix included exactly as the kernel printed it. */
  path: Buffer;
}

/**
 * Parse /proc/PID/maps from raw bytes, keeping only file-backed lines (inode != 0, path starting
 * with '/'). The kernel escapes '\n' in paths as "\012", so one line is one mapping. The bytes are
 * decoded once as latin1 (one char per byte) and cut with indexOf: a host with thousands of
 * processes has hundreds of thousands of these lines.
 */
export function parseMaps(bytes: Buffer): MapsEntry[] {
  const text = bytes.toString('latin1');
  const entries: MapsEntry[] = [];
  let lineStart = 0;
  while (lineStart < text.length) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    const entry = parseMapsLine(text, lineStart, lineEnd);
    if (entry !== null) entries.push(entry);
    lineStart = lineEnd + 1;
  }
  return entries;
}

/** Five space-separated fields, then padding, then the path (which may itself contain spaces). */
function parseMapsLine(text: string, lineStart: number, lineEnd: number): MapsEntry | null {
  const fields: string[] = [];
  let position = lineStart;
  for (let field = 0; field < 5; field++) {
    while (position < lineEnd && text.charCodeAt(position) === SPACE) position++;
    let stop = text.indexOf(' ', position);
    if (stop < 0 || stop > lineEnd) stop = lineEnd;
    if (stop === position) return null;
    fields.push(text.slice(position, stop));
    position = stop;
  }
  while (position < lineEnd && text.charCodeAt(position) === SPACE) position++;
  if (position >= lineEnd || text.charCodeAt(position) !== 0x2f) return null;
  const [range = '', perms = '', offset = '', mapsDev = '', inodeText = ''] = fields;
  // Exact past 2^53 too (an inode number of overlayfs or CIFS): a mapping is never dropped for it.
  const inode = parseU64(inodeText);
  if (inode === null || inode === 0 || inodeText.startsWith('0x')) return null;
  const dash = range.indexOf('-');
  if (dash <= 0 || dash === range.length - 1 || !HEX.test(range.slice(0, dash)) || !HEX.test(range.slice(dash + 1)) || !HEX.test(offset)) return null;
  return { range, perms, offset: BigInt(`0x${offset}`), mapsDev, inode, path: Buffer.from(text.slice(position, lineEnd), 'latin1') };
}

const HEX = /^[0-9a-fA-F]+$/;
const SPACE = 0x20;

export interface MountInfo {
  mntId: number;
  parentId: number;
  /** "MAJOR:MINOR" in decimal, as st_dev is shown. */
  dev: string;
  root: Buffer;
  mountPoint: Buffer;
  options: string;
  fsType: string;
  source: string;
  superOptions: string;
}

/**
 * The files registered with an io_uring (IORING_REGISTER_FILES), from the ring's fdinfo (text as
 * latin1): how many its `UserFiles:` line says (null: no such line: Linux 5.4 has none, 5.4.214
 * fs/io_uring.c giving the ring no show_fdinfo), and those it lists, one `%5u: NAME` line each.
 * - Until Linux 6.13 (5.10.13 fs/io_uring.c __io_uring_show_fdinfo, 6.1.166 io_uring/fdinfo.c:160,
 *   4.18.0-240.el8 too) every slot is listed in turn, NAME the file's dentry's d_iname: the bare last
 *   name, not escaped, never " (deleted)", `<none>` for an empty slot. A newline in a name starts a
 *   line of its own: the name runs on to the next slot's line (the last one's to `UserBufs:`). A name
 *   longer than d_iname holds (31 bytes in 6.1, 39 in 6.8: DNAME_INLINE_LEN, include/linux/dcache.h)
 *   is not there at all: what is shown is bytes some earlier name left.
 * - Since Linux 6.14 (Al Viro, "fix io_uring_show_fdinfo() misuse of ->d_iname", January 2025) only
 *   the filled slots are listed, NAME the file's path as seq_file_path writes it (space, tab, newline
 *   and backslash in octal, decoded back to bytes here), " (deleted)" included.
 * - From 5.10 to 6.x the kernel lists the files only when it takes the ring's lock at once
 *   (mutex_trylock): a ring busy in another thread gives its `UserFiles: N` and no list, so `files`
 *   may be fewer than `registered`.
 */
export function parseIoUringFiles(text: string): { registered: number | null; files: Array<{ slot: number; path: Buffer }> } {
  const lines = text.split('\n');
  let at = lines.findIndex((line) => /^UserFiles:\t\d+$/.test(line));
  if (at < 0) return { registered: null, files: [] };
  const registered = Number((lines[at] ?? '').slice('UserFiles:\t'.length));
  const listed: Array<{ slot: number; name: string }> = [];
  for (at++; at < lines.length; at++) {
    const line = lines[at] ?? '';
    const slot = slotOf(line);
    const last = listed[listed.length - 1];
    // After a bare name (before 6.14) only the next slot starts a line of its own; after a path, any later one.
    const bare = last !== undefined && !pathLike(last.name);
    if (slot !== null && slot < registered && (last === undefined || (bare ? slot === last.slot + 1 : slot > last.slot))) {
      listed.push({ slot, name: line.slice(line.indexOf(': ') + 2) });
    } else if (last !== undefined && bare && !/^[A-Z][A-Za-z]*:(?:\t|$)/.test(line)) {
      last.name += `\n${line}`;
    } else {
      break;
    }
  }
  // Only a path (since 6.14) is escaped; a bare name is the name's own bytes.
  return { registered, files: listed.map(({ slot, name }) => ({ slot, path: name.startsWith('/') ? unescapeOctal(name) : Buffer.from(name, 'latin1') })) };
}

/** The slot of a `%5u: ` line (the number right-aligned in five columns), or null. */
function slotOf(line: string): number | null {
  const match = /^( *)(\d+): /.exec(line);
  if (match === null || (match[1] ?? '').length !== Math.max(0, 5 - (match[2] ?? '').length)) return null;
  return Number(match[2]);
}

/**
 * A registered file's name as Linux 6.14 and later write it: a path, or what d_path names a socket,
 * pipe or anon inode ("socket:[4242]", "anon_inode:[eventfd]"). A bare last name (before) has no '/'.
 */
function pathLike(name: string): boolean {
  return name.startsWith('/') || /^[a-z_]+:/.test(name);
}

/** text: the file decoded as latin1 (see unescapeOctal). */
export function parseMountInfo(text: string): MountInfo[] {
  const mounts: MountInfo[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const separator = line.indexOf(' - ');
    if (separator < 0) continue;
    const head = line.slice(0, separator).split(' ');
    const tail = line.slice(separator + 3).split(' ');
    const [mntId, parentId, dev, root, mountPoint, options] = head;
    if (mntId === undefined || parentId === undefined || dev === undefined || root === undefined || mountPoint === undefined) continue;
    mounts.push({
      mntId: Number(mntId),
      parentId: Number(parentId),
      dev,
      root: unescapeOctal(root),
      mountPoint: unescapeOctal(mountPoint),
      options: options ?? '',
      fsType: tail[0] ?? '',
      source: unescapeOctal(tail[1] ?? '').toString('utf8'),
      superOptions: tail[2] ?? '',
    });
  }
  return mounts;
}

/**
 * mountinfo writes space, tab, newline and backslash in paths as \040 \011 \012 \134.
 * The caller decodes the file as latin1 so that every byte maps to one char and back.
 */
export function unescapeOctal(text: string): Buffer {
  return Buffer.from(text.replace(/\\([0-7]{3})/g, (_match, digits: string) => String.fromCharCode(parseInt(digits, 8) & 0xff)), 'latin1');
}

export interface ProcLock {
  /** The number of the entry; a waiter bears the number of the lock it waits on. */
  id: number;
  /** A waiter ("N: -> ..."): blocked on lock `id` (a BREAKER is an open waiting for a lease to be given up). */
  waiting: boolean;
  /** POSIX, OFDLCK, ACCESS, FLOCK, LEASE, DELEG (an NFS server's delegation), UNKNOWN. */
  lockClass: string;
  /** ADVISORY for locks; ACTIVE, BREAKING (being broken) or BREAKER (an opener waiting) for leases and delegations. */
  state: string;
  /** WRITE, READ or UNLCK; of a lease being broken, what it is being broken to. */
  type: string;
  /** The process that set it, in the PID namespace of the /proc it was read from; -1 for an OFD lock (no process owns it). */
  pid: number;
  /** The file: its super block's device ("MAJOR:MINOR" in decimal, as st_dev is shown) and inode; null for "<none>:0" (a BREAKER: no file of its own). */
  dev: string | null;
  inode: U64 | null;
  /** The range locked: "0 EOF" for a flock, lease or delegation. */
  start: string;
  end: string;
}

/**
 * /proc/locks (fs/locks.c, lock_get_status): one line per lock, lease or delegation, and after each
 * the ones blocked on it, " -> " before their class (indented deeper for a chain since Linux 5.15).
 * The device is that of the inode's super block, in hex ("%02x:%02x"); a lock the kernel cannot tie
 * to an inode names "<none>:0". Since Linux 4.9 the list holds only the locks of processes visible in
 * the PID namespace of the procfs read, by their PIDs there. Before Linux 5.4 a READ is padded to
 * five columns ("READ  4242", two spaces before the PID: 5.3.1 fs/locks.c:2789; RHEL 8's
 * 4.18.0-240 too), as a LOCK_MAND flock's type ("FLOCK  MSNFS     READ  80") still is until 5.15;
 * until the January 2020 stable updates ("locks: print unsigned ino in /proc/locks") the inode is
 * printed signed ("%ld": 4.19.1 fs/locks.c:2681), negative from 2^63 on: read back as the unsigned
 * value the kernel keeps. A line that does not read so is counted in `unreadable` (with its number)
 * and skipped.
 */
export function parseProcLocks(text: string): { locks: ProcLock[]; unreadable: number[] } {
  const locks: ProcLock[] = [];
  const unreadable: number[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const match = /^(\d+): (?:\s*(->) )?\s*(\S+)\s+(\S+)\s+(\S+)\s+(-?\d+) (?:([0-9a-f]+):([0-9a-f]+):(-?\d+)|<none>:0) (-?\d+) (-?\d+|EOF)$/.exec(line);
    const inode = match?.[9] === undefined ? null : match[9].startsWith('-') ? parseTskOff(match[9]) : parseU64(match[9]);
    if (match === null || (match[9] !== undefined && inode === null)) {
      unreadable.push(index + 1);
      return;
    }
    locks.push({
      id: Number(match[1]),
      waiting: match[2] !== undefined,
      lockClass: match[3] ?? '',
      state: match[4] ?? '',
      type: match[5] ?? '',
      pid: Number(match[6]),
      dev: match[7] === undefined || match[8] === undefined ? null : `${parseInt(match[7], 16)}:${parseInt(match[8], 16)}`,
      inode,
      start: match[10] ?? '',
      end: match[11] ?? '',
    });
  });
  return { locks, unreadable };
}

/** Linux dev_t as Node's stat returns it, split into "MAJOR:MINOR". */
export function devString(dev: number | bigint): string {
  if (typeof dev === 'number' && dev < 0x100000000) {
    return `${(dev >>> 8) & 0xfff}:${(dev & 0xff) | ((dev >>> 12) & 0xfff00)}`;
  }
  const value = BigInt(dev);
  const major = ((value >> 8n) & 0xfffn) | ((value >> 32n) & ~0xfffn);
  const minor = (value & 0xffn) | ((value >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

/** maps shows the device as hex "fe:00"; the rest of the tool uses decimal "254:0". */
export function mapsDevToDecimal(mapsDev: string): string {
  const [major, minor] = mapsDev.split(':');
  return `${parseInt(major ?? '0', 16)}:${parseInt(minor ?? '0', 16)}`;
}

function toInt(text: string, radix: number): number | null {
  const value = parseInt(text, radix);
  return Number.isFinite(value) ? value : null;
}
