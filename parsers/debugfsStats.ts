// debugfs (e2fsprogs 1.47.0) `debugfs -c -f CMDFILE IMAGE` where CMDFILE holds `stat <N>` lines:
// debugfs echoes each command, then prints that inode, so one process describes thousands of inodes.
//   debugfs: stat <12>
//   Inode: 12   Type: regular    Mode:  0644   Flags: 0x0
//   User:     0   Group:     0   Project:     0   Size: 30000
//   (uid/gid as signed %d: `User: -294967296   Group: -1294967296` is 4000000000 / 3000000000)
//   Links: 0   Blockcount: 62
//    ctime: 0x6b062269:00000000 -- Tue Nov 24 23:48:57 2026
//    dtime: 0x6b062269:(00000000) -- Tue Nov 24 23:48:57 2026
//   BLOCKS:
//   (0-11):594-605, (IND):606, (12-29):607-624
//   TOTAL: 31
// 128-byte inodes print `ctime: 0x6b062269 -- ...` (no extra word). A time is ext4's: the low word
// as a SIGNED 32-bit count (1901-2038), plus the extra word's two epoch bits times 2^32, and the
// extra word's upper 30 bits as nanoseconds (linux fs/ext4/ext4.h ext4_decode_extra_time):
//   mtime: 0xfffeae80:00000000 -- Wed Dec 31 00:00:00 1969   -> -86400
//   mtime: 0xb09e1900:00000002 -- Wed Jan  1 00:00:00 2200   -> 7258118400
// dtime is kept raw (unsigned 32 bits): on the orphan chain it is the next orphan's number.
// A chunk is only accepted when it starts with the inode that was asked for. A symlink target is
// printed raw (`Fast link dest: "a<newline>dtime: 0x00000001 "`) and is the last thing of its
// chunk: fields are read before it (and before attributes, checksum, block list), the first of each
// kept. The command file puts a comment line `# MARKER N` before each command (MARKER random for
// each batch), which debugfs copies to its output as it is: no target can hold a marker it cannot
// know, so each inode's description is exactly the text between its marker and the next one. Without
// markers (output captured by hand) the echo lines bound them, and a target holding a copy of
// debugfs' echo line makes both inodes around it undescribed.
// Large inodes print `Size of extra inode fields: 32`; with fewer than 24 extra bytes debugfs 1.47.0
// prints the times without their extra words (`ctime: 0x53724e02 -- ...`), although the kernel
// reads each extra word that fits (and takes 0 extra bytes for 32): `inode_dump <N>` then gives the
// raw inode (see parseInodeDumps, kernelTimes).
import { parseU64, warningText, type ParseResult, type ParseWarning, type U64 } from './types.js';

export interface DebugfsInode {
  inode: number;
  /** debugfs' type word: regular, directory, symlink, FIFO, socket, character special, block special. */
  type: string;
  /** st_mode: file type bits and permission bits. */
  mode: number | null;
  uid: number | null;
  gid: number | null;
  /** i_size as debugfs prints it (unsigned, %llu): exact, a bigint past 2^53 (a crafted i_size_high). */
  size: U64 | null;
  links: number | null;
  /** i_blocks in 512-byte units. */
  blockcount: number | null;
  /** Seconds since the epoch (negative before 1970), decoded as ext4 does. */
  atime: number | null;
  mtime: number | null;
  ctime: number | null;
  crtime: number | null;
  /** Nanoseconds of each time, from its extra word; null when the inode has none (128-byte inodes). */
  atimeNs: number | null;
  mtimeNs: number | null;
  ctimeNs: number | null;
  crtimeNs: number | null;
  /** The raw 32-bit i_dtime: a deletion time, or on the s_last_orphan chain the next orphan's number. */
  dtimeRaw: number;
  /** i_extra_isize as debugfs printed it (`Size of extra inode fields: N`); null when not printed (128-byte inodes). */
  extraIsize: number | null;
  /**
   * File data blocks still listed by the extent tree or the block map (metadata blocks not counted);
   * null when unknown (istat, standing in for debugfs, could not read the block list).
   */
  dataBlocks: number | null;
  /**
   * Content stored in the inode itself, readable without blocks: a file or directory of inline data
   * with a size above 0, or a whole fast symlink target. Not `Size of inline data:`, which debugfs
   * prints for every inline inode (60 and up), also one whose inline area the kernel emptied.
   */
  inlineData: boolean;
  /**
   * `Size of inline data: N` (the room of the inode's inline data: 60 bytes of i_block and the
   * system.data attribute's value): printed for every inode that keeps its data inline
   * (EXT4_INLINE_DATA_FL), whatever its size; null for one that does not.
   */
  inlineSize: number | null;
  /** i_flags as debugfs printed them (`Flags: 0x80800`): EXT4_ENCRYPT_FL, EXT4_INLINE_DATA_FL, ...; null when not printed. */
  flags: number | null;
  /**
   * A symlink's target printed by `Fast link dest:` (latin1: one char per byte), only when it is
   * whole: not empty and exactly Size bytes (debugfs prints it with %.*s, which stops at a NUL; the
   * kernel wipes it on some deletions, leaving `""` with Size 12). null otherwise.
   */
  symlinkTarget: string | null;
}

