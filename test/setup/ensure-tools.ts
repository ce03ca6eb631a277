// `npm test` needs real tools: lsof, The Sleuth Kit, e2fsprogs, util-linux, fdisk, python3 and a
// headless chromium. As root on Debian, install what is missing; otherwise say what to run and fail.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

interface Requirement {
  program: string;
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
  { program: 'losetup', debianPackage: 'mount' },
  { program: 'fsfreeze', debianPackage: 'util-linux' },
  { program: 'sfdisk', debianPackage: 'fdisk' },
  { program: 'python3', debianPackage: 'python3' },
  { program: 'sha256sum', debianPackage: 'coreutils' },
  { program: 'openssl', debianPackage: 'openssl' },
  { program: 'gcc', debianPackage: 'gcc' },
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
  return [...new Set(REQUIREMENTS.filter((req) => findProgram(req.program) === null).map((req) => req.debianPackage))];
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
