/**
 * Who is in which room, with what role and attributes, and whether messaging is enabled.
 * Pure state, no sockets: the handlers decide whom to tell about each change.
 */
import type { JsonValue } from '../protocol/json.js';
import type { ParticipantInfo } from '../protocol/signaling.js';

export interface ParticipantRecord {
  id: string;
  room: string;
  role: string;
  attributes: Record<string, JsonValue>;
  socketId: string;
  messaging: boolean;
}

export type JoinOutcome = { ok: true; record: ParticipantRecord } | { ok: false; reason: 'ROOM_FULL' | 'TOO_MANY_ROOMS' | 'DUPLICATE_ID' };

export function toInfo(record: ParticipantRecord): ParticipantInfo {
  return { id: record.id, role: record.role, attributes: { ...record.attributes } };
}

export class RoomRegistry {
  private readonly rooms = new Map<string, Map<string, ParticipantRecord>>();
  private readonly byId = new Map<string, ParticipantRecord>();

  constructor(private readonly limits: { maxParticipantsPerRoom: number; maxRooms: number }) {}

  get roomCount(): number {
    return this.rooms.size;
  }

  get participantCount(): number {
    return this.byId.size;
  }

  get(id: string): ParticipantRecord | undefined {
    return this.byId.get(id);
  }

  join(input: Omit<ParticipantRecord, 'messaging'>): JoinOutcome {
    if (this.byId.has(input.id)) return { ok: false, reason: 'DUPLICATE_ID' };
    let members = this.rooms.get(input.room);
    if ((members?.size ?? 0) >= this.limits.maxParticipantsPerRoom) return { ok: false, reason: 'ROOM_FULL' };
    if (members === undefined) {
      if (this.rooms.size >= this.limits.maxRooms) return { ok: false, reason: 'TOO_MANY_ROOMS' };
      members = new Map();
      this.rooms.set(input.room, members);
    }
    const record: ParticipantRecord = { ...input, attributes: { ...input.attributes }, messaging: false };
    members.set(record.id, record);
    this.byId.set(record.id, record);
    return { ok: true, record };
  }

  /** Removes a participant; an emptied room is forgotten. */
  leave(id: string): ParticipantRecord | undefined {
    const record = this.byId.get(id);
    if (record === undefined) return undefined;
    this.byId.delete(id);
    const members = this.rooms.get(record.room);
    members?.delete(id);
    if (members?.size === 0) this.rooms.delete(record.room);
    return record;
  }

  /** Turns messaging on or off; true when that changed anything. */
  setMessaging(id: string, enabled: boolean): boolean {
    const record = this.byId.get(id);
    if (record === undefined || record.messaging === enabled) return false;
    record.messaging = enabled;
    return true;
  }

  /** The other participants of `id`'s room with messaging enabled. */
  enabledPeers(id: string): ParticipantRecord[] {
    const record = this.byId.get(id);
    if (record === undefined) return [];
    return [...(this.rooms.get(record.room)?.values() ?? [])].filter((p) => p.id !== id && p.messaging);
  }

  /** Merges `patch` into `id`'s attributes. */
  updateAttributes(id: string, patch: Record<string, JsonValue>): ParticipantRecord | undefined {
    const record = this.byId.get(id);
    if (record === undefined) return undefined;
    Object.assign(record.attributes, patch);
    return record;
  }

  /** Whether `from` may send signals to `to`: both in one room, both with messaging enabled. */
  canSignal(from: string, to: string): boolean {
    const a = this.byId.get(from);
    const b = this.byId.get(to);
    return a !== undefined && b !== undefined && a.id !== b.id && a.room === b.room && a.messaging && b.messaging;
  }
}
