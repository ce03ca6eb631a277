// fsstat (The Sleuth Kit 4.11.1) on ext2/3/4, `fsstat [-o SECTOR] IMAGE`:
//   File System Type: Ext4
//   Last mounted on: /var/tmp/imgt/mnt
//   Orphan Inodes: 14, 13,
// Only what a scan needs; the superblock itself is read by parsers/extSuperblock.ts.
import type { ParseWarning } from './types.js';

export interface FsstatInfo {
  fsType: string | null;
  volumeName: string | null;
  volumeId: string | null;
  lastMountedAt: string | null;
  lastMountedOn: string | null;
  unmountedProperly: boolean | null;
  blockSize: number | null;
  inodeRange: [number, number] | null;
  /** fsstat's own list of the s_last_orphan chain (empty for an orphan_file file system). */
  orphanInodes: number[];
  warnings: ParseWarning[];
}

export function parseFsstat(text: string): FsstatInfo {
  const info: FsstatInfo = {
    fsType: null, volumeName: null, volumeId: null, lastMountedAt: null, lastMountedOn: null, unmountedProperly: null,
    blockSize: null, inodeRange: null, orphanInodes: [], warnings: [],
  };
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    const key = colon < 0 ? line.trim() : line.slice(0, colon).trim();
    const value = colon < 0 ? '' : line.slice(colon + 1).trim();
    if (key === 'File System Type') info.fsType = value;
    else if (key === 'Volume Name') info.volumeName = value === '' ? null : value;
    else if (key === 'Volume ID') info.volumeId = value;
    else if (key === 'Last Mounted at') info.lastMountedAt = value;
    else if (key === 'Last mounted on') info.lastMountedOn = value === '' ? null : value;
    else if (key === 'Unmounted properly') info.unmountedProperly = true;
    else if (key === 'Unmounted Improperly') info.unmountedProperly = false;
    else if (key === 'Block Size') info.blockSize = Number(value) || null;
    else if (key === 'Inode Range') {
      const range = /^(\d+) - (\d+)$/.exec(value);
      if (range !== null) info.inodeRange = [Number(range[1]), Number(range[2])];
    } else if (key === 'Orphan Inodes') {
      info.orphanInodes = value.split(',').map((part) => part.trim()).filter((part) => /^\d+$/.test(part)).map(Number);
    }
  }
  return info;
}
