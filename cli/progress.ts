// A one-line progress display on a terminal: events per second and bytes read of the
// total, redrawn at most five times a second. Silent when stderr is not a terminal.
import type { Clock } from '../common/clock.js';

export class Progress {
  private readonly files = new Map<string, { read: number; size: number | null }>();
  private events = 0;
  private lastDraw = 0;
  private readonly started: number;
  private readonly enabled: boolean;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly clock: Clock,
  ) {
    this.started = clock.now();
    this.enabled = out.isTTY === true;
  }

  /** Registers a file; returns the callback to report bytes read so far (one call per line). */
  track(file: string, size: number | null): (read: number) => void {
    const entry = { read: 0, size };
    this.files.set(file, entry);
    return (read) => {
      entry.read = read;
      this.events++;
      if (this.enabled && (this.events & 1023) === 0) this.draw();
    };
  }

  /** Clears the line. */
  done(): void {
    if (this.enabled) this.out.write('\r\x1b[K');
  }

  private draw(): void {
    const now = this.clock.now();
    if (now - this.lastDraw < 200) return;
    this.lastDraw = now;
    let read = 0;
    let total = 0;
    let known = true;
    for (const f of this.files.values()) {
      read += f.read;
      if (f.size === null) known = false;
      else total += f.size;
    }
    const rate = Math.round(this.events / Math.max(0.001, (now - this.started) / 1000));
    const mb = (n: number): string => (n / 1e6).toFixed(1);
    const of = known && total > 0 ? ` of ${mb(total)} MB (${Math.min(100, Math.round((read / total) * 100))}%)` : ' MB';
    this.out.write(`\r\x1b[K${this.events.toLocaleString('en-US')} lines, ${rate.toLocaleString('en-US')} lines/s, ${mb(read)}${of}`);
  }
}
