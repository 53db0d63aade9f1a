// What readers hand on that callers keep, counted against the limits declared here:
// interfaces (the merge, the replay and the correlator keep one record each) and their
// text. One budget per stream, or one shared by the files a merge reads together, so
// that neither a file of many sections nor many files get past the limits.

import { CaptureFormatError } from './errors.js';

/** Interfaces one stream may describe over all its sections, and files merged together over all of theirs. */
export const MAX_INTERFACES = 65_536;
/**
 * Bytes of option text handed on in interface and statistics records, which callers
 * keep: if_name, if_description and opt_comment of every Interface Description and
 * Interface Statistics Block, counted over the stream (or the files merged together).
 */
export const MAX_KEPT_TEXT_BYTES = 4 * 1024 * 1024;

export class ReaderBudget {
  private interfaces = 0;
  private textBytes = 0;

  /**
   * `scope` names, in messages, what a shared budget covers ("in the 3 files
   * together"); null for a stream's own budget (its reader says where).
   */
  constructor(readonly scope: string | null = null) {}

  /** One more interface, described at `offset`; `here` names the stream ("in the file, over its 2 sections"). */
  addInterface(offset: number, here: string): void {
    if (this.interfaces >= MAX_INTERFACES) {
      throw new CaptureFormatError(
        'too_many_interfaces',
        `more than ${MAX_INTERFACES} interfaces ${this.scope ?? here} (the limit)`,
        offset,
        0,
      );
    }
    this.interfaces++;
  }

  /** `length` bytes of option text about to be handed on, in the option `what` at `offset`. */
  keepText(length: number, what: string, offset: number): void {
    this.textBytes += length;
    if (this.textBytes > MAX_KEPT_TEXT_BYTES) {
      throw new CaptureFormatError(
        'too_much_text',
        `${what} takes the names, descriptions and comments of interfaces and statistics ${this.scope ?? 'in the file'} past the ${MAX_KEPT_TEXT_BYTES}-byte limit`,
        offset,
        0,
      );
    }
  }
}
