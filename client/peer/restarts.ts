/**
 * The ICE restarts of one silent direct link, on the initiator's side (docs/protocol.md, "A
 * silent link: kept, restarted, then replaced"). A restart is an offer with fresh ICE
 * credentials on the same link session; the link then has RESTART_TIMEOUT_MS to be heard again.
 * If it is not, and the restart was answered, the restart failed: the next repair replaces the
 * link. If it was not answered, the peer could not be reached through the service either (its
 * connection was down): the offer is sent again, and a new link would fare no better.
 */

/** The link, as a restart drives it (PeerLink). */
export interface RestartableLink {
  /** A new restart (`new`), the unanswered one sent again (`again`), or none (the link is gone). */
  restartIce(): 'new' | 'again' | 'none';
}

/** The link session's signals, as they count restarts and their answers (SessionSignals). */
export interface RestartAnswers {
  restarted(): void;
  readonly restartAnswered: boolean;
}

/** How long a restart has to bring the link back: new candidates checked, then SCTP's retransmission. */
export const RESTART_TIMEOUT_MS = 3_000;

export class LinkRestarts {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private answeredAndSilent = false;

  /** `expired`: a restart had its time and the link is still silent (see `failed`). */
  constructor(
    private readonly link: RestartableLink,
    private readonly answers: RestartAnswers,
    private readonly expired: () => void,
  ) {}

  /** A restart is waiting for the link to be heard again. */
  get underWay(): boolean {
    return this.timer !== undefined;
  }

  /** A restart was answered and the link stayed silent: replace it. */
  get failed(): boolean {
    return this.answeredAndSilent;
  }

  /** Restarts ICE, or sends the restart that is still unanswered again; its time starts afresh. */
  start(): void {
    if (this.link.restartIce() === 'new') this.answers.restarted();
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.answers.restartAnswered) this.answeredAndSilent = true;
      this.expired();
    }, RESTART_TIMEOUT_MS);
  }

  /** The link is heard again, or is closed: nothing more to wait for. */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.answeredAndSilent = false;
  }
}
