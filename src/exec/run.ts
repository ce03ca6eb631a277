// The only place that imports execa: argument arrays, a timeout on every command, a clear
// message when a program is missing, and a record of every command run.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { UnlinkedError, oneLine } from '../errors.js';
import { copiesStopRequested, letSignalsIn, toolInterrupted } from '../util/interrupt.js';
import { MAX_TIMER_MS } from '../util/time.js';
import { tryOr } from '../util/tryOr.js';

export interface ToolSpec {
  /** Debian package that provides the program, for the "not installed" message. */
  debianPackage: string;
  /** Arguments that make the program print its version and exit. */
  versionArgs: readonly string[];
  /**
   * The version line the program prints on stderr at every run (debugfs: `debugfs 1.47.0 (5-Feb-2023)`,
   * the first line of its -V): read from the first run's own stderr, no process of its own.
   */
  banner?: RegExp;
}

export const TOOLS = {
  lsof: { debianPackage: 'lsof', versionArgs: ['-v'] },
  mmls: { debianPackage: 'sleuthkit', versionArgs: ['-V'] },
  fsstat: { debianPackage: 'sleuthkit', versionArgs: ['-V'] },
  ils: { debianPackage: 'sleuthkit', versionArgs: ['-V'] },
  fls: { debianPackage: 'sleuthkit', versionArgs: ['-V'] },
  istat: { debianPackage: 'sleuthkit', versionArgs: ['-V'] },
  icat: { debianPackage: 'sleuthkit', versionArgs: ['-V'] },
  mactime: { debianPackage: 'sleuthkit', versionArgs: ['-V'] },
  debugfs: { debianPackage: 'e2fsprogs', versionArgs: ['-V'], banner: /^debugfs \d+\.\d+\S* \(.*\)$/m },
  ln: { debianPackage: 'coreutils', versionArgs: ['--version'] },
  stat: { debianPackage: 'coreutils', versionArgs: ['--version'] },
  dd: { debianPackage: 'coreutils', versionArgs: ['--version'] },
} as const satisfies Record<string, ToolSpec>;

export type ToolName = keyof typeof TOOLS;

export interface CommandRecord {
  program: string;
  path: string | null;
  version: string | null;
  argv: readonly string[];
  /** RunOptions.requests: what the program read from a file its argv names; null for none. */
  requests: string | null;
  exitCode: number | null;
  error: string | null;
  startedAt: string;
  finishedAt: string;
}

/** A command as it starts: no exit code, no end yet; its version if already known. */
export type CommandStart = Omit<CommandRecord, 'exitCode' | 'error' | 'finishedAt'>;

/**
 * Where run() reports each command, as it ends; the store implements it (exec never imports the
 * store). `start`, where the store has it, writes the row as the program starts and returns what
 * completes that row as it ends: run() uses it for a program that writes into the case
 * (RunOptions.recordFromStart), so a kill of unlinked mid-copy still leaves its provenance.
 */
export interface CommandRecorder {
  (record: CommandRecord): void;
  start?: (started: CommandStart) => (record: CommandRecord) => void;
}

