// The floors benchmarks race against, over the same lines in the same run: JSON.parse
// alone for JSON lines; for text lines the least any text parser must do, splitting the
// line into its fields (whitespace, "quoted" and [bracketed] runs) with one regex.

const FIELD = /"(?:[^"\\]|\\.)*"|\[[^\]]*\]|\S+/g;

/** Parses or splits every line, each by its own kind; returns the count. */
export function floorPass(lines: readonly Buffer[]): number {
  let n = 0;
  for (const l of lines) {
    const text = l.toString('utf8');
    if (l[0] === 0x7b) n += JSON.parse(text) !== null ? 1 : 0;
    else n += (text.match(FIELD)?.length ?? 0) > 0 ? 1 : 0;
  }
  return n;
}

/** The floor's name for a set of lines. */
export const floorName = (lines: readonly Buffer[]): string => (lines[0]?.[0] === 0x7b ? 'JSON.parse only' : 'field split only');
