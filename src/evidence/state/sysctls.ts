// The hop script's `sysctl` section: `net/ipv4/conf/eth0/rp_filter=1` per line. Pure.

/** dotted name (`net.ipv4.conf.eth0.rp_filter`) → value; files that do not exist are left out. */
export function parseSysctls(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const value = line.slice(eq + 1).trim();
    if (value === '') continue;
    // the device part keeps its dots (eth0.100) as sysctl writes them: `/` in its place
    const path = line.slice(0, eq).split('/');
    values.set(path.map((p) => p.replaceAll('.', '/')).join('.'), value);
  }
  return values;
}

/** The value that applies to a device: rp_filter takes the larger of `all` and the device's; others the device's. */
export function effectiveSysctl(
  values: ReadonlyMap<string, string>,
  key: string,
  dev: string,
): string | null {
  const own = values.get(`net.ipv4.conf.${dev}.${key}`) ?? null;
  const all = values.get(`net.ipv4.conf.all.${key}`) ?? null;
  if (key === 'rp_filter' || key === 'arp_ignore') {
    if (own === null) return all;
    if (all === null) return own;
    return String(Math.max(Number(own), Number(all)));
  }
  if (key === 'route_localnet' || key === 'proxy_arp') {
    // OR of all and the device (IN_DEV_ORCONF)
    if (own === null) return all;
    return all === '1' ? '1' : own;
  }
  return own;
}
