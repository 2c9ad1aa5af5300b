// A typed handle on one instance of the relay core: the exports plus views of its memory
// (refreshed when the core grows its memory) and the fixed areas shared with the host.
// Platform-neutral (no Node module, directly or not): a browser page passes the wasm bytes it
// fetched. core.ts adds RelayCore.create(), which in Node reads build/core.wasm by default.

import type { CoreExports } from './exports.ts';
import { ACTION_SIZE } from './exports.ts';

export async function instantiateCore(bytes: BufferSource): Promise<CoreExports> {
  const { instance } = await WebAssembly.instantiate(bytes, {
    env: {
      abort(_msg: number, _file: number, line: number, column: number) {
        throw new Error(`relay core aborted at line ${line}:${column}`);
      },
    },
  });
  return instance.exports as unknown as CoreExports;
}

export interface CoreSettings {
  maxConnections: number;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  handshakeTimeoutMs: number;
  /** 64 random bits: seeds ping ids and the key-index hash. */
  seed: bigint;
  /** CoreModule flags: with ONION, onion requests become actions; with FORWARDING, forward requests. */
  modules?: number;
}

export interface Action {
  kind: number;
  priority: boolean;
  reason: number;
  slot: number;
  ptr: number;
  len: number;
}

export class CoreInstance {
  readonly inputPtr: number;
  readonly plaintextPtr: number;
  readonly scratchPtr: number;
  readonly actionPtr: number;
  private buffer: ArrayBuffer;
  private u8: Uint8Array;
  private view: DataView;

  constructor(readonly x: CoreExports, settings: CoreSettings) {
    x.init(
      settings.maxConnections, settings.pingIntervalMs, settings.pingTimeoutMs, settings.handshakeTimeoutMs,
      BigInt.asUintN(64, settings.seed), settings.modules ?? 0,
    );
    this.inputPtr = x.inputArea();
    this.plaintextPtr = x.plaintextArea();
    this.scratchPtr = x.scratchArea();
    this.actionPtr = x.actionArea();
    this.buffer = x.memory.buffer;
    this.u8 = new Uint8Array(this.buffer);
    this.view = new DataView(this.buffer);
  }

  /** Instantiates the core from its wasm bytes (build/core.wasm, however the platform got them). */
  static async fromWasm(settings: CoreSettings, wasm: BufferSource): Promise<CoreInstance> {
    return new CoreInstance(await instantiateCore(wasm), settings);
  }

  /** The core's memory as bytes; call again after any core call that may allocate. */
  get bytes(): Uint8Array {
    // Growing wasm memory detaches the old buffer (its byteLength becomes 0): a cheap test on
    // every packet, where asking the engine for memory.buffer each time is not.
    if (this.buffer.byteLength === 0) this.refresh();
    return this.u8;
  }

  private get dv(): DataView {
    if (this.buffer.byteLength === 0) this.refresh();
    return this.view;
  }

  private refresh(): void {
    this.buffer = this.x.memory.buffer;
    this.u8 = new Uint8Array(this.buffer);
    this.view = new DataView(this.buffer);
  }

  /** Reads action i of the last call into `out` (reused, so the relay path allocates nothing). */
  action(i: number, out: Action): Action {
    const dv = this.dv;
    const a = this.actionPtr + i * ACTION_SIZE;
    out.kind = dv.getUint8(a);
    out.priority = dv.getUint8(a + 1) !== 0;
    out.reason = dv.getUint8(a + 2);
    out.slot = dv.getUint32(a + 4, true);
    out.ptr = dv.getUint32(a + 8, true);
    out.len = dv.getUint32(a + 12, true);
    return out;
  }

  /** The public key of a slot, copied out (for logs and tests, not the relay path). */
  publicKeyOf(slot: number): Uint8Array {
    const p = this.x.publicKey(slot);
    return this.bytes.slice(p, p + 32);
  }

  /** The confirmed slot holding this key, or -1. */
  findByKey(pk: Uint8Array): number {
    this.bytes.set(pk, this.scratchPtr);
    return this.x.findConnection();
  }
}
