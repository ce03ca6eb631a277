// Shared shapes for every parser: pure functions, text (or bytes) in, typed records + warnings out.

/** A line a parser could not read: counted, with its 1-based line number, never dropped silently. */
export interface ParseWarning {
  line: number;
  message: string;
  /** The offending text, truncated to a printable length. */
  text?: string;
}

export interface ParseResult<T> {
  records: T[];
  warnings: ParseWarning[];
}

/** Truncate evidence text for a warning so a 10 MB line does not end up in a message. */
export function warningText(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
