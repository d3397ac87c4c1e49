/**
 * The service's Prometheus metrics (prom-client), one registry per service so that several
 * services in one process (tests) keep their counts apart. Counters are this process's;
 * gauges are read from its sockets at scrape time. Prometheus sums processes itself.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { ErrorCode } from '../protocol/errors.js';

/** The limits whose hits are counted, by `limit` label. */
export type LimitName =
  | 'signal_rate'
  | 'relay_rate'
  | 'payload_size'
  | 'room_full'
  | 'service_full'
  | 'connections_per_address'
  | 'join_timeout'
  | 'attributes'
  | 'enable_rate'
  | 'token_share';

export interface ServiceMetrics {
  joined(kind: 'join' | 'resume'): void;
  left(reason: 'left' | 'disabled' | 'disconnected' | 'unresponsive' | 'moved'): void;
  /** `request` is one of the service's own event names (join, resume, signal, …), so the label stays bounded. */
  refused(request: string, code: ErrorCode): void;
  signalRelayed(): void;
  relayed(bytes: number): void;
  limitHit(limit: LimitName): void;
  redisPublishFailed(): void;
  /** A cross-process question another process did not answer in time: answered from this process alone. */
  unansweredQuery(): void;
}

export interface MetricsEndpoint extends ServiceMetrics {
  contentType: string;
  /** The text exposition format, gauges freshly sampled. */
  render(): Promise<string>;
}

export interface LocalCounts {
  rooms: number;
  participants: number;
  connections: number;
}

export function createMetrics(sample: () => LocalCounts): MetricsEndpoint {
  const registry = new Registry();
  /** Sampled once per scrape, for all three gauges. */
  let counts: LocalCounts = { rooms: 0, participants: 0, connections: 0 };
  collectDefaultMetrics({ register: registry });
  const gauge = (name: string, help: string, read: (c: LocalCounts) => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read(counts));
      },
    });
  };
  gauge('roommesh_rooms', 'Rooms with at least one participant connected to this process', (c) => c.rooms);
  gauge('roommesh_participants', 'Participants connected to this process', (c) => c.participants);
  gauge('roommesh_connections', 'Socket.IO connections to this process, joined or not', (c) => c.connections);
  const joins = new Counter({ name: 'roommesh_joins_total', help: 'Participants admitted (kind: join or resume)', labelNames: ['kind'], registers: [registry] });
  const leaves = new Counter({ name: 'roommesh_leaves_total', help: 'Participants gone from this process, by reason', labelNames: ['reason'], registers: [registry] });
  const refusals = new Counter({ name: 'roommesh_refused_requests_total', help: 'Requests refused, by request (join, resume, signal, …) and error code', labelNames: ['request', 'code'], registers: [registry] });
  const signals = new Counter({ name: 'roommesh_signals_relayed_total', help: 'WebRTC signals (offers, answers, candidates) passed on', registers: [registry] });
  const relayBytes = new Counter({ name: 'roommesh_relay_bytes_total', help: 'Bytes carried for pairs with no direct link (relay fallback)', registers: [registry] });
  const relayPackets = new Counter({ name: 'roommesh_relay_packets_total', help: 'Packets carried for pairs with no direct link', registers: [registry] });
  const lost = new Counter({ name: 'roommesh_redis_publish_failures_total', help: 'Messages to the other service processes lost (Redis gone, or its queue full)', registers: [registry] });
  const unanswered = new Counter({ name: 'roommesh_unanswered_queries_total', help: 'Cross-process questions another process did not answer in time, answered from this process alone', registers: [registry] });
  const limits = new Counter({ name: 'roommesh_limit_hits_total', help: 'Times a limit refused or dropped something, by limit', labelNames: ['limit'], registers: [registry] });

  return {
    contentType: registry.contentType,
    render: () => {
      counts = sample();
      return registry.metrics();
    },
    joined: (kind) => joins.inc({ kind }),
    left: (reason) => leaves.inc({ reason }),
    refused: (request, code) => refusals.inc({ request, code }),
    signalRelayed: () => signals.inc(),
    relayed(bytes) {
      relayPackets.inc();
      relayBytes.inc(bytes);
    },
    limitHit: (limit) => limits.inc({ limit }),
    redisPublishFailed: () => lost.inc(),
    unansweredQuery: () => unanswered.inc(),
  };
}
