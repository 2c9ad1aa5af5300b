// The relay core as Node uses it: CoreInstance (instance.ts, platform-neutral) plus create(),
// which reads build/core.wasm from the package root when no bytes are given.

import { CoreInstance, instantiateCore, type CoreSettings } from './instance.ts';
import { readCoreWasm } from './load.ts';

export type { Action, CoreSettings } from './instance.ts';

export class RelayCore extends CoreInstance {
  static async create(settings: CoreSettings, wasm?: BufferSource): Promise<RelayCore> {
    return new RelayCore(await instantiateCore(wasm ?? (await readCoreWasm())), settings);
  }
}
