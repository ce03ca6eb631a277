// Mutations of real tool output for property-based fuzzing of the parsers.
import fc from 'fast-check';

/** A real capture, mutated: byte flips, truncation, NULs, invalid UTF-8, huge and random lines. */
export function mutatedText(seeds: readonly string[]): fc.Arbitrary<string> {
  const seed = fc.constantFrom(...seeds);
  const flip = fc.tuple(seed, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 20 })).map(([text, flips]) => {
    const chars = [...text];
    for (const [position, byte] of flips) if (chars.length > 0) chars[position % chars.length] = String.fromCharCode(byte);
    return chars.join('');
  });
  const truncate = fc.tuple(seed, fc.nat()).map(([text, cut]) => text.slice(0, text.length === 0 ? 0 : cut % text.length));
  const insertLines = fc.tuple(seed, fc.array(fc.tuple(fc.nat(), fc.string({ unit: 'binary-ascii', maxLength: 200 })), { maxLength: 5 })).map(([text, inserts]) => {
    const lines = text.split('\n');
    for (const [position, line] of inserts) lines.splice(position % (lines.length + 1), 0, line);
    return lines.join('\n');
  });
  const huge = fc.tuple(seed, fc.nat(), fc.constantFrom('x', '\0', '\xff', ' ', '0')).map(([text, position, char]) => {
    const lines = text.split('\n');
    lines.splice(position % (lines.length + 1), 0, char.repeat(1_100_000));
    return lines.join('\n');
  });
  const garbage = fc.string({ unit: 'binary', maxLength: 2000 }).map((text) => Buffer.from(text, 'utf8').toString('latin1'));
  return fc.oneof(
    { arbitrary: flip, weight: 4 },
    { arbitrary: truncate, weight: 3 },
    { arbitrary: insertLines, weight: 3 },
    { arbitrary: huge, weight: 1 },
    { arbitrary: garbage, weight: 2 },
  );
}

export const FUZZ_RUNS = Number(process.env['FUZZ_RUNS'] ?? 2000);