const TYPE_BITS: Record<string, number> = {
  regular: 0o100000, directory: 0o040000, symlink: 0o120000, FIFO: 0o010000, socket: 0o140000,
  'character special': 0o020000, 'block special': 0o060000,
};

/**
 * No file type in i_mode: debugfs prints `Type: bad type` (type bits 0: an inode never used, or
 * zeroed); istat's view of one has mode 0. Such an inode is no file: nothing to find, nothing to copy.
 */
export function hasNoFileType(inode: Pick<DebugfsInode, 'type' | 'mode'>): boolean {
  return inode.type === 'bad type' || inode.mode === 0;
}

/** i_flags bit of an inode fscrypt encrypted (linux fs/ext4/ext4.h): its data blocks hold ciphertext. */
export const EXT4_ENCRYPT_FL = 0x800;

/** Whether debugfs printed the inode's flags with EXT4_ENCRYPT_FL set (false when it printed none). */
export function isEncrypted(inode: Pick<DebugfsInode, 'flags'>): boolean {
  return inode.flags !== null && (inode.flags & EXT4_ENCRYPT_FL) !== 0;
}

/** i_flags bit of an inode that holds the value of an extended attribute (ea_inode feature), not a file. */
export const EXT4_EA_INODE_FL = 0x200000;

/** Whether debugfs printed the inode's flags with EXT4_EA_INODE_FL set (false when it printed none). */
export function isEaInode(inode: Pick<DebugfsInode, 'flags'>): boolean {
  return inode.flags !== null && (inode.flags & EXT4_EA_INODE_FL) !== 0;
}

