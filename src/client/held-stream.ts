// The receiving half every Transport shares: chunks that arrive before onData() and an end that
// comes before onClose() are held and handed over when the handler is set, and the close handler
// runs once, after the last chunk.

export abstract class HeldStream {
  private receiver: ((bytes: Uint8Array) => void) | undefined;
  private closeHandler: ((error?: Error) => void) | undefined;
  private held: Uint8Array[] = [];
  private endNotified = false;
  /** The stream has ended: no more chunks; the close handler is due (or done). */
  protected ended = false;

  onData(receiver: (bytes: Uint8Array) => void): void {
    this.receiver = receiver;
    const held = this.held;
    this.held = [];
    for (const chunk of held) receiver(chunk);
  }

  onClose(handler: (error?: Error) => void): void {
    this.closeHandler = handler;
    if (this.ended) this.notifyEnd();
  }

  protected deliver(chunk: Uint8Array): void {
    if (this.ended) return;
    if (this.receiver) this.receiver(chunk);
    else this.held.push(chunk);
  }

  protected end(): void {
    this.ended = true;
    this.notifyEnd();
  }

  /** Why the stream ended, asked when the close handler runs: undefined for a clean end. */
  protected abstract endError(): Error | undefined;

  private notifyEnd(): void {
    if (this.endNotified || !this.closeHandler) return;
    this.endNotified = true;
    this.closeHandler(this.endError());
  }
}
