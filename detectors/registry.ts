// Wires the detectors from one validated config: every finding kind of ARCHITECTURE.md,
// each configurable and each can be disabled, with the guardrails around their actions.
import { z } from 'zod';
import type { Detector } from './detector.js';
import { FINDING_KINDS } from './finding.js';
import { guardrailsConfigSchema } from './guardrails.js';
import { createTokenReplay, tokenReplayConfigSchema } from './token-replay.js';
import { createRefreshTokenReuse, refreshTokenReuseConfigSchema } from './refresh-token-reuse.js';
import { createUseAfterRevoke, useAfterRevokeConfigSchema } from './use-after-revoke.js';
import { createUseAfterExpiry, useAfterExpiryConfigSchema } from './use-after-expiry.js';
import { createAuthFailureSpike, authFailureSpikeConfigSchema } from './auth-failure-spike.js';

export const detectorsConfigSchema = z
  .object({
    /** Dry run and the revocation cap. */
    guardrails: guardrailsConfigSchema.default(guardrailsConfigSchema.parse({})),
    tokenReplay: tokenReplayConfigSchema.default(tokenReplayConfigSchema.parse({})),
    refreshTokenReuse: refreshTokenReuseConfigSchema.default(refreshTokenReuseConfigSchema.parse({})),
    useAfterRevoke: useAfterRevokeConfigSchema.default(useAfterRevokeConfigSchema.parse({})),
    useAfterExpiry: useAfterExpiryConfigSchema.default(useAfterExpiryConfigSchema.parse({})),
    authFailureSpike: authFailureSpikeConfigSchema.default(authFailureSpikeConfigSchema.parse({})),
    /** Finding kinds not to run. Default none. */
    disabled: z.array(z.enum(FINDING_KINDS)).default([]),
  })
  .strict();
export type DetectorsConfig = z.output<typeof detectorsConfigSchema>;

/** The enabled detectors, in a fixed order (findings of one event come out in this order). */
export function createDetectors(config: DetectorsConfig): Detector[] {
  const all: Detector[] = [
    createRefreshTokenReuse(config.refreshTokenReuse),
    createUseAfterRevoke(config.useAfterRevoke),
    createUseAfterExpiry(config.useAfterExpiry),
    createTokenReplay(config.tokenReplay),
    createAuthFailureSpike(config.authFailureSpike),
  ];
  return all.filter((d) => !config.disabled.includes(d.kind));
}
