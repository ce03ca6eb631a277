// TSK, debugfs and ext structure parsers: golden files of real output, and what the tools really print.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fixturesDir, repoRoot } from './helpers/paths.js';
import { PARSER_MODULES, TEXT_PARSERS } from '../parsers/index.js';
import { mmlsComplaint, parseMmls } from '../parsers/mmls.js';
import { parseFsstat } from '../parsers/fsstat.js';
import { ILS_START, ilsTime, parseIls, parseIlsPiece } from '../parsers/ils.js';
import { parseFls, parseFlsPiece, tskPrinted } from '../parsers/fls.js';
import type { ParsedPiece, ParseResult } from '../parsers/types.js';
import { parsedByLines } from '../src/tools/lines.js';
import { parseExtDirectory, type ExtDirectory } from '../parsers/extDirectory.js';
import { parseBtrfsSuperblock } from '../parsers/btrfsSuperblock.js';
import { parseIstat } from '../parsers/istat.js';
import { parseDebugfsStat, parseLsdel } from '../parsers/debugfs.js';
import { kernelTimes, needsRawTimes, parseDebugfsStats, parseInodeDumps } from '../parsers/debugfsStats.js';
import { parseOrphanFile } from '../parsers/orphanFile.js';
import { backupSuperblockShift, extType, parseExtSuperblock } from '../parsers/extSuperblock.js';
import { displayBytes } from '../src/util/bytes.js';
import { protectiveOnly, readTable } from '../src/image/partitions.js';

const read = (folder: string, name: string): string => fs.readFileSync(path.join(fixturesDir, folder, name), 'latin1');

function parserFor(folder: string, name: string): ((text: string) => unknown) | null {
  const prefix = name.split('-')[0] ?? '';
  if (folder === 'debugfs') return prefix === 'stat' ? parseDebugfsStat : prefix === 'lsdel' ? parseLsdel : prefix === 'stats' ? TEXT_PARSERS['debugfs-stats'] : prefix === 'inodedump' ? TEXT_PARSERS['debugfs-inode-dumps'] : null;
  return (TEXT_PARSERS as Record<string, (text: string) => unknown>)[prefix] ?? null;
}

for (const folder of ['tsk', 'debugfs']) {
  for (const name of fs.readdirSync(path.join(fixturesDir, folder)).filter((file) => file.endsWith('.txt')).sort()) {
    test(`${folder} golden: ${name}`, () => {
      const parse = parserFor(folder, name);
      assert.ok(parse !== null, `a parser for ${name}`);
      // A bigint (a size past 2^53) as its digits and "n": exact in the golden file, where a JSON number would round.
      const actual = JSON.parse(JSON.stringify(parse(read(folder, name)), (_key, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value))) as unknown;
      const expectedPath = path.join(fixturesDir, folder, name.replace(/\.txt$/, '.expected.json'));
      if (process.env['UPDATE_GOLDEN'] === '1' || !fs.existsSync(expectedPath)) fs.writeFileSync(expectedPath, `${JSON.stringify(actual, null, 1)}\n`);
      assert.deepEqual(actual, JSON.parse(fs.readFileSync(expectedPath, 'utf8')));
    });
  }
}

