// The btrfs superblock (4096 bytes at byte 65536 of the device), read straight from the device: the
// file system's UUID (its fsid, what blkid shows as UUID) and label. Offsets from struct
// btrfs_super_block (linux include/uapi/linux/btrfs_tree.h).
import { uuidText } from './types.js';

/** Where the primary superblock is on the device, and how much of it is read. */
export const BTRFS_SUPERBLOCK_OFFSET = 65536;
export const BTRFS_SUPERBLOCK_BYTES = 4096;

const MAGIC = Buffer.from('_BHRfS_M', 'latin1');
const FSID = 0x20;
const MAGIC_AT = 0x40;
const LABEL = 0x12b;
const LABEL_BYTES = 256;

export interface BtrfsSuperblock {
  /** The fsid; null when it is the nil UUID (all zeros): no UUID. */
  uuid: string | null;
  /** The label's bytes up to the first NUL (a name is bytes, shown with displayBytes). */
  labelBytes: Buffer;
}

/** null when the bytes are not a btrfs superblock (no magic). */
export function parseBtrfsSuperblock(bytes: Buffer): BtrfsSuperblock | null {
  if (bytes.length < LABEL + LABEL_BYTES || !bytes.subarray(MAGIC_AT, MAGIC_AT + MAGIC.length).equals(MAGIC)) return null;
  const uuid = uuidText(bytes.subarray(FSID, FSID + 16));
  const label = bytes.subarray(LABEL, LABEL + LABEL_BYTES);
  const end = label.indexOf(0);
  return { uuid, labelBytes: Buffer.from(end < 0 ? label : label.subarray(0, end)) };
}
