// commander wiring only: each command lazily imports its module, so `--help` stays instant.
import fs from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { usageError, type ExitCode } from '../errors.js';
import { makeContext, type CommandContext, type GlobalOptions } from './context.js';
import { onProgramOutsidePath } from '../exec/run.js';
import { TOOL_VERSION } from '../version.js';
import { settleStdout, stdoutError, stdoutFailure } from './stdout.js';
import { absolutePath } from '../util/cwd.js';

export const DEFAULT_CASE = './unlinked-case';

/**
 * An option given once: the same option twice with two values (`--snapshot 1 --snapshot 2`) is a
 * usage error, not the last one silently (no option using it has a commander default: the first call's
 * `previous` is undefined).
 */
function once<T>(parse: (value: string) => T): (value: string, previous: T | undefined) => T {
  return (value, previous) => {
    const parsed = parse(value);
    if (previous !== undefined && previous !== parsed) throw new InvalidArgumentError(`given twice (${String(previous)}, then ${String(parsed)}): give it once`);
    return parsed;
  };
}

const asText = (value: string): string => value;

const REPORT_FORMATS = ['csv', 'html', 'json', 'bodyfile'];

/** --format: one of REPORT_FORMATS (the choices commander lists in --help; its own check is replaced by once()). */
function reportFormat(value: string): string {
  if (!REPORT_FORMATS.includes(value)) throw new InvalidArgumentError(`Allowed choices are ${REPORT_FORMATS.join(', ')}.`);
  return value;
}

export function parseNonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number');
  const number = Number(value);
  if (!Number.isSafeInteger(number)) throw new InvalidArgumentError('number too large');
  return number;
}

/** A PID, an item id, an inode number: 1 or more, repeatable. */
function collectInt(value: string, previous: number[] | undefined): number[] {
  const number = parseNonNegativeInt(value);
  if (number === 0) throw new InvalidArgumentError('expected a number of 1 or more');
  return [...(previous ?? []), number];
}

/** A PID: 1 to the kernel's pid_max (a larger number no process can have: a typo). */
function collectPid(value: string, previous: number[] | undefined): number[] {
  const pids = collectInt(value, previous);
  const pid = pids[pids.length - 1] ?? 0;
  const pidMax = kernelPidMax();
  if (pidMax !== null && pid > pidMax) throw new InvalidArgumentError(`no process can have it: this kernel's pid_max is ${pidMax}`);
  return pids;
}

function kernelPidMax(): number | null {
  try {
    const value = Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim());
    return Number.isSafeInteger(value) && value > 0 ? value : null;
  } catch {
    return null;
  }
}

/** Seconds as a person writes them: digits, a decimal point (not hex, exponents, blanks or nothing, which Number() takes). */
const SECONDS = /^(?:\d+(?:\.\d*)?|\.\d+)$/;

function parsePositiveNumber(value: string): number {
  const number = SECONDS.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(number) || number < 0) throw new InvalidArgumentError('expected a number of seconds (0 or more)');
  return number;
}

/** A stall timeout: more than 0, and at most what a timer can wait (about 24 days). */
function parseStallSeconds(value: string): number {
  const number = SECONDS.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(number) || number <= 0 || number > 2_147_483) throw new InvalidArgumentError('expected a number of seconds, more than 0 and at most 2147483');
  return number;
}

/** Options every command accepts after its name too (`unlinked list --json --case X`). */
function withCommon(command: Command): Command {
  return command
    .option('--case <dir>', `case directory (default: ${DEFAULT_CASE})`, once(asText))
    .option('--json', 'print one JSON document on stdout, and nothing else')
    .option('-q, --quiet', 'only errors and warnings on stderr')
    .option('-v, --verbose', 'more detail on stderr');
}

type Runner = (ctx: CommandContext, ...args: never[]) => Promise<ExitCode>;

