// Reads a log file (plain, gzip by magic bytes, or `-` for stdin) as lines, with each
// line's number and byte offset. Lines longer than the cap are cut and flagged, and the
// rest of such a line is skipped without being buffered, so memory stays bounded.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { TokenwatchError } from '../../common/errors.js';

/** One line of input. */
export interface InputLine {
  bytes: Buffer;
  /** 1-based line number. */
  line: number;
  /** Byte offset of the line's start in the (decompressed) stream. */
  offset: number;
  /** The line exceeded the cap: `bytes` holds only its head. */
  truncated: boolean;
  /** Length of the whole line in bytes, including what was cut. */
  length: number;
}

/** Opens `path` (or stdin for `-`), gunzipping when the content starts with the gzip magic. */
export async function openInput(path: string): Promise<{ stream: Readable; size: number | null }> {
  if (path === '-') return { stream: await maybeGunzipStdin(), size: null };
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw new TokenwatchError('TW_ERR_SOURCE_OPEN', `cannot open ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
  const magic = Buffer.alloc(2);
  const { bytesRead } = await handle.read(magic, 0, 2, 0);
  const size = (await handle.stat()).size;
  await handle.close();
  const raw = createReadStream(path, { highWaterMark: 256 * 1024 });
  const gz = bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
  return { stream: gz ? raw.pipe(createGunzip()) : raw, size };
}

async function maybeGunzipStdin(): Promise<Readable> {
  const stdin = process.stdin;
  const first: Buffer | null = await new Promise((resolve) => {
    const onReadable = (): void => {
      stdin.off('end', onEnd);
      resolve(stdin.read() as Buffer | null);
    };
    const onEnd = (): void => {
      stdin.off('readable', onReadable);
      resolve(null);
    };
    stdin.once('readable', onReadable);
    stdin.once('end', onEnd);
  });
  if (first) stdin.unshift(first);
  const gz = first !== null && first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;
  return gz ? stdin.pipe(createGunzip()) : stdin;
}

/** Splits a byte stream into lines of at most `maxLineBytes` bytes. */
export async function* readLines(stream: AsyncIterable<Buffer | string>, maxLineBytes: number): AsyncGenerator<InputLine> {
  let parts: Buffer[] = [];
  let kept = 0;
  let length = 0;
  let lineNo = 0;
  let start = 0;

  const emit = (): InputLine => {
    const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts, kept);
    const out: InputLine = { bytes, line: ++lineNo, offset: start, truncated: length > maxLineBytes, length };
    start += length + 1;
    parts = [];
    kept = 0;
    length = 0;
    return out;
  };
  const keep = (chunk: Buffer): void => {
    length += chunk.length;
    const room = maxLineBytes - kept;
    if (room <= 0) return;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    parts.push(part);
    kept += part.length;
  };

  for await (const raw of stream) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(10, pos);
      if (nl < 0) {
        keep(chunk.subarray(pos));
        break;
      }
      keep(chunk.subarray(pos, nl));
      yield emit();
      pos = nl + 1;
    }
  }
  if (length > 0) yield emit();
}
