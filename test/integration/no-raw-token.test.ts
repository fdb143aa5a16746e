// No raw token, nor a JWT's signature, leaves an ingest run: not on stdout, not in the
// logs, not in the DLQ, for every gateway format and variant and for rejected records.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { makeJwt, TEST_FP_KEY, fpOf } from '../helpers/ingest.js';
import { generateTraffic } from '../../ingest/generator/traffic.js';
import { GATEWAY_RENDERERS, IDP_RENDERERS } from '../../ingest/generator/formats/index.js';

describe('raw tokens', () => {
  it('never appear in the output, the logs or the DLQ of an ingest run over every format', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tw-secret-'));
    const traffic = generateTraffic({ users: 30, durationMs: 3 * 60_000, seed: 11, queryTokenShare: 0.3, apiKeyShare: 0.2 });
    const lines: string[] = [];
    for (const renderer of GATEWAY_RENDERERS) {
      for (const variant of renderer.variants) {
        for (const req of traffic.requests.slice(0, 60)) lines.push(renderer.render(req, variant));
      }
    }
    const leaked = makeJwt({ jti: 'leak-1', sub: 'victim' });
    const opaque = 'opaque-secret-token-4242424242';
    const full = lines[0]!.replace(/Bearer [^"\\]+/, `Bearer ${leaked}`);
    lines.push(
      full.slice(0, full.indexOf(leaked) + 30), // truncated JSON cut inside the token
      `{"request":{"headers":{"authorization":"Bearer ${opaque}"}},"oops": }`,
      `garbage line Authorization: Bearer ${opaque} ?access_token=${opaque}`,
      `{"authorization":"Bearer ${makeJwt({ sub: 'big', pad: 'q'.repeat(70_000) })}","status":"x"}`,
    );
    const secrets = new Set<string>([leaked, opaque]);
    for (const req of traffic.requests.slice(0, 60)) if (req.rawToken) secrets.add(req.rawToken);

    const logs = join(dir, 'mixed.log');
    const events = join(dir, 'idp.jsonl');
    writeFileSync(logs, lines.join('\n') + '\n');
    writeFileSync(events, IDP_RENDERERS.flatMap((r) => traffic.tokenEvents.map((e) => r.render(e))).join('\n') + '\n');
    const env = { TOKENWATCH_FP_KEY: TEST_FP_KEY, TOKENWATCH_LOG_LEVEL: 'trace' };
    const a = runCli(['parse', '--logs', logs, '--dlq', join(dir, 'a.dlq')], { env });
    const b = runCli(['parse', '--token-events', events, '--dlq', join(dir, 'b.dlq')], { env });
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);

    const outputs = [a.stdout, a.stderr, b.stdout, b.stderr, readFileSync(join(dir, 'a.dlq'), 'utf8')];
    const all = outputs.join('\n');
    // The run did produce events with fingerprints and dead letters, so the check has teeth.
    expect(a.stdout.split('\n').filter(Boolean).length).toBeGreaterThan(lines.length - 10);
    const sent = traffic.requests.find((r) => r.rawToken && r.tokenIn === 'authorization')!;
    expect(a.stdout).toContain(fpOf(sent.rawToken!));
    expect(readFileSync(join(dir, 'a.dlq'), 'utf8').split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(4);
    for (const secret of secrets) {
      expect(all.includes(secret), 'a raw token leaked').toBe(false);
      const signature = secret.split('.')[2];
      if (signature) expect(all.includes(signature), 'a JWT signature leaked').toBe(false);
      expect(all.includes(encodeURIComponent(secret)), 'an encoded token leaked').toBe(false);
    }
  });
});
