// Shared bench plumbing: timing a command, best-of-N, a fd-heavy process load.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

/** Wall time of one run of a command, in seconds; output discarded. */
/** Seconds the command took; it must exit with one of `okExits` (default 0). */
export function timeCommand(file: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; okExits?: readonly number[] } = {}): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(file, [...args], { stdio: ['ignore', 'ignore', 'ignore'], ...(options.env === undefined ? {} : { env: options.env }) });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.error !== undefined) throw result.error;
  if (!(options.okExits ?? [0]).includes(result.status ?? -1)) throw new Error(`${file} ${args.join(' ')} exited ${result.status ?? result.signal}`);
  return seconds;
}

/** Median of n runs: robust against one slow run on a 2-core machine. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

export function timeMedian(runs: number, file: string, args: readonly string[], okExits?: readonly number[]): number {
  return median(Array.from({ length: runs }, () => timeCommand(file, args, okExits === undefined ? {} : { okExits })));
}

const LOAD_SCRIPT = String.raw`
import os, sys, ctypes, signal, time
libc = ctypes.CDLL(None)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
base, procs, fds_each, deleted_pct, maps_each = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
children = []
for p in range(procs):
    pid = os.fork()
    if pid == 0:
        d = os.path.join(base, str(p))
        os.makedirs(d, exist_ok=True)
        live = [os.path.join(d, 'live%d' % i) for i in range(8)]
        for name in live:
            with open(name, 'wb') as f: f.write(b'x' * 100)
        n_deleted = fds_each * deleted_pct // 100
        for i in range(n_deleted):
            name = os.path.join(d, 'del%d' % (i % 16))
            fd = os.open(name, os.O_CREAT | os.O_RDWR, 0o644)
            if i < 16: os.write(fd, b'deleted %d' % i)
        for i in range(16):
            try: os.unlink(os.path.join(d, 'del%d' % i))
            except FileNotFoundError: pass
        for i in range(fds_each - n_deleted):
            os.open(live[i % 8], os.O_RDONLY)
        for i in range(maps_each):
            name = os.path.join(d, 'map%d' % i)
            fd = os.open(name, os.O_CREAT | os.O_RDWR, 0o644)
            os.write(fd, b'm' * 4096)
            libc.mmap(None, 4096, 1, 1, fd, 0)
            os.close(fd)
            os.unlink(name)
        sys.stdout.write('ready\n'); sys.stdout.flush()
        signal.pause()
        os._exit(0)
    children.append(pid)
def stop(*a):
    for c in children:
        try: os.kill(c, signal.SIGKILL)
        except ProcessLookupError: pass
    os._exit(0)
signal.signal(signal.SIGTERM, stop)
sys.stdin.read()
stop()
`;

export interface Load {
  pids: number;
  stop(): Promise<void>;
}

/** Start `procs` processes holding `fdsEach` fds each (deletedPct % of them on deleted files) plus mmap-only deleted files. */
export async function startFdLoad(dir: string, procs: number, fdsEach: number, deletedPct: number, mapsEach: number): Promise<Load> {
  fs.mkdirSync(dir, { recursive: true });
  const child: ChildProcess = spawn('python3', ['-c', LOAD_SCRIPT, dir, String(procs), String(fdsEach), String(deletedPct), String(mapsEach)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: child.stdout! });
  let ready = 0;
  await new Promise<void>((resolve, reject) => {
    lines.on('line', () => {
      ready++;
      if (ready === procs) resolve();
    });
    child.once('exit', (code) => reject(new Error(`load generator exited with ${String(code)}`)));
  });
  return {
    pids: procs,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => {
          fs.rmSync(dir, { recursive: true, force: true });
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

export function compileC(source: string, outDir: string): string {
  const binary = path.join(outDir, path.basename(source, '.c'));
  execFileSync('gcc', ['-O2', '-o', binary, source], { stdio: 'inherit' });
  return binary;
}
