// The human summary `analyze` writes to stderr: counts by kind and severity, ingest
// rejections, and the most severe findings as a readable table.
import type { Metrics } from '../common/metrics.js';
import { FINDING_KINDS, SEVERITIES, severityRank, type Finding } from '../detectors/finding.js';

const TOP = 10;

/** The summary text for `findings` over `events` input events. */
export function summaryTable(findings: Finding[], events: number, metrics: Metrics): string {
  const lines: string[] = [];
  const dlq = metrics.series('tokenwatch_ingest_dlq_total').reduce((a, s) => a + s.value, 0);
  const skipped = metrics.series('tokenwatch_ingest_skipped_total').reduce((a, s) => a + s.value, 0);
  lines.push(`tokenwatch: ${events.toLocaleString('en-US')} events analysed, ${findings.length} findings` + (dlq ? `, ${dlq} records dead-lettered` : '') + (skipped ? `, ${skipped} IdP records without a token event skipped` : ''));
  if (findings.length === 0) return lines.join('\n');
  lines.push('', pad('kind', 22) + SEVERITIES.map((s) => pad(s, 10)).join('') + 'actions');
  for (const kind of FINDING_KINDS) {
    const of = findings.filter((f) => f.kind === kind);
    if (of.length === 0) continue;
    const actions = [...new Set(of.map((f) => f.action))].map((a) => `${a} ${of.filter((f) => f.action === a).length}`).join(', ');
    lines.push(pad(kind, 22) + SEVERITIES.map((s) => pad(String(of.filter((f) => f.severity === s).length), 10)).join('') + actions);
  }
  const top = [...findings].sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || (a.detectedAt < b.detectedAt ? -1 : 1)).slice(0, TOP);
  lines.push('', `top ${top.length}:`, pad('severity', 10) + pad('action', 10) + pad('detected', 21) + 'summary');
  for (const f of top) lines.push(pad(f.severity, 10) + pad(f.action, 10) + pad(f.detectedAt.slice(0, 19) + 'Z', 21) + truncate(f.summary, 110));
  return lines.join('\n');
}

const pad = (s: string, n: number): string => (s.length >= n ? s.slice(0, n - 1) + ' ' : s + ' '.repeat(n - s.length));
/** `s` cut to `n` characters, an ellipsis marking the cut. */
export const truncate = (s: string, n: number): string => (s.length > n ? s.slice(0, n - 1) + '…' : s);