const DIGITS = /^\d+$/;
/** From these sections on, a line that looks like a field is not one (attribute values are owner-controlled). */
const SECTION = /^(Extended attributes:|Inode checksum:|EXTENTS:|BLOCKS:|Size of inline data:|Device major\/minor)/;
const LIST_START = /^(EXTENTS|BLOCKS):\(/;
// debugfs prints `0%03o` of the low 12 bits: `0644`, and `04755` with a setuid, setgid or sticky bit.
const HEAD = /^Inode: (\d+)\s+Type: (.+?)\s+Mode:\s+(0[0-7]{3,4})\s/;
const OWNER = /^User:\s+(-?\d+)\s+Group:\s+(-?\d+)(?:\s|$)/;
const SIZE = /\sSize: (\d+)$/;
const LINKS = /^Links: (\d+)\s+Blockcount: (\d+)/;
const TIME = /^\s*(ctime|atime|mtime|crtime|dtime): 0x([0-9a-f]{8})(?::\(?([0-9a-f]{8})\)?)?(?:\s|$)/;
const FLAGS = /\sFlags: 0x([0-9a-f]{1,8})$/;
const INLINE_SIZE = /^Size of inline data: (\d+)$/;
const FAST_LINK = 'Fast link dest: ';
const EXTRA_ISIZE = /^Size of extra inode fields: (\d+)$/;
const NEWLINE = 0x0a;
const OPEN_PAREN = 0x28;

/** The end of the line that starts at `start`: its newline, or the end of the text. */
function lineEnd(text: string, start: number): number {
  const end = text.indexOf('\n', start);
  return end < 0 ? text.length : end;
}

/**
 * The 1-based number of the line at a position, for warnings: counted on from the last position
 * asked (the chunks only move forward), so a batch of undescribed inodes is not quadratic.
 */
function lineCounter(text: string): (position: number) => number {
  let at = 0;
  let line = 1;
  return (position: number): number => {
    if (position < at) {
      at = 0;
      line = 1;
    }
    for (let newline = text.indexOf('\n', at); newline >= 0 && newline < position; newline = text.indexOf('\n', newline + 1)) {
      line++;
      at = newline + 1;
    }
    return line;
  };
}

/** Where the next line that is exactly `line` starts, at or after `from`; -1 if none. */
function findLine(text: string, line: string, from: number): number {
  for (let at = text.indexOf(line, from); at >= 0; at = text.indexOf(line, at + 1)) {
    const end = at + line.length;
    if ((at === 0 || text.charCodeAt(at - 1) === NEWLINE) && (end === text.length || text.charCodeAt(end) === NEWLINE)) return at;
  }
  return -1;
}

/** Where one asked command's output lies in a batch's text: from just past its echo line to the next boundary. */
interface Chunk {
  inode: number;
  /** Where its boundary line (marker or echo) starts, for warnings. */
  at: number;
  /** The first and past-the-last positions of its output; start > end when there is none (-1: not even a newline after the echo). */
  start: number;
  end: number;
}

/**
 * Cut a batch's output into the asked commands' chunks, in order. `command` is debugfs' command
 * word (`stat`, `inode_dump`); `marker` the random word of the command file's comment lines, or
 * undefined for text without them. A boundary line seen more often than it was asked for (an echo a
 * symlink target copied) makes the inodes around it impossible to tell apart: both are left out,
 * with a warning. Read by positions in the text: 10,000 inodes are 150,000 lines.
 */
function chunksOf(text: string, asked: readonly number[], command: string, marker: string | undefined, warnings: ParseWarning[], lineNumber: (position: number) => number): Chunk[] {
  const echoPrefix = `debugfs: ${command} <`;
  const boundaryPrefix = marker === undefined ? echoPrefix : `# ${marker} `;
  const boundary = (inode: number) => (marker === undefined ? `${echoPrefix}${inode}>` : `# ${marker} ${inode}`);
  const askedTimes = new Map<number, number>();
  for (const inode of asked) askedTimes.set(inode, (askedTimes.get(inode) ?? 0) + 1);
  const seen = new Map<number, number>();
  const closing = marker === undefined ? '>' : '';
  for (let at = text.indexOf(boundaryPrefix); at >= 0; at = text.indexOf(boundaryPrefix, at + 1)) {
    if (at > 0 && text.charCodeAt(at - 1) !== NEWLINE) continue;
    const line = text.slice(at + boundaryPrefix.length, lineEnd(text, at));
    const digits = line.endsWith(closing) ? line.slice(0, line.length - closing.length) : '';
    if (DIGITS.test(digits)) seen.set(Number(digits), (seen.get(Number(digits)) ?? 0) + 1);
  }
  const forged = new Set<number>();
  asked.forEach((inode, index) => {
    if ((seen.get(inode) ?? 0) <= (askedTimes.get(inode) ?? 0)) return;
    forged.add(inode);
    if (index > 0) forged.add(asked[index - 1] ?? inode);
  });
  const chunks: Chunk[] = [];
  let next = 0;
  let at = asked.length > 0 ? findLine(text, boundary(asked[0] ?? 0), 0) : -1;
  while (at >= 0) {
    const inode = asked[next] ?? -1;
    next++;
    let headEnd = lineEnd(text, at);
    const following = next < asked.length ? findLine(text, boundary(asked[next] ?? 0), headEnd) : -1;
    const end = following < 0 ? text.length : following - 1;
    // With markers, debugfs' echo of the command follows the marker: the output starts after it.
    let echoed = true;
    if (marker !== undefined) {
      const echoAt = headEnd + 1;
      echoed = echoAt <= end && text.startsWith(`${echoPrefix}${inode}>`, echoAt) && lineEnd(text, echoAt) === echoAt + `${echoPrefix}${inode}>`.length;
      if (echoed) headEnd = lineEnd(text, echoAt);
    }
    if (forged.has(inode)) {
      warnings.push({ line: lineNumber(at), message: `debugfs output for inode ${inode} holds a forged "debugfs: ${command}" line (a symlink target?): not used` });
    } else {
      // The chunk's lines run from just past the echo's newline to the newline before the next
      // boundary (or the end of the text); an echo on the last line, without a newline, has none.
      chunks.push({ inode, at, start: !echoed || headEnd === text.length ? -1 : headEnd + 1, end });
    }
    at = following;
  }
  if (next < asked.length) {
    const lines = lineNumber(text.length);
    for (let missing = next; missing < asked.length; missing++) warnings.push({ line: lines, message: `debugfs output ends before inode ${asked[missing]}` });
  }
  return chunks;
}

/**
 * Parse the output of one batch; `asked` is the list of inode numbers in the order of the stat
 * commands, `marker` the word of the comment line before each (see the header), when it has them.
 * Read in place, by positions in the text: most chunks are never cut out as strings of their own.
 */
export function parseDebugfsStats(text: string, asked: readonly number[], marker?: string): ParseResult<DebugfsInode> {
  const result: ParseResult<DebugfsInode> = { records: [], warnings: [] };
  const lineNumber = lineCounter(text);
  for (const chunk of chunksOf(text, asked, 'stat', marker, result.warnings, lineNumber)) {
    const parsed = chunk.start < 0 ? null : parseOne(chunk.inode, text, chunk.start, chunk.end);
    if (parsed === null) {
      const first = chunk.start < 0 || chunk.start > chunk.end ? '' : text.slice(chunk.start, Math.min(lineEnd(text, chunk.start), chunk.end));
      result.warnings.push({ line: lineNumber(chunk.at), message: `debugfs printed nothing usable for inode ${chunk.inode}`, text: warningText(first) });
    } else {
      result.records.push(parsed);
    }
  }
  return result;
}

/**
 * One inode's description: the lines of text[from, end) (`end` is where the next echo's newline
 * is, or the end of the text), the first its `Inode:` line.
 */
function parseOne(inode: number, text: string, from: number, end: number): DebugfsInode | null {
  if (from > end) return null;
  let lineStart = from;
  let lineStop = Math.min(lineEnd(text, from), end);
  const head = HEAD.exec(text.slice(lineStart, lineStop));
  if (head === null || Number(head[1]) !== inode) return null;
  const type = head[2] ?? '';
  const perms = parseInt(head[3] ?? '0', 8);
  const flags = FLAGS.exec(text.slice(lineStart, lineStop));
  const found: DebugfsInode = {
    inode, type, mode: TYPE_BITS[type] === undefined ? null : (TYPE_BITS[type] ?? 0) | perms, uid: null, gid: null, size: null, links: null,
    blockcount: null, atime: null, mtime: null, ctime: null, crtime: null, atimeNs: null, mtimeNs: null, ctimeNs: null, crtimeNs: null,
    dtimeRaw: 0, extraIsize: null, dataBlocks: 0, inlineData: false, inlineSize: null, flags: flags === null ? null : parseInt(flags[1] ?? '0', 16), symlinkTarget: null,
  };
  let inList = false;
  let seenOwner = false;
  let seenDtime = false;
  // The fixed fields come first; from the attributes, checksum or block list on, a line that looks
  // like one is not one (attribute values are owner-controlled): only those sections are read.
  let fieldsDone = false;
  let fastLink = -1;
  for (lineStart = lineStop + 1; lineStart <= end; lineStart = lineStop + 1) {
    lineStop = Math.min(lineEnd(text, lineStart), end);
    if (text.startsWith(FAST_LINK, lineStart)) {
      // The last thing printed for a symlink: its raw target, which may span lines. Nothing after it is a field.
      fastLink = lineStart;
      break;
    }
    const first = lineStart < lineStop ? text.charCodeAt(lineStart) : -1;
    if (inList && first === OPEN_PAREN) {
      found.dataBlocks = (found.dataBlocks ?? 0) + countDataBlocks(text.slice(lineStart, lineStop));
      continue;
    }
    inList = false;
    // Only lines that may be read are cut out: a time, an owner, a count, a section's start.
    const line = text.slice(lineStart, lineStop);
    if (!fieldsDone && SECTION.test(line)) fieldsDone = true;
    let match: RegExpExecArray | null;
    if (line === 'EXTENTS:' || line === 'BLOCKS:' || LIST_START.test(line)) {
      inList = true;
      const rest = line.slice(line.indexOf(':') + 1);
      if (rest !== '') found.dataBlocks = (found.dataBlocks ?? 0) + countDataBlocks(rest);
    } else if (fieldsDone) {
      if (found.inlineSize === null && (match = INLINE_SIZE.exec(line)) !== null) found.inlineSize = Number(match[1]);
    } else if (line.startsWith('User:') && !seenOwner) {
      // debugfs prints uid and gid with %d: 4000000000 comes out as -294967296. Each field is read
      // on its own, so one odd value does not lose the others.
      seenOwner = true;
      const owner = OWNER.exec(line);
      if (owner !== null) {
        found.uid = Number(owner[1]) >>> 0;
        found.gid = Number(owner[2]) >>> 0;
      }
      const size = SIZE.exec(line);
      if (size !== null) found.size = parseU64(size[1] ?? '');
    } else if (line.startsWith('Size of extra inode fields: ')) {
      if (found.extraIsize === null && (match = EXTRA_ISIZE.exec(line)) !== null) found.extraIsize = Number(match[1]);
    } else if (line.startsWith('Links: ')) {
      if (found.links === null && (match = LINKS.exec(line)) !== null) {
        found.links = Number(match[1]);
        found.blockcount = Number(match[2]);
      }
    } else if ((match = TIME.exec(line)) !== null) {
      const low = parseInt(match[2] ?? '0', 16);
      const key = match[1];
      if (key === 'dtime') {
        if (!seenDtime) found.dtimeRaw = low;
        seenDtime = true;
        continue;
      }
      const time = key as 'ctime' | 'atime' | 'mtime' | 'crtime';
      if (found[time] !== null) continue;
      const decoded = decodeTime(low, match[3] === undefined ? null : parseInt(match[3], 16));
      found[time] = decoded.seconds;
      found[`${time}Ns`] = decoded.nanoseconds;
    }
  }
  // Inline data is content by the inode's size: the kernel empties the inline area of a file it
  // frees (i_block zeroed, system.data emptied, size 0), and debugfs still prints a room of 60.
  if (found.inlineSize !== null && found.size !== null && found.size > 0) found.inlineData = true;
  if (fastLink >= 0) {
    // The target as printed, to the chunk's end, without the empty lines that follow it.
    let stop = end;
    while (stop > fastLink && text.charCodeAt(stop - 1) === NEWLINE) stop--;
    const quoted = text.slice(fastLink + FAST_LINK.length, stop);
    const target = quoted.length >= 2 && quoted.startsWith('"') && quoted.endsWith('"') ? quoted.slice(1, -1) : '';
    if (target !== '' && target.length === found.size) {
      found.symlinkTarget = target;
      found.inlineData = true;
    }
  }
  return found;
}

/** ext4_decode_extra_time: the low word signed, plus the extra word's epoch bits (0-1) times 2^32; nanoseconds in bits 2-31. */
export function decodeTime(low: number, extra: number | null): { seconds: number; nanoseconds: number | null } {
  const signed = low | 0;
  if (extra === null) return { seconds: signed, nanoseconds: null };
  return { seconds: signed + (extra & 3) * 2 ** 32, nanoseconds: extra >>> 2 };
}

/** "(0-11):594-605, (IND):606, (12-29):607-624" -> 30: logical ranges of file data, not IND/DIND/TIND/ETB. */
function countDataBlocks(list: string): number {
  let blocks = 0;
  // "[u]" marks an unwritten (preallocated) extent: its blocks read as zeros, and still count.
  for (const match of list.matchAll(/\((\d+)(?:-(\d+))?(?:\[u\])?\):(\d+)/g)) {
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (last >= first) blocks += last - first + 1;
  }
  return blocks;
}

/** Where i_block lies in an ext inode, and its length: inline data's first 60 bytes (EXT4_MIN_INLINE_DATA_SIZE). */
const I_BLOCK_OFFSET = 40;
const I_BLOCK_BYTES = 60;

/**
 * Whether an inline inode's inline area still holds bytes: i_block (from its raw inode) not all
 * zeros, or a system.data value (`inlineSize`, debugfs' `Size of inline data`, is 60 plus its length).
 */
export function inlineAreaHoldsBytes(raw: Buffer, inlineSize: number): boolean {
  return inlineSize > I_BLOCK_BYTES || raw.subarray(I_BLOCK_OFFSET, I_BLOCK_OFFSET + I_BLOCK_BYTES).some((byte) => byte !== 0);
}

/** One inode's bytes as `inode_dump <N>` printed them (the whole on-disk inode, s_inode_size bytes). */
export interface InodeDump {
  inode: number;
  raw: Buffer;
}

// `inode_dump <N>` (debugfs/util.c do_byte_hexdump): 16 bytes a line, the offset in octal, then the
// bytes as hex in pairs, then the printable ones; `*` stands for lines equal to the one before it,
// up to the next offset printed (or the end); an empty line ends it.
//   0000  a481 0000 0500 0000 004e 7253 024e 7253  .........NrS.NrS
//   *
//   0200  1000 5980 0000 0000 0100 0000 0500 0000  ..Y.............
const DUMP_LINE = /^([0-7]{4,7}) {2}((?:[0-9a-f]{4} ){8}) /;

/**
 * Parse the output of one `inode_dump` batch (with its markers, see the header): each asked inode's
 * `inodeSize` bytes, or a warning when its dump is not whole.
 */
export function parseInodeDumps(text: string, asked: readonly number[], marker: string | undefined, inodeSize: number): ParseResult<InodeDump> {
  const result: ParseResult<InodeDump> = { records: [], warnings: [] };
  const lineNumber = lineCounter(text);
  for (const chunk of chunksOf(text, asked, 'inode_dump', marker, result.warnings, lineNumber)) {
    const raw = chunk.start < 0 ? null : readDump(text.slice(chunk.start, chunk.end), inodeSize);
    if (raw === null) result.warnings.push({ line: lineNumber(chunk.at), message: `debugfs printed no whole inode_dump of inode ${chunk.inode}` });
    else result.records.push({ inode: chunk.inode, raw });
  }
  return result;
}

function readDump(body: string, inodeSize: number): Buffer | null {
  const raw = Buffer.alloc(inodeSize);
  let filled = 0;
  let previous: Buffer | null = null;
  let repeat = false;
  const fillTo = (offset: number): boolean => {
    if (!repeat) return offset === filled;
    if (previous === null || offset <= filled) return false;
    for (; filled < offset; filled += 16) previous.copy(raw, filled);
    repeat = false;
    return true;
  };
  for (const line of body.split('\n')) {
    if (line === '') break;
    if (line === '*') {
      if (repeat || previous === null) return null;
      repeat = true;
      continue;
    }
    const match = DUMP_LINE.exec(line);
    const offset = match === null ? NaN : parseInt(match[1] ?? '', 8);
    if (match === null || offset % 16 !== 0 || offset + 16 > inodeSize || !fillTo(offset)) return null;
    previous = Buffer.from((match[2] ?? '').replace(/ /g, ''), 'hex');
    previous.copy(raw, offset);
    filled = offset + 16;
  }
  if (repeat && !fillTo(inodeSize)) return null;
  return filled === inodeSize ? raw : null;
}

/**
 * The four times as the kernel reads them from a raw inode (crtime null: the inode has no room for
 * one, the kernel reports no birth time), with what it makes of i_extra_isize.
 */
export interface KernelTimes extends Pick<DebugfsInode, 'atime' | 'mtime' | 'ctime' | 'crtime' | 'atimeNs' | 'mtimeNs' | 'ctimeNs' | 'crtimeNs'> {
  extraIsize: number;
  /** i_extra_isize past the inode's end or not a multiple of 4: the kernel refuses the inode (`iget: bad extra_isize`). */
  refusedByKernel: boolean;
}

// struct ext4_inode (linux fs/ext4/ext4.h): the low words in the first 128 bytes, the rest after i_extra_isize.
const I_ATIME = 0x08;
const I_CTIME = 0x0c;
const I_MTIME = 0x10;
const I_EXTRA_ISIZE = 0x80;
const I_CTIME_EXTRA = 0x84;
const I_MTIME_EXTRA = 0x88;
const I_ATIME_EXTRA = 0x8c;
const I_CRTIME = 0x90;
const I_CRTIME_EXTRA = 0x94;
const GOOD_OLD_INODE_SIZE = 128;
/** sizeof(struct ext4_inode) - 128: what __ext4_iget takes an i_extra_isize of 0 for ("the extra space is currently unused. Use it."). */
const EXTRA_ISIZE_WHEN_ZERO = 32;

/**
 * The times of a raw inode as linux's __ext4_iget reads them: each *_extra word only when it lies
 * within 128 + i_extra_isize bytes (EXT4_FITS_IN_INODE), an i_extra_isize of 0 taken as 32; the
 * birth time only when i_crtime itself fits (else none: statx gives no btime). 128-byte inodes have
 * no extra words at all.
 */
export function kernelTimes(raw: Buffer, inodeSize: number): KernelTimes {
  const stored = inodeSize > GOOD_OLD_INODE_SIZE && raw.length >= I_EXTRA_ISIZE + 2 ? raw.readUInt16LE(I_EXTRA_ISIZE) : 0;
  const extraIsize = inodeSize > GOOD_OLD_INODE_SIZE ? stored || EXTRA_ISIZE_WHEN_ZERO : 0;
  const fits = (offset: number) => offset + 4 <= GOOD_OLD_INODE_SIZE + extraIsize && offset + 4 <= raw.length;
  const time = (low: number, extra: number) => decodeTime(raw.readUInt32LE(low), fits(extra) ? raw.readUInt32LE(extra) : null);
  const atime = time(I_ATIME, I_ATIME_EXTRA);
  const mtime = time(I_MTIME, I_MTIME_EXTRA);
  const ctime = time(I_CTIME, I_CTIME_EXTRA);
  const crtime = fits(I_CRTIME) ? time(I_CRTIME, I_CRTIME_EXTRA) : null;
  return {
    atime: atime.seconds, mtime: mtime.seconds, ctime: ctime.seconds, crtime: crtime?.seconds ?? null,
    atimeNs: atime.nanoseconds, mtimeNs: mtime.nanoseconds, ctimeNs: ctime.nanoseconds, crtimeNs: crtime?.nanoseconds ?? null,
    extraIsize: stored,
    refusedByKernel: refusedExtraIsize(stored, inodeSize),
  };
}

/** An i_extra_isize __ext4_iget refuses (`iget: bad extra_isize`): past the inode's end, or not a multiple of 4. */
export function refusedExtraIsize(extraIsize: number, inodeSize: number): boolean {
  return inodeSize > GOOD_OLD_INODE_SIZE && (extraIsize > inodeSize - GOOD_OLD_INODE_SIZE || extraIsize % 4 !== 0);
}

/**
 * Whether debugfs' description of an inode may lack time words the kernel reads: on inodes larger
 * than 128 bytes, an i_extra_isize below 24 (0 included, which the kernel takes for 32), or none
 * printed. debugfs 1.47.0 prints the extra words only from 24 on; later ones each that fits, but
 * still none for 0. Then the raw inode (`inode_dump`) says what the kernel reads.
 */
export function needsRawTimes(inode: Pick<DebugfsInode, 'extraIsize'>, inodeSize: number): boolean {
  return inodeSize > GOOD_OLD_INODE_SIZE && (inode.extraIsize === null || inode.extraIsize < 24);
}
