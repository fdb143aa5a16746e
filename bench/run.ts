// `npm run bench`: runs every benchmark and prints a markdown table with each figure
// beside its floor, plus the machine it ran on, for BENCHMARKS.md.
import { cpus, totalmem } from 'node:os';
import { ingestBench } from './ingest.bench.js';
import { table } from './timing.js';
import { lifecycleMemoryBench } from './lifecycle-memory.bench.js';
import { analyzeBenchIsolated } from './analyze.bench.js';
import { storeBench } from './store.bench.js';
import { revocationBench } from './revocation.bench.js';

// `npm run bench` starts node with the young generation analyze runs with (cli/young-generation.ts).
const semiSpace = process.execArgv.find((a) => a.startsWith('--max-semi-space-size')) ?? 'default semi-space';
const records = Number(process.env.BENCH_RECORDS ?? 50_000);
const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`machine: ${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
console.log(`command: npm run bench (BENCH_RECORDS=${records}, node ${semiSpace})\n`);
console.log(table(ingestBench(records)));
console.log('');
// Every JSON format against JSON.parse, and one text format against the field split.
const formats: Array<[string, string]> = [
  ['kong', 'json'],
  ['envoy', 'json'],
  ['nginx', 'json'],
  ['aws-apigw', 'rest'],
  ['aws-apigw', 'http'],
  ['traefik', 'json'],
  ['tyk', 'analytics'],
  ['nginx', 'combined'],
];
console.log(table(analyzeBenchIsolated(Number(process.env.BENCH_MINUTES ?? 30), formats)));

const storeMinutes = Number(process.env.BENCH_STORE_MINUTES ?? 30);
const stored = await storeBench(storeMinutes, 'kong', 'json');
const perSec = (n: number): string => Math.round(n).toLocaleString('en-US');
console.log(`\n| benchmark (kong/json, ${storeMinutes} min scenario, ${stored.events.toLocaleString('en-US')} events) | events/s | ratio |`);
console.log('|---|---:|---:|');
console.log(`| analyze, no store | ${perSec(stored.withoutStore)} | 1.00 |`);
console.log(`| analyze, embedded store (chdb) | ${perSec(stored.withStore)} | ${(stored.withStore / stored.withoutStore).toFixed(2)} |`);
console.log(`| JSON.parse only, same lines | ${perSec(stored.floorPerSecond)} | |`);
console.log(`\nanalyze with the embedded store against JSON.parse only: ${stored.storeToFloor.toFixed(2)} (median of per-round ratios; target >= 0.25)`);
console.log(`\nevents table via the writer alone (views included): ${perSec(stored.writerRowsPerSecond)} rows/s into chdb`);
console.log(`write amplification: ${stored.insertedRows.toLocaleString('en-US')} ClickHouse rows inserted (tables and view targets) for ${stored.events.toLocaleString('en-US')} input events = ${stored.amplification.toFixed(2)} rows per event`);

const memory = lifecycleMemoryBench(Number(process.env.BENCH_TOKENS ?? 1_000_000));
console.log(`\nlifecycle store: ${memory.tracked.toLocaleString('en-US')} live tokens, ${Math.round(memory.bytesPerToken)} bytes of heap + buffers per tracked token (target <= 256)`);

const revocation = revocationBench(Number(process.env.BENCH_TOKENS ?? 1_000_000), 10_000);
console.log(`store lifecycle tracker: ${revocation.microsPerLogout.toFixed(1)} µs per session logout with ${revocation.tokens.toLocaleString('en-US')} tokens tracked`);
