// What the record of an inode (and the copy of it) says of the inode itself: why a freed one has
// nothing to copy, and that an encrypted one's bytes are not its content. One wording for the scan,
// for `image extract --inode N` without a scan, and for the copy.
import type { U64 } from '../util/u64.js';

/** How a file system maps an inode's blocks: its type and whether it has the extents feature. */
export interface BlockMapping {
  type: 'ext2' | 'ext3' | 'ext4';
  extents: boolean;
}

/**
 * A freed inode that points at no data blocks: on unlink the kernel zeroes the size with the block
 * map (an ext4's extents; the block pointers of an ext2/ext3, or of an ext4 without extents), so a
 * size kept says the map alone was wiped, or the file was all holes. `fs` null: not known, said
 * without naming the map.
 */
export function noBlocksWhy(size: U64 | null, fs: BlockMapping | null): string {
  const lead = `the inode (size ${size ?? '?'}) points at no data blocks any more`;
  const map = fs === null ? 'an inode\'s block map' : `an ${fs.type} inode's ${fs.extents ? 'extents' : 'block pointers'}`;
  const how = fs === null || fs.extents ? '' : `: this ${fs.type} maps blocks with pointers, not extents`;
  if (size === null || size === 0) return `${lead} (on unlink the kernel zeroes ${map} and its size${how})`;
  return `${lead}: its block map was wiped (on unlink the kernel zeroes ${map} with its size; this size was kept${how}), or the file was all holes when it was freed`;
}

/**
 * A freed inode that kept its data in itself (inline_data) and whose size is 0: nothing to copy by
 * that size. `remains`: whether its inline area (i_block, the system.data attribute) still holds
 * bytes, as its raw inode says (null: not read).
 */
export function emptiedInlineWhy(inode: number, remains: boolean | null): string {
  const lead = 'the inode kept its data in itself (inline_data) and its size is 0';
  if (remains === false) return `${lead}, its inline area (i_block, system.data) all zeros: the kernel emptied it when the file was freed`;
  if (remains === true) {
    return `${lead}, although its inline area still holds bytes: no size to cut a file out of them (debugfs -c -R "inode_dump <${inode}>" shows them)`;
  }
  return `${lead} (the kernel empties the inline area of a file it frees)`;
}

/**
 * An inode fscrypt encrypted (EXT4_ENCRYPT_FL): what the disk holds of it is ciphertext. A copy of
 * it is still made, complete when it has every byte of the size (it is what the disk holds), but its
 * sha256 is not the plaintext's. `content`: whether its bytes are said (an inode with something to
 * copy), or only its name (one that is not recoverable).
 */
export function encryptedNote(content: boolean): string {
  const bytes = content
    ? ': its bytes on the disk are ciphertext, not the file\'s content, usable only with its key (not in the image); a copy of it is that ciphertext, ' +
      'whose sha256 is not the plaintext\'s (fscrypt encrypts whole blocks: cut at the size, the copy ends inside its last block\'s ciphertext, which blkcat reads whole)'
    : '';
  return `encrypted (fscrypt, inode flag EXT4_ENCRYPT_FL 0x800)${bytes}; its name in an encrypted directory is encrypted too (a last_name is the encrypted name's bytes)`;
}

/**
 * Whether a freed inode was last changed before the file system was made (s_mkfs_time; 0: not
 * said, never): its ctime before it, and its dtime too when it has one (0 or null: none; an earlier
 * file system's orphan keeps a chain link there, a small number). A file of this one freed by the
 * kernel has a ctime and a dtime of its unlink; one freed by debugfs kill_file a dtime of then.
 */
export function changedBeforeMkfs(ctime: number | null, dtime: number | null, mkfsTime: number): boolean {
  return mkfsTime > 0 && ctime !== null && ctime < mkfsTime && (dtime === null || dtime < mkfsTime);
}

/**
 * What a deleted inode whose ctime and dtime are before s_mkfs_time is: the same words in the
 * warning and in each such record's note (one string per file system, however many inodes).
 */
export function earlierFsWhy(mkfsTime: number): string {
  return `most likely an inode of an earlier file system on this disk, left in an inode table mke2fs did not zero (lazy_itable_init: ` +
    `until the first mount's ext4lazyinit zeroes them, the inodes past those a group has used hold what the disk held), not a file of this one ` +
    `(made at ${mkfsTime}; or the clock was set back since); the blocks it points at may since hold this file system's data`;
}

/**
 * An inode with EXT4_EA_INODE_FL (ea_inode): the value of an extended attribute too large for its
 * owner's inode and attribute block, kept in an inode of its own. No directory names it; ils lists
 * it as any inode (a regular file, mode 0600): freed with its owner, it would pass for a deleted file.
 */
export const EA_INODE_NOTE = 'the value of an extended attribute of another inode, kept in an inode of its own (ea_inode; inode flag EXT4_EA_INODE_FL 0x200000): ' +
  'not a file, no directory ever named it (its atime holds the value\'s hash, not a time); a copy of it is that value\'s bytes';
