// Real processes holding real deleted files, for tests. Each holder is a python3 process (it has
// memfd_create, O_TMPFILE and mmap); tests kill only the PIDs they started.
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

export type HeldSpec =
  /** open, write content, unlink: kind fd */
  | { kind: 'fd'; name: string; content: Buffer }
  /** mmap then close the fd, unlink: kind map */
  | { kind: 'map'; name: string; content: Buffer }
  | { kind: 'memfd'; name: string; content: Buffer }
  /** O_TMPFILE in dir: never had a name */
  | { kind: 'tmpfile'; content: Buffer }
  /** a live file that stays linked (decoy) */
  | { kind: 'live'; name: string; content: Buffer }
  /** two names, one removed (decoy: nlink 1) */
  | { kind: 'hardlink'; name: string; content: Buffer }
  /** renamed while open (decoy) */
  | { kind: 'renamed'; name: string; content: Buffer }
  /** a file the caller already wrote (large contents): opened, then unlinked */
  | { kind: 'existing'; name: string; content: Buffer };

export interface HeldFile {
  kind: HeldSpec['kind'];
  fd: number | null;
  inode: number;
  dev: number;
  size: number;
  sha256: string;
  /** Path bytes as the kernel knows the file (after unlink/rename), base64. */
  pathB64: string;
}

export interface Holder {
  pid: number;
  files: HeldFile[];
  stop(): Promise<void>;
}

const SCRIPT = String.raw`
import os, sys, json, base64, signal, ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
spec = json.loads(sys.stdin.readline())
d = base64.b64decode(spec['dir'])
out = []
keep = []
def st(fd):
    s = os.fstat(fd)
    return s.st_ino, s.st_dev
for f in spec['files']:
    content = base64.b64decode(f['content'])
    kind = f['kind']
    name = base64.b64decode(f['name']) if 'name' in f else None
    p = os.path.join(d, name) if name is not None else None
    if kind == 'memfd':
        fd = os.memfd_create(name)
        os.write(fd, content)
    elif kind == 'tmpfile':
        fd = os.open(d, os.O_TMPFILE | os.O_RDWR, 0o600)
        os.write(fd, content)
    elif kind == 'existing':
        fd = os.open(p, os.O_RDONLY)
    else:
        fd = os.open(p, os.O_CREAT | os.O_RDWR | os.O_TRUNC, 0o644)
        os.write(fd, content)
        os.fsync(fd)
    ino, dev = st(fd)
    shown = p
    if kind == 'fd' or kind == 'existing':
        os.unlink(p)
    elif kind == 'map':
        # ctypes mmap: Python's mmap module keeps a dup of the fd, which would make this an fd item.
        addr = libc.mmap(None, max(len(content), 1), 1, 1, fd, 0)
        if addr in (None, ctypes.c_void_p(-1).value):
            raise OSError(ctypes.get_errno(), 'mmap failed')
        keep.append(addr)
        os.close(fd)
        os.unlink(p)
        fd = None
    elif kind == 'hardlink':
        os.link(p, p + b'.second')
        os.unlink(p)
        shown = p + b'.second'
    elif kind == 'renamed':
        os.rename(p, p + b'.renamed')
        shown = p + b'.renamed'
    elif kind == 'memfd':
        shown = b'/memfd:' + name
    elif kind == 'tmpfile':
        shown = os.path.join(d, b'#' + str(ino).encode())
    out.append({'kind': kind, 'fd': fd, 'inode': ino, 'dev': dev, 'size': len(content), 'pathB64': base64.b64encode(shown).decode()})
print(json.dumps({'pid': os.getpid(), 'files': out}), flush=True)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
sys.stdin.read()
`;

const started = new Set<ChildProcess>();

/** Start a python3 process that holds every file of specs; names are created in dir. */
export async function startHolder(dir: string, specs: readonly HeldSpec[]): Promise<Holder> {
  const child = spawn('python3', ['-c', SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'] });
  started.add(child);
  const payload = {
    dir: Buffer.from(dir).toString('base64'),
    files: specs.map((spec) => ({
      kind: spec.kind,
      content: spec.kind === 'existing' ? '' : spec.content.toString('base64'),
      ...('name' in spec ? { name: Buffer.from(spec.name, 'latin1').toString('base64') } : {}),
    })),
  };
  child.stdin.write(`${JSON.stringify(payload)}\n`);
  const lines = readline.createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`holder exited early with ${String(code)}`)));
  });
  lines.close();
  const report = JSON.parse(first) as { pid: number; files: Array<Omit<HeldFile, 'sha256'>> };
  const files = report.files.map((file, index) => ({
    ...file,
    sha256: crypto.createHash('sha256').update(specs[index]?.content ?? Buffer.alloc(0)).digest('hex'),
  }));
  return {
    pid: report.pid,
    files,
    stop: () => stopChild(child),
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  started.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Names are bytes: latin1 strings carry any byte (0xff, newline) into the holder unchanged. */
export function bytesName(bytes: Buffer): string {
  return bytes.toString('latin1');
}

export function makeTempDir(prefix: string, parent = '/var/tmp'): string {
  return fs.mkdtempSync(path.join(parent, `unlinked-${prefix}-`));
}

process.on('exit', () => {
  for (const child of started) child.kill('SIGKILL');
});
