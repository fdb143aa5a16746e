// `tokenwatch demo`: generates realistic traffic with labelled anomalies and look-alikes,
// analyses it on the embedded default (a ClickHouse store in the demo's directory), and walks through what was found and what was
// rightly left alone. The README's first command; needs nothing but Node.
import { parseArgs } from 'node:util';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { ComponentContext } from '../common/component.js';
import { genCommand } from './gen.js';
import { analyzeCommand } from './analyze.js';
import { findingSchema, type Finding } from '../detectors/finding.js';
import { labelSchema, type Label } from '../ingest/generator/scenarios.js';
import { isSerious, labelMatches } from '../detectors/label-match.js';

export const DEMO_USAGE = `usage: tokenwatch demo [--minutes N] [--seed N] [--format mixed|kong|envoy|...] [--dir <dir>]`;

/** Runs `tokenwatch demo`; resolves to the exit code. */
export async function demoCommand(argv: string[], ctx: ComponentContext, stdout: NodeJS.WriteStream, stderr: NodeJS.WriteStream): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      minutes: { type: 'string', default: '20' },
      seed: { type: 'string', default: '7' },
      format: { type: 'string', default: 'mixed' },
      dir: { type: 'string' },
    },
    strict: true,
  });
  const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'tokenwatch-demo-'));
  const quiet = new Writable({ write: (_c, _e, cb) => cb() });
  await genCommand(['--out-dir', dir, '--format', values.format!, '--minutes', values.minutes!, '--seed', values.seed!], ctx, quiet);
  const findingsPath = join(dir, 'findings.jsonl');
  const analyzeArgs = ['--logs', join(dir, 'access.log'), '--token-events', join(dir, 'token-events.jsonl'), '--out', findingsPath, '--dlq', join(dir, 'dlq.jsonl'), '--store', join(dir, 'store')];
  if (!process.env.TOKENWATCH_FP_KEY) analyzeArgs.push('--dev');
  await analyzeCommand(analyzeArgs, ctx, quiet, stderr);

  const findings = lines(findingsPath).map((l) => findingSchema.parse(JSON.parse(l)));
  const labels = (JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8')) as unknown[]).map((l) => labelSchema.parse(l));
  stdout.write(tour(dir, values.format!, values.minutes!, findings, labels) + '\n');
  return 0;
}

function lines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean);
}

function tour(dir: string, format: string, minutes: string, findings: Finding[], labels: Label[]): string {
  const anomalies = labels.filter((l) => l.expect === 'finding');
  const benign = labels.filter((l) => l.expect === 'silent');
  const out = [
    '',
    `tokenwatch demo: ${minutes} minutes of ${format} gateway traffic plus IdP events, with ${anomalies.length} injected anomalies and ${benign.length} benign look-alikes.`,
    '',
    'Injected anomalies and what tokenwatch made of them:',
  ];
  for (const l of anomalies) {
    const f = findings.find((x) => labelMatches(x, l));
    out.push(f ? `  [found]  ${l.name} -> ${f.kind}, ${f.severity}, action ${f.action}` : `  [missed] ${l.name} (${l.kind})`);
    out.push(`           ${f ? f.summary : l.note}`);
  }
  out.push('', 'Look-alikes that must not trigger a revoke, a rollback or a high alert:');
  const byName = new Map<string, Label[]>();
  for (const l of benign) byName.set(l.name, [...(byName.get(l.name) ?? []), l]);
  for (const [name, group] of byName) {
    const noisy = group.filter((l) => findings.some((x) => isSerious(x) && labelMatches(x, l))).length;
    const count = group.length > 1 ? ` (${group.length})` : '';
    out.push(`  [${noisy === 0 ? 'quiet' : 'NOISY'}]  ${name}${count}: ${group[0]!.note}`);
  }
  const unexplained = findings.filter((f) => isSerious(f) && !anomalies.some((l) => labelMatches(f, l))).length;
  const example = findings.find((f) => f.kind === 'token_replay')?.jti ?? findings.find((f) => f.jti)?.jti;
  out.push(
    '',
    `${findings.length} findings in all; ${unexplained} serious finding(s) not explained by an injected anomaly.`,
    `Files: ${dir}/ (access.log, token-events.jsonl, labels.json, findings.jsonl, store/ with events, per-minute aggregates, lifecycles and findings)`,
    `Explore the store: npx tokenwatch report --store ${join(dir, 'store')}${example ? ` --token ${example}` : ''}`,
    'Next: TOKENWATCH_FP_KEY=... npx tokenwatch analyze --logs <your gateway log> --token-events <your IdP events>',
  );
  return out.join('\n');
}