/** What fls -d lists as deleted from a parse: tsk_fs_dir_add keeps a name and inode once, an allocated one winning; "." and ".." not listed. */
function tskDeleted(directory: ExtDirectory): Array<[string, number]> {
  const deleted = new Map<string, boolean>();
  for (const entry of directory.records) {
    const key = JSON.stringify([tskPrinted(entry.name), entry.inode]);
    deleted.set(key, (deleted.get(key) ?? true) && entry.deleted);
  }
  return [...deleted].filter(([key, gone]) => gone && !/^\["\.\.?",/.test(key)).map(([key]) => JSON.parse(key) as [string, number]).sort();
}

// Directory contents dumped by debugfs beside TSK's own listing of them (fixtures/ext_directory/README.md).
for (const [name, inodesCount] of [['htree-ext3-1k-root', 4096], ['htree-ext4-1k-csum', 59840], ['htree-ext3-1k-node', 4096]] as const) {
  test(`ext directory golden: ${name} read as fls reads it, its htree index named`, () => {
    const content = fs.readFileSync(path.join(fixturesDir, 'ext_directory', `${name}.bin`));
    const directory = parseExtDirectory(content, { blockSize: 1024, fileType: true, inodesCount });
    const listed = parseFls(read('ext_directory', `${name}.fls.txt`)).records.filter((entry) => entry.deleted).map((entry): [string, number] => [entry.name, entry.inode]).sort();
    assert.deepEqual(tskDeleted(directory), listed);
    const actual = {
      indexRanges: directory.indexRanges, warnings: directory.warnings, entries: directory.records.length,
      read: directory.records.filter((entry) => entry.deleted || entry.inIndex).map((entry) => ({ ...entry, name: tskPrinted(entry.name) })),
    };
    const expectedPath = path.join(fixturesDir, 'ext_directory', `${name}.expected.json`);
    if (process.env['UPDATE_GOLDEN'] === '1' || !fs.existsSync(expectedPath)) fs.writeFileSync(expectedPath, `${JSON.stringify(actual, null, 1)}\n`);
    assert.deepEqual(JSON.parse(JSON.stringify(actual)), JSON.parse(fs.readFileSync(expectedPath, 'utf8')));
  });
}

test('ext directory: the names fls reads out of dx_root and dx_node bytes lie in the index ranges, a leaf\'s deleted names do not', () => {
  const parse = (name: string, inodesCount: number) => parseExtDirectory(fs.readFileSync(path.join(fixturesDir, 'ext_directory', `${name}.bin`)), { blockSize: 1024, fileType: true, inodesCount });
  const root = parse('htree-ext3-1k-root', 4096);
  // dx_root_info at 24, then count 4 of the limit 124 dx_entries from 32.
  assert.deepEqual(root.indexRanges, [{ kind: 'dx_root', start: 24, end: 64 }]);
  const deleted = (directory: ExtDirectory) => directory.records.filter((entry) => entry.deleted).map((entry) => [entry.offset, entry.inode, tskPrinted(entry.name), entry.inIndex]);
  assert.deepEqual(deleted(root).filter(([, inode]) => inode === 2049 || inode === 2210), [[28, 2049, '^', true], [2008, 2210, 'f160', false]]);
  // With metadata_csum the limit leaves room for the 8-byte dx_tail at the block's end.
  const csum = parse('htree-ext4-1k-csum', 59840);
  assert.deepEqual(csum.indexRanges, [{ kind: 'dx_root', start: 24, end: 32 + 8 * 23 }, { kind: 'dx_root', start: 1016, end: 1024 }]);
  assert.deepEqual(deleted(csum).filter(([, , , inIndex]) => inIndex === true).map(([, inode, printed]) => [inode, printed]), [[21, '^']]);
  // Indirect levels 1: the dx_root points at two dx_node blocks (136 full, 137), each a fake entry and dx_entries.
  const node = parse('htree-ext3-1k-node', 4096);
  assert.deepEqual(node.indexRanges, [
    { kind: 'dx_root', start: 24, end: 32 + 8 * 2 }, { kind: 'dx_node', start: 136 * 1024, end: 137 * 1024 }, { kind: 'dx_node', start: 137 * 1024, end: 137 * 1024 + 8 + 8 * 8 },
  ]);
  assert.deepEqual(deleted(node).filter(([, , , inIndex]) => inIndex === false).map(([, inode, printed]) => [inode, printed]), [[2121, `${'L'.repeat(236)}0007`]]);
});

test('every parser module is in the registry', () => {
  const modules = fs.readdirSync(path.join(repoRoot, 'parsers')).filter((file) => file.endsWith('.ts') && file !== 'index.ts' && file !== 'types.ts').map((file) => file.replace(/\.ts$/, ''));
  assert.deepEqual(modules.sort(), [...PARSER_MODULES].sort());
});

test('mmls: MBR and GPT partitions, meta entries not allocated', () => {
  const mbr = parseMmls(read('tsk', 'mmls-mbr.txt'));
  assert.equal(mbr.table, 'DOS Partition Table');
  assert.deepEqual(mbr.records.filter((part) => part.allocated).map((part) => [part.start, part.length]), [[2048, 20480], [22528, 40960]]);
  const gpt = parseMmls(read('tsk', 'mmls-gpt.txt'));
  assert.deepEqual(gpt.records.filter((part) => part.allocated).map((part) => part.start), [2048, 22528]);
  assert.equal(gpt.warnings.length, 0);
});

test('mmls: a GPT name holding a newline continues its row\'s description (display form); it moves no sector size and makes no row (real mmls 4.11.1 output)', () => {
  const names = parseMmls(read('tsk', 'mmls-gpt-names.txt'));
  assert.deepEqual([names.table, names.offsetSector, names.sectorSize, names.warnings], ['GUID Partition Table (EFI)', 0, 512, []]);
  assert.deepEqual(names.records.map((part) => [part.slot, part.start, part.length, part.description, part.descriptionLines, part.allocated]), [
    ['Meta', 0, 1, 'Safety Table', 1, false], ['-------', 0, 2048, 'Unallocated', 1, false], ['Meta', 1, 1, 'GPT Header', 1, false], ['Meta', 2, 32, 'Partition Table', 1, false],
    ['000', 2048, 16384, 'root\\x0aUnits are in 256-byte sectors', 2, true],
    // 36 UTF-16 units, all a GPT name holds: a row needs 55 characters before its description.
    ['001', 18432, 8192, 'a\\x0a007:  Meta      0000001024   00000', 2, true],
    ['002', 26624, 8192, 'Linux data (0xEE)', 1, true],
    ['-------', 34816, 14336, 'Unallocated', 1, false],
  ]);
  const table = { ...names, sectorSize: 512 };
  assert.deepEqual(readTable(table), {
    starts: [2048, 18432, 26624],
    warnings: [
      'mmls printed the description of the entry in slot 000 (sector 2048) over 2 lines (a partition name holding a newline): read as one description, "root\\x0aUnits are in 256-byte sectors"',
      'mmls printed the description of the entry in slot 001 (sector 18432) over 2 lines (a partition name holding a newline): read as one description, "a\\x0a007:  Meta      0000001024   00000"',
    ],
    doubt: null,
  });
  // A GPT entry's description is its name: "(0xEE)" in it is no protective MBR entry; TSK's own, in a DOS table, is.
  assert.equal(protectiveOnly(table), false);
  const cut = parseMmls(read('tsk', 'mmls-gpt-cut.txt'));
  assert.deepEqual([cut.table, cut.records.filter((part) => part.allocated).map((part) => part.description)], ['DOS Partition Table', ['GPT Safety Partition (0xee)']]);
  assert.equal(protectiveOnly({ ...cut, sectorSize: 512 }), true);
});

test('mmls exit 1: nothing said is no table; two table types at one offset are a table that cannot be read, in the words of 4.11.1 and of 4.14.0 alike (real stderr of both)', () => {
  // The same image (a DOS table, a Mac partition map at sector 1): fixtures/tsk/README.md.
  assert.equal(mmlsComplaint(read('tsk', 'mmls-mac-dos-4.11.1.stderr')), 'Cannot determine partition type (Mac or DOS at 0)');
  assert.equal(mmlsComplaint(read('tsk', 'mmls-mac-dos-4.14.0.stderr')), 'Multiple volume system types detected (Mac or DOS at 0)');
  // No table at all: both versions say nothing (an ext image, zeros, random bytes).
  assert.equal(mmlsComplaint(''), null);
  assert.equal(mmlsComplaint('Cannot determine partition type\n'), null);
});

test('mmls: header values come from the header alone; a line neither header, row nor continuation is a warning with its line number; a start off the 512-byte grid is not scanned, said (hand-made from real output)', () => {
  const real = read('tsk', 'mmls-gpt.txt').split('\n');
  // A stray line between the column header and the first row, a row whose numbers pass 2^53.
  const stray = [...real.slice(0, 5), 'stray', ...real.slice(5, 9), '009:  002       9999999999999999   9999999999999999   0000000001   ', ...real.slice(9)].join('\n');
  const parsed = parseMmls(stray);
  assert.deepEqual(parsed.warnings, [{ line: 6, message: 'unrecognised mmls line', text: 'stray' }, { line: 11, message: 'partition numbers out of range', text: '009:  002       9999999999999999   9999999999999999   0000000001   ' }]);
  assert.deepEqual(parsed.records.filter((part) => part.allocated).map((part) => part.start), [2048, 22528]);
  const reading = readTable({ ...parsed, sectorSize: 512 });
  assert.deepEqual(reading.starts, [2048, 22528]);
  assert.equal(reading.doubt, '2 lines of mmls\' output could not be read (first: line 6): a partition may be missing');
  assert.deepEqual(reading.warnings, [
    'mmls line 6 could not be read (unrecognised mmls line: "stray"): a partition it lists may be missing',
    'mmls line 11 could not be read (partition numbers out of range: "009:  002       9999999999999999   9999999999999999   0000000001   "): a partition it lists may be missing',
  ]);
  // No "Units are in" line in the header: no sector size, although a later line says one.
  const noUnits = parseMmls([...real.slice(0, 2), ...real.slice(3, 9), 'Units are in 256-byte sectors', ...real.slice(9)].join('\n'));
  assert.deepEqual([noUnits.sectorSize, noUnits.records.length, noUnits.records[3]?.description], [null, 7, 'Partition Table\\x0aUnits are in 256-byte sectors']);
  // 256-byte sectors (as in the header): a start that is no whole 512-byte sector is said and not scanned.
  const small = parseMmls(real.join('\n').replace('512-byte', '256-byte').replace('0000022528   0000063487', '0000022529   0000063487'));
  assert.deepEqual(readTable({ ...small, sectorSize: 256 }), {
    starts: [1024],
    warnings: ['the partition in slot 001 starts at byte 5767424 (sector 22529 of 256 bytes), not on a 512-byte sector: not scanned'],
    doubt: 'the partition in slot 001 starts at byte 5767424 (sector 22529 of 256 bytes), not on a 512-byte sector: not scanned',
  });
});

test('fsstat: no line the file system made (a newline in s_last_mounted) is read: the forged orphan list and section are not fsstat\'s (real fsstat 4.11.1 output)', () => {
  const lines = read('tsk', 'fsstat-last-mounted-lines.txt');
  const section = read('tsk', 'fsstat-last-mounted-section.txt');
  // The forged lines are there, before fsstat's own METADATA INFORMATION section (which lists no orphan).
  assert.match(lines, /^Last mounted on: \/mnt\nOrphan Inodes: 7, 12,\nVolume Name: EVIL$/m);
  assert.match(section, /^Last mounted on: \nMETADATA INFORMATION\n-{10}\nOrphan Inodes: 7, 12,$/m);
  for (const text of [lines, section]) {
    const parsed = parseFsstat(text);
    assert.deepEqual([parsed.fsType, parsed.blockSize, parsed.inodeRange, parsed.orphanInodes], ['Ext4', 1024, [1, 2049], []]);
  }
  // fsstat's own list, in its own section, is read; the per-group "Inode Range" lines are not the file system's.
  assert.deepEqual([parseFsstat(read('tsk', 'fsstat-ext4-orphans.txt')).orphanInodes, parseFsstat(read('tsk', 'fsstat-ext4-orphans.txt')).inodeRange], [[14, 13], [1, 8193]]);
});

test('fls: a real deleted file named $OrphanFiles is a name; TSK\'s own directory (V/V or d/d, allocated, inode past the last) and its OrphanFile-N entries are not', () => {
  const real = parseFls(read('tsk', 'fls-rp-orphanfiles-name.txt'), { inodesCount: 1024 });
  assert.deepEqual(real.records.map((entry) => [entry.type, entry.deleted, entry.inode, entry.name, entry.virtual]), [
    ['d/d', false, 11, 'lost+found', false], ['r/r', true, 12, '$OrphanFiles', false], ['V/V', false, 1025, '$OrphanFiles', true],
  ]);
  // Older TSK printed its directory d/d: TSK's only past the last inode.
  assert.deepEqual(parseFls('d/d 1025:\t$OrphanFiles\nd/d 12:\t$OrphanFiles\n', { inodesCount: 1024 }).records.map((entry) => entry.virtual), [true, false]);
  // TSK's OrphanFile-N is a deleted name of no type (-/) for inode N; another inode or a typed name is a real one.
  const children = parseFls('-/r * 14:\t$OrphanFiles/OrphanFile-14\n-/r * 15:\t$OrphanFiles/OrphanFile-14\nr/r * 14:\t$OrphanFiles/OrphanFile-14\n');
  assert.deepEqual(children.records.map((entry) => entry.virtual), [true, false, false]);
});

test('fsstat: type and orphan chain, none printed for orphan_file', () => {
  const orphans = parseFsstat(read('tsk', 'fsstat-ext4-orphans.txt'));
  assert.equal(orphans.fsType, 'Ext4');
  assert.deepEqual(orphans.orphanInodes, [14, 13]);
  assert.deepEqual(parseFsstat(read('tsk', 'fsstat-ext4-orphan_file.txt')).orphanInodes, []);
  assert.equal(parseFsstat(read('tsk', 'fsstat-ext2.txt')).fsType, 'Ext2');
});

test('ils: -aL lists the orphans (and inode 1), -O lists nothing', () => {
  assert.deepEqual(parseIls(read('tsk', 'ils-aL-orphans.txt')).records.map((inode) => [inode.inode, inode.nlink, inode.size]), [[1, 0, 0], [13, 0, 17], [14, 0, 50000]]);
  assert.deepEqual(parseIls(read('tsk', 'ils-O-orphans.txt')).records, []);
  const corrupt = parseIls(read('tsk', 'ils-corrupt.txt'));
  assert.deepEqual(corrupt.records, []);
});

test('ils and istat: a size ils prints signed (-1, -9223372036854775808) or past 2^53 is read as the exact unsigned i_size, never a row dropped', () => {
  const big = parseIls(read('tsk', 'ils-aL-bigsize.txt'));
  assert.deepEqual(big.warnings, []);
  assert.deepEqual(big.records.map((inode) => [inode.inode, inode.perms, inode.size]), [
    [1, 0, 0], [12, 0o644, 9007199254740993n], [14, 0o644, 9223372036854775808n], [15, 0o644, 18446744073709551615n], [16, 0o644, 12],
  ]);
  assert.equal(parseIstat(read('tsk', 'istat-size-all-ones.txt')).size, 18446744073709551615n);
  // Past the signed 64-bit range (no ils prints it): unreadable, and the warning names the inode.
  const beyond = parseIls('st_ino|st_alloc|st_uid|st_gid|st_mtime|st_atime|st_ctime|st_crtime|st_mode|st_nlink|st_size\n17|a|0|0|1|1|1|1|644|0|9223372036854775808\n');
  assert.deepEqual([beyond.records, beyond.warnings.map((warning) => [warning.line, warning.message])], [[], [[2, 'unreadable ils line (inode 17)']]]);
});

test('ils and fls output parsed piece by piece (cut at any line end, or fed in chunks cut anywhere, as run() hands them) gives the records and warnings of the whole text, line numbers included', async () => {
  const header = 'class|host|device|start_time\nils|host|/img|1\nst_ino|st_alloc|st_uid|st_gid|st_mtime|st_atime|st_ctime|st_crtime|st_mode|st_nlink|st_size\n';
  // Beside the captures: a long one with unreadable rows along it, the last line without its newline.
  const rows = Array.from({ length: 3000 }, (_, index) => (index % 401 === 7 ? `${index}|x|broken` : `${index + 12}|f|0|0|1|2|3|4|644|0|${index * 1000}`));
  const ilsTexts = [...fs.readdirSync(path.join(fixturesDir, 'tsk')).filter((name) => /^ils-.*\.txt$/.test(name)).map((name) => read('tsk', name)), `${header}${rows.join('\n')}`];
  const flsTexts = [...fs.readdirSync(path.join(fixturesDir, 'tsk')).filter((name) => /^fls-.*\.txt$/.test(name)).map((name) => read('tsk', name)),
    `${rows.map((row, index) => (index % 333 === 5 ? row : `r/r * ${index + 12}:\tdir/name-${index}\u00ff^`)).join('\n')}`];
  const cases: Array<{ texts: string[]; whole: (text: string) => ParseResult<unknown>; start: unknown; piece: (text: string, from: unknown) => ParsedPiece<unknown, unknown> }> = [
    { texts: ilsTexts, whole: parseIls, start: ILS_START, piece: (text, from) => parseIlsPiece(text, from as typeof ILS_START) },
    { texts: flsTexts, whole: (text) => parseFls(text, { inodesCount: 1024 }), start: 0, piece: (text, from) => parseFlsPiece(text, from as number, { inodesCount: 1024 }) },
  ];
  for (const { texts, whole, start, piece } of cases) {
    for (const text of texts) {
      const expected = whole(text);
      assert.ok(expected.records.length > 0 || text.length < 1000);
      // Cut after every line, every second, every 97th: each piece's lines numbered after those before it.
      const lines = text.split(/(?<=\n)/);
      for (const size of [1, 2, 97]) {
        const parsed: ParseResult<unknown> = { records: [], warnings: [] };
        let from = start;
        for (let at = 0; at < lines.length; at += size) {
          const part = piece(lines.slice(at, at + size).join(''), from);
          parsed.records.push(...part.records);
          parsed.warnings.push(...part.warnings);
          from = part.next;
        }
        assert.deepEqual(parsed, expected, `pieces of ${size} lines`);
      }
      // The bytes in chunks cut anywhere (a line's bytes across chunks), through the consumer the adapters give run().
      const bytes = Buffer.from(text, 'latin1');
      for (const size of [1, 7, 4096]) {
        const reader = parsedByLines('tool', 1 << 30, start, piece);
        for (let at = 0; at < bytes.length; at += size) await reader.consume(bytes.subarray(at, at + size));
        assert.deepEqual(reader.finish(), expected, `chunks of ${size} bytes`);
      }
    }
  }
  assert.ok(parseIls(ilsTexts.at(-1) ?? '').warnings.length === 8);
  // More than the limit: refused with the one line run() records, nothing parsed past it.
  const limited = parsedByLines('ils', 100, ILS_START, parseIlsPiece);
  await limited.consume(Buffer.alloc(60, 0x0a));
  await assert.rejects(limited.consume(Buffer.alloc(60, 0x0a)), { code: 'TOOL_FAILED', message: 'ils output larger than 100 bytes: stopped' });
});

test('fls and istat: the deleted name, blocks kept on ext2, none on ext4', () => {
  assert.deepEqual(parseFls(read('tsk', 'fls-rdp-ext2.txt')).records.map((entry) => [entry.inode, entry.deleted, entry.name]), [[12, true, 'gone.bin']]);
  assert.equal(parseFls(read('tsk', 'fls-rp-orphans.txt')).records.filter((entry) => entry.inode === 13 || entry.inode === 14).length, 0);
  const ext2 = parseIstat(read('tsk', 'istat-ext2-deleted.txt'));
  assert.deepEqual([ext2.allocated, ext2.size, ext2.blocks], [false, 30000, 31]);
  const ext4 = parseIstat(read('tsk', 'istat-ext4-deleted.txt'));
  assert.deepEqual([ext4.allocated, ext4.size, ext4.blocks], [false, 0, 0]);
  const orphan = parseIstat(read('tsk', 'istat-orphan.txt'));
  assert.deepEqual([orphan.allocated, orphan.nlink, orphan.mode, orphan.blocks], [true, 0, 0o100644, 1]);
  // 600 extents: istat exits 0 with no block listed and an error after the header: unknown, not none.
  const fragmented = parseIstat(read('tsk', 'istat-fragmented-error.txt'));
  assert.deepEqual([fragmented.allocated, fragmented.nlink, fragmented.size, fragmented.blocks], [true, 0, 4916203, null]);
});

test('istat of one file of 600 extents (4 data blocks, then a 4-block hole), 4.11.1 beside 4.14.0: unknown under 4.11.1; 4.14.0\'s data blocks counted, its "Extent Blocks:" (the extent tree\'s own) not', () => {
  const old = parseIstat(read('tsk', 'istat-extent-index-4.11.1.txt'));
  const current = parseIstat(read('tsk', 'istat-extent-index-4.14.0.txt'));
  assert.deepEqual([old.size, old.blocks], [4_911_104, null]);
  // debugfs 1.47.0 of the same inode: 600 extents of 4 blocks, and 9 tree blocks (ETB0, ETB1).
  assert.deepEqual([current.size, current.blocks], [4_911_104, 2400]);
  assert.match(read('tsk', 'istat-extent-index-4.14.0.txt'), /\n\nExtent Blocks:\n8454 8450 8451 8452 8453 8455 8456 8457 \n8458 \n$/);
  // Everything but the block list reads the same.
  assert.deepEqual({ ...current, blocks: null }, old);
});

test('debugfs stat of inodes whose i_extra_isize is 8, 12, 16 and 20, 1.47.0 beside 1.47.4: each printed extra word reads as the kernel reads it; the raw inode decides for both', () => {
  // One image, inodes 12-15 (fixtures/debugfs/README.md): 1.47.0 prints no extra word below 24, 1.47.4 each that fits.
  const inodes = [12, 13, 14, 15];
  const old = parseDebugfsStats(read('debugfs', 'stats-extra-isize-1.47.0.txt'), inodes);
  const current = parseDebugfsStats(read('debugfs', 'stats-extra-isize-1.47.4.txt'), inodes);
  const dumps = parseInodeDumps(read('debugfs', 'inodedump-extra-isize.txt'), inodes, undefined, 256);
  assert.deepEqual([old.warnings, current.warnings, dumps.warnings], [[], [], []]);
  const times = (inode: { atime: number | null; mtime: number | null; ctime: number | null; crtime: number | null; atimeNs: number | null; mtimeNs: number | null; ctimeNs: number | null; crtimeNs: number | null }) =>
    [inode.ctime, inode.ctimeNs, inode.mtime, inode.mtimeNs, inode.atime, inode.atimeNs, inode.crtime, inode.crtimeNs];
  // ctime 0x53724e02:ee6b27fc, mtime 0x83aa7e80:00000001 (signed, + 2^32: 2040-01-01), atime 0x53724e00:00000005, no crtime below 24.
  const signedOnly = [1_400_000_002, null, 2_208_988_800 - 2 ** 32, null, 1_400_000_000, null, null, null];
  assert.deepEqual(old.records.map(times), [signedOnly, signedOnly, signedOnly, signedOnly]);
  assert.deepEqual(current.records.map(times), [
    [1_400_000_002, 999_999_999, 2_208_988_800 - 2 ** 32, null, 1_400_000_000, null, null, null],
    [1_400_000_002, 999_999_999, 2_208_988_800, 0, 1_400_000_000, null, null, null],
    [1_400_000_002, 999_999_999, 2_208_988_800, 0, 1_400_000_000 + 2 ** 32, 1, null, null],
    [1_400_000_002, 999_999_999, 2_208_988_800, 0, 1_400_000_000 + 2 ** 32, 1, null, null],
  ]);
  // Every extra word 1.47.4 printed is the kernel's reading of the raw inode (the same dump in both versions).
  for (const [index, inode] of current.records.entries()) {
    const kernel = kernelTimes(dumps.records[index]?.raw ?? Buffer.alloc(0), 256);
    for (const field of ['ctime', 'mtime', 'atime'] as const) {
      if (inode[`${field}Ns`] !== null) assert.deepEqual([inode[field], inode[`${field}Ns`]], [kernel[field], kernel[`${field}Ns`]], `${field} of inode ${inode.inode}`);
    }
  }
  // Below 24 both versions leave words out (1.47.0 all, 1.47.4 those that do not fit): the raw inode is read for each.
  assert.deepEqual([...old.records, ...current.records].map((inode) => [inode.extraIsize, needsRawTimes(inode, 256)]), [8, 12, 16, 20, 8, 12, 16, 20].map((size) => [size, true]));
  // Only the times and their words differ between the two versions.
  assert.deepEqual(current.records.map((inode) => ({ ...inode, atime: 0, mtime: 0, ctime: 0, atimeNs: 0, mtimeNs: 0, ctimeNs: 0 })), old.records.map((inode) => ({ ...inode, atime: 0, mtime: 0, ctime: 0, atimeNs: 0, mtimeNs: 0, ctimeNs: 0 })));
});

test('debugfs: the orphan chain link in dtime, lsdel in UTC', () => {
  assert.equal(parseDebugfsStat(read('debugfs', 'stat-orphan-chain.txt')).dtimeRaw, 13);
  assert.equal(parseDebugfsStat(read('debugfs', 'stat-orphan-tail.txt')).dtimeRaw, 0);
  const [entry] = parseLsdel(read('debugfs', 'lsdel-ext2-utc.txt')).records;
  assert.deepEqual([entry?.inode, entry?.mode, entry?.size, entry?.blocks], [12, 0o100644, 30000, 31]);
  assert.equal(parseLsdel(read('debugfs', 'lsdel-ext4-none.txt')).records.length, 0);
});

test('orphan file and superblock: inode 13 in the orphan file, the chain head in s_last_orphan', () => {
  const content = fs.readFileSync(path.join(fixturesDir, 'orphan_file', 'orphan-file-1k.bin'));
  assert.deepEqual(parseOrphanFile(content, 1024), { records: [{ inode: 13, block: 13, slot: 0 }], warnings: [] });
  const damaged = Buffer.from(content);
  damaged.writeUInt32LE(0xdeadbeef, 1024 * 13 + 1024 - 8);
  const parsed = parseOrphanFile(damaged, 1024);
  assert.deepEqual(parsed.records, []);
  assert.match(parsed.warnings[0]?.message ?? '', /block 13: magic 0xdeadbeef/);
  // Each number once (at its first slot); numbers past the inode count and bad blocks past the tenth counted, each said once.
  const slots = Buffer.alloc(1024 * 14);
  for (let block = 0; block < 14; block++) if (block < 2) slots.writeUInt32LE(0x0b10ca04, block * 1024 + 1016);
  for (let slot = 0; slot < 254; slot++) slots.writeUInt32LE(slot % 2 === 0 ? 13 : 70000 + slot, slot * 4);
  slots.writeUInt32LE(14, 1024 + 8);
  assert.deepEqual(parseOrphanFile(slots, 1024, 65536), {
    records: [{ inode: 13, block: 0, slot: 0 }, { inode: 14, block: 1, slot: 2 }],
    warnings: [
      ...[2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((block) => ({ line: block, message: `orphan file block ${block}: magic 0x0, expected 0x0b10ca04` })),
      { line: 14, message: '2 more orphan file blocks have a bad magic (12 of 14 in all)' },
      { line: 14, message: '127 slots name inodes past the file system\'s 65536 (70001, 70003, 70005, 70007, 70009, ...): left out' },
      { line: 14, message: '126 slots repeat an inode number an earlier slot holds (the kernel puts an inode in one slot): each inode taken once' },
    ],
  });
  const withFile = parseExtSuperblock(fs.readFileSync(path.join(fixturesDir, 'orphan_file', 'superblock-orphan_file.bin')));
  assert.equal(withFile?.orphanFileInode, 12);
  const chain = parseExtSuperblock(fs.readFileSync(path.join(fixturesDir, 'orphan_file', 'superblock-last_orphan.bin')));
  assert.deepEqual([chain?.lastOrphan, chain?.orphanFileInode, chain?.uuid], [14, null, '51b55bf7-295d-4b50-951d-e223ad0534db']);
  assert.equal(parseExtSuperblock(Buffer.alloc(1024)), null);
  assert.deepEqual([chain?.blockGroupNr, backupSuperblockShift(chain ?? assert.fail())], [0, null]);
  // s_mkfs_time, and its high byte (s_mkfs_time_hi, 0x276) times 2^32: made after 2106.
  assert.equal(chain?.mkfsTime, 1795561958);
  const later = Buffer.from(fs.readFileSync(path.join(fixturesDir, 'orphan_file', 'superblock-last_orphan.bin')));
  later.writeUInt8(1, 0x276);
  assert.equal(parseExtSuperblock(later)?.mkfsTime, 1795561958 + 2 ** 32);
});

test('superblock: a backup copy carries its block group number; where its file system starts follows from it', () => {
  const backup = parseExtSuperblock(fs.readFileSync(path.join(fixturesDir, 'orphan_file', 'superblock-backup-group1.bin')));
  assert.deepEqual([backup?.blockGroupNr, backup?.firstDataBlock, backup?.blocksPerGroup, backup?.blockSize], [1, 1, 8192, 1024]);
  // Read 1024 bytes into a supposed file system start; the copy is at block 1 + 8192 of the real one.
  assert.equal(backupSuperblockShift(backup ?? assert.fail()), 8192 * 1024);
});

test('superblock: the type blkid gives, from the features (an ext2 backup copy, ext4 with extents and with none of them)', () => {
  const typeOf = (name: string) => extType(parseExtSuperblock(fs.readFileSync(path.join(fixturesDir, 'orphan_file', name))) ?? assert.fail(name));
  assert.deepEqual([typeOf('superblock-backup-group1.bin'), typeOf('superblock-last_orphan.bin')], ['ext2', 'ext4']);
  // mkfs.ext4 -O ^extent,^flex_bg,^64bit keeps metadata_csum (RO_COMPAT 0x400), huge_file, dir_nlink, extra_isize.
  assert.equal(extType({ featureIncompat: 0x2, featureRoCompat: 0x400 | 0x8 | 0x20 | 0x40 | 0x3, hasJournal: true }), 'ext4');
  assert.equal(extType({ featureIncompat: 0x2 | 0x4, featureRoCompat: 0x3, hasJournal: true }), 'ext3');
  assert.equal(extType({ featureIncompat: 0x2 | 0x40, featureRoCompat: 0x3, hasJournal: false }), 'ext4');
});

test('superblock: needs_recovery (INCOMPAT_RECOVER) is read; a crash image\'s orphan is not in s_last_orphan yet', () => {
  const crash = parseExtSuperblock(fs.readFileSync(path.join(fixturesDir, 'orphan_file', 'superblock-needs_recovery.bin')));
  assert.deepEqual([crash?.needsRecovery, crash?.hasJournal, crash?.lastOrphan], [true, true, 0]);
  const clean = parseExtSuperblock(fs.readFileSync(path.join(fixturesDir, 'orphan_file', 'superblock-last_orphan.bin')));
  assert.equal(clean?.needsRecovery, false);
});

test('debugfs stats: times decoded as ext4 does (signed low word, epoch bits, nanoseconds), 128-byte inodes signed; ils\' unsigned words kept only for 128-byte inodes', () => {
  const times = (text: string, asked: number[]) => parseDebugfsStats(text, asked).records.map((inode) => [inode.inode, inode.atime, inode.mtime, inode.ctime, inode.atimeNs, inode.mtimeNs, inode.ctimeNs, inode.dtimeRaw]);
  // ext4, 256-byte inodes: 0xfffeae80 is 1969-12-31, 0xb09e1900 with epoch 2 is 2200-01-01, 0x80000000 with epoch 1 is 2038-01-19.
  assert.deepEqual(times(read('debugfs', 'stats-times-ext4.txt'), [12, 13]), [
    [12, 1796278049, -86400, 1796278049, 0, 0, 0, 1796278049],
    [13, 1796278049, 7258118400, 2 ** 31, 999999999, 0, 0, 1796278049],
  ]);
  // ext2, 128-byte inodes: no extra word, the low word is signed (1903-01-01).
  assert.deepEqual(times(read('debugfs', 'stats-times-ext2-128.txt'), [12, 13]), [
    [12, 1796278054, -2114380800, 1796278054, null, null, null, 1796278054],
    [13, 1796278054, 1893456000, 1796278054, null, null, null, 1796278054],
  ]);
  // TSK 4.11.1 prints the same inodes' low words unsigned, without the epoch bits: on 256-byte
  // inodes any value may be 2^32 s off (0x80000000 with epoch 1 is 2^31, 0x6b... could be 2026 or 2162): null.
  const ext4 = parseIls(read('tsk', 'ils-r-times-ext4.txt')).records;
  assert.deepEqual(ext4.map((inode) => [inode.mtime, ilsTime(inode.mtime, 256), inode.ctime, ilsTime(inode.ctime, 256)]), [
    [4294880896, null, 1796278049, null], [2963151104, null, 2147483648, null],
  ]);
  const ext2 = parseIls(read('tsk', 'ils-r-times-ext2-128.txt')).records;
  assert.deepEqual(ext2.map((inode) => [inode.mtime, ilsTime(inode.mtime, 128)]), [[2180586496, -2114380800], [1893456000, 1893456000]]);
});

test('debugfs: uid and gid of 2^31 or more (printed signed) are read unsigned, and the size on the same line is kept', () => {
  const [inode] = parseDebugfsStats(read('debugfs', 'stats-uid-2e31.txt'), [12]).records;
  assert.deepEqual([inode?.uid, inode?.gid, inode?.size], [4_000_000_000, 3_000_000_000, 30_000]);
  const lsdel = parseLsdel(read('debugfs', 'lsdel-uid-2e31.txt'));
  assert.deepEqual([lsdel.records.map((entry) => [entry.inode, entry.owner, entry.size]), lsdel.warnings], [[[12, 4_000_000_000, 30_000]], []]);
});

test('debugfs: a symlink target cannot forge dtime or another inode: fields are read before the target, the first of each kept', () => {
  const parsed = parseDebugfsStats(read('debugfs', 'stats-symlinks-ext2.txt'), [12, 13, 14, 15]);
  // 12's target is "a\ndtime: 0x00000001 ": its real dtime stays. 13's target holds "debugfs: stat <14>" and a
  // header for 14: neither 13 nor 14 can be told apart from it, so neither is described (istat does it).
  assert.deepEqual(parsed.records.map((inode) => [inode.inode, inode.type, inode.dtimeRaw, inode.size]), [[12, 'symlink', 0x6b11082e, 20], [15, 'FIFO', 0x6b11082e, 0]]);
  assert.deepEqual(parsed.warnings.map((warning) => [warning.line, warning.message]), [
    [16, 'debugfs output for inode 13 holds a forged "debugfs: stat" line (a symlink target?): not used'],
    [30, 'debugfs output for inode 14 holds a forged "debugfs: stat" line (a symlink target?): not used'],
  ]);
});

test('debugfs: a fast symlink has content only when its printed target is whole (not empty, Size bytes), across lines too', () => {
  // ext4 inline_data: 12 deleted by the kernel (target wiped: `Fast link dest: ""`, Size 12), 13 and 14 live.
  const parsed = parseDebugfsStats(read('debugfs', 'stats-symlinks-inline.txt'), [12, 13, 14]);
  assert.deepEqual(parsed.records.map((inode) => [inode.inode, inode.size, inode.inlineData, inode.symlinkTarget]), [
    [12, 12, false, null], [13, 13, true, 'short-target2'], [14, 20, true, 'a\ndtime: 0x00000001 '],
  ]);
  const [good] = parseDebugfsStats(read('debugfs', 'stats-symlinks-ext2.txt'), [12, 13, 14, 15]).records;
  assert.deepEqual([good?.inode, good?.symlinkTarget], [12, 'a\ndtime: 0x00000001 ']);
});

test('superblock: a UTF-8 label and mount point are text, a label that is not UTF-8 is kept as bytes (never latin1 guessed)', () => {
  const utf8 = parseExtSuperblock(fs.readFileSync(path.join(fixturesDir, 'orphan_file', 'superblock-label-utf8.bin')));
  assert.deepEqual([utf8?.volumeName, utf8?.lastMountPoint, utf8?.volumeNameBytes.toString('hex')], ['données', '/tmp/wtp/mnt-é', '646f6e6ec3a96573']);
  const latin1 = parseExtSuperblock(fs.readFileSync(path.join(fixturesDir, 'orphan_file', 'superblock-label-latin1.bin')));
  assert.deepEqual([latin1?.volumeName, latin1?.volumeNameBytes.toString('hex'), latin1?.lastMountPoint], [null, '636166e9', '']);
  assert.equal(displayBytes(latin1?.volumeNameBytes ?? Buffer.alloc(0)), 'caf\\xe9');
});

test('btrfs superblock: the fsid blkid shows as UUID, the label as bytes; anything without the magic is none', () => {
  const bytes = fs.readFileSync(path.join(fixturesDir, 'btrfs', 'superblock-label-utf8.bin'));
  const parsed = parseBtrfsSuperblock(bytes);
  assert.deepEqual([parsed?.uuid, parsed?.labelBytes.toString('hex')], ['b08b7191-6df9-4f6d-b5a4-25b65a22460d', '646f6e6ec3a96573']);
  const noMagic = Buffer.from(bytes);
  noMagic[0x40] = 0;
  assert.equal(parseBtrfsSuperblock(noMagic), null);
  assert.equal(parseBtrfsSuperblock(bytes.subarray(0, 0x12b)), null, 'cut short');
  // An ext4 superblock is not taken for one.
  assert.equal(parseBtrfsSuperblock(Buffer.concat([fs.readFileSync(path.join(fixturesDir, 'orphan_file', 'superblock-label-utf8.bin')), Buffer.alloc(3072)])), null);
});

test('fls: TSK prints control bytes of names (and of -p directories) as "^": such a name is flagged not exact', () => {
  // Deleted names "new\nline", a real "new^line", "d\x01ir/plain" and "tab\tdel\x7f" (0x7f is printed as is).
  const parsed = parseFls(read('tsk', 'fls-rdp-control-names.txt'));
  assert.deepEqual(parsed.records.map((entry) => [entry.inode, entry.name, entry.nameExact]), [
    [12, 'new^line', false], [13, 'new^line', false], [15, 'd^ir/plain', false], [16, 'tab^del\x7f', false],
  ]);
  assert.deepEqual(parseFls(read('tsk', 'fls-rdp-ext2.txt')).records.map((entry) => [entry.name, entry.nameExact]), [['gone.bin', true]]);
});

test('fls: only $OrphanFiles/OrphanFile-N itself is virtual; a deleted name listed under it is real; a reused inode prints twice', () => {
  const parsed = parseFls(read('tsk', 'fls-rdp-orphan-dir-reused.txt'));
  assert.deepEqual(parsed.records.map((entry) => [entry.inode, entry.deleted, entry.name, entry.virtual]), [
    [16, true, 'd1/a', false], [16, true, 'd2/b', false], [0, true, 'orphandirXYZ', false],
    [14, true, '$OrphanFiles/OrphanFile-14', true], [15, true, '$OrphanFiles/OrphanFile-14/inner.txt', false],
  ]);
  assert.deepEqual(parsed.warnings, []);
});
