// The s_last_orphan chain: the superblock names the newest orphan, and each orphan's i_dtime field
// holds the next one (0 ends the chain). Corrupt chains loop or wander off: both stop with a warning.

export interface ChainLink {
  inode: number;
  /** The raw i_dtime of this inode: the next link. */
  next: number;
}

export interface OrphanChain {
  inodes: number[];
  warnings: string[];
}

/**
 * Follow the chain from `head`. `lookup` returns the raw dtime of each inode asked for (in batches:
 * whatever it already knows plus the one asked), or null when the inode cannot be read.
 */
export async function followOrphanChain(head: number, inodesCount: number, lookup: (inode: number) => Promise<number | null>): Promise<OrphanChain> {
  const chain: OrphanChain = { inodes: [], warnings: [] };
  const seen = new Set<number>();
  for (let inode = head; inode !== 0; ) {
    if (seen.has(inode)) {
      chain.warnings.push(`orphan chain loops back to inode ${inode}: stopped`);
      break;
    }
    if (inode < 1 || inode > inodesCount) {
      chain.warnings.push(`orphan chain points at inode ${inode}, outside 1..${inodesCount}: stopped`);
      break;
    }
    seen.add(inode);
    chain.inodes.push(inode);
    const next = await lookup(inode);
    if (next === null) {
      chain.warnings.push(`cannot read inode ${inode} of the orphan chain: stopped there`);
      break;
    }
    inode = next;
  }
  return chain;
}