export interface RunOptions {
  timeoutMs: number;
  recorder: CommandRecorder | null;
  /**
   * Give the program this open file descriptor as its stdout: it writes the file itself. (execa's
   * `{file}` pipes through node and splits lines: 40x slower for icat, and a V8 crash at 1 GiB.)
   */
  stdoutFd?: number;
  /** Exit codes that are not failures (default: only 0). */
  okExitCodes?: readonly number[];
  /**
   * A program that exits 0 whatever happened (debugfs -R): its stderr's complaint, or null. A
   * complaint fails the run, and is recorded as the command's error.
   */
  complaintOf?: (stderr: string) => string | null;
  maxBufferBytes?: number;
  /** Aborted: the program is killed, and run() fails with the signal's reason (its own error, passed back as it is). */
  cancelSignal?: AbortSignal;
  /** Extra environment (e.g. TZ=UTC so a tool prints times we can read back). */
  env?: Record<string, string>;
  /**
   * The program's working directory (default `/`: every path handed to a tool is absolute, and a
   * responder's shell may sit in a directory since deleted, where no program could be started).
   */
  cwd?: string;
  /**
   * A program in an uninterruptible wait (a FUSE request its hung daemon has already read) does not
   * die even of SIGKILL. Set, this long after the timeout's SIGKILL it is left behind (unreferenced,
   * its pipes closed: it cannot keep unlinked from exiting) and run() fails as timed out. Unset,
   * run() waits for it to exit.
   */
  abandonAfterMs?: number;
  /**
   * Hand stdout to this consumer as it comes (one chunk at a time: the next is read when the last
   * is consumed) instead of collecting it. A program that sends nothing for `stallMs` (a read from a
   * server that stopped answering) is killed, and run() fails as stalled. The time a chunk takes to
   * consume is not counted. With a `deadline`, the program is killed when its time (Date.now() ms)
   * comes, whether or not it is sending (a read from a slow server that has not answered yet), and
   * run() fails with the error `reached()` gives (what came before is consumed already).
   */
  streamStdout?: { consume(chunk: Buffer): Promise<void>; stallMs: number; deadline?: { at: number; reached(): Error } };
  /**
   * Its output goes into the case (icat, debugfs dump, dd): its commands row is written before it is
   * spawned (recorder.start), exit code and end empty until it ends, so a file it leaves half-written
   * when unlinked is killed (SIGKILL, the OOM killer) has its provenance. Others are recorded as they end.
   */
  recordFromStart?: boolean;
  /**
   * The text of a file of requests the argv names (debugfs -f FILE): recorded with the command,
   * since the file is scratch, removed after the run, and the argv alone does not say what was asked.
   */
  requests?: string;
}

export interface RunResult {
  stdout: Buffer;
  stderr: string;
  exitCode: number;
}

/**
 * Where a program not on PATH is looked for: debugfs lives in /usr/sbin, which a non-root PATH often
 * lacks. A program found only here is not one PATH chose (a responder's PATH may name only the
 * trusted toolkit of the response media): each is said once (see onProgramOutsidePath), and the
 * commands row of every run records its path.
 */
const FALLBACK_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/local/bin', '/usr/bin', '/bin'];

/** Told once per program found outside PATH; the CLI makes it a warning on stderr. */
let outsidePathListener: (message: string) => void = () => undefined;

export function onProgramOutsidePath(listener: (message: string) => void): void {
  outsidePathListener = listener;
}

/**
 * Every program is started through util-linux's `setpriv --pdeathsig KILL`, which sets its parent-death
 * signal and executes it (the same process): when unlinked dies, even of SIGKILL (the OOM killer), the
 * kernel kills it, and no icat goes on writing into extracted/, no lsof or debugfs into the case. The
 * signal comes when the thread that started the program ends: execa starts it from the main thread,
 * which lasts as long as the process. null: no setpriv that knows --pdeathsig (said once, as a warning).
 */
let deathSignalWrapper: Promise<string | null> | null = null;
/** Its answer once known: run() then starts its program before its first await (see prepareToRun). */
let deathSignalWrapperFound: string | null | undefined;

function findDeathSignalWrapper(execa: Execa['execa']): Promise<string | null> {
  deathSignalWrapper ??= (async () => {
    const pathDirs = (process.env['PATH'] ?? '').split(':').filter((dir) => path.isAbsolute(dir));
    const setpriv = findIn([...pathDirs, ...FALLBACK_DIRS], 'setpriv');
    let knows = false;
    if (setpriv !== null) {
      const help = await execa(setpriv, ['--help'], { reject: false, timeout: versionLimits.timeoutMs, killSignal: 'SIGKILL', forceKillAfterDelay: false, stdin: 'ignore', cwd: '/', encoding: 'utf8' });
      knows = typeof help.stdout === 'string' && help.stdout.includes('--pdeathsig');
    }
    if (!knows) {
      outsidePathListener(`${setpriv === null ? 'setpriv (util-linux) is not installed' : `${setpriv} does not know --pdeathsig (util-linux 2.33 or later does)`}: a program unlinked runs (icat, debugfs, lsof) is not stopped when unlinked is killed (SIGKILL, the OOM killer), and may go on writing into the case; apt-get install util-linux`);
    }
    deathSignalWrapperFound = knows ? setpriv : null;
    return deathSignalWrapperFound;
  })();
  return deathSignalWrapper;
}

