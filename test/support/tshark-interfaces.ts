// What tshark says a pcapng file's interface blocks hold. Its packet views and capinfos
// leave out an interface's addresses; its dissector of the pcapng file itself (the file
// read as one "MIME Files Format" frame) shows every IDB option as written.
import { execFileSync } from 'node:child_process';

/**
 * if_name → the if_IPv4addr / if_IPv6addr options of its IDB as tshark prints them
 * (`203.0.113.1/255.255.255.0`, `2001:db8::1/64`), in file order.
 */
export function tsharkInterfaceAddresses(file: string): Map<string, string[]> {
  const out = execFileSync('tshark', ['-r', file, '-X', 'read_format:MIME Files Format', '-V'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 256 * 1024 * 1024,
  });
  const found = new Map<string, string[]>();
  let inIdb = false;
  let name: string | null = null;
  let addresses: string[] = [];
  const close = (): void => {
    if (inIdb && name !== null) found.set(name, addresses);
    inIdb = false;
    name = null;
    addresses = [];
  };
  for (const line of out.split('\n')) {
    const block = /^\s+Block: (.*)$/.exec(line);
    if (block !== null) {
      close();
      inIdb = block[1].startsWith('Interface Description Block');
      continue;
    }
    if (!inIdb) continue;
    const option = /^\s+Option: (Interface Name|IPv4 Address|IPv6 Address) = (.*)$/.exec(line);
    if (option === null) continue;
    if (option[1] === 'Interface Name') name = option[2];
    else addresses.push(option[2]);
  }
  close();
  return found;
}

/** An address as `ip -j addr` and hopscope write it, as tshark prints it (IPv4: the netmask). */
export function asTsharkShows(address: string): string {
  const [ip, prefix] = address.split('/');
  if (ip.includes(':') || prefix === undefined) return address;
  const bits = Number(prefix);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return `${ip}/${[24, 16, 8, 0].map((s) => (mask >>> s) & 0xff).join('.')}`;
}
