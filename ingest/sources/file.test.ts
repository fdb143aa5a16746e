import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { openInput, readLines, type InputLine } from './file.js';

async function collect(stream: AsyncIterable<Buffer>, max = 1024): Promise<InputLine[]> {
  const out: InputLine[] = [];
  for await (const l of readLines(stream, max)) out.push(l);
  return out;
}

describe('readLines', () => {
  it('splits lines across chunk boundaries and keeps a last line without newline', async () => {
    const lines = await collect(Readable.from([Buffer.from('ab'), Buffer.from('c\nde'), Buffer.from('f\n\nlast')]));
    expect(lines.map((l) => l.bytes.toString())).toEqual(['abc', 'def', '', 'last']);
    expect(lines.map((l) => [l.line, l.offset])).toEqual([[1, 0], [2, 4], [3, 8], [4, 9]]);
  });

  it('cuts a line longer than the cap, flags it, and keeps reading the next line', async () => {
    const big = Buffer.alloc(10 * 1024 * 1024, 0x61);
    const lines = await collect(Readable.from([big.subarray(0, 5_000_000), big.subarray(5_000_000), Buffer.from('\nnext\n')]), 4096);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ truncated: true, length: 10 * 1024 * 1024 });
    expect(lines[0]!.bytes.length).toBe(4096);
    expect(lines[1]!.bytes.toString()).toBe('next');
  });

  it('yields nothing for an empty input', async () => {
    expect(await collect(Readable.from([]))).toEqual([]);
  });
});

describe('openInput', () => {
  it('reads gzip files by their magic bytes, whatever the name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tw-file-'));
    const path = join(dir, 'access.log');
    writeFileSync(path, gzipSync('one\ntwo\n'));
    const { stream } = await openInput(path);
    expect((await collect(stream)).map((l) => l.bytes.toString())).toEqual(['one', 'two']);
  });

  it('names the file it cannot open', async () => {
    await expect(openInput('/nonexistent/tokenwatch.log')).rejects.toThrow(/cannot open \/nonexistent\/tokenwatch.log: ENOENT/);
  });
});
