// Values the kernel keeps in 64 unsigned bits (U64: inode numbers, sizes, offsets) in the case
// database and in JSON, exact past 2^53 where a JS number would round them.
import { u64, type U64 } from '../../parsers/types.js';

export type { U64 } from '../../parsers/types.js';

/** As SQLite stores it: a signed 64-bit integer, so a value from 2^63 up is kept as its bit pattern (negative). */
export function sqlU64(value: U64): number | bigint;
export function sqlU64(value: U64 | null): number | bigint | null;
export function sqlU64(value: U64 | null): number | bigint | null {
  return typeof value === 'bigint' ? BigInt.asIntN(64, value) : value;
}

/**
 * SQL reading a U64 column's exact text where a JS number cannot hold it, NULL otherwise: past 2^53,
 * and below 0 (a value from 2^63 up, stored as its bit pattern: see sqlU64). Read beside the column.
 */
export function exactText(column: string, alias: string): string {
  return `CASE WHEN ${column} NOT BETWEEN 0 AND 9007199254740991 THEN CAST(${column} AS TEXT) END AS ${alias}`;
}

/** A U64 column read back: the number as it came, or the exact value from its text (see exactText). */
export function readU64(value: U64 | null, text: string | null): U64 | null {
  return text === null ? value : u64(BigInt(text));
}

/**
 * SQL reading a signed 64-bit column (a file's time in seconds: 2^63 - 1 can be set with touch) as its
 * exact text where a JS number cannot hold it (past 2^53 either way), NULL otherwise. Read beside it.
 */
export function exactSignedText(column: string, alias: string): string {
  return `CASE WHEN ${column} NOT BETWEEN -9007199254740991 AND 9007199254740991 THEN CAST(${column} AS TEXT) END AS ${alias}`;
}

/** A signed 64-bit column read back: the number as it came, or the exact bigint from its text (see exactSignedText). */
export function readI64(value: number | null, text: string | null): number | bigint | null {
  return text === null ? value : BigInt(text);
}

/** JSON text in which bigints are written as exact numbers (JSON.stringify refuses them). */
export function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (error) {
    if (!(error instanceof TypeError) || !error.message.includes('BigInt')) throw error;
    return withBigints(value);
  }
}

function withBigints(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return `[${value.map((entry: unknown) => (entry === undefined || typeof entry === 'function' ? 'null' : withBigints(entry))).join(',')}]`;
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON !== 'function') {
    const members: string[] = [];
    for (const [key, entry] of Object.entries(value)) {
      if (entry !== undefined && typeof entry !== 'function') members.push(`${JSON.stringify(key)}:${withBigints(entry)}`);
    }
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
