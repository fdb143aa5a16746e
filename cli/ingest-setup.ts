// What every subcommand that reads logs needs before its first line: the fingerprint
// key (or dev mode, loudly), the config file validated with zod (ingest and analyzer
// sections), the optional JWKS, and the record parsers for the chosen formats.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Logger } from '../common/logger.js';
import { loadConfig } from '../common/config.js';
import { TokenwatchError } from '../common/errors.js';
import { resolveFpKey } from '../ingest/fingerprint.js';
import { ingestConfigSchema, Normalizer } from '../ingest/normalize.js';
import { JwksVerifier } from '../ingest/jwt-claims.js';
import { GATEWAYS, IDPS } from '../ingest/model.js';
import { AccessRecordParser, TokenEventRecordParser } from '../ingest/parsers/registry.js';
import { analyzerConfigSchema } from '../detectors/analyzer.js';
import { migrateConfigSchema } from '../sinks/clickhouse/migrate.js';
import { analysisSinkConfigSchema } from '../sinks/clickhouse/analysis-sink.js';
import { writerConfigSchema } from '../sinks/clickhouse/writer.js';

/** The ClickHouse store section: retention and how analyze writes. */
export const storeConfigSchema = z
  .object({
    ...migrateConfigSchema.shape,
    // Files are read faster than any timer: batches cut by rows only form the same batches on a re-run.
    sink: analysisSinkConfigSchema.default(analysisSinkConfigSchema.parse({ writer: writerConfigSchema.parse({ maxBatchDelayMs: 0 }) })),
  })
  .strict();

export const accessFormatSchema = z.enum(['auto', ...GATEWAYS]);
export const idpFormatSchema = z.enum(['auto', ...IDPS]);

/** The config file: every section optional, unknown keys refused. */
export const fileConfigSchema = z
  .object({
    /** Ingest settings (trusted proxies, deployment headers, limits). */
    ingest: ingestConfigSchema.default(ingestConfigSchema.parse({})),
    /** Longest input line, bytes; longer lines go to the DLQ as line_too_long. Default 1 MiB. */
    maxLineBytes: z.number().int().positive().default(1024 * 1024),
    /** Lateness, lifecycle bounds, detector settings and guardrails. */
    analyzer: analyzerConfigSchema.default(analyzerConfigSchema.parse({})),
    /** Where analyze keeps events, aggregates, lifecycles and findings (ClickHouse). */
    store: storeConfigSchema.default(storeConfigSchema.parse({})),
  })
  .strict();
export type FileConfig = z.output<typeof fileConfigSchema>;

export interface IngestFlags {
  dev: boolean;
  config: string | undefined;
  jwks: string | undefined;
  format: string;
  idpFormat: string;
}

export interface IngestSetup {
  config: FileConfig;
  access: AccessRecordParser;
  tokenEvents: TokenEventRecordParser;
}

/** Validates flags, key and config; warns when running in dev mode. Throws a named config error. */
export function ingestSetup(flags: IngestFlags, env: NodeJS.ProcessEnv, logger: Logger): IngestSetup {
  const { key, dev } = resolveFpKey(env, flags.dev);
  if (dev) {
    logger.warn(
      { dev: true },
      'TOKENWATCH_FP_KEY is not set: running in dev mode with a throw-away fingerprint key; fingerprints will not match your gateways',
    );
  }
  const raw: unknown = flags.config ? readJson(flags.config) : {};
  const config = loadConfig(fileConfigSchema, raw, flags.config ?? 'config');
  const format = loadConfig(accessFormatSchema, flags.format, '--format');
  const idpFormat = loadConfig(idpFormatSchema, flags.idpFormat, '--idp-format');
  const verifier = flags.jwks ? JwksVerifier.fromFile(flags.jwks) : null;
  return {
    config,
    access: new AccessRecordParser(new Normalizer(config.ingest, key, verifier), format),
    tokenEvents: new TokenEventRecordParser(idpFormat),
  };
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new TokenwatchError('TW_ERR_CONFIG_INVALID', `${path}: cannot read the config file as JSON`, { cause: err });
  }
}
