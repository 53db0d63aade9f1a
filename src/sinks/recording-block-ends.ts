// Where the blocks of a recording end, and the last of them known written: what a file
// whose write failed is cut back to, so that it never ends in the middle of a block
// (recording-file.ts). The writer says where its blocks end at each hand-over.

/** A place where a block of the recording ends, and the packets before it. */
export interface BlockEnd {
  end: number;
  packets: number;
}

export class BlockEnds {
  /** handed over and not yet known written, in file order */
  private readonly pending: BlockEnd[] = [];
  /** the last block end known written (everything before it is) */
  private last: BlockEnd = { end: 0, packets: 0 };

  /** The last block end known written: every byte before it is. */
  get whole(): BlockEnd {
    return this.last;
  }

  /** The recording's first `end` bytes end on a block boundary, with `packets` packets before it. */
  add(end: number, packets: number): void {
    this.pending.push({ end, packets });
  }

  /** Every byte before `known` is written: moves `whole` to the last block end at or before it. */
  settle(known: number): void {
    const ends = this.pending;
    let n = 0;
    while (n < ends.length && ends[n].end <= known) n++;
    if (n > 0) {
      this.last = ends[n - 1];
      ends.splice(0, n);
    }
  }
}