/** Signals a program can die of that unlinked never sends (it kills with SIGKILL): a Ctrl-C, a kill, a hangup of the session. */
const INTERRUPTING_SIGNALS: readonly string[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

type Execa = typeof import('execa');

/** execa takes about 0.2 s to load: only a command that runs a program pays for it, when it first does. */
let execaLoading: Promise<Execa> | null = null;
let execaLoaded: Execa | null = null;

/**
 * Load execa now. Once it is loaded, run() starts its program before it first awaits: a caller
 * that goes on with synchronous work (the /proc walk beside lsof) has the program running meanwhile.
 */
export async function prepareToRun(): Promise<Execa> {
  execaLoaded ??= await (execaLoading ??= import('execa'));
  await findDeathSignalWrapper(execaLoaded.execa);
  return execaLoaded;
}

const resolved = new Map<string, string | null>();
const versionLookups = new Map<string, Promise<string | null>>();
/** The answers of versionLookups once they came: a row written as its program starts carries the version when it is known by then. */
const versionsKnown = new Map<string, string | null>();

export function resolveProgram(program: string): string | null {
  const cached = resolved.get(program);
  if (cached !== undefined) return cached;
  // A relative entry is taken from the working directory (its programs run in /, where it would name another file).
  const pathDirs = (process.env['PATH'] ?? '').split(':').filter(Boolean).flatMap((dir) => (path.isAbsolute(dir) ? [dir] : tryOr(() => [path.resolve(dir)], [])));
  let found = findIn(pathDirs, program);
  if (found === null) {
    found = findIn(FALLBACK_DIRS, program);
    if (found !== null) {
      outsidePathListener(`${program} is not on PATH: using ${found}, from the directories unlinked looks in after PATH; put a copy you trust on PATH to run that one instead`);
    }
  }
  resolved.set(program, found);
  return found;
}

/** The first executable file named `program` in `dirs`, or null. */
function findIn(dirs: readonly string[], program: string): string | null {
  for (const dir of dirs) {
    const candidate = path.join(dir, program);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not in this directory
    }
  }
  return null;
}

export function isInstalled(tool: ToolName): boolean {
  return resolveProgram(tool) !== null;
}

export function requireTool(tool: ToolName): string {
  const found = resolveProgram(tool);
  if (found === null) {
    throw new UnlinkedError('TOOL_MISSING', `${tool} is not installed: apt-get install ${TOOLS[tool].debianPackage}`);
  }
  return found;
}

/**
 * The tool's own version line (first non-empty line that names a version), asked once per install:
 * programs of one Debian package in one directory are one install (The Sleuth Kit's tools all print
 * "The Sleuth Kit ver 4.11.1"), so a scan asks once instead of five times. Concurrent first calls
 * share the one lookup.
 */
export function toolVersion(tool: ToolName): Promise<string | null> {
  const programPath = requireTool(tool);
  const key = versionKey(tool, programPath);
  let lookup = versionLookups.get(key);
  if (lookup === undefined) {
    lookup = askVersion(tool, programPath);
    versionLookups.set(key, lookup);
  }
  void lookup.then((version) => versionsKnown.set(key, version));
  return lookup;
}

