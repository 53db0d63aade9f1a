// A one-line progress meter on a terminal's stderr for long replays: percent of the
// input read, packets so far, and the rate. Redrawn at most 5 times a second.
import type { WriteStream } from 'node:tty';

const REDRAW_MS = 200;

export class ProgressMeter {
  private bytes = 0;
  private packets = 0;
  private readonly startedAt = Date.now();
  private lastDraw = 0;
  private shown = false;

  constructor(
    private readonly out: WriteStream,
    private readonly totalBytes: number,
  ) {}

  /** One packet read, `approxBytes` of input (record header included). */
  advance(approxBytes: number): void {
    this.bytes += approxBytes;
    this.packets++;
    // checking the clock every packet would cost more than the meter is worth
    if ((this.packets & 0x3fff) !== 0) return;
    const now = Date.now();
    if (now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    const pct = Math.min(99, Math.floor((this.bytes / this.totalBytes) * 100));
    const secs = (now - this.startedAt) / 1000;
    const rate = secs > 0 ? this.packets / secs : 0;
    this.out.write(
      `\r\x1b[K${pct}%  ${this.packets.toLocaleString('en-US')} packets  ${(rate / 1e6).toFixed(2)} M/s`,
    );
    this.shown = true;
  }

  clear(): void {
    if (this.shown) this.out.write('\r\x1b[K');
  }

  done(): void {
    this.clear();
    this.shown = false;
  }
}
