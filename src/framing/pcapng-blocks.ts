// pcapng block types (draft-ietf-opsawg-pcapng), as the reader and the writer know them:
//
//     0 +---------------------------+
//       | block type                |   length: multiple of 4, >= 12
//     4 +---------------------------+
//       | block total length        |   options: code(16) length(16) value, padded to
//     8 +---------------------------+   32 bits, ended by code 0; opt_comment (1) is
//       | body (padded to 32 bits)  |   valid in every block.
//       |   ... options ...         |
//       +---------------------------+
//       | block total length        |
//       +---------------------------+
//
// Name Resolution, Decryption Secrets, custom (0x00000BAD, 0x40000BAD) and unknown
// blocks have no constant here: the reader skips them whole.

export const BLOCK_SHB = 0x0a0d0d0a;
export const BLOCK_IDB = 0x00000001;
export const BLOCK_PB = 0x00000002;
export const BLOCK_SPB = 0x00000003;
export const BLOCK_ISB = 0x00000005;
export const BLOCK_EPB = 0x00000006;
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

export const OPT_ENDOFOPT = 0;
export const OPT_COMMENT = 1;

const BLOCK_NAMES: Record<number, string> = {
  [BLOCK_SHB]: 'Section Header Block',
  [BLOCK_IDB]: 'Interface Description Block',
  [BLOCK_PB]: 'Packet Block',
  [BLOCK_SPB]: 'Simple Packet Block',
  [BLOCK_ISB]: 'Interface Statistics Block',
  [BLOCK_EPB]: 'Enhanced Packet Block',
};

/** Fixed part + trailer of each block type we read: anything shorter is damaged. */
export function minimumLength(type: number): number {
  switch (type) {
    case BLOCK_SHB:
      return 28;
    case BLOCK_IDB:
      return 20;
    case BLOCK_EPB:
    case BLOCK_PB:
      return 32;
    case BLOCK_SPB:
      return 16;
    case BLOCK_ISB:
      return 24;
    default:
      return 12;
  }
}

export function isPacketBlock(type: number): boolean {
  return type === BLOCK_EPB || type === BLOCK_SPB || type === BLOCK_PB;
}

/** The block's name in messages: `Enhanced Packet Block`, `block of type 0x00000bad`. */
export function blockName(type: number): string {
  return BLOCK_NAMES[type] ?? `block of type 0x${type.toString(16).padStart(8, '0')}`;
}
