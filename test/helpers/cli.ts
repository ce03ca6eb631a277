// Drive the built CLI as a child process, the way a responder runs it.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { cliPath } from './paths.js';

const execFileAsync = promisify(execFile);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(caseDir: string, args: readonly string[], env?: NodeJS.ProcessEnv): CliResult {
  const result = spawnSync(process.execPath, [cliPath, '--case', caseDir, ...args], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 30, ...(env === undefined ? {} : { env: { ...process.env, ...env } }),
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

export async function runCliAsync(caseDir: string, args: readonly string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [cliPath, '--case', caseDir, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number | null; stdout: string; stderr: string };
    return { code: typeof failure.code === 'number' ? failure.code : -1, stdout: failure.stdout, stderr: failure.stderr };
  }
}

export function json<T>(result: CliResult): T {
  if (result.code !== 0 && result.code !== 3) throw new Error(`unlinked exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/**
 * JSON whose integers past 2^53 (16 digits or more, a sign included) come back as their digits in a
 * string: JSON.parse would round them, and an exact value is what the tests assert.
 */
export function parseExact<T>(text: string): T {
  return JSON.parse(text.replace(/([:[,])(-?\d{16,})(?=[,}\]])/g, '$1"$2"')) as T;
}

/** The CLI started in the background (to be signalled): its output gathered, `exited` its exit code. */
export interface RunningCli {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  exited: Promise<number | null>;
}

export function startCli(caseDir: string, args: readonly string[]): RunningCli {
  const child = spawn(process.execPath, [cliPath, '--case', caseDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  child.stdout?.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child, exited,
    get stdout() {
      return output.stdout;
    },
    get stderr() {
      return output.stderr;
    },
  };
}

/** The CLI as nobody (uid and gid 65534, no groups), as a responder without root runs it. */
export function runCliAsNobody(caseDir: string, args: readonly string[]): CliResult {
  const result = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, cliPath, '--case', caseDir, ...args], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 30,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
