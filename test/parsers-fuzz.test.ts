// Property-based fuzzing of every parser: thousands of mutated real captures, no exception escapes,
// every record is well formed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { parseLsof } from '../parsers/lsof.js';
import { BYTE_PARSERS, TEXT_PARSERS } from '../parsers/index.js';
import { parseFdInfo, parseMaps, parseMountInfo, parseProcStat } from '../parsers/procfs.js';
import { fixturesDir } from './helpers/paths.js';
import { FUZZ_RUNS, mutatedText } from './helpers/fuzz.js';

const seedsOf = (folder: string): string[] =>
  fs.readdirSync(path.join(fixturesDir, folder)).filter((name) => name.endsWith('.txt')).map((name) => fs.readFileSync(path.join(fixturesDir, folder, name), 'latin1'));

const isNullableSafeInt = (value: number | null): boolean => value === null || (Number.isSafeInteger(value) && value >= 0);
/** A U64 in its one form: a safe number, or a bigint only past 2^53 - 1 and below 2^64. */
const isNullableU64 = (value: number | bigint | null): boolean =>
  typeof value === 'bigint' ? value > BigInt(Number.MAX_SAFE_INTEGER) && value < 1n << 64n : isNullableSafeInt(value);

test(`lsof parser: ${FUZZ_RUNS} mutated captures, no exception, well-formed records`, () => {
  fc.assert(
    fc.property(mutatedText(seedsOf('lsof')), (text) => {
      const lines = text.split('\n').length;
      const parsed = parseLsof(text);
      for (const record of parsed.records) {
        assert.ok(Number.isSafeInteger(record.pid) && record.pid > 0);
        assert.ok(record.line >= 1 && record.line <= lines);
        for (const value of [record.nlink, record.fdNum, record.uid]) assert.ok(isNullableSafeInt(value));
        for (const value of [record.size, record.offset, record.inode]) assert.ok(isNullableU64(value));
        assert.ok(Buffer.isBuffer(record.name));
        assert.ok(record.device === null || /^\d+:\d+$/.test(record.device));
      }
      for (const warning of parsed.warnings) assert.ok(warning.line >= 1 && warning.line <= lines && (warning.text ?? '').length <= 201);
    }),
    { numRuns: FUZZ_RUNS },
  );
});

test(`procfs parsers: ${FUZZ_RUNS} mutated inputs, no exception`, () => {
  const seeds = [
    '4242 (nginx: worker) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 987654 1000 200\n',
    'pos:\t12\nflags:\t022300002\nmnt_id:\t27\nino:\t2146482\n',
    '7f4d5b7d0000-7f4d5b7d2000 rw-s 00001000 fe:00 2146498                    /tmp/a b (deleted)\n7ffd1000-7ffd2000 rw-p 00000000 00:00 0 [stack]\n',
    '36 35 98:0 /mnt1 /mnt\\040two rw,noatime master:1 - ext4 /dev/root rw,errors=continue\n',
  ];
  fc.assert(
    fc.property(mutatedText(seeds), (text) => {
      const stat = parseProcStat(text);
      if (stat !== null) assert.ok(Number.isInteger(stat.startTime));
      parseFdInfo(text);
      for (const entry of parseMaps(Buffer.from(text, 'latin1'))) assert.ok(entry.inode > 0 && entry.path[0] === 0x2f);
      for (const mount of parseMountInfo(text)) assert.ok(Buffer.isBuffer(mount.mountPoint));
    }),
    { numRuns: FUZZ_RUNS },
  );
});

test(`TSK, debugfs, /proc and byte parsers: ${FUZZ_RUNS} mutated captures per parser, no exception`, () => {
  const seeds = [...seedsOf('tsk'), ...seedsOf('debugfs')];
  for (const [name, parse] of Object.entries(TEXT_PARSERS)) {
    fc.assert(
      fc.property(mutatedText(seeds), (text) => {
        const result = (parse as (input: string) => unknown)(text);
        assert.ok(result !== undefined, name);
      }),
      { numRuns: FUZZ_RUNS },
    );
  }
  const binarySeeds = fs.readdirSync(path.join(fixturesDir, 'orphan_file')).filter((file) => file.endsWith('.bin')).map((file) => fs.readFileSync(path.join(fixturesDir, 'orphan_file', file), 'latin1'));
  for (const parse of Object.values(BYTE_PARSERS)) {
    fc.assert(
      fc.property(mutatedText(binarySeeds), (text) => {
        (parse as (input: Buffer) => unknown)(Buffer.from(text, 'latin1'));
      }),
      { numRuns: FUZZ_RUNS },
    );
  }
});
