// A churn generator: processes that start, open and delete files, and exit, continuously.
import { spawn, type ChildProcess } from 'node:child_process';

const CHURN_SCRIPT = String.raw`
import os, sys, time, random, signal
base, width = sys.argv[1], int(sys.argv[2])
live = set()
def stop(*a):
    for c in list(live):
        try: os.kill(c, signal.SIGKILL)
        except ProcessLookupError: pass
    # Reaped before this exits: none of them creates a file once the test cleans up.
    for c in list(live):
        try: os.waitpid(c, 0)
        except ChildProcessError: pass
    os._exit(0)
signal.signal(signal.SIGTERM, stop)
n = 0
while True:
    while len(live) < width:
        n += 1
        # SIGTERM waits until the child is in the live set, or stop() would miss it.
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])
        pid = os.fork()
        if pid == 0:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])
            fds = []
            for i in range(random.randint(1, 20)):
                p = os.path.join(base, 'c%d-%d' % (os.getpid(), i))
                fd = os.open(p, os.O_CREAT | os.O_RDWR, 0o600)
                os.write(fd, b'x' * random.randint(0, 5000))
                os.unlink(p)
                fds.append(fd)
                if random.random() < 0.3:
                    os.close(fds.pop())
            # 0.1 to 0.4 s: long enough to be walked (a whole-host walk takes about 0.1 s under this churn).
            time.sleep(0.1 + random.random() * 0.3)
            os._exit(0)
        live.add(pid)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])
    try:
        pid, _ = os.waitpid(-1, 0)
        live.discard(pid)
    except ChildProcessError:
        pass
`;

export interface Churn {
  stop(): Promise<void>;
}

/** Keep about `width` short-lived processes alive at any time, each holding deleted files. */
export function startChurn(dir: string, width: number): Churn {
  const child: ChildProcess = spawn('python3', ['-c', CHURN_SCRIPT, dir, String(width)], { stdio: 'ignore' });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
