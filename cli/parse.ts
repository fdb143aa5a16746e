// `tokenwatch parse`: shows how tokenwatch reads a user's logs. Writes one canonical
// AccessEvent (or TokenEvent) JSON per line to stdout, every rejected record to the
// --dlq file with its reason, and a count summary to stderr. Exit 0 once the input is read.
import { parseArgs } from 'node:util';
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import type { ComponentContext } from '../common/component.js';
import { TokenwatchError } from '../common/errors.js';
import { openInput, readLines } from '../ingest/sources/file.js';
import { FileDlq, type DlqSink } from '../ingest/dlq.js';
import { JsonShapes } from '../ingest/json-shapes.js';
import { LineIngest, type RecordParser } from '../ingest/line-ingest.js';
import { ingestSetup } from './ingest-setup.js';

export const PARSE_USAGE = `usage: tokenwatch parse (--logs <file> [--format auto|kong|envoy|aws-apigw|nginx|traefik|tyk|canonical]
                        | --token-events <file> [--idp-format auto|keycloak|auth0|okta|canonical])
                        [--dlq <file>] [--config <file.json>] [--jwks <file>] [--dev]
  <file> may be plain, .gz, or - for stdin.`;

/** Runs `tokenwatch parse`; resolves to the exit code. */
export async function parseCommand(argv: string[], ctx: ComponentContext, out: Writable): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      logs: { type: 'string' },
      'token-events': { type: 'string' },
      format: { type: 'string', default: 'auto' },
      'idp-format': { type: 'string', default: 'auto' },
      dlq: { type: 'string' },
      config: { type: 'string' },
      jwks: { type: 'string' },
      dev: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const input = values.logs ?? values['token-events'];
  if (!input || (values.logs && values['token-events'])) {
    throw new TokenwatchError('TW_ERR_CLI_USAGE', `give exactly one of --logs or --token-events\n${PARSE_USAGE}`);
  }
  const setup = ingestSetup(
    { dev: values.dev!, config: values.config, jwks: values.jwks, format: values.format!, idpFormat: values['idp-format']! },
    process.env,
    ctx.logger,
  );
  const stream = values.logs ? 'access' : 'token_events';
  const parser: RecordParser<unknown> = values.logs ? setup.access : setup.tokenEvents;
  const dlq: DlqSink = values.dlq ? new FileDlq(values.dlq) : { write: () => {}, stop: async () => {} };
  const ingest = new LineIngest(stream, parser, dlq, ctx.metrics, setup.config.maxLineBytes, values.logs ? new JsonShapes() : null);

  const { stream: source } = await openInput(input);
  ctx.logger.info({ input, stream, format: values.logs ? values.format : values['idp-format'] }, 'parse started');
  let lines = 0;
  let buffered: string[] = [];
  for await (const line of readLines(source, setup.config.maxLineBytes)) {
    lines++;
    for (const event of ingest.line(line.bytes, line.truncated, line.length, { source: input, line: line.line })) {
      buffered.push(JSON.stringify(event));
    }
    if (buffered.length >= 256) {
      await write(out, buffered);
      buffered = [];
    }
  }
  await write(out, buffered);
  await dlq.stop();
  const m = ctx.metrics;
  ctx.logger.info(
    {
      lines,
      events: m.get('tokenwatch_ingest_events_total', { stream }),
      skipped: sum(m.series('tokenwatch_ingest_skipped_total')),
      dlq: Object.fromEntries(m.series('tokenwatch_ingest_dlq_total').map((s) => [s.labels.reason, s.value])),
    },
    'parse finished',
  );
  return 0;
}

async function write(out: Writable, lines: string[]): Promise<void> {
  if (lines.length === 0) return;
  if (!out.write(lines.join('\n') + '\n')) await once(out, 'drain');
}

const sum = (series: Array<{ value: number }>): number => series.reduce((a, s) => a + s.value, 0);
