/**
 * A network lab of Linux network namespaces: an "internet" segment (198.18.0.0/24) with the
 * signaling service and a TURN server on it, and sites behind routers (198.19.<site>.0/24), each
 * router doing NAT with nftables the way a kind of home or carrier router does:
 *
 * - `cone`: endpoint-independent mapping (`masquerade`), stateful filtering;
 * - `symmetric`: a new port for every destination (`masquerade random,fully-random`);
 * - `udp-blocked`: cone, and no UDP leaves the site at all.
 *
 * Unsolicited packets from the internet are dropped before conntrack confirms them (a prerouting
 * filter at priority -150): otherwise the first check from a peer takes the port a host's outbound
 * mapping needs, and hole punching fails even between two cone NATs. Impairments (loss, a cut)
 * are rules in a chain of their own on each router. Addresses are in 198.18.0.0/15, the
 * benchmarking range, and no namespace is ever connected to a real interface: nothing leaves the
 * machine. Needs root, iproute2 and nftables; `labUnavailable()` says why it cannot run.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

export type NatKind = 'cone' | 'symmetric' | 'udp-blocked';

/** Why the lab cannot run here, or undefined when it can. */
export function labUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'the network lab needs root (network namespaces and nftables)';
  for (const [command, args] of [['ip', ['netns', 'list']], ['nft', ['--version']]] as const) {
    try {
      execFileSync(command, [...args], { stdio: 'ignore' });
    } catch {
      return `the network lab needs \`${command}\` (Debian: apt-get install ${command === 'ip' ? 'iproute2' : 'nftables'})`;
    }
  }
  return undefined;
}

const run = (args: string[], input?: string): string => execFileSync(args[0] ?? '', args.slice(1), { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });

export const SERVICE_ADDRESS = '198.18.0.10';

export interface Host {
  /** The namespace the host's processes run in. */
  ns: string;
  address: string;
  site: Site;
}

export interface Site {
  index: number;
  nat: NatKind;
  router: string;
  /** The router's address on the internet segment: what the site's hosts look like from outside. */
  publicAddress: string;
  hosts: Host[];
}

export class Lab {
  /** Unique per lab, so that labs of parallel runs (or a crashed one) never collide. */
  readonly prefix = `rm${process.pid % 100_000}x${Math.floor(Math.random() * 1000)}`;
  private readonly namespaces: string[] = [];
  private readonly children: ChildProcess[] = [];
  readonly wan: string;
  readonly service: string;
  private readonly sites: Site[] = [];
  private ports = 0;
  /** The last host number given to a host that moved (each move gets a number of its own). */
  private moved = 99;

  constructor() {
    try {
      this.wan = this.namespace('wan');
      run(['ip', '-n', this.wan, 'link', 'add', 'br0', 'type', 'bridge']);
      run(['ip', '-n', this.wan, 'link', 'set', 'br0', 'up']);
      this.service = this.namespace('svc');
      this.plug(this.service, 'eth0', this.wan, 'br0', `${SERVICE_ADDRESS}/24`);
      this.defaultRouteToNowhere(this.service);
    } catch (error) {
      this.destroy(); // nobody else holds the lab yet: leave no namespace behind
      throw error;
    }
  }

  /**
   * A default route into a dummy interface, where packets vanish as they do on the internet when
   * sent to an address nobody routes (a peer's private host candidate, say). Without it such a send
   * fails at once with ENETUNREACH, and coturn 4.6 closes the TURN allocation whose relay socket
   * got that error: every TURN path that had tried a host candidate died a second after it formed.
   */
  private defaultRouteToNowhere(ns: string): void {
    // A veth pair inside the namespace and a gateway that is a permanent neighbour with a made-up
    // address: sends succeed and the frames are dropped (this kernel has no dummy interfaces, and a
    // blackhole route fails sends with EINVAL).
    run(['ip', '-n', ns, 'link', 'add', 'nowhere', 'type', 'veth', 'peer', 'name', 'nowhere-end']);
    for (const end of ['nowhere', 'nowhere-end']) run(['ip', '-n', ns, 'link', 'set', end, 'up']);
    run(['ip', '-n', ns, 'addr', 'add', '198.18.255.1/30', 'dev', 'nowhere']);
    run(['ip', '-n', ns, 'neigh', 'add', '198.18.255.2', 'lladdr', '02:00:00:00:00:01', 'dev', 'nowhere', 'nud', 'permanent']);
    run(['ip', '-n', ns, 'route', 'add', 'default', 'via', '198.18.255.2', 'dev', 'nowhere']);
  }

