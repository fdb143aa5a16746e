// `tokenwatch gen`: writes a labelled synthetic scenario (ingest/generator/scenarios.ts) as the
// files a real deployment produces: gateway access logs in one format (or a mix), IdP token
// events, and labels.json, the ground truth. Prints one summary line per file to `out` (stderr).
import { parseArgs } from 'node:util';
import { mkdir, stat } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { ComponentContext } from '../common/component.js';
import { TokenwatchError } from '../common/errors.js';
import type { TokenEvent } from '../ingest/model.js';
import type { GatewayRenderer, SyntheticRequest } from '../ingest/generator/types.js';
import { GATEWAY_RENDERERS, IDP_RENDERERS } from '../ingest/generator/formats/index.js';
import { generateScenario, type Label } from '../ingest/generator/scenarios.js';

const FORMATS = [...GATEWAY_RENDERERS.map((r) => r.format), 'mixed'] as const;
const IDP_FORMATS = ['canonical', ...IDP_RENDERERS.map((r) => r.format)] as const;

/** Every (renderer, variant) that logs the Authorization header: what `mixed` cycles through. */
const CARRYING = GATEWAY_RENDERERS.flatMap((r) => r.variants.filter((v) => r.carriesAuthorization(v)).map((variant) => ({ renderer: r, variant })));

export const GEN_USAGE = `usage: tokenwatch gen --out-dir <dir> [--format ${FORMATS.join('|')}] [--variant <v>]
                    [--idp-format ${IDP_FORMATS.join('|')}] [--minutes N] [--users N] [--seed N] [--gzip]
  Writes <dir>/access.log, <dir>/token-events.jsonl (both .gz with --gzip) and <dir>/labels.json:
  seeded synthetic traffic with labelled anomalies (one per detector) and benign look-alikes.
  --format   default kong; mixed cycles through every variant that logs the Authorization header.
  --variant  default the format's first variant that logs the Authorization header:
${GATEWAY_RENDERERS.map((r) => `               ${r.format}: ${r.variants.map((v) => (r.carriesAuthorization(v) ? v : `${v} (no token)`)).join(', ')}`).join('\n')}
             (no token): the bearer token is not logged; per-token anomalies show there only through
             logged claims (aws-apigw: an authorizer's claims, on accepted requests) or not at all.
  --idp-format  default canonical. Okta logs no parent refresh-token id and Auth0 only the presented
             token's <familyId>#<counter>, never the new token's id, so refresh_token_reuse and the
             refresh-retry look-alike show only in canonical and keycloak; Auth0 revocations name no jti.
  --minutes  stream length (default 10; at least 4 for every injection); --users background users
             (default 50); --seed PRNG seed (default 1): the same seed writes the same files.`;

/** Runs `tokenwatch gen`; resolves to the exit code. */
export async function genCommand(argv: string[], ctx: ComponentContext, out: Writable): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'out-dir': { type: 'string' },
      format: { type: 'string', default: 'kong' },
      variant: { type: 'string' },
      'idp-format': { type: 'string', default: 'canonical' },
      minutes: { type: 'string', default: '10' },
      users: { type: 'string', default: '50' },
      seed: { type: 'string', default: '1' },
      gzip: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const dir = values['out-dir'];
  if (!dir) throw usage('--out-dir is required', true);
  const render = gatewayWriter(values.format!, values.variant);
  const idpFormat = values['idp-format']!;
  const renderEvent = idpWriter(idpFormat);
  const minutes = integer('--minutes', values.minutes!, 1);
  const users = integer('--users', values.users!, 1);
  const seed = integer('--seed', values.seed!, 0);

  const scenario = generateScenario({ traffic: { seed, users, durationMs: minutes * 60_000 } });
  await mkdir(dir, { recursive: true });
  const gz = values.gzip ? '.gz' : '';
  ctx.logger.debug({ dir, format: render.name, idpFormat, minutes, users, seed }, 'gen started');

  const access = join(dir, `access.log${gz}`);
  await writeLines(access, scenario.requests.map(render.line), values.gzip!);
  await summary(out, access, `${scenario.requests.length} requests, ${render.name}`);

  const events = join(dir, `token-events.jsonl${gz}`);
  await writeLines(events, scenario.tokenEvents.map(renderEvent), values.gzip!);
  await summary(out, events, `${scenario.tokenEvents.length} token events, ${idpFormat}`);

  const labels = join(dir, 'labels.json');
  await writeLines(labels, [JSON.stringify(scenario.labels, null, 2)], false);
  await summary(out, labels, labelCounts(scenario.labels));
  return 0;
}

function usage(message: string, withHelp = false): TokenwatchError {
  return new TokenwatchError('TW_ERR_CLI_USAGE', withHelp ? `${message}\n${GEN_USAGE}` : message);
}

function integer(flag: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min) throw usage(`${flag}: expected an integer >= ${min}, got "${raw}"`);
  return n;
}

/** The line renderer for --format / --variant, and its name for the summary. */
function gatewayWriter(format: string, variant: string | undefined): { name: string; line: (r: SyntheticRequest, i: number) => string } {
  if (format === 'mixed') {
    if (variant !== undefined) throw usage('--variant does not apply to --format mixed');
    return {
      name: `mixed (${CARRYING.map((c) => `${c.renderer.format} ${c.variant}`).join(', ')})`,
      line: (r, i) => {
        const { renderer, variant: v } = CARRYING[i % CARRYING.length]!;
        return renderer.render(r, v);
      },
    };
  }
  const renderer: GatewayRenderer | undefined = GATEWAY_RENDERERS.find((r) => r.format === format);
  if (!renderer) throw usage(`--format: expected one of ${FORMATS.join(', ')}, got "${format}"`);
  const v = variant ?? renderer.variants.find((x) => renderer.carriesAuthorization(x)) ?? renderer.variants[0]!;
  if (!renderer.variants.includes(v)) throw usage(`--variant: ${format} has ${renderer.variants.join(', ')}, got "${v}"`);
  return { name: `${format} ${v}`, line: (r) => renderer.render(r, v) };
}

function idpWriter(format: string): (e: TokenEvent) => string {
  if (format === 'canonical') return (e) => JSON.stringify(e);
  const renderer = IDP_RENDERERS.find((r) => r.format === format);
  if (!renderer) throw usage(`--idp-format: expected one of ${IDP_FORMATS.join(', ')}, got "${format}"`);
  return (e) => renderer.render(e);
}

/** Writes `lines` newline-terminated, gzipped when asked; chunks of lines keep the stream cheap. */
async function writeLines(path: string, lines: readonly string[], gzip: boolean): Promise<void> {
  function* chunks(): Generator<string> {
    for (let i = 0; i < lines.length; i += 512) yield lines.slice(i, i + 512).join('\n') + '\n';
  }
  const file = createWriteStream(path);
  if (gzip) await pipeline(Readable.from(chunks()), createGzip(), file);
  else await pipeline(Readable.from(chunks()), file);
}

async function summary(out: Writable, path: string, what: string): Promise<void> {
  const { size } = await stat(path);
  out.write(`tokenwatch gen: wrote ${path} (${what}; ${size} bytes)\n`);
}

function labelCounts(labels: readonly Label[]): string {
  const findings = labels.filter((l) => l.expect === 'finding').length;
  return `${labels.length} labels: ${findings} expecting a finding, ${labels.length - findings} benign`;
}
