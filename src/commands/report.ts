import { UnlinkedError, type ExitCode } from '../errors.js';
import type { CommandContext } from '../cli/context.js';

export async function reportCommand(_ctx: CommandContext, ..._args: unknown[]): Promise<ExitCode> {
  throw new UnlinkedError('FAILED', 'not implemented yet');
}
