// A kind's flow and key declaration (correlate/kinds/flow-spec.ts): read once when the
// kinds load, so a template that names no field, or holds text a JSON string would have
// to escape, fails there rather than in a record.
import { describe, expect, it } from 'vitest';
import { compileFlow, flowOf, keyTextOf } from '../../src/correlate/kinds/flow-spec.js';
import type { KeptKey } from '../../src/correlate/kinds/kind-spec.js';
import { FLOWS, Kind } from '../../src/correlate/kinds/table.js';

const key: KeptKey = {
  part0: 0x2a,
  part1: 28,
  part2: 0,
  src: () => '10.0.0.5',
  dst: () => null,
  mac: () => 'fa:16:3e:00:00:01',
  name: () => 'web.lab',
};

describe('flow declarations', () => {
  it('a flow lists its fields in order; the key writes null as ? and hex8 as 8 digits', () => {
    const dns = flowOf(FLOWS[Kind.Dns], key);
    expect(dns).toEqual({
      src: '10.0.0.5',
      dst: null,
      id: 42,
      qname: 'web.lab',
      qtype: 'AAAA',
      transport: 'udp',
    });
    expect(Object.keys(dns)).toEqual(['src', 'dst', 'id', 'qname', 'qtype', 'transport']);
    expect(keyTextOf(FLOWS[Kind.Dns], dns)).toBe('10.0.0.5>? id=42 web.lab AAAA');
    expect(keyTextOf(FLOWS[Kind.Dhcp], flowOf(FLOWS[Kind.Dhcp], key))).toBe(
      'xid=0x0000002a chaddr=fa:16:3e:00:00:01',
    );
    expect(keyTextOf(FLOWS[Kind.Arp], flowOf(FLOWS[Kind.Arp], key))).toBe('who-has ? tell 10.0.0.5');
  });

  it('a template naming no field, or with text JSON escapes, is refused when read', () => {
    expect(() => compileFlow({ fields: { sender: 'src', target: 'dst' }, key: 'who-has {tpa}' })).toThrow(
      /no field tpa/,
    );
    expect(() => compileFlow({ fields: { sender: 'src', target: 'dst' }, key: '"{sender}"' })).toThrow(
      /not plain text/,
    );
  });
});
