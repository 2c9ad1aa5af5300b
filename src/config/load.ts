// Reads the config files named on the command line and stacks the settings:
// flags > --config (TOML) > --bootstrapd-config (tox-bootstrapd) > toxrelay's defaults.
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../cli/errors.ts';
import { bootstrapdLayer } from './bootstrapd.ts';
import { finish, type Layer, type Note, type RunConfig } from './settings.ts';
import { tomlLayer } from './toml.ts';

export interface ConfigSources {
  flags: Layer;
  configFile?: string;
  bootstrapdConfigFile?: string;
}

export async function loadRunConfig(sources: ConfigSources): Promise<{ config: RunConfig; notes: Note[] }> {
  const layers: Layer[] = [sources.flags];
  const notes: Note[] = [];
  if (sources.configFile !== undefined) {
    layers.push(tomlLayer(await readText(sources.configFile), sources.configFile));
  }
  if (sources.bootstrapdConfigFile !== undefined) {
    const b = bootstrapdLayer(await readText(sources.bootstrapdConfigFile), sources.bootstrapdConfigFile);
    layers.push(b.layer);
    notes.push(...b.notes);
  }
  return { config: finish(layers), notes };
}

async function readText(file: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const why =
      code === 'ENOENT' ? 'no such file'
      : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
      : code === 'EISDIR' ? 'is a directory'
      : err instanceof Error ? err.message : String(err);
    throw new ConfigError(`${file}: cannot read the config file: ${why}${typeof code === 'string' ? ` (${code})` : ''}`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ConfigError(`${file}: not a text file (not valid UTF-8)`);
  }
}
