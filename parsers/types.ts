// Shared shapes for every parser: pure functions, text (or bytes) in, typed records + warnings out.

/** A line a parser could not read: counted, with its 1-based line number, never dropped silently. */
export interface ParseWarning {
  line: number;
  message: string;
  /** The offending text, truncated to a printable length. */
  text?: string;
}

export interface ParseResult<T> {
  records: T[];
  warnings: ParseWarning[];
}

/**
 * One piece of a long output, cut at line ends, parsed as part of the whole: `records` and `warnings`
 * as a parse of the whole text gives them for these lines (warnings numbered in the whole), and
 * `next`, what the parse of the following piece starts from. Output too large for one string (V8
 * makes none past about 512 MiB) is parsed so, piece by piece, with results the same as parsed whole.
 */
export interface ParsedPiece<T, S> extends ParseResult<T> {
  next: S;
}

/** Truncate evidence text for a warning so a 10 MB line does not end up in a message. */
export function warningText(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * A number the kernel keeps in 64 unsigned bits (an inode number, a size, an offset): a JS number
 * while that is exact (below 2^53), a bigint beyond. Overlayfs (xino), CIFS (NTFS file ids with
 * their sequence number in the top bits) and some NFS servers hand out inode numbers past 2^53,
 * which a number would round to a neighbour's. One value has one form, so `===` compares them.
 */
export type U64 = number | bigint;

const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);
const MAX_U64 = (1n << 64n) - 1n;

/**
 * The one form of a 64-bit value: a number when exact, else the bigint. A negative bigint is read as
 * its bit pattern: node's `stat(..., { bigint: true })` gives inode 2^64 - 59 as -59n.
 */
export function u64(value: bigint): U64 {
  const unsigned = BigInt.asUintN(64, value);
  return unsigned <= MAX_EXACT ? Number(unsigned) : unsigned;
}

/** Decimal digits (or "0x" and hex digits) as a U64; null for anything else or past 2^64 - 1. */
export function parseU64(text: string): U64 | null {
  if (/^\d{1,15}$/.test(text)) return Number(text);
  if (!/^(?:\d+|0x[0-9a-fA-F]+)$/.test(text)) return null;
  const value = BigInt(text);
  return value > MAX_U64 ? null : u64(value);
}

const MIN_I64 = -(1n << 63n);
const MAX_I64 = (1n << 63n) - 1n;

/**
 * A 64-bit value The Sleuth Kit prints as a signed off_t (`PRIdOFF`: ils' st_size, istat's size), or an
 * older kernel's /proc/locks its inode numbers ("%ld"), read back as the unsigned value the inode holds:
 * `-1` is 2^64 - 1, `-9223372036854775808` is 2^63. Null for anything else, or past the signed 64-bit range.
 */
export function parseTskOff(text: string): U64 | null {
  if (!/^-?\d{1,20}$/.test(text)) return null;
  const value = BigInt(text);
  return value < MIN_I64 || value > MAX_I64 ? null : u64(value);
}

/** The nil UUID: what `tune2fs -U clear` writes, and what a file system made without a UUID holds. */
export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * A file system UUID's 16 bytes as blkid writes them (8-4-4-4-12 lowercase hex), or null for the nil
 * UUID: no UUID at all (blkid reports none, udev makes no by-uuid link), never an identity that two
 * unrelated file systems could be matched by.
 */
export function uuidText(bytes: Buffer): string | null {
  const hex = bytes.toString('hex');
  const text = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return text === NIL_UUID ? null : text;
}
