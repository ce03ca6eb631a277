// `npm test` needs real tools: lsof, The Sleuth Kit, e2fsprogs, btrfs-progs, util-linux, fdisk, python3, a C
// compiler with libfuse3's headers (a FUSE file system that stops answering) and a headless
// chromium. As root on Debian, install what is missing; otherwise say what to run and fail.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

interface Requirement {
  /** A program on the PATH, or else a file that must exist (a header). */
  program?: string;
  file?: string;
  debianPackage: string;
}

export const REQUIREMENTS: readonly Requirement[] = [
  { program: 'lsof', debianPackage: 'lsof' },
  { program: 'mmls', debianPackage: 'sleuthkit' },
  { program: 'fsstat', debianPackage: 'sleuthkit' },
  { program: 'ils', debianPackage: 'sleuthkit' },
  { program: 'fls', debianPackage: 'sleuthkit' },
  { program: 'istat', debianPackage: 'sleuthkit' },
  { program: 'icat', debianPackage: 'sleuthkit' },
  { program: 'mactime', debianPackage: 'sleuthkit' },
  { program: 'debugfs', debianPackage: 'e2fsprogs' },
  { program: 'mkfs.ext4', debianPackage: 'e2fsprogs' },
  { program: 'mkfs.btrfs', debianPackage: 'btrfs-progs' },
  { program: 'losetup', debianPackage: 'mount' },
  { program: 'fsfreeze', debianPackage: 'util-linux' },
  { program: 'blkid', debianPackage: 'util-linux' },
  { program: 'sfdisk', debianPackage: 'fdisk' },
  { program: 'python3', debianPackage: 'python3' },
  { program: 'sha256sum', debianPackage: 'coreutils' },
  { program: 'openssl', debianPackage: 'openssl' },
  { program: 'gcc', debianPackage: 'gcc' },
  { program: 'pkg-config', debianPackage: 'pkg-config' },
  { file: '/usr/include/fuse3/fuse.h', debianPackage: 'libfuse3-dev' },
  { program: 'chromium', debianPackage: 'chromium' },
];

const SEARCH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export function findProgram(program: string): string | null {
  for (const dir of [...(process.env['PATH'] ?? '').split(':').filter(Boolean), ...SEARCH]) {
    try {
      fs.accessSync(`${dir}/${program}`, fs.constants.X_OK);
      return `${dir}/${program}`;
    } catch {
      // next
    }
  }
  return null;
}

export function missingPackages(): string[] {
  const missing = (req: Requirement) => (req.program === undefined ? !fs.existsSync(req.file ?? '') : findProgram(req.program) === null);
  return [...new Set(REQUIREMENTS.filter(missing).map((req) => req.debianPackage))];
}

function main(): void {
  let missing = missingPackages();
  if (missing.length === 0) return;
  const isRoot = process.geteuid?.() === 0;
  const hasApt = findProgram('apt-get') !== null;
  if (!isRoot || !hasApt) {
    process.stderr.write(`npm test needs: ${missing.join(' ')}\nrun as root: apt-get update && apt-get install -y ${missing.join(' ')}\n`);
    process.exit(1);
  }
  process.stderr.write(`installing test tools: apt-get install -y ${missing.join(' ')}\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env });
  missing = missingPackages();
  if (missing.length > 0) {
    process.stderr.write(`still missing after apt-get: ${missing.join(' ')}\n`);
    process.exit(1);
  }
}

main();
