// How many ssh connections to one destination may be setting up at once. sshd drops
// connections that have not authenticated yet beyond its MaxStartups (default
// "10:30:100": from 10 such connections on, 30 % of new ones are closed at once,
// which ssh reports as `kex_exchange_identification: Connection closed by remote
// host`). A capture of a dozen interfaces on one host, one ssh each, would lose
// some of them at random; so the sessions of one destination start a few at a
// time, each freeing its place once its tcpdump listens or its session ended.

/** Connections set up at once per destination: well under sshd's default MaxStartups of 10. */
export const SSH_STARTS_PER_DESTINATION = 4;

type Release = () => void;

class Gate {
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async acquire(): Promise<Release> {
    if (this.#running >= this.limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      // The place goes straight to the next waiter (the count stays as it is).
      if (next !== undefined) next();
      else this.#running--;
    };
  }

  get idle(): boolean {
    return this.#running === 0 && this.#waiting.length === 0;
  }
}

const gates = new Map<string, Gate>();

/**
 * Waits for a place to set up an ssh connection to `destination` (the destination as
 * written, with the ssh config that resolves it); the returned function frees it
 * (idempotent).
 */
export async function acquireSshStart(
  destination: string,
  sshConfig: string | undefined,
  limit = SSH_STARTS_PER_DESTINATION,
): Promise<Release> {
  const key = `${sshConfig ?? ''}\0${destination}`;
  let gate = gates.get(key);
  if (gate === undefined) {
    gate = new Gate(limit);
    gates.set(key, gate);
  }
  const release = await gate.acquire();
  const g = gate;
  return () => {
    release();
    if (g.idle && gates.get(key) === g) gates.delete(key);
  };
}

/**
 * What ssh prints when sshd closed the connection before the key exchange: its
 * MaxStartups limit, or an sshd restarting. Worth a retry even at the first start,
 * unlike a refused key or an unknown host.
 */
export const SSH_REFUSED_AT_STARTUP =
  /kex_exchange_identification: (?:Connection closed by remote host|read: Connection reset by peer)|Connection reset by \S+ port \d+/;
