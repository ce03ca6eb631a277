// The case database's schema as the migrations leave it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import test from 'node:test';
import { openCase } from '../src/store/db.js';
import { makeTempDir } from './helpers/holder.js';

interface ForeignKeyColumn { id: number; seq: number; table: string; from: string }
interface IndexColumn { seqno: number; name: string }

test('every foreign key has an index on its own columns: a snapshot checks its foreign keys at its commit, and a child table without one was read whole for every row added to its parent', (t) => {
  const caseDir = makeTempDir('schema-fk');
  t.after(() => fs.rmSync(caseDir, { recursive: true, force: true }));
  const kase = openCase(caseDir, { create: true });
  try {
    const { db } = kase;
    const unindexed: string[] = [];
    let keys = 0;
    for (const table of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[]) {
      const byKey = new Map<number, ForeignKeyColumn[]>();
      for (const column of db.prepare(`PRAGMA foreign_key_list("${table}")`).all() as ForeignKeyColumn[]) byKey.set(column.id, [...(byKey.get(column.id) ?? []), column]);
      const indexes = (db.prepare(`PRAGMA index_list("${table}")`).all() as Array<{ name: string }>)
        .map(({ name }) => (db.prepare(`PRAGMA index_info("${name}")`).all() as IndexColumn[]).sort((a, b) => a.seqno - b.seqno).map((column) => column.name));
      for (const columns of byKey.values()) {
        keys++;
        const wanted = columns.sort((a, b) => a.seq - b.seq).map((column) => column.from);
        if (!indexes.some((index) => wanted.every((name, at) => index[at] === name))) unindexed.push(`${table}(${wanted.join(', ')}) -> ${columns[0]?.table ?? '?'}`);
      }
    }
    assert.equal(keys, 14, 'the foreign keys of the schema (a new one needs its index too)');
    assert.deepEqual(unindexed, []);
  } finally {
    kase.close();
  }
});
