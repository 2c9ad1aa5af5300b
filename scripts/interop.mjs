#!/usr/bin/env node
// Real Tox clients (libtoxcore) through a TCP relay: compiles test/interop/toxharness.c and runs it.
//
//   node scripts/interop.mjs [--full] [--relay HOST:PORT:KEY] [options]
//
// With --relay: runs the harness against that relay (any relay, by host, port and public key).
// The relay is the clients' onion hop 1 and sends their onion packets by UDP to the harness's DHT
// nodes, so it must reach them: on the same machine that is 127.0.0.1 (the default; a toxrelay
// then needs --udp-to-this-host); for a relay elsewhere pass --dht-host with an address of this
// machine that the relay can reach.
// Without --relay: starts a fresh toxrelay (bin/toxrelay.js; run `npm run build` first) and a
// fresh tox-bootstrapd on loopback, runs the harness against each in turn and prints the phase
// timings side by side.
//
// Quick by default (1 MiB file, no hold); --full sends a 4 MiB file and then holds the friendship
// idle for 45 s (the relay's pings must keep it up). Exit 0 when every run passed, 1 otherwise,
// 2 on a bad command line or a missing toolchain.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  BOOTSTRAPD,
  INSTALL_HINT,
  PHASES,
  buildHarness,
  missingToolchain,
  runHarness,
  startBootstrapd,
  startToxrelay,
} from '../test/interop/toxnet.mjs';

const USAGE = `usage: node scripts/interop.mjs [--full] [--relay HOST:PORT:KEY] [options]
  --relay HOST:PORT:KEY  test this relay only (else: a fresh toxrelay and tox-bootstrapd)
  --full                 4 MiB file and a 45 s idle hold (default: 1 MiB, no hold)
  --file-mib N           file size in MiB (0: no file phase)
  --hold S               idle hold in seconds (0: none)
  --timeout-scale X      multiply the harness's phase bounds by X
  --dht-host ADDR        address the relay reaches the harness's DHT nodes at (default 127.0.0.1)
  --only NAME            without --relay: run only 'toxrelay' or 'tox-bootstrapd'
  --relay-log LEVEL      toxrelay's --log-level (default warn)
  --verbose              the harness's progress and toxcore's log on stderr
`;

function fail(message) {
  process.stderr.write(`interop: ${message}\n${USAGE}`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      full: { type: 'boolean' },
      relay: { type: 'string' },
      'file-mib': { type: 'string' },
      hold: { type: 'string' },
      'timeout-scale': { type: 'string' },
      'dht-host': { type: 'string' },
      only: { type: 'string' },
      'relay-log': { type: 'string' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (error) {
  fail(error.message);
}
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

function number(name, max) {
  const text = values[name];
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0 || n > max) fail(`--${name} needs a number 0..${max}, got '${text}'`);
  return n;
}

const options = {
  fileMib: number('file-mib', 1024) ?? (values.full ? 4 : 1),
  hold: number('hold', 86_400) ?? (values.full ? 45 : 0),
  timeoutScale: number('timeout-scale', 100),
  dhtHost: values['dht-host'],
  verbose: values.verbose ?? false,
};
if (options.timeoutScale === 0) fail('--timeout-scale must be more than 0');
if (values.relay !== undefined && !/^.+:\d{1,5}:[0-9A-Fa-f]{64}$/.test(values.relay)) {
  fail(`--relay wants HOST:PORT:KEY (KEY = 64 hex digits), got '${values.relay}'`);
}
const targets = values.relay !== undefined ? ['given'] : ['toxrelay', 'tox-bootstrapd'];
if (values.only !== undefined) {
  if (values.relay !== undefined) fail('--only goes with the default run, not with --relay');
  if (!targets.includes(values.only)) fail(`--only wants toxrelay or tox-bootstrapd, got '${values.only}'`);
  targets.splice(0, targets.length, values.only);
}

const missing = missingToolchain();
if (missing.length > 0) {
  process.stderr.write(`interop: needs gcc libtoxcore-dev libsodium-dev; missing ${missing.join(', ')} (${INSTALL_HINT})\n`);
  process.exit(2);
}

const workDir = await mkdtemp(join(tmpdir(), 'toxrelay-interop-'));
const results = [];
let relay;
let interrupted = false;
const onSignal = () => {
  interrupted = true;
  process.stderr.write('interop: interrupted, stopping\n');
  // The harness child is bounded by its own alarm; the relay we started is stopped in finally.
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

try {
  const harness = await buildHarness(workDir);
  const variant = `file ${options.fileMib} MiB, hold ${options.hold} s${options.timeoutScale ? `, timeout scale ${options.timeoutScale}` : ''}`;
  for (const target of targets) {
    if (interrupted) break;
    let spec = values.relay;
    let label = 'the given relay';
    relay = undefined;
    try {
      if (target === 'toxrelay') {
        relay = await startToxrelay(await mkdtemp(join(workDir, 'toxrelay-')), { logLevel: values['relay-log'] ?? 'warn' });
      } else if (target === 'tox-bootstrapd') {
        relay = await startBootstrapd(await mkdtemp(join(workDir, 'bootstrapd-')));
      }
    } catch (error) {
      process.stdout.write(`\n== ${target}: could not start: ${error.message}\n`);
      results.push({ label: target, run: undefined });
      continue;
    }
    if (relay) {
      spec = relay.spec();
      label = target === 'tox-bootstrapd' ? `tox-bootstrapd (${BOOTSTRAPD})` : 'toxrelay (bin/toxrelay.js)';
    }
    process.stdout.write(`\n== ${label} at ${spec} (${variant})\n`);
    try {
      const run = await runHarness(harness, spec, {
        ...options,
        onStdout: (text) => process.stdout.write(text.replace(/^(?=.)/gm, '   ')),
      });
      if (run.stderr && !options.verbose) process.stdout.write(run.stderr.replace(/^(?=.)/gm, '   stderr: '));
      if (options.verbose) process.stderr.write(run.stderr);
      process.stdout.write(
        `   -> ${run.code === 0 ? 'PASS' : 'FAIL'} (exit ${run.code}${run.signal ? `, ${run.signal}` : ''}, ${run.wallSeconds.toFixed(1)} s)\n`,
      );
      if (run.code !== 0 && relay) {
        const tail = relay.output().trim().split('\n').slice(-20).join('\n');
        if (tail) process.stdout.write(`   last lines of ${relay.name}'s output:\n${tail.replace(/^/gm, '     ')}\n`);
      }
      results.push({ label: relay ? relay.name : 'relay', run });
    } finally {
      await relay?.stop();
      relay = undefined;
    }
  }
} finally {
  await relay?.stop();
  await rm(workDir, { recursive: true, force: true });
}

// The timings side by side: one row per phase, one column per relay.
const header = ['phase', ...results.map((r) => r.label)];
const rows = [header];
const names = PHASES.filter((name) => results.some((r) => r.run?.phases.some((p) => p.name === name)));
for (const name of names) {
  rows.push([
    name,
    ...results.map((r) => {
      const p = r.run?.phases.find((q) => q.name === name);
      return p ? (p.ok ? `${p.seconds.toFixed(2)} s` : 'FAIL') : '-';
    }),
  ]);
}
rows.push(['result', ...results.map((r) => (r.run === undefined ? 'not started' : r.run.code === 0 ? 'PASS' : 'FAIL'))]);
const widths = header.map((_, i) => Math.max(...rows.map((row) => row[i].length)));
process.stdout.write('\n' + rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n');

const allPassed = results.length > 0 && results.every((r) => r.run?.code === 0);
process.exit(allPassed && !interrupted ? 0 : 1);
