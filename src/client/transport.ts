// The byte stream a RelayClient talks through. It is injected so that one client runs over
// node:net (tcp.ts), over a WebSocket in a browser, or over an in-memory pair in tests.
//
// A Transport is a byte stream, not a message channel: write() and onData() boundaries carry no
// meaning, and a peer's single write may arrive as many chunks or merged with the next one.

export interface Transport {
  /**
   * Queues bytes for the peer, in order. The transport may keep a reference until the bytes are
   * sent, so the caller must not modify them afterwards. Writes after close are ignored.
   */
  write(bytes: Uint8Array): void;
  /**
   * True when write() copies the bytes before returning, so the caller may reuse them at once:
   * the client then seals frames in place instead of allocating one array per frame.
   */
  readonly copiesWrites?: boolean;
  /**
   * Optional batching: writes between cork() and uncork() leave in one piece at uncork(). A
   * transport without them writes each piece as it comes (RelayClient.batch() works either way).
   */
  cork?(): void;
  uncork?(): void;
  /**
   * Closes the stream. Bytes already written are still flushed when the medium allows it; the
   * close handler then runs once, without an error.
   */
  close(): void;
  /**
   * Sets the single receiver of incoming bytes. The receiver may keep the chunks it is given
   * (the transport never reuses them). Chunks that arrived before a receiver was set are held
   * and delivered to it, so no byte is lost between connecting and setting up a client.
   */
  onData(receiver: (bytes: Uint8Array) => void): void;
  /**
   * Sets the single handler of the end of the stream, called at most once, after the last
   * onData chunk. `error` is set when the stream broke rather than ended. A handler set after
   * the stream closed is still called.
   */
  onClose(handler: (error?: Error) => void): void;
}
