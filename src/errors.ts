// Typed errors: each carries the exit code of CONTRACT.md and a one-line message.

export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  partial: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export type ErrorCode =
  | 'USAGE'
  | 'TOOL_MISSING'
  | 'TOOL_FAILED'
  | 'TOOL_TIMEOUT'
  | 'TOOL_STALLED'
  | 'BAD_INPUT'
  | 'NOT_FOUND'
  | 'SAME_FS'
  | 'EXISTS'
  | 'CASE'
  | 'INTERRUPTED'
  | 'FAILED';

export class UnlinkedError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: ExitCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; exitCode?: ExitCode }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UnlinkedError';
    this.code = code;
    this.exitCode = options?.exitCode ?? (code === 'USAGE' ? EXIT.usage : EXIT.failed);
  }
}

export function usageError(message: string): UnlinkedError {
  return new UnlinkedError('USAGE', message);
}

/** errno code of a Node system error (ENOENT, EACCES, ...), or undefined. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** One line, whatever was thrown: what a user sees and what the database records as a reason. */
export function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  // Control bytes (a carriage return or an escape sequence from a file name) never reach the terminal raw.
  return controlsEscaped(text.replace(/\s*\n\s*/g, ' ').trim());
}

/**
 * Control characters written as the \xHH of their UTF-8 bytes, as displayBytes writes them (the tab
 * too unless `keepTab`): a text that reaches a terminal as one line, never raw. C1 controls (U+009B
 * is a CSI to some terminals), bidi overrides and other invisible format characters (U+202E, U+200B)
 * too: a FUSE mount's name or a tool's complaint quoted in a message cannot rewrite what it shows.
 */
export function controlsEscaped(text: string, keepTab = false): string {
  return text.replace(keepTab ? /[\x00-\x08\x0a-\x1f\x7f-\x9f\p{Cf}\p{Zl}\p{Zp}]/gu : /[\x00-\x1f\x7f-\x9f\p{Cf}\p{Zl}\p{Zp}]/gu,
    (char) => [...Buffer.from(char, 'utf8')].map((byte) => `\\x${byte.toString(16).padStart(2, '0')}`).join(''));
}