function versionKey(tool: ToolName, programPath: string): string {
  // coreutils' programs name themselves in their version line (dd's is not stat's): asked each.
  return TOOLS[tool].debianPackage === 'sleuthkit' ? `sleuthkit\0${path.dirname(programPath)}` : `${tool}\0${path.dirname(programPath)}`;
}

/**
 * A program that prints its version line at every run (a banner): the first run's stderr answers
 * the lookup (once it has ended; concurrent runs wait for it). A run that printed none (killed
 * before it started) asks with the version arguments after all. null: the lookup is already made.
 */
function versionFromBanner(tool: ToolName, programPath: string): ((stderr: string) => void) | null {
  const banner: RegExp | undefined = (TOOLS[tool] as ToolSpec).banner;
  const key = versionKey(tool, programPath);
  if (banner === undefined || versionLookups.has(key)) return null;
  let answer: (version: Promise<string | null>) => void = () => undefined;
  versionLookups.set(key, new Promise((resolve) => (answer = resolve)));
  return (stderr) => {
    const line = banner.exec(stderr)?.[0];
    answer(line === undefined ? askVersion(tool, programPath) : Promise.resolve(line));
  };
}

/**
 * How long a version check may take: killed (SIGKILL) at timeoutMs, and given up abandonAfterMs
 * later if its pipes are still open (a child it left behind holds them, or it is stuck in the
 * kernel): the version is then unknown (null), and nothing waits for it. (An object, so a test can
 * shorten them.)
 */
export const versionLimits = { timeoutMs: 10_000, abandonAfterMs: 5_000 };

