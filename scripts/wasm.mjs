// Compiles ingest/json-scan.wat into ingest/json-scan.wasm.ts (the module's bytes, base64), so
// that a build needs no WebAssembly toolchain: `npm run wasm` after editing the .wat. With
// --check it writes nothing and fails when the committed module is not what the .wat compiles
// to; ingest/json-scan.test.ts runs that.
import { readFileSync, writeFileSync } from 'node:fs';
import wabtInit from 'wabt';

const wat = new URL('../ingest/json-scan.wat', import.meta.url);
const target = new URL('../ingest/json-scan.wasm.ts', import.meta.url);
const wabt = await wabtInit();
const module = wabt.parseWat('json-scan.wat', readFileSync(wat, 'utf8'));
module.validate();
const bytes = Buffer.from(module.toBinary({}).buffer);
const source = `// Generated from json-scan.wat by \`npm run wasm\` (scripts/wasm.mjs); do not edit.\nexport const JSON_SCAN_WASM = '${bytes.toString('base64')}';\n`;
if (process.argv.includes('--check')) {
  if (readFileSync(target, 'utf8') !== source) {
    console.error('ingest/json-scan.wasm.ts is not what ingest/json-scan.wat compiles to: run npm run wasm');
    process.exit(1);
  }
} else {
  writeFileSync(target, source);
  console.log(`ingest/json-scan.wasm.ts: ${bytes.length} bytes`);
}
