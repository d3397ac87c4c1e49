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

  /**
   * More of a message arrived; true when it is further than any report before. After a path
   * change the message arrives again from its first byte (its receipt was not given), and those
   * reports are not news: progress, as the application sees it, never goes backwards.
   */
  progress(event: IncomingProgressEvent): boolean {
    let open = this.bySender.get(event.fromParticipantId);
    if (open === undefined) this.bySender.set(event.fromParticipantId, (open = new Map()));
    const before = open.get(event.messageId);
    if (before !== undefined && event.receivedBytes <= before.receivedBytes) return false;
    open.set(event.messageId, event);
    return true;
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
