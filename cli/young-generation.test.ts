import { describe, expect, it } from 'vitest';
import { needsYoungGeneration } from './young-generation.js';

describe('needsYoungGeneration', () => {
  it('runs analyze and demo in a child node unless the semi-space is already sized', () => {
    expect(needsYoungGeneration('analyze', [], {})).toBe(true);
    expect(needsYoungGeneration('demo', ['--enable-source-maps'], {})).toBe(true);
    expect(needsYoungGeneration('report', [], {})).toBe(false);
    expect(needsYoungGeneration(undefined, [], {})).toBe(false);
    expect(needsYoungGeneration('analyze', ['--max-semi-space-size=32'], {})).toBe(false);
    expect(needsYoungGeneration('analyze', ['--inspect-brk'], {})).toBe(false);
    expect(needsYoungGeneration('analyze', [], { NODE_OPTIONS: '--max-semi-space-size=8' })).toBe(false);
  });

  it('never starts a second child from the child', () => {
    expect(needsYoungGeneration('analyze', [], { TOKENWATCH_RESPAWNED: '1' })).toBe(false);
  });
});
