// The WebAssembly JSON scanner of json-scan.wat, instantiated: one instance (and its memory) per
// JsonShapes, since a match leaves its results in that memory.
import { JSON_SCAN_WASM } from './json-scan.wasm.js';

// The slice of the WebAssembly API used here: Node has it, and this project's type libraries
// (ES2023 and @types/node 20) do not declare it.
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
};

/** What json-scan.wat exports; its header comment and match() document the memory layout. */
export interface JsonScanner {
  memory: { buffer: ArrayBuffer };
  match: (program: number, length: number) => number;
  ascii: (length: number) => number;
  reset: () => void;
  LINE_CAP: { value: number };
  OUT: { value: number };
  FRESH: { value: number };
  NUMBERS: { value: number };
  PROGRAMS: { value: number };
  PROGRAMS_END: { value: number };
  MAX_IDS: { value: number };
}

const SCAN_MODULE = new WebAssembly.Module(Buffer.from(JSON_SCAN_WASM, 'base64'));

/** A new scanner with an empty intern table. */
export function createJsonScanner(): JsonScanner {
  const scanner = new WebAssembly.Instance(SCAN_MODULE).exports as JsonScanner;
  scanner.reset();
  return scanner;
}
