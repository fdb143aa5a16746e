// Dead-letter records: what could not be parsed, why, where it came from, and a
// truncated copy of the input with every token scrubbed. The DLQ is an output like any
// other, so it must never hold a raw token: scrubbing happens before truncation.
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { DlqReason } from './parse-result.js';
import { scrubText } from './scrub.js';

/** Where a record came from: a file and line, or a topic, partition and offset. */
export interface SourcePosition {
  source: string;
  line?: number;
  partition?: number;
  offset?: string;
}

/** One dead-letter record, as written to the DLQ file or topic. */
export interface DlqRecord extends SourcePosition {
  reason: DlqReason;
  detail: string;
  /** The input, tokens scrubbed, cut to `DLQ_INPUT_CHARS`. */
  input: string;
  /** Size of the original input in bytes. */
  inputBytes: number;
  /** Which stream the record was read for. */
  stream: 'access' | 'token_events';
}

/** Longest input copy kept in a DLQ record, in characters. */
export const DLQ_INPUT_CHARS = 2048;

/** Builds a DLQ record; `text` is the raw input (or null when it could not be decoded). */
export function dlqRecord(
  reason: DlqReason,
  detail: string,
  text: string,
  inputBytes: number,
  position: SourcePosition,
  stream: DlqRecord['stream'],
): DlqRecord {
  // Scrub a bounded window: a 10 MB line keeps only its head, and scrubbing before cutting
  // means a token straddling the cut is still recognised whole.
  const head = text.length > DLQ_INPUT_CHARS * 4 ? text.slice(0, DLQ_INPUT_CHARS * 4) : text;
  const scrubbed = scrubText(head);
  const input = scrubbed.length > DLQ_INPUT_CHARS ? `${scrubbed.slice(0, DLQ_INPUT_CHARS)}…` : scrubbed;
  return { ...position, stream, reason, detail: scrubText(detail).slice(0, 500), input, inputBytes };
}

/** Receives DLQ records. */
export interface DlqSink {
  write(record: DlqRecord): void;
  stop(): Promise<void>;
}

/** A DLQ sink writing JSON lines to a file. */
export class FileDlq implements DlqSink {
  private stream: WriteStream | null;

  constructor(path: string) {
    this.stream = createWriteStream(path, { flags: 'a' });
  }

  write(record: DlqRecord): void {
    this.stream?.write(JSON.stringify(record) + '\n');
  }

  async stop(): Promise<void> {
    const s = this.stream;
    this.stream = null;
    if (!s) return;
    s.end();
    await once(s, 'finish');
  }
}

/** A DLQ sink that keeps records in memory (tests, and counts when no DLQ is configured). */
export class MemoryDlq implements DlqSink {
  readonly records: DlqRecord[] = [];
  write(record: DlqRecord): void {
    this.records.push(record);
  }
  async stop(): Promise<void> {}
}
