import { describe, expect, it } from 'vitest';
import { access, analyze, PYTHON } from '../test/helpers/events.js';

const stolen = (jti: string, at: number) => [access(at, jti), access(at + 5, jti, { clientIp: '203.0.113.50', userAgent: PYTHON })];

describe('guardrails', () => {
  it('in dry run, turns a revoke into an alert that names the action it would take', () => {
    const [f] = analyze(stolen('g1', 0), { detectors: { guardrails: { dryRun: true } } });
    expect(f).toMatchObject({ kind: 'token_replay', severity: 'high', action: 'alert', evidence: { intendedAction: 'revoke', guardrail: 'dry_run' } });
  });

  it('caps revocations per minute and turns the excess into alerts with a note', () => {
    const fs = analyze([...stolen('g2', 0), ...stolen('g3', 1), ...stolen('g4', 2)], { detectors: { guardrails: { maxRevokesPerMinute: 2 } } });
    expect(fs.map((f) => f.action)).toEqual(['revoke', 'revoke', 'alert']);
    expect(fs[2]!.evidence).toMatchObject({ guardrail: 'revoke_cap', intendedAction: 'revoke' });
  });
});
