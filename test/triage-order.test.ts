import { test } from 'node:test';
import assert from 'node:assert/strict';
import { orderBySize, orderByVolatility, type OrderableItem } from '../src/triage/order.js';

test('triage copies memfd, then tmpfs, then exiting processes, then the rest small before large', () => {
  const items: OrderableItem[] = [
    { id: 1, kind: 'fd', size: 10, fsType: 'ext4', processState: 'S' },
    { id: 2, kind: 'fd', size: 5_000_000_000, fsType: 'ext4', processState: 'S' },
    { id: 3, kind: 'memfd', size: 999, fsType: null, processState: 'S' },
    { id: 4, kind: 'fd', size: 100, fsType: 'tmpfs', processState: 'S' },
    { id: 5, kind: 'exe', size: 1, fsType: 'ext4', processState: 'Z' },
    { id: 6, kind: 'map', size: 2, fsType: 'xfs', processState: 'S' },
  ];
  assert.deepEqual(orderByVolatility(items).map((item) => item.id), [3, 4, 5, 6, 1, 2]);
});

test('a file in memory that claims more than RAM and swap (a sparse memfd of 4 EiB) is copied last, not first: it would hold up every other copy', () => {
  const memory = 8 * 2 ** 30;
  const items: OrderableItem[] = [
    { id: 1, kind: 'memfd', size: 2n ** 62n, fsType: null, processState: 'S' },
    { id: 2, kind: 'memfd', size: 13_000, fsType: null, processState: 'S' },
    { id: 3, kind: 'fd', size: 10 * 2 ** 30, fsType: 'tmpfs', processState: 'S' },
    { id: 4, kind: 'fd', size: 100, fsType: 'tmpfs', processState: 'S' },
    { id: 5, kind: 'fd', size: 20 * 2 ** 30, fsType: 'ext4', processState: 'S' },
    { id: 6, kind: 'memfd', size: 4 * 2 ** 30, fsType: null, processState: 'S' },
  ];
  assert.deepEqual(orderByVolatility(items, memory).map((item) => item.id), [2, 6, 4, 5, 3, 1]);
  // Without a memory size, volatility alone decides.
  assert.deepEqual(orderByVolatility(items).map((item) => item.id), [2, 6, 1, 4, 3, 5]);
});

test('recover copies the smallest first, sizes past 2^53 compared exactly, an unknown size last', () => {
  const items = [
    { id: 1, size: 2n ** 62n + 1n },
    { id: 2, size: null },
    { id: 3, size: 15 },
    { id: 4, size: 2n ** 62n },
    { id: 5, size: 15 },
    { id: 6, size: 0 },
  ];
  assert.deepEqual(orderBySize(items).map((item) => item.id), [6, 3, 5, 4, 1, 2]);
});

test('a file in memory whose holes reach 1 GiB (a memfd truncated to just under RAM around a few bytes) is copied last too: several of them held every other copy back for a minute', () => {
  const memory = 24 * 2 ** 30;
  const items: OrderableItem[] = [
    { id: 1, kind: 'memfd', size: 20 * 2 ** 30, fsType: null, processState: 'S', allocated: 4096 },
    { id: 2, kind: 'fd', size: 5000, fsType: 'ext4', processState: 'S', allocated: null },
    { id: 3, kind: 'memfd', size: 2 * 2 ** 30, fsType: null, processState: 'S', allocated: 2 * 2 ** 30 },
    { id: 4, kind: 'fd', size: 2 ** 30 + 8192, fsType: 'tmpfs', processState: 'S', allocated: 8192 },
    { id: 5, kind: 'fd', size: 2 ** 30 + 8191, fsType: 'tmpfs', processState: 'S', allocated: 8192 },
    { id: 6, kind: 'memfd', size: 20 * 2 ** 30, fsType: null, processState: 'S' },
  ];
  // 1 and 4: 1 GiB of holes or more; 6: its data unknown, ranked by volatility as before.
  assert.deepEqual(orderByVolatility(items, memory).map((item) => item.id), [3, 6, 5, 2, 4, 1]);
});
