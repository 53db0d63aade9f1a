// A LineWriter whose stream keeps what it is given: a test reads the lines a pipeline
// printed as a user's terminal would have shown them.
import { Writable } from 'node:stream';
import { LineWriter } from '../../src/sinks/line-writer.js';

export function collectedOutput(): { out: LineWriter; lines(): string[] } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk);
      done();
    },
  });
  return {
    out: new LineWriter(sink),
    lines: () => Buffer.concat(chunks).toString('utf8').split('\n').slice(0, -1),
  };
}
