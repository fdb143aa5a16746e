// Guardrails on automated actions: dry-run turns every revoke / rollback into an alert
// that names the action it would have taken; a cap on revocations per minute of stream
// time turns the excess into alerts with a note. A finding keeps the decision it first got.
import { z } from 'zod';
import type { Finding } from './finding.js';

export const guardrailsConfigSchema = z
  .object({
    /** Report the actions findings would take, take none (`action` becomes `alert`). Default false. */
    dryRun: z.boolean().default(false),
    /** Most distinct findings allowed the `revoke` action per minute of stream time. Default 20. */
    maxRevokesPerMinute: z.number().int().nonnegative().default(20),
  })
  .strict();
export type GuardrailsConfig = z.output<typeof guardrailsConfigSchema>;

/** Applies the guardrails to findings as they are raised or updated. */
export class Guardrails {
  private readonly decided = new Map<string, 'granted' | 'capped'>();
  private minute = -1;
  private revokesThisMinute = 0;

  constructor(private readonly config: GuardrailsConfig) {}

  /** Mutates `f` in place: the action it may take now. */
  apply(f: Finding, now: number): Finding {
    if (f.action === 'alert') return f;
    if (this.config.dryRun) return downgrade(f, 'dry_run', `dry run: would ${f.action}`);
    if (f.action !== 'revoke') return f;
    let decision = this.decided.get(f.id);
    if (decision === undefined) {
      const minute = Math.floor(now / 60_000);
      if (minute !== this.minute) {
        this.minute = minute;
        this.revokesThisMinute = 0;
      }
      decision = this.revokesThisMinute < this.config.maxRevokesPerMinute ? 'granted' : 'capped';
      if (decision === 'granted') this.revokesThisMinute++;
      this.decided.set(f.id, decision);
      if (this.decided.size > 100_000) this.decided.delete(this.decided.keys().next().value as string);
    }
    return decision === 'granted'
      ? f
      : downgrade(f, 'revoke_cap', `revocation cap of ${this.config.maxRevokesPerMinute} per minute reached: revoke by hand if confirmed`);
  }
}

function downgrade(f: Finding, guardrail: string, note: string): Finding {
  f.evidence = { ...f.evidence, intendedAction: f.action, guardrail, note };
  f.action = 'alert';
  return f;
}
