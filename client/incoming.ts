/**
 * The large incoming messages under way, per sender, as the application sees them through
 * `incoming_progress`: so that every one that will never complete ends with `incoming_aborted`
 * and a reason, and a progress bar is never left up. A message ends when it is delivered, when
 * its sender cancels it, or when its sender is gone (it left, was given up, or messaging here
 * stopped). Pure bookkeeping: the messaging client feeds it and emits what it returns.
 */
import type { IncomingAbortReason, IncomingAbortedEvent, IncomingProgressEvent } from './messages.js';

export class IncomingTransfers {
  private readonly bySender = new Map<string, Map<string, IncomingProgressEvent>>();

  /** More of a message arrived. */
  progress(event: IncomingProgressEvent): void {
    let open = this.bySender.get(event.fromParticipantId);
    if (open === undefined) this.bySender.set(event.fromParticipantId, (open = new Map()));
    open.set(event.messageId, event);
  }

  /** The message was delivered, or its end was already told: it is no longer under way. */
  finished(senderId: string, messageId: string): void {
    const open = this.bySender.get(senderId);
    if (open?.delete(messageId) === true && open.size === 0) this.bySender.delete(senderId);
  }

  /** The sender is gone: each of its messages under way, to be told as aborted with `reason`. */
  senderGone(senderId: string, reason: IncomingAbortReason): IncomingAbortedEvent[] {
    const open = this.bySender.get(senderId);
    this.bySender.delete(senderId);
    return [...(open?.values() ?? [])].map((event) => ({ ...event, reason }));
  }

  /** Every sender is gone (messaging stopped here). */
  all(reason: IncomingAbortReason): IncomingAbortedEvent[] {
    return [...this.bySender.keys()].flatMap((senderId) => this.senderGone(senderId, reason));
  }
}
