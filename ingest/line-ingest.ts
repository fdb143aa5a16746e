// One input stream's ingest: raw lines in, canonical events out. Each line is checked
// (size, UTF-8, binary, JSON), split into records, parsed by the configured record
// parser; rejections become scrubbed DLQ records and the stream goes on. Counts
// records, skips and DLQ reasons in tokenwatch_ingest_* metrics.
import type { Metrics } from '../common/metrics.js';
import type { ParseResult } from './parse-result.js';
import type { RawRecord } from './parsers/types.js';
import { jsonDepth, lineBody, lineRecords, MAX_JSON_DEPTH } from './line.js';
import { dlqRecord, type DlqRecord, type DlqSink, type SourcePosition } from './dlq.js';
import type { JsonShapes } from './json-shapes.js';

export interface RecordParser<T> {
  parse(record: RawRecord): ParseResult<T>;
}

/** Turns lines of one stream (access logs or token events) into events. */
export class LineIngest<T> {
  private readonly events: { value: number };

  constructor(
    private readonly stream: DlqRecord['stream'],
    private readonly parser: RecordParser<T>,
    private readonly dlq: DlqSink,
    private readonly metrics: Metrics,
    private readonly maxLineBytes: number,
    /** Decoder of the stream's recurring JSON shapes; null decodes every line with JSON.parse. */
    private readonly shapes: JsonShapes | null = null,
  ) {
    this.events = metrics.counter('tokenwatch_ingest_events_total', { stream });
  }

  /** The events in one line (none for a blank line or a rejected one). */
  line(bytes: Buffer, truncated: boolean, length: number, position: SourcePosition): T[] {
    if (!truncated && isBlank(bytes)) return [];
    const split = lineRecords(bytes, truncated, this.maxLineBytes, this.shapes);
    if (!split.ok) {
      this.reject(split.reason, split.detail, split.text ?? '', length, position);
      return [];
    }
    const records = split.records;
    const text = split.text ?? undefined;
    // Nearly every line holds one record: an array literal of its event is allocated at its size,
    // where push() onto [] allocates room for 17.
    if (records.length === 1) {
      const event = this.event(records[0]!, bytes, text, length, position);
      return event === null ? [] : [event];
    }
    const events: T[] = [];
    for (const record of records) {
      const event = this.event(record, bytes, text, length, position);
      if (event !== null) events.push(event);
    }
    return events;
  }

  /**
   * The event of one record of a line, or null when it is rejected or skipped (counted). `text` is
   * the line's, when it was decoded: a rejection decodes `bytes` itself.
   */
  private event(record: RawRecord, bytes: Buffer, text: string | undefined, length: number, position: SourcePosition): T | null {
    const result = this.parser.parse(record);
    if (!result.ok) {
      // As lineRecords decodes a line: its UTF-8, without a final CR.
      text ??= lineBody(bytes).toString('utf8');
      const reason = result.reason === 'unknown_format' && record.kind === 'json' && jsonDepth(text) > MAX_JSON_DEPTH ? 'nesting_too_deep' : result.reason;
      this.reject(reason, result.detail, text, length, position);
      return null;
    }
    if ('skipped' in result) {
      this.metrics.inc('tokenwatch_ingest_skipped_total', { stream: this.stream, reason: result.skipped });
      return null;
    }
    this.events.value++;
    return result.event;
  }

  private reject(reason: DlqRecord['reason'], detail: string, text: string, length: number, position: SourcePosition): void {
    this.metrics.inc('tokenwatch_ingest_dlq_total', { stream: this.stream, reason });
    this.dlq.write(dlqRecord(reason, detail, text, length, position, this.stream));
  }
}

function isBlank(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b !== 32 && b !== 9 && b !== 13) return false;
  }
  return true;
}