export function buildProgram(): Command & { exitCodeResult?: number } {
  const program: Command & { exitCodeResult?: number } = new Command('unlinked');
  program
    .description('Find, recover and report deleted-but-open files on Linux: live /proc, lsof output, ext2/3/4 images.')
    .version(TOOL_VERSION, '-V, --version')
    .option('--case <dir>', `case directory (default: "${DEFAULT_CASE}")`, once(asText))
    .option('--json', 'print one JSON document on stdout, and nothing else')
    .option('-q, --quiet', 'only errors and warnings on stderr')
    .option('-v, --verbose', 'more detail on stderr')
    .exitOverride()
    // A usage error is one line, as every other error: prefixed like them, the help pointed at.
    .configureOutput({ outputError: (text, write) => write(`unlinked: ${text.replace(/^error: /, '').trimEnd().replace(/\s*\n\s*/g, ' ')} (run with --help for usage)\n`) })
    .addHelpText('after', `
Examples:
  sudo npx unlinked triage                           # snapshot, recover everything, write reports
  npx unlinked snapshot; npx unlinked list --json    # snapshot exits 3 when some process could not be read
  npx unlinked image scan /evidence/disk.img --json
Exit codes: 0 done, 1 failed, 2 usage error, 3 partly done (see the JSON and the case database).`);

  // kept: what a command that ran has put into the case (its printed result lost, that is not).
  const invoke = (load: () => Promise<Runner>, kept?: (caseDir: string) => string) =>
    async function (this: Command, ...args: unknown[]): Promise<void> {
      const local = this.opts<Partial<GlobalOptions>>();
      const root = program.opts<GlobalOptions>();
      const globals: GlobalOptions = {
        case: local.case ?? root.case ?? DEFAULT_CASE,
        json: local.json === true || root.json === true,
        quiet: local.quiet === true || root.quiet === true,
        verbose: local.verbose === true || root.verbose === true,
      };
      if (globals.quiet && globals.verbose) throw usageError('--quiet and --verbose cannot be given together: choose one (run with --help for usage)');
      const runner = await load();
      // commander passes (positionals..., options, command); hand the command module its own shape.
      const positionals = args.slice(0, -2);
      const ctx = makeContext(globals);
      // A program run from outside PATH (a fallback directory) is said, with -q too.
      onProgramOutsidePath((message) => ctx.warn(message));
      let code: ExitCode;
      try {
        code = await (runner as (ctx: CommandContext, ...rest: unknown[]) => Promise<ExitCode>)(ctx, ...positionals, local);
      } catch (error) {
        // A result streamed to stdout (a report, list or image scan --json) stops at the write that
        // failed: said as that, not as an internal error, with what the command had stored.
        if (error === null || error !== stdoutError()) throw error;
        throw stdoutFailure(kept?.(absolutePath(globals.case)) ?? null, globals.json === true) ?? error;
      }
      await settleStdout();
      const lost = stdoutFailure(kept?.(absolutePath(globals.case)) ?? null, globals.json === true);
      if (lost !== null) throw lost;
      program.exitCodeResult = code;
    };

  withCommon(program.command('snapshot'))
    .description('walk /proc (and run lsof +L1 when installed) and store one snapshot of every deleted-but-open file')
    .option('--pid <pid>', 'only this process (repeatable)', collectPid)
    .option('--no-lsof', 'do not run lsof alongside the walk')
    .addHelpText('after', '\nA --pid that is not there is said (exit 3); none of them there: nothing stored (exit 1).\n\nExample:\n  sudo npx unlinked snapshot --case /mnt/usb/case-42')
    .action(invoke(async () => (await import('../commands/snapshot.js')).snapshotCommand as Runner, (dir) => `the snapshot is stored in the case ${dir}`));

  withCommon(program.command('list'))
    .description('the deleted-but-open items of a snapshot (default: the newest)')
    .addOption(new Option('--snapshot <id>', 'this snapshot').argParser(once(parseNonNegativeInt)).conflicts('all'))
    .option('--all', 'every snapshot in the case (text: each line starts with its snapshot id; stderr says what each snapshot is)')
    .addHelpText('after', '\nExample:\n  npx unlinked list --json | jq \'.[] | select(.kind == "exe")\'')
    .action(invoke(async () => (await import('../commands/list.js')).listCommand as Runner));

  const lsof = program.command('lsof').description('lsof output captured elsewhere')
    .addHelpText('after', '\nGlobal options (--case, --json, -q, -v) go before or after the subcommand.\n\nExample:\n  npx unlinked lsof import web01-lsof.txt --host web01');
  withCommon(lsof.command('import'))
    .description('store lsof output (-F field output or the plain table) as a snapshot of source lsof')
    .argument('<file>', 'captured lsof output')
    .option('--host <name>', 'host the output was captured on', once(asText))
    .addHelpText('after', '\nExample:\n  npx unlinked lsof import web01-lsof.txt --host web01')
    .action(invoke(async () => (await import('../commands/lsofImport.js')).lsofImportCommand as Runner, (dir) => `the import is stored in the case ${dir}`));

  withCommon(program.command('recover'))
    .description('copy the content of live deleted-but-open files into <case>/recovered/ with sha256')
    .option('--snapshot <id>', 'items of this snapshot (default: the newest)', once(parseNonNegativeInt))
    .option('--item <id>', 'only this item (repeatable; copied in the order given, else the smallest first)', collectInt)
    .option('--follow', 'keep copying while a writer appends, until it closes the file or exits')
    .option('--follow-timeout <seconds>', 'follow the items still held, all at once after a first copy of each, for at most this long (implies --follow; default 600)', once(parsePositiveNumber))
    .option('--stall-timeout <seconds>', 'give up a copy from a network or FUSE file system that sends nothing for this long (default 30)', once(parseStallSeconds))
    .option('--force-same-fs', 'allow writing the copy onto the file system that holds the item (may overwrite its blocks)')
    .option('--force-lease-break', 'open a file another process holds a write lease on (breaks the lease: signals the holder, which may change the file first)')
    .addHelpText('after', '\nExample:\n  sudo npx unlinked recover --case /mnt/usb/case-42 --json')
    .action(invoke(async () => (await import('../commands/recover.js')).recoverCommand as Runner, (dir) => `the copies are in ${dir}/recovered, recorded in the case`));

  withCommon(program.command('relink'))
    .description('give an O_TMPFILE item a name again (writes to the live file system)')
    .requiredOption('--item <id>', 'the item', once(parseNonNegativeInt))
    .requiredOption('--to <path>', 'the new name, on the same file system as the item', once(asText))
    .addHelpText('after', '\nExample:\n  sudo npx unlinked relink --item 7 --to /var/tmp/rescued.bin')
    .action(invoke(async () => (await import('../commands/relink.js')).relinkCommand as Runner, (dir) => `the link is made, recorded in the case ${dir}`));

  const image = program.command('image').description('offline disk images and block devices (read-only)')
    .addHelpText('after', '\nGlobal options (--case, --json, -q, -v) go before or after the subcommand.\n\nExamples:\n  npx unlinked image scan /evidence/sda.dd --json\n  npx unlinked image extract /evidence/sda.dd --all --json');
  withCommon(image.command('scan'))
    .description('find orphan and deleted inodes in a raw image or device')
    .argument('<image>', 'raw image file or block device')
    .option('--offset <sectors>', 'file system starts at this sector (default: every partition mmls finds)', once(parseNonNegativeInt))
    .option('--verify', 'read the image again after the scan and compare its sha256 (a second full read)')
    .addHelpText('after', '\nExample:\n  npx unlinked image scan /evidence/sda.dd --json')
    .action(invoke(async () => (await import('../commands/imageScan.js')).imageScanCommand as Runner, (dir) => `the scan is stored in the case ${dir}`));

  withCommon(image.command('extract'))
    .description('copy inode contents into <case>/extracted/ with sha256')
    .argument('<image>', 'raw image file or block device')
    .option('--inode <n>', 'this inode (repeatable)', collectInt)
    .option('--all', 'every orphan and recoverable deleted inode the scan found')
    .option('--offset <sectors>', 'file system starts at this sector', once(parseNonNegativeInt))
    .addHelpText('after', '\nExample:\n  npx unlinked image extract /evidence/sda.dd --offset 2048 --inode 12 --json')
    .action(invoke(async () => (await import('../commands/imageExtract.js')).imageExtractCommand as Runner, (dir) => `the copies are in ${dir}/extracted, recorded in the case`));

  withCommon(program.command('report'))
    .description('write a report of the case')
    .addOption(new Option('--format <format>', 'report format').choices(REPORT_FORMATS).argParser(once(reportFormat)).makeOptionMandatory())
    .option('--out <file>', 'output file, or - for stdout (default: <case>/reports/)', once(asText))
    .option('--force-same-fs', 'allow --out onto a file system that holds live items of the case (may overwrite their blocks)')
    .addHelpText('after', '\nExample:\n  npx unlinked report --format bodyfile --out - | mactime -b - -d')
    .action(invoke(async () => (await import('../commands/report.js')).reportCommand as Runner));

  withCommon(program.command('triage'))
    .description('snapshot, recover everything (most fragile first), write reports/report.html and reports/items.csv')
    .option('--no-recover', 'snapshot and report only')
    .option('--no-lsof', 'do not run lsof')
    .option('--follow-timeout <seconds>', 'follow the items still held, all at once after a first copy of each, for at most this long (without it each item is copied once, as it is then: a file still written to is a point-in-time copy)', once(parsePositiveNumber))
    .option('--stall-timeout <seconds>', 'give up a copy from a network or FUSE file system that sends nothing for this long (default 30)', once(parseStallSeconds))
    .option('--force-same-fs', 'allow the case on a file system that holds items being recovered')
    .option('--force-lease-break', 'open a file another process holds a write lease on (breaks the lease: signals the holder, which may change the file first)')
    .addHelpText('after', '\nExamples:\n  sudo npx unlinked triage --case /mnt/usb/case-42\n  sudo npx unlinked triage --case /mnt/usb/case-42 --follow-timeout 120   # also follow growing files for 2 minutes')
    .action(invoke(async () => (await import('../commands/triage.js')).triageCommand as Runner, (dir) => `the snapshot, the copies and the reports are in the case ${dir}`));

  for (const parent of [program, lsof, image]) addHelpCommand(parent);
  for (const command of [program, ...allCommands(program)]) {
    command.exitOverride();
  }
  return program;
}

/**
 * `help [command...]` in place of commander's own, which printed the whole help as an error for an
 * unknown name (`unlinked help bogus`) without naming it, and ignored a name after a known one.
 */
function addHelpCommand(parent: Command): void {
  parent.helpCommand(false);
  parent
    .command('help [command...]')
    .description('display help for command')
    .action((names: string[]) => {
      let target = parent;
      for (const [index, name] of names.entries()) {
        const next = target.commands.find((command) => command.name() === name);
        if (next === undefined) {
          const asked = [...(parent.parent === null ? [] : [parent.name()]), ...names.slice(0, index + 1)].join(' ');
          throw usageError(`unknown command '${asked}' (run with --help for usage)`);
        }
        target = next;
      }
      target.help();
    });
}

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((child) => [child, ...allCommands(child)]);
}

