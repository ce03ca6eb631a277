// File names are bytes. The display form keeps printable UTF-8 as is and writes every other
// byte (controls, newline, invalid UTF-8) and the backslash itself as \xHH, so it is reversible.

export function displayBytes(bytes: Buffer): string {
  let plain = true;
  for (let index = 0; index < bytes.length; index++) {
    const byte = bytes[index] ?? 0;
    if (byte < 0x20 || byte > 0x7e || byte === 0x5c) {
      plain = false;
      break;
    }
  }
  if (plain) return bytes.toString('latin1');
  let out = '';
  let index = 0;
  while (index < bytes.length) {
    const byte = bytes[index] ?? 0;
    if (byte >= 0x20 && byte < 0x7f && byte !== 0x5c) {
      out += String.fromCharCode(byte);
      index++;
      continue;
    }
    const length = utf8SequenceLength(bytes, index);
    if (length > 1) {
      const text = bytes.toString('utf8', index, index + length);
      const codePoint = text.codePointAt(0) ?? 0;
      // C1 controls, bidi overrides and other invisible format characters can hide a name's shape;
      // noncharacters (U+FDD0-U+FDEF, U+FFFE, U+FFFF in every plane) are never text.
      const noncharacter = (codePoint & 0xfffe) === 0xfffe || (codePoint >= 0xfdd0 && codePoint <= 0xfdef);
      if (!/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(text) && codePoint !== 0xfffd && !noncharacter) {
        out += text;
        index += length;
        continue;
      }
    }
    for (let offset = 0; offset < Math.max(length, 1); offset++) {
      out += `\\x${(bytes[index + offset] ?? 0).toString(16).padStart(2, '0')}`;
    }
    index += Math.max(length, 1);
  }
  return out;
}

/** Inverse of displayBytes. */
export function parseDisplayBytes(text: string): Buffer {
  const parts: Buffer[] = [];
  let last = 0;
  const pattern = /\\x([0-9a-f]{2})/g;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    parts.push(Buffer.from(text.slice(last, match.index), 'utf8'), Buffer.from([parseInt(match[1] ?? '0', 16)]));
    last = match.index + match[0].length;
  }
  parts.push(Buffer.from(text.slice(last), 'utf8'));
  return Buffer.concat(parts);
}

/** Length of the valid UTF-8 sequence starting at index (strict: no overlongs, no surrogates), or 0. */
function utf8SequenceLength(bytes: Buffer, index: number): number {
  const first = bytes[index] ?? 0;
  let length: number;
  let min: number;
  if (first >= 0xc2 && first <= 0xdf) {
    length = 2;
    min = 0x80;
  } else if (first >= 0xe0 && first <= 0xef) {
    length = 3;
    min = 0x800;
  } else if (first >= 0xf0 && first <= 0xf4) {
    length = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (index + length > bytes.length) return 0;
  let codePoint = first & (0xff >> (length + 1));
  for (let offset = 1; offset < length; offset++) {
    const next = bytes[index + offset] ?? 0;
    if ((next & 0xc0) !== 0x80) return 0;
    codePoint = (codePoint << 6) | (next & 0x3f);
  }
  if (codePoint < min || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return 0;
  return length;
}

/**
 * Text from outside (a host name, an image's path, a case folder) in the display form of its UTF-8
 * bytes: a bidi override in a compromised host's name cannot reverse what a report shows.
 */
export function displayText(text: string): string;
export function displayText(text: string | null): string | null;
export function displayText(text: string | null): string | null {
  return text === null ? null : displayBytes(Buffer.from(text, 'utf8'));
}

/** The exact bytes of such text (its UTF-8), base64: what a `_b64` key beside its display form holds (an image's `image_b64`). */
export function textBase64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** An argument as a shell would take it back: as it is when plain, else in single quotes. */
export function quotedArg(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./\\-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}

/** A process's /proc/PID/cmdline (arguments ended by NUL) as one line: each argument in the display form, quoted where needed. */
export function displayCmdline(cmdline: Buffer): string {
  const args: Buffer[] = [];
  let start = 0;
  for (let at = cmdline.indexOf(0); at >= 0; at = cmdline.indexOf(0, start)) {
    args.push(cmdline.subarray(start, at));
    start = at + 1;
  }
  // A process that rewrote its arguments may leave no NUL at the end.
  if (start < cmdline.length) args.push(cmdline.subarray(start));
  return args.map((arg) => quotedArg(displayBytes(arg))).join(' ');
}