  /** A site of `hosts` hosts behind a router doing `nat`. */
  site(nat: NatKind, hosts = 1): Site {
    const index = this.sites.length + 1;
    const router = this.namespace(`r${index}`);
    const publicAddress = `198.18.0.${20 + index}`;
    this.plug(router, 'wan0', this.wan, 'br0', `${publicAddress}/24`);
    run(['ip', '-n', router, 'link', 'add', 'lan0', 'type', 'bridge']);
    run(['ip', '-n', router, 'addr', 'add', `198.19.${index}.1/24`, 'dev', 'lan0']);
    run(['ip', '-n', router, 'link', 'set', 'lan0', 'up']);
    run(['ip', 'netns', 'exec', router, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    this.defaultRouteToNowhere(router);
    const masquerade = nat === 'symmetric' ? 'masquerade random,fully-random' : 'masquerade';
    const udpBlocked = nat === 'udp-blocked' ? 'oifname "wan0" meta l4proto udp drop;' : '';
    run(
      ['ip', 'netns', 'exec', router, 'nft', '-f', '-'],
      `table ip lab {
        chain unsolicited { type filter hook prerouting priority -150; iifname "wan0" ct state new drop; }
        chain impair { }
        chain forward { type filter hook forward priority 0; policy accept; jump impair; ${udpBlocked} }
        chain nat { type nat hook postrouting priority 100; oifname "wan0" ${masquerade}; }
      }`,
    );
    const site: Site = { index, nat, router, publicAddress, hosts: [] };
    for (let i = 0; i < hosts; i++) this.addHost(site);
    this.sites.push(site);
    return site;
  }

  private addHost(site: Site): Host {
    const ns = this.namespace(`h${site.index}${site.hosts.length + 1}`);
    const address = `198.19.${site.index}.${10 + site.hosts.length}`;
    this.plug(ns, 'eth0', site.router, 'lan0', `${address}/24`);
    run(['ip', '-n', ns, 'route', 'add', 'default', 'via', `198.19.${site.index}.1`]);
    const host: Host = { ns, address, site };
    site.hosts.push(host);
    return host;
  }

  /** Drops `percent` of the site's forwarded packets, both ways (0: none; to a tenth of a percent). */
  setLoss(site: Site, percent: number): void {
    this.impair(site, percent > 0 ? `numgen random mod 1000 < ${Math.round(percent * 10)} drop` : undefined);
  }

  /** Cuts the site off (all traffic, or UDP only), or restores it. */
  cut(site: Site, on: boolean, what: 'all' | 'udp' = 'all'): void {
    this.impair(site, on ? (what === 'udp' ? 'meta l4proto udp drop' : 'drop') : undefined);
  }

  /** Gives `host` a new address in its site (its old one is gone), as when a laptop changes networks. */
  changeAddress(host: Host): string {
    // A number no host of the lab has had: two hosts that moved to one address (a random pick did,
    // now and then) took each other's traffic, and one of them never reached the service again.
    const next = `198.19.${host.site.index}.${++this.moved}`;
    run(['ip', 'netns', 'exec', host.ns, 'sysctl', '-qw', 'net.ipv4.conf.eth0.promote_secondaries=1']);
    run(['ip', '-n', host.ns, 'addr', 'add', `${next}/24`, 'dev', 'eth0']);
    run(['ip', '-n', host.ns, 'addr', 'del', `${host.address}/24`, 'dev', 'eth0']);
    run(['ip', '-n', host.ns, 'route', 'replace', 'default', 'via', `198.19.${host.site.index}.1`]);
    host.address = next;
    return next;
  }

  /** Starts `command` inside `ns`; it, and whatever it starts there, is killed when the lab is destroyed. */
  spawn(ns: string, command: string, args: string[], env: Record<string, string> = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, command, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    this.children.push(child);
    return child;
  }

  /**
   * Kills every process inside the lab's namespaces (what it started, and what those started: a
   * browser puts itself in a process group of its own) and deletes the namespaces (their
   * interfaces go with them).
   */
  destroy(): void {
    for (const child of this.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const ns of this.namespaces) {
      let pids: string[] = [];
      try {
        pids = run(['ip', 'netns', 'pids', ns]).split('\n').filter((pid) => /^\d+$/.test(pid));
      } catch {
        // the namespace is gone
      }
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    for (const ns of this.namespaces.reverse()) {
      try {
        run(['ip', 'netns', 'del', ns]);
      } catch {
        // already gone
      }
    }
  }

  private impair(site: Site, rule: string | undefined): void {
    run(['ip', 'netns', 'exec', site.router, 'nft', 'flush', 'chain', 'ip', 'lab', 'impair']);
    if (rule !== undefined) run(['ip', 'netns', 'exec', site.router, 'nft', `add rule ip lab impair ${rule}`]);
  }

  private namespace(name: string): string {
    const ns = `${this.prefix}-${name}`;
    run(['ip', 'netns', 'add', ns]);
    this.namespaces.push(ns);
    run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /** A veth pair made inside the namespaces (never in the host's): `inner` in `ns` with `address`, its peer a port of `bridge` in `bridgeNs`. */
  private plug(ns: string, inner: string, bridgeNs: string, bridge: string, address: string): void {
    const port = `p${++this.ports}`;
    run(['ip', '-n', ns, 'link', 'add', inner, 'type', 'veth', 'peer', 'name', port, 'netns', bridgeNs]);
    run(['ip', '-n', bridgeNs, 'link', 'set', port, 'master', bridge]);
    run(['ip', '-n', bridgeNs, 'link', 'set', port, 'up']);
    run(['ip', '-n', ns, 'addr', 'add', address, 'dev', inner]);
    run(['ip', '-n', ns, 'link', 'set', inner, 'up']);
  }
}
