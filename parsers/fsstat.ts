// fsstat (The Sleuth Kit 4.11.1) on ext2/3/4, `fsstat [-o SECTOR] IMAGE`:
//   File System Type: Ext4
//   Last mounted on: /var/tmp/imgt/mnt
//   Orphan Inodes: 14, 13,
// Only what a scan needs; the superblock itself is read by parsers/extSuperblock.ts.
// fsstat prints the volume name and s_last_mounted raw (tsk/fs/ext2fs.c ext2fs_fsstat), in its FILE
// SYSTEM INFORMATION section: a newline there starts a line of the file system's own making
// ("Orphan Inodes: 7, 12,", "Volume Name: EVIL", a whole section). So nothing is read from that
// section but the type, printed before any such text (its first line wins); the label and mount
// point come from the superblock. The later sections are printed after all of it: their values are
// taken from the last section of their title, and only there.
import type { ParseWarning } from './types.js';

export interface FsstatInfo {
  fsType: string | null;
  blockSize: number | null;
  inodeRange: [number, number] | null;
  /** fsstat's own list of the s_last_orphan chain (empty for an orphan_file file system). */
  orphanInodes: number[];
  warnings: ParseWarning[];
}

const METADATA = 'METADATA INFORMATION';
const CONTENT = 'CONTENT INFORMATION';

export function parseFsstat(text: string): FsstatInfo {
  const info: FsstatInfo = { fsType: null, blockSize: null, inodeRange: null, orphanInodes: [], warnings: [] };
  /** The title of the section a line is in: the line before its row of dashes. */
  let section = '';
  let previous = '';
  for (const line of text.split('\n')) {
    if (/^-{10,}$/.test(line)) {
      section = previous;
      // A section of this title made by a name stands before fsstat's own: what it said is dropped.
      if (section === METADATA) Object.assign(info, { inodeRange: null, orphanInodes: [] });
      if (section === CONTENT) info.blockSize = null;
    }
    previous = line;
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (key === 'File System Type' && info.fsType === null) info.fsType = value;
    else if (section === METADATA && key === 'Inode Range') {
      const range = /^(\d+) - (\d+)$/.exec(value);
      info.inodeRange = range === null ? null : [Number(range[1]), Number(range[2])];
    } else if (section === METADATA && key === 'Orphan Inodes') {
      info.orphanInodes = value.split(',').map((part) => part.trim()).filter((part) => /^\d+$/.test(part)).map(Number);
    } else if (section === CONTENT && key === 'Block Size') info.blockSize = Number(value) || null;
  }
  return info;
}