async function askVersion(tool: ToolName, programPath: string): Promise<string | null> {
  try {
    const { execa } = execaLoaded ?? (await import('execa'));
    const subprocess = execa(programPath, [...TOOLS[tool].versionArgs], {
      reject: false,
      timeout: versionLimits.timeoutMs,
      killSignal: 'SIGKILL',
      // Already SIGKILL: a second kill's timer would keep node alive for a child left behind.
      forceKillAfterDelay: false,
      stdin: 'ignore',
      cwd: '/',
      all: true,
      encoding: 'utf8',
    });
    // execa waits for the pipes to close, which a child of the program (sleep 40 &) may hold open
    // long after the program itself was killed: given up then, as run() gives up a hung program.
    const result = await exitOrAbandon(subprocess, versionLimits.timeoutMs + versionLimits.abandonAfterMs);
    if (result === null || result.timedOut) return null;
    const lines = (result.all ?? '').split('\n').map((line) => line.trim()).filter(Boolean);
    return lines.find((line) => /\d+\.\d+/.test(line) && /version|ver\b|revision|\(|^\S+ \d/i.test(line)) ?? lines[0] ?? null;
  } catch {
    return null;
  }
}

/**
 * Run one external tool with an argument array (never a shell string) and a timeout.
 * Exit codes outside okExitCodes raise TOOL_FAILED with the tool's own first stderr line (its version banner aside).
 */
export async function run(tool: ToolName, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const programPath = requireTool(tool);
  const { execa, ExecaError } = execaLoaded ?? (await prepareToRun());
  const startedAt = new Date().toISOString();
  const okExitCodes = options.okExitCodes ?? [0];
  let exitCode: number | null = null;
  let failure: string | null = null;
  /** An error of the stdout consumer (ENOSPC on the case disk): passed on as it is. */
  let consumerError: unknown = null;
  let versionLookup: Promise<string | null> | null = null;
  const fromBanner = versionFromBanner(tool, programPath);
  let stderrSeen = '';
  const wrapper = deathSignalWrapperFound !== undefined ? deathSignalWrapperFound : await findDeathSignalWrapper(execa);
  let ended: ((record: CommandRecord) => void) | null = options.recorder;
  if (options.recordFromStart === true && options.recorder?.start !== undefined) {
    // Written before the spawn: a program that runs always has its row (a row that cannot be written starts nothing).
    try {
      ended = options.recorder.start({ program: tool, path: programPath, version: versionsKnown.get(versionKey(tool, programPath)) ?? null, argv: [...args], requests: options.requests ?? null, startedAt });
    } catch (error) {
      fromBanner?.(''); // nothing ran: a version lookup waiting for this run's banner asks on its own
      throw error;
    }
  }
  try {
    // The commands row records the program itself (program, path, argv), not setpriv.
    const [file, argv] = wrapper === null ? [programPath, [...args]] : [wrapper, ['--pdeathsig', 'KILL', '--', programPath, ...args]];
    const subprocess = execa(file, argv, {
      reject: false,
      timeout: options.timeoutMs,
      killSignal: 'SIGKILL',
      // Already SIGKILL: execa's second kill 5 s later would be a timer that keeps node alive for a
      // child left behind in an uninterruptible wait.
      forceKillAfterDelay: false,
      encoding: 'buffer',
      stripFinalNewline: false,
      maxBuffer: options.maxBufferBytes ?? 256 * 1024 * 1024,
      // Output that goes to a file is not also collected in memory (nor counted against maxBuffer).
      stdin: 'ignore',
      cwd: options.cwd ?? '/',
      // execa takes a file descriptor for stdout at run time (documented); its types here do not say so.
      ...(options.stdoutFd === undefined ? {} : { stdout: options.stdoutFd as unknown as 'inherit', buffer: { stdout: false } }),
      ...(options.streamStdout === undefined ? {} : { buffer: { stdout: false } }),
      ...(options.cancelSignal === undefined ? {} : { cancelSignal: options.cancelSignal }),
      ...(options.env === undefined ? {} : { env: options.env }),
    });
    // The version is asked once per install, beside the first command: after it has started, not before.
    versionLookup = toolVersion(tool);
    let stalled = false;
    /** The error of the stream's deadline, once it came and the program was killed for it. */
    let late: Error | null = null;
    if (options.streamStdout !== undefined) {
      try {
        ({ stalled, late } = await pump(subprocess, options.streamStdout));
      } catch (error) {
        // The consumer failed (ENOSPC on the case disk): the program is not needed any more.
        subprocess.kill('SIGKILL');
        await exitOrAbandon(subprocess, options.abandonAfterMs ?? 1000);
        failure = `stopped: what it sent could not be taken: ${oneLine(error)}`;
        consumerError = error;
        throw error;
      }
    }
    let result: Awaited<typeof subprocess> | null;
    if (options.abandonAfterMs === undefined) result = await subprocess;
    else if (options.streamStdout !== undefined) {
      // Its output ended (or it was killed for stalling): it exits now, or is left behind.
      result = await exitOrAbandon(subprocess, stalled || late !== null ? options.abandonAfterMs : options.streamStdout.stallMs);
    } else result = await exitOrAbandon(subprocess, options.timeoutMs + options.abandonAfterMs);
    if (late !== null) {
      // Killed at its deadline (the caller's time is up): passed on as the caller's own error.
      failure = `killed at its deadline: ${oneLine(late)}${result === null ? `; still there ${options.abandonAfterMs ?? 0} ms after SIGKILL (an uninterruptible wait): left behind` : ''}`;
      consumerError = late;
      throw late;
    }
    if (stalled) {
      const stallS = options.streamStdout?.stallMs ?? 0;
      failure = `no output for ${stallS} ms: killed${result === null ? `; still there ${options.abandonAfterMs ?? 0} ms after SIGKILL (an uninterruptible wait): left behind` : ''}`;
      throw new UnlinkedError('TOOL_STALLED', `${tool} ${args.join(' ')}: sent nothing for ${Math.round(stallS / 1000)} s: killed`);
    }
    if (result === null && options.streamStdout !== undefined) {
      // Its output ended, but it did not exit (a close that waits on the server): as stalled.
      subprocess.kill('SIGKILL');
      failure = `its output ended but it did not exit within ${options.streamStdout.stallMs} ms (an uninterruptible wait): left behind`;
      throw new UnlinkedError('TOOL_STALLED', `${tool} ${args.join(' ')}: ${failure}`);
    }
    if (result === null) {
      failure = `timed out after ${options.timeoutMs} ms; still there ${options.abandonAfterMs} ms after SIGKILL (an uninterruptible wait): left behind`;
      throw new UnlinkedError('TOOL_TIMEOUT', `${tool} ${args.join(' ')}: timed out after ${Math.round(options.timeoutMs / 1000)} s and could not be killed`);
    }
    if (result.isCanceled && options.cancelSignal?.aborted === true) {
      // Stopped by the caller (what it wrote is what the caller does not want more of): its reason.
      const reason: unknown = options.cancelSignal.reason;
      failure = `stopped: ${oneLine(reason)}`;
      consumerError = reason;
      throw reason;
    }
    const stderr = Buffer.from(result.stderr ?? new Uint8Array()).toString('utf8');
    stderrSeen = stderr;
    exitCode = result.exitCode ?? null;
    if (result.isMaxBuffer) {
      failure = `output larger than ${options.maxBufferBytes ?? 256 * 1024 * 1024} bytes: stopped`;
      throw new UnlinkedError('TOOL_FAILED', `${tool} ${failure}`);
    }
    if (result.timedOut) {
      failure = `timed out after ${options.timeoutMs} ms`;
      throw new UnlinkedError('TOOL_TIMEOUT', `${tool} ${args.join(' ')}: timed out after ${Math.round(options.timeoutMs / 1000)} s`);
    }
    if (result.signal !== undefined && INTERRUPTING_SIGNALS.includes(result.signal)) {
      // Not sent by unlinked: the terminal's Ctrl-C or a kill sent to the process group, which reaches
      // unlinked too. Its handler stops the run here (nothing of the step under way stored); a signal
      // sent to the program alone ends the run the same way, never as a tool that failed.
      await letSignalsIn();
      failure = `killed by ${result.signal}, a signal unlinked did not send: interrupted`;
      const said = `${tool} was killed by ${result.signal}, a signal unlinked did not send: interrupted`;
      // Also where its failure would be taken as a tool's: no step is committed after it. (A copy's
      // dd killed by the Ctrl-C that stopped the copies is that stop: the copy keeps what it holds.)
      if (!copiesStopRequested()) toolInterrupted(said);
      throw new UnlinkedError('INTERRUPTED', said);
    }
    if (result.failed && result.exitCode === undefined && result.signal === undefined) {
      failure = complaintLine(tool, stderr) ?? result.shortMessage ?? 'could not be started';
      throw new UnlinkedError('TOOL_FAILED', `${tool} could not be run: ${failure}`);
    }
    if (exitCode === null || !okExitCodes.includes(exitCode)) {
      const how = exitCode === null ? `signal ${result.signal ?? '?'}` : `code ${exitCode}`;
      const complaint = complaintLine(tool, stderr);
      // Silent: said as that ("fls exited with code 1: exit code 1" said it twice).
      failure = complaint ?? `exited with ${how}, nothing on stderr`;
      throw new UnlinkedError('TOOL_FAILED', `${tool} exited with ${how}${complaint === null ? ' (nothing on stderr)' : `: ${complaint}`}`);
    }
    const complaint = options.complaintOf?.(stderr) ?? null;
    if (complaint !== null) {
      failure = complaint;
      throw new UnlinkedError('TOOL_FAILED', `${tool}: ${complaint}`);
    }
    const stdout = result.stdout === undefined || options.stdoutFd !== undefined ? Buffer.alloc(0) : Buffer.from(result.stdout);
    return { stdout, stderr, exitCode };
  } catch (error) {
    if (error instanceof UnlinkedError || (consumerError !== null && error === consumerError)) throw error;
    failure = error instanceof ExecaError ? error.shortMessage : String(error);
    throw new UnlinkedError('TOOL_FAILED', `${tool} could not be run: ${failure}`, { cause: error });
  } finally {
    // When the program ended, not when its version check did (which may take until versionLimits give it up).
    const finishedAt = new Date().toISOString();
    fromBanner?.(stderrSeen);
    ended?.({
      program: tool,
      path: programPath,
      version: await (versionLookup ?? toolVersion(tool)),
      argv: [...args],
      requests: options.requests ?? null,
      exitCode,
      error: failure,
      startedAt,
      finishedAt,
    });
  }
}

/**
 * Feed the program's stdout to the consumer until it ends. `stalled`: nothing came for stallMs, and
 * the program was killed; `late`: its deadline came first, the program was killed then, and this is
 * the deadline's error.
 */
async function pump(subprocess: Pick<ChildProcess, 'kill' | 'stdout'>, sink: NonNullable<RunOptions['streamStdout']>): Promise<{ stalled: boolean; late: Error | null }> {
  const stdout = subprocess.stdout;
  if (stdout === null) throw new Error('no stdout pipe to stream from');
  let stalled = false;
  let late: Error | null = null;
  let timer: NodeJS.Timeout | undefined;
  let deadlineTimer: NodeJS.Timeout | undefined;
  const { deadline } = sink;
  // Its time is up: killed there, in the middle of a read that has not answered yet too.
  const stopLate = (): void => {
    if (stalled || late !== null || deadline === undefined) return;
    late = deadline.reached();
    subprocess.kill('SIGKILL');
    stdout.destroy();
  };
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (late !== null) return;
      stalled = true;
      subprocess.kill('SIGKILL');
      stdout.destroy();
    }, sink.stallMs);
  };
  arm();
  // setTimeout takes at most 2^31 - 1 ms (a longer delay fires at once): a far deadline is waited for in steps.
  const waitForDeadline = (): void => {
    if (deadline === undefined) return;
    const left = deadline.at - Date.now();
    deadlineTimer = left <= 0 ? setTimeout(stopLate, 0) : setTimeout(left > MAX_TIMER_MS ? waitForDeadline : stopLate, Math.min(left, MAX_TIMER_MS));
  };
  waitForDeadline();
  try {
    for await (const chunk of stdout) {
      clearTimeout(timer);
      // What comes after its time is not taken (a timer may fire after the time it was set for).
      if (deadline !== undefined && Date.now() >= deadline.at) stopLate();
      if (late !== null) break;
      await sink.consume(chunk as Buffer);
      arm();
    }
  } catch (error) {
    if (!stalled && late === null) throw error;
  } finally {
    clearTimeout(timer);
    clearTimeout(deadlineTimer);
  }
  return { stalled, late };
}

/** The subprocess's result, or null when it has not exited after `waitMs` (then it is let go). */
async function exitOrAbandon<T>(subprocess: Promise<T> & Pick<ChildProcess, 'kill' | 'unref' | 'stdout' | 'stderr'> & { all?: { destroy(): unknown } | undefined }, waitMs: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), waitMs);
  });
  const outcome = await Promise.race([subprocess, gaveUp]);
  clearTimeout(timer);
  if (outcome === null) {
    subprocess.kill('SIGKILL');
    subprocess.stdout?.destroy();
    subprocess.stderr?.destroy();
    subprocess.all?.destroy();
    subprocess.unref();
  }
  return outcome;
}

/**
 * The first line a program said on stderr, its version banner aside: debugfs prints that first at
 * every run, so a debugfs that refuses its arguments (1.42's `invalid option -- 'n'`) would be said
 * to have failed with `debugfs 1.42.9 (4-Feb-2014)`. null when it said nothing else.
 */
function complaintLine(tool: ToolName, stderr: string): string | null {
  const banner: RegExp | undefined = (TOOLS[tool] as ToolSpec).banner;
  return stderr.split('\n').map((part) => part.trim()).find((line) => line !== '' && (banner === undefined || !banner.test(line))) ?? null;
}
