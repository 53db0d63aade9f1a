// Buffered line output for stdout: printing a million packets one write() at a time
// would cost more than decoding them. Lines are gathered into ~64 KiB strings and
// written with back-pressure; a closed pipe (`hopscope ... | head`) ends output quietly.
import type { Writable } from 'node:stream';

const FLUSH_AT = 64 * 1024;

export class LineWriter {
  private pending = '';
  private closed = false;
  private waiting: Promise<void> | null = null;

  constructor(private readonly out: Writable = process.stdout) {
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') this.closed = true;
      else throw err;
    });
  }

  /** True once the reader went away (EPIPE): producers may stop early. */
  get isClosed(): boolean {
    return this.closed;
  }

  line(text: string): void {
    if (this.closed) return;
    this.pending += text + '\n';
    if (this.pending.length >= FLUSH_AT) this.flush();
  }

  flush(): void {
    if (this.closed || this.pending === '') return;
    const ok = this.out.write(this.pending);
    this.pending = '';
    if (!ok && this.waiting === null) {
      this.waiting = new Promise<void>((resolve) => this.out.once('drain', () => resolve())).then(() => {
        this.waiting = null;
      });
    }
  }

  /** Resolves when the stream can take more (call between chunks of work). */
  async drained(): Promise<void> {
    if (this.waiting !== null) await this.waiting;
  }

  async end(): Promise<void> {
    this.flush();
    await this.drained();
  }
}
