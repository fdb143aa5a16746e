// analyze (and demo, which runs it) holds up to the allowed lateness of events for event-time
// ordering; with V8's default young generation those events outlive it and are copied and
// promoted on every scavenge. The semi-space size is fixed when the isolate starts (setting
// the flag at run time changes nothing, measured), so these commands run in a child node
// started with a larger one, unless the user's own flags already size it.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

/** Semi-space for analyze, MB: ~7-13% more events/s than Node 20's 16 MB (BENCHMARKS.md). */
export const ANALYZE_SEMI_SPACE_MB = 64;
const FLAG = '--max-semi-space-size';
const COMMANDS = new Set(['analyze', 'demo']);

/** Whether `command` should run in a child node with the analyze heap settings. */
export function needsYoungGeneration(command: string | undefined, execArgv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  if (command === undefined || !COMMANDS.has(command)) return false;
  if (env.TOKENWATCH_RESPAWNED === '1') return false;
  // Under a debugger the command stays in the process being debugged.
  if (execArgv.some((a) => a.startsWith(FLAG) || a.startsWith('--inspect'))) return false;
  return !(env.NODE_OPTIONS ?? '').includes(FLAG);
}

/** Runs this CLI again in a child node with the larger young generation; resolves to its exit code. */
export function runWithYoungGeneration(script: string, argv: readonly string[]): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, `${FLAG}=${ANALYZE_SEMI_SPACE_MB}`, script, ...argv], {
    stdio: 'inherit',
    env: { ...process.env, TOKENWATCH_RESPAWNED: '1' },
  });
  // Ctrl-C reaches the child through the terminal's process group; a signal sent to this
  // process alone is passed on, so the child never outlives it.
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, forward);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    // A child ended by a signal exits as a shell reports it: 128 + the signal's number.
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}
