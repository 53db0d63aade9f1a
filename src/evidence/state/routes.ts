// `ip -j route get` answers: the route a packet would take, or why there is none. Pure.

export interface RouteAnswer {
  /** the route found; null when the lookup failed */
  dev: string | null;
  gateway: string | null;
  prefsrc: string | null;
  /** `local`, `unicast`, `unreachable`, `blackhole`, … (`ip` leaves out unicast) */
  type: string;
  /** the lookup's error (`Network is unreachable`, `Invalid argument`, `No route to host`) */
  error: string | null;
  /** the answer as one line, for evidence */
  text: string;
}

interface IpRoute {
  type?: string;
  dst?: string;
  gateway?: string;
  dev?: string;
  prefsrc?: string;
}

/** Parses one `route` section: its text and exit status. */
export function parseRouteAnswer(text: string, status: number | null): RouteAnswer {
  const trimmed = text.trim();
  const error = /RTNETLINK answers: (.+)/.exec(trimmed)?.[1] ?? null;
  if (status !== 0 || error !== null || !trimmed.startsWith('[')) {
    return {
      dev: null,
      gateway: null,
      prefsrc: null,
      type: 'none',
      error: error ?? (trimmed || `exit status ${status}`),
      text: trimmed,
    };
  }
  const routes = JSON.parse(trimmed) as IpRoute[];
  const r = routes[0] ?? {};
  const words = [
    r.type,
    r.dst,
    r.gateway !== undefined ? `via ${r.gateway}` : undefined,
    r.dev !== undefined ? `dev ${r.dev}` : undefined,
    r.prefsrc !== undefined ? `src ${r.prefsrc}` : undefined,
  ];
  return {
    dev: r.dev ?? null,
    gateway: r.gateway ?? null,
    prefsrc: r.prefsrc ?? null,
    type: r.type ?? 'unicast',
    error: null,
    text: words.filter((w) => w !== undefined).join(' '),
  };
}
