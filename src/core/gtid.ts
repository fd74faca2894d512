// GTID sets in the two dialects, just enough to answer "does this slave hold transactions its
// master never had?" (errant transactions make a GTID failover unsafe).
//   MySQL:   uuid:1-5:7,uuid2[:tag]:1-3   — sets of intervals per source (8.4 adds tags)
//   MariaDB: domain-server-seq,…           — one position (the last GTID) per replication domain

export type IntervalSet = [bigint, bigint][];

export class MysqlGtidSet {
  /** key: "uuid" or "uuid:tag" (lowercase) */
  readonly sources = new Map<string, IntervalSet>();

  static parse(text: string): MysqlGtidSet {
    const set = new MysqlGtidSet();
    const clean = text.replace(/\s+/g, '');
    if (!clean) return set;
    for (const part of clean.split(',')) {
      const fields = part.split(':');
      const uuid = fields.shift()?.toLowerCase() ?? '';
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(uuid)) {
        throw new Error(`bad GTID set ${JSON.stringify(text)}: ${JSON.stringify(uuid)} is not a server UUID`);
      }
      let tag = '';
      for (const f of fields) {
        const m = /^(\d+)(?:-(\d+))?$/.exec(f);
        if (!m) {
          if (/^[a-z_][a-z0-9_]{0,31}$/i.test(f)) {
            tag = f.toLowerCase();
            continue;
          }
          throw new Error(`bad GTID set ${JSON.stringify(text)}: bad interval ${JSON.stringify(f)}`);
        }
        const key = tag ? `${uuid}:${tag}` : uuid;
        const list = set.sources.get(key) ?? [];
        list.push([BigInt(m[1]!), BigInt(m[2] ?? m[1]!)]);
        set.sources.set(key, list);
      }
    }
    for (const [k, list] of set.sources) set.sources.set(k, normalize(list));
    return set;
  }

  /** Transactions in this set that `other` lacks, as MySQL's GTID_SUBTRACT would print them. */
  subtract(other: MysqlGtidSet): MysqlGtidSet {
    const out = new MysqlGtidSet();
    for (const [key, mine] of this.sources) {
      const theirs = other.sources.get(key) ?? [];
      const rest = subtractIntervals(mine, theirs);
      if (rest.length) out.sources.set(key, rest);
    }
    return out;
  }

  get isEmpty(): boolean {
    return this.sources.size === 0;
  }

  toString(): string {
    return [...this.sources].map(([k, list]) => `${k}:${list.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(':')}`).join(',');
  }
}

function normalize(list: IntervalSet): IntervalSet {
  const sorted = [...list].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const out: IntervalSet = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1n) last[1] = b > last[1] ? b : last[1];
    else out.push([a, b]);
  }
  return out;
}

function subtractIntervals(mine: IntervalSet, theirs: IntervalSet): IntervalSet {
  let current: IntervalSet = mine.map(([a, b]) => [a, b]);
  for (const [ta, tb] of theirs) {
    const next: IntervalSet = [];
    for (const [a, b] of current) {
      if (tb < a || ta > b) next.push([a, b]);
      else {
        if (ta > a) next.push([a, ta - 1n]);
        if (tb < b) next.push([tb + 1n, b]);
      }
    }
    current = next;
  }
  return current;
}

export interface MariadbGtid {
  domain: number;
  serverId: number;
  seq: bigint;
}

export function parseMariadbGtidList(text: string): Map<number, MariadbGtid> {
  const out = new Map<number, MariadbGtid>();
  const clean = text.replace(/\s+/g, '');
  if (!clean) return out;
  for (const part of clean.split(',')) {
    const m = /^(\d+)-(\d+)-(\d+)$/.exec(part);
    if (!m) throw new Error(`bad MariaDB GTID position ${JSON.stringify(text)}: ${JSON.stringify(part)} is not domain-server-seq`);
    const g = { domain: Number(m[1]), serverId: Number(m[2]), seq: BigInt(m[3]!) };
    out.set(g.domain, g);
  }
  return out;
}

export function formatMariadbGtid(g: MariadbGtid): string {
  return `${g.domain}-${g.serverId}-${g.seq}`;
}
