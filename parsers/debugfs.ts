// debugfs (e2fsprogs 1.47.0), `debugfs -c -R "stat <N>" IMAGE`: the inode's dtime, which on an
// inode of the s_last_orphan chain holds the next orphan's number, not a time.
//   dtime: 0x0000000d:(00000000) -- Thu Jan  1 00:00:13 1970
export interface DebugfsStat {
  inode: number | null;
  links: number | null;
  size: number | null;
  /** Raw 32-bit dtime value (0 when debugfs prints no dtime line). */
  dtimeRaw: number;
}

export function parseDebugfsStat(text: string): DebugfsStat {
  const stat: DebugfsStat = { inode: null, links: null, size: null, dtimeRaw: 0 };
  let match: RegExpExecArray | null;
  if ((match = /Inode: (\d+)\s/.exec(text)) !== null) stat.inode = Number(match[1]);
  if ((match = /Links: (\d+)/.exec(text)) !== null) stat.links = Number(match[1]);
  if ((match = /Size: (\d+)/.exec(text)) !== null) stat.size = Number(match[1]);
  if ((match = /^\s*dtime: 0x([0-9a-f]{1,8})/im.exec(text)) !== null) stat.dtimeRaw = parseInt(match[1] ?? '0', 16);
  return stat;
}
