#!/usr/bin/env node
// The tokenwatch command line: dispatches to one file per subcommand. The only place
// that calls process.exit; errors with a TW_ERR code print their message, not a stack.
import { createLogger } from '../common/logger.js';
import { needsYoungGeneration, runWithYoungGeneration } from './young-generation.js';
import { Metrics } from '../common/metrics.js';
import { systemClock } from '../common/clock.js';
import { TokenwatchError } from '../common/errors.js';
import { parseCommand, PARSE_USAGE } from './parse.js';
import { genCommand, GEN_USAGE } from './gen.js';
import { analyzeCommand, ANALYZE_USAGE } from './analyze.js';
import { demoCommand, DEMO_USAGE } from './demo.js';
import { reportCommand, REPORT_USAGE } from './report.js';
import { migrateCommand, MIGRATE_USAGE } from './migrate.js';

const USAGE = `tokenwatch: watches API tokens in gateway access logs and IdP events

commands:
  demo      generate traffic with injected token attacks and release regressions, analyse it, explain the findings
  analyze   rebuild token lifecycles from gateway logs and IdP events, print findings (the main job)
  parse     read gateway logs or IdP events and print canonical events (see how tokenwatch reads your logs)
  report    findings, auth-failure rates per version, token metrics and token timelines from the store
  migrate   create or update the ClickHouse schema (analyze does it at startup)
  gen       write synthetic gateway logs and IdP events with labelled anomalies and look-alikes (try the detectors)

${DEMO_USAGE}

${ANALYZE_USAGE}

${REPORT_USAGE}

${MIGRATE_USAGE}

${PARSE_USAGE}

${GEN_USAGE}

environment:
  TOKENWATCH_FP_KEY     HMAC key for token fingerprints (shared with your gateways); required unless --dev
  TOKENWATCH_STORE      embedded store directory (default .tokenwatch/store)
  CLICKHOUSE_URL        use this ClickHouse server instead of the embedded store (+ CLICKHOUSE_USER,
                        CLICKHOUSE_PASSWORD, CLICKHOUSE_DATABASE)
  TOKENWATCH_LOG_LEVEL  pino level for stderr logs (default info)`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (needsYoungGeneration(command, process.execArgv, process.env)) return runWithYoungGeneration(process.argv[1]!, argv);
  const ctx = { logger: createLogger(), metrics: new Metrics(), clock: systemClock };
  switch (command) {
    case 'parse':
      return parseCommand(rest, ctx, process.stdout);
    case 'gen':
      return genCommand(rest, ctx, process.stderr);
    case 'analyze':
      return analyzeCommand(rest, ctx, process.stdout, process.stderr);
    case 'report':
      return reportCommand(rest, ctx, process.stdout);
    case 'migrate':
      return migrateCommand(rest, ctx, process.stdout);
    case 'demo':
      return demoCommand(rest, ctx, process.stdout, process.stderr);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE + '\n');
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`tokenwatch: unknown command "${command}"\n\n${USAGE}\n`);
      return 2;
  }
}

// A closed stdout (`tokenwatch parse ... | head`) is a normal end, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof TokenwatchError || (err instanceof Error && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`tokenwatch: ${err.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`tokenwatch: unexpected error: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
