// Every parser, by the text it reads. A test fails when a module in parsers/ is missing here.
import { parseBtrfsSuperblock } from './btrfsSuperblock.js';
import { parseDebugfsStat, parseLsdel } from './debugfs.js';
import { parseDebugfsStats, parseInodeDumps } from './debugfsStats.js';
import { parseExtDirectory } from './extDirectory.js';
import { parseExtSuperblock } from './extSuperblock.js';
import { parseFls } from './fls.js';
import { parseFsstat } from './fsstat.js';
import { parseIls } from './ils.js';
import { parseIstat } from './istat.js';
import { parseLsof } from './lsof.js';
import { parseMmls } from './mmls.js';
import { parseOrphanFile } from './orphanFile.js';
import { parseFdInfo, parseMaps, parseMountInfo, parseProcLocks, parseProcStat } from './procfs.js';

/** Text parsers: tool output in, records (and warnings) out. */
export const TEXT_PARSERS = {
  'lsof': parseLsof,
  'mmls': parseMmls,
  'fsstat': parseFsstat,
  'ils': parseIls,
  'fls': parseFls,
  'istat': parseIstat,
  'debugfs-stat': parseDebugfsStat,
  'debugfs-lsdel': parseLsdel,
  /** Many `stat <N>` answers of one debugfs process; the inodes asked for are read from the echo lines. */
  'debugfs-stats': (text: string) => parseDebugfsStats(text, [...text.matchAll(/^debugfs: stat <(\d+)>$/gm)].map((match) => Number(match[1]))),
  /** Many `inode_dump <N>` answers, likewise; the captures are of 256-byte inodes (`mkfs.ext4 -I 256`). */
  'debugfs-inode-dumps': (text: string) => parseInodeDumps(text, [...text.matchAll(/^debugfs: inode_dump <(\d+)>$/gm)].map((match) => Number(match[1])), undefined, 256),
  'proc-stat': parseProcStat,
  'proc-fdinfo': parseFdInfo,
  'proc-mountinfo': parseMountInfo,
  'proc-locks': parseProcLocks,
} as const;

/** Byte parsers: raw structures read from /proc or an image. */
export const BYTE_PARSERS = {
  'proc-maps': parseMaps,
  'ext-superblock': parseExtSuperblock,
  'btrfs-superblock': parseBtrfsSuperblock,
  'orphan-file': (content: Buffer) => parseOrphanFile(content, 1024),
  /** A directory's content; the captures are of 1 KiB-block file systems with the filetype feature. */
  'ext-directory': (content: Buffer) => parseExtDirectory(content, { blockSize: 1024, fileType: true, inodesCount: 4096 }),
} as const;

/** The modules behind the registry (types.ts holds shared shapes, not a parser). */
export const PARSER_MODULES = ['btrfsSuperblock', 'debugfs', 'debugfsStats', 'extDirectory', 'extSuperblock', 'fls', 'fsstat', 'ils', 'istat', 'lsof', 'mmls', 'orphanFile', 'procfs'] as const;
