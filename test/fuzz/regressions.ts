// Inputs the fuzzer found failing, kept so that every `npm test` runs them whatever
// the seed (the random run may not meet them again). Each is the smallest form of its
// failure; the test expects no problem from it, so it fails until the fault is fixed
// and then guards against its return. Add one per distinct failure, with where it is.

import { LINKTYPE_RAW } from '../../src/decode/link.js';
import { hex } from '../decode/support/hex.js';
import type { FuzzCase } from './targets.js';

export interface Regression {
  name: string;
  /** file and function at fault, and what is wrong */
  fault: string;
  make(): FuzzCase;
}

function rawPacket(bytes: Uint8Array): FuzzCase {
  return {
    target: 'packets',
    bytes,
    start: 0,
    end: bytes.length,
    linktypes: [LINKTYPE_RAW],
    wireLen: bytes.length,
  };
}

export const REGRESSIONS: Regression[] = [
  {
    name: 'DNS SRV answer with RDLENGTH 0 as the last bytes of the packet: malformedOff past the end',
    fault:
      'src/decode/dns.ts checkRdata (SRV: target at rdOff + 6) -> checkRdataName marks dns_rdata_name_overrun at nameOff, which lies past rdEnd (here past the packet end) when RDLENGTH < 6',
    make: () =>
      rawPacket(
        hex(
          '4500 0033 0000 0000 4011 0000 0a000001 0a000002', // IPv4, total length 51, UDP
          '0035 0400 001f 0000', // UDP 53 -> 1024, length 31
          '0001 8180 0000 0001 0000 0000', // DNS response, 1 answer
          '00 0021 0001 0000003c 0000', // root, SRV, IN, TTL 60, RDLENGTH 0
        ),
      ),
  },
  {
    name: 'DNS MX answer with RDLENGTH 1 as the last bytes of the packet: malformedOff past the end',
    fault:
      'src/decode/dns.ts checkRdata (MX: exchange at rdOff + 2) -> checkRdataName marks dns_rdata_name_overrun at nameOff, past rdEnd when RDLENGTH < 2',
    make: () =>
      rawPacket(
        hex(
          '4500 0034 0000 0000 4011 0000 0a000001 0a000002', // IPv4, total length 52, UDP
          '0035 0400 0020 0000', // UDP 53 -> 1024, length 32
          '0001 8180 0000 0001 0000 0000', // DNS response, 1 answer
          '00 000f 0001 0000003c 0001 00', // root, MX, IN, TTL 60, RDLENGTH 1, one byte
        ),
      ),
  },
];
