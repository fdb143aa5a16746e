// Checkpoint and restore of the lifecycle store, so a restart (or a rebalance) does not
// forget which tokens were revoked, which refresh tokens were redeemed and what each
// token's clients were. V8's serializer keeps Maps and typed arrays as they are; class
// prototypes are put back on restore. Written to a temp file and renamed: never half a file.
import { serialize, deserialize } from 'node:v8';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { TokenwatchError } from '../common/errors.js';
import type { StoreState } from './store.js';
import { TokenTable } from './token-table.js';
import { DeadlineHeap } from './deadline-heap.js';
import { Registry } from './registry.js';
import { HashIndex } from './hash-index.js';

const FORMAT = 'tokenwatch-lifecycle/1';

/** The store state as bytes. */
export function encodeCheckpoint(state: StoreState): Buffer {
  return serialize({ format: FORMAT, state });
}

/** Store state from `encodeCheckpoint` bytes. */
export function decodeCheckpoint(bytes: Buffer): StoreState {
  let data: { format?: unknown; state?: StoreState };
  try {
    data = deserialize(bytes) as typeof data;
  } catch (err) {
    throw new TokenwatchError('TW_ERR_CHECKPOINT_CORRUPT', 'checkpoint: unreadable (truncated or not a tokenwatch checkpoint)', { cause: err });
  }
  if (data?.format !== FORMAT || !data.state) {
    throw new TokenwatchError('TW_ERR_CHECKPOINT_FORMAT', `checkpoint: expected format ${FORMAT}, got ${String(data?.format)}`);
  }
  const s = data.state;
  Object.setPrototypeOf(s.tokens, TokenTable.prototype);
  Object.setPrototypeOf(s.expiry, DeadlineHeap.prototype);
  Object.setPrototypeOf(s.index, HashIndex.prototype);
  Object.setPrototypeOf(s.sessions, Registry.prototype);
  Object.setPrototypeOf(s.families, Registry.prototype);
  return s;
}

/** Writes a checkpoint atomically (temp file, then rename). */
export async function saveCheckpoint(path: string, state: StoreState): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, encodeCheckpoint(state));
  await rename(tmp, path);
}

/** Reads a checkpoint written by `saveCheckpoint`. */
export async function loadCheckpoint(path: string): Promise<StoreState> {
  return decodeCheckpoint(await readFile(path));
}
