// toxrelay bench: payload checks, option parsing and planning, the report, and each workload run
// briefly through the programmatic API against an in-process relay on a real clock. Results are
// checked for sanity (counted, not corrupt, not lost), never for speed.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseBenchArgs } from '../src/bench/args.ts';
import { type CompareReport, type Figure, figures } from '../src/bench/compare.ts';
import { formatResult } from '../src/bench/format.ts';
import { benchOptions, defaultThreads, type Workload } from '../src/bench/options.ts';
import { benchCpu } from '../src/bench/bench-cpu.ts';
import { busyShare } from '../src/bench/proc.ts';
import { crc32, crc32Js, MAX_PAYLOAD_SIZE, MIN_PAYLOAD_SIZE, PayloadKind, PayloadWriter, readPayload } from '../src/bench/payload.ts';
import { formatCompare, prepareOutDir, renderHtml } from '../src/bench/report.ts';
import { bootstrapdVersion, COMPARE_BUSY_POLL_US, startBootstrapd, toxrelayExtraArgs } from '../src/bench/relays.ts';
import { startWorkers } from '../src/bench/pool.ts';
import { type BenchResult, planWorkers, runBench } from '../src/bench/run.ts';
import { CliError, parseCommandLine } from '../src/cli/args.ts';
import { systemClock } from '../src/clock.ts';
import { timed as timedWithin } from './support/process.ts';
import { testRelay } from './support/relay.ts';

const KEY = 'ab'.repeat(32);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Longest one workload test may take; the bench's own phases are bounded well below it. */
const TEST_TIMEOUT_MS = 40_000;

const timed = (body: () => Promise<void>, ms = TEST_TIMEOUT_MS) => timedWithin(body, ms);

// ---- payloads ----

test('payload: what is built reads back, at every size bound, with its kind and sequence number', () => {
  for (const size of [MIN_PAYLOAD_SIZE, 100, 1024, MAX_PAYLOAD_SIZE]) {
    const w = new PayloadWriter(size);
    for (const [kind, seq] of [[PayloadKind.DATA, 0], [PayloadKind.ACK, 1], [PayloadKind.PONG, 0xffffffff]] as const) {
      const bytes = w.build(kind, seq).slice();
      assert.is(bytes.length, size);
      assert.equal(readPayload(bytes), { kind, seq, size });
    }
  }
  assert.throws(() => new PayloadWriter(MIN_PAYLOAD_SIZE - 1), RangeError);
  assert.throws(() => new PayloadWriter(MAX_PAYLOAD_SIZE + 1), RangeError);
});

test('payload: a tampered byte anywhere (header, fill, checksum) is detected as corruption', () => {
  const w = new PayloadWriter(64);
  const good = w.build(PayloadKind.DATA, 12345).slice();
  assert.ok(readPayload(good));
  for (let i = 0; i < good.length; i++) {
    const bad = good.slice();
    bad[i] ^= 0x01;
    assert.is(readPayload(bad), undefined, `flipped bit at byte ${i}`);
  }
  assert.is(readPayload(good.subarray(0, 8)), undefined, 'too short');
  assert.is(readPayload(good.subarray(0, 63)), undefined, 'truncated');
});

test('payload: CRC-32 is the standard one, native and JavaScript alike, and it continues', () => {
  const bytes = new TextEncoder().encode('123456789');
  assert.is(crc32Js(bytes), 0xcbf43926);
  assert.is(crc32(bytes), 0xcbf43926);
  assert.is(crc32(bytes, 4, 9, crc32(bytes, 0, 4)), 0xcbf43926);
  assert.is(crc32Js(bytes, 0, 2, 7), crc32Js(bytes.subarray(2, 7)), 'a range without a view');
  // Long inputs take zlib's native crc32 where Node has it, short ones the table: same results.
  const long = Uint8Array.from({ length: 1000 }, (_, i) => (i * 31 + 7) & 0xff);
  assert.is(crc32(long), crc32Js(long));
  assert.is(crc32(long, 5, 1000, crc32(long, 0, 5)), crc32Js(long));
});

// ---- command line and planning ----

test('toxrelay bench is dispatched with its own arguments, --help included', () => {
  assert.equal(parseCommandLine(['bench', 'latency', '--port', '1', '--help']), { kind: 'bench', args: ['latency', '--port', '1', '--help'] });
  assert.equal(parseBenchArgs(['--help']), { kind: 'help' });
  assert.equal(parseBenchArgs(['help']), { kind: 'help' });
  const run = parseBenchArgs(['throughput', '--port', '33445', '--key', KEY, '--pairs', '7', '--duration', '1.5', '--json']);
  assert.is(run.kind, 'run');
  if (run.kind !== 'run') return;
  assert.is(run.options.pairs, 7);
  assert.is(run.options.durationS, 1.5);
  assert.is(run.options.host, '127.0.0.1');
  assert.is(run.json, true);
  const latency = parseBenchArgs(['latency', '--port', '1', '--key', KEY]);
  assert.is(latency.kind === 'run' && latency.options.pairs, 1, 'latency defaults to one pair');
  const compare = parseBenchArgs(['--compare', 'throughput', '--pairs', '100', '--duration', '5']);
  assert.is(compare.kind, 'compare');
  if (compare.kind === 'compare') {
    assert.equal(compare.compare.workloads, ['throughput']);
    assert.is(compare.compare.base.throughputPairs, 100);
  }
  const bad: string[][] = [
    [],
    ['throughput', '--key', KEY],
    ['throughput', '--port', '1'],
    ['warp', '--port', '1', '--key', KEY],
    ['throughput', '--port', '1', '--key', 'abc'],
    ['throughput', '--port', '1', '--key', KEY, '--host', '10.1.2.3'],
    ['throughput', '--port', '1', '--key', KEY, '--size', '5'],
    ['throughput', '--port', '1', '--key', KEY, '--duration', 'x'],
    ['throughput', '--port', '1', '--key', KEY, '--bogus'],
    ['--compare', '--port', '1'],
  ];
  for (const args of bad) assert.throws(() => parseBenchArgs(args), (e: unknown) => e instanceof CliError && !/\n/.test((e as Error).message), args.join(' '));
});

test('--compare holds 10,000 connections, or what the open-files limit lets each relay hold', () => {
  const connections = (args: string[], soft: number | null) => {
    const c = parseBenchArgs(['--compare', '--threads', '1', ...args], soft === null ? null : { soft, hard: soft });
    assert.ok(c.kind === 'compare');
    return { connections: c.compare.base.connections, notes: c.compare.notes };
  };
  assert.equal(connections([], 20_000), { connections: 10_000, notes: [] });
  assert.equal(connections([], null), { connections: 10_000, notes: [] }, 'no limit known (not Linux)');
  const low = connections(['connect'], 4096);
  assert.is(low.connections, 3000);
  assert.is(low.notes.length, 1);
  assert.match(low.notes[0]!, /^connect: 3000 connections, not 10000: the open-files limit is 4096; raise it \(ulimit -n\)/);
  const small = connections(['--connections', '2000'], 4096);
  assert.is(small.connections, 2000, 'an explicit count that fits');
  assert.match(small.notes.join('\n'), /^connect: memory per connection at 2000 connections includes a relay's one-time costs/);
  assert.equal(connections(['--connections', '12000'], 20_000), { connections: 12_000, notes: [] });
  assert.throws(
    () => parseBenchArgs(['--compare', '--threads', '1', '--connections', '5000'], { soft: 4096, hard: 4096 }),
    (e: unknown) => e instanceof CliError && /--connections 5000 does not fit the open-files limit of 4096 .*at most 3496/.test((e as Error).message),
  );
  // Each worker's warm-up connections stay open at tox-bootstrapd: four workers leave less room.
  assert.throws(
    () => parseBenchArgs(['--compare', '--threads', '4', '--connections', '3000'], { soft: 4096, hard: 4096 }),
    (e: unknown) => e instanceof CliError && /at most 1996/.test((e as Error).message),
  );
  assert.equal(connections(['throughput'], 1024), { connections: 10_000, notes: [] }, 'no connect run, no limit to respect');
  const plain = parseBenchArgs(['connect', '--port', '1', '--key', KEY], { soft: 1024, hard: 1024 });
  assert.is(plain.kind === 'run' && plain.options.connections, 1000, 'a single connect run keeps its own default');
});

test('the table names one worker in the singular and brackets an IPv6 target', () => {
  const r: BenchResult = {
    workload: 'connect', target: { host: '::1', port: 33445 }, startedAt: 'x', options: { connections: 5, concurrency: 2, holdS: 0 },
    workers: { mode: 'threads', count: 1 }, warnings: [], errors: [],
  };
  const text = formatResult(r);
  assert.match(text, /^toxrelay bench: connect → \[::1\]:33445$/m);
  assert.match(text, /; 1 worker thread$/m);
  assert.match(formatResult({ ...r, workers: { mode: 'processes', count: 3 } }), /; 3 worker processes$/m);
  assert.match(formatResult({ ...r, workers: { mode: 'processes', count: 1 } }), /; 1 worker process$/m);
});

test('default workers: one per CPU, less one for a relay on this machine', () => {
  assert.is(defaultThreads('127.0.0.1', 2), 1);
  assert.is(defaultThreads('::1', 8), 7);
  assert.is(defaultThreads('localhost', 1), 1, 'never none');
  assert.is(defaultThreads('192.0.2.7', 2), 2, 'a remote relay has CPUs of its own');
  assert.is(benchOptions({ host: '127.0.0.1', port: 1, keyHex: KEY, workload: 'throughput' }).threads, defaultThreads('127.0.0.1'));
});

test('workers: threads by default, processes above 15,000 sockets (one process has 20,000 fds)', () => {
  const base = { host: '127.0.0.1', port: 1, keyHex: KEY, threads: 2 };
  assert.equal(planWorkers(benchOptions({ ...base, workload: 'throughput', pairs: 101 })), { mode: 'threads', shares: [51, 50] });
  assert.equal(planWorkers(benchOptions({ ...base, workload: 'latency', pairs: 1 })), { mode: 'threads', shares: [1] });
  assert.equal(planWorkers(benchOptions({ ...base, workload: 'connect', connections: 10_000 })), { mode: 'threads', shares: [5000, 5000] });
  const many = planWorkers(benchOptions({ ...base, workload: 'connect', connections: 40_000 }));
  assert.is(many.mode, 'processes');
  assert.is(many.shares.length, 3);
  assert.ok(many.shares.every((n) => n <= 15_000));
  assert.is(planWorkers(benchOptions({ ...base, workload: 'connect', processes: 1 })).mode, 'processes');
  assert.is(planWorkers(benchOptions({ ...base, workload: 'connect', threads: 0 })).mode, 'inline');
});

// ---- workloads against a real relay ----

async function bench(workload: Workload, extra: Partial<Parameters<typeof benchOptions>[0]> = {}): Promise<BenchResult> {
  const relay = await testRelay({ clock: systemClock, autoTimers: true });
  try {
    return await runBench(
      benchOptions({
        workload,
        host: '127.0.0.1',
        port: relay.port,
        keyHex: Buffer.from(relay.publicKey).toString('hex'),
        threads: 1,
        durationS: 1,
        warmupS: 0.3,
        timeoutS: 20,
        serverPid: process.pid,
        ...extra,
      }),
    );
  } finally {
    await relay.close();
  }
}

test(
  'throughput: packets relayed both ways, none lost, none corrupt, no stall',
  timed(async () => {
    const r = await bench('throughput', { pairs: 2, window: 8, size: 512 });
    assert.equal(r.errors, []);
    const t = r.throughput!;
    assert.is(t.pairs, 2);
    assert.is(t.failedPairs, 0);
    assert.ok(t.packets > 0, 'packets counted in the window');
    assert.ok(t.received > 0 && t.received <= t.sent);
    assert.is(t.corrupt, 0);
    assert.is(t.lost, 0);
    assert.is(t.outOfOrder, 0);
    assert.is(t.unresolved, 0, 'every packet sent was received by the end of the drain');
    assert.is(t.stalledPairs, 0);
    assert.is(t.payloadBytes, t.packets * 512);
    assert.ok(t.perPairPerS && t.perPairPerS.min > 0);
    assert.ok(r.cpu && r.cpu.perWorkerS.length === 1);
    assert.ok(r.server?.before && r.server.after, 'server memory read from /proc');
    const box = r.server!.boxCost!;
    assert.is(box.plaintextBytes, 513, 'a data packet: conn_id + payload');
    assert.ok(box.sealUs > 0 && box.openUs > 0);
    assert.is(r.server!.cpuPerBoxOps, Math.round((r.server!.cpuUsPerPacket! / (box.sealUs + box.openUs)) * 1000) / 1000);
    assert.match(formatResult(r), /relayed .* packets\/s/);
    assert.match(formatResult(r), /× the packet's seal \+ open/);
  }),
);

test(
  'latency: round trips sampled, none timed out or corrupt',
  timed(async () => {
    const r = await bench('latency', { pairs: 1 });
    assert.equal(r.errors, []);
    const l = r.latency!;
    assert.ok(l.count > 0, 'samples');
    assert.ok(l.minUs > 0 && l.minUs <= l.p50Us && l.p50Us <= l.p90Us && l.p90Us <= l.p99Us && l.p99Us <= l.maxUs);
    assert.is(l.timeouts, 0);
    assert.is(l.corrupt, 0);
    assert.match(formatResult(r), /RTT p99/);
    // The worker polls rather than sleeps; one pair leaves it turns with nothing to do, which are not work.
    assert.ok(r.cpu!.pollingS! > 0, `polling time: ${r.cpu!.pollingS}`);
    // Counted as work, polling would read ~100 %; one pair leaves the worker idle much of the time.
    assert.ok(r.cpu!.utilization < 0.9, `worker utilisation without polling: ${r.cpu!.utilization}`);
    assert.match(formatResult(r), /not counting [\d.]+ s polling idle/);
  }),
);

test(
  'connect: every connection opens, is held and still answers after the hold; memory per connection reported',
  timed(async () => {
    const r = await bench('connect', { connections: 50, concurrency: 16, holdS: 0.2, threads: 2, warmupS: 5 });
    assert.equal(r.errors, []);
    const k = r.connect!;
    assert.is(k.requested, 50);
    assert.is(k.ok, 50);
    assert.is(k.failed, 0);
    assert.is(k.alive, 50);
    assert.is(k.warmedUp, 50, 'each worker first opened and closed as many as it then measured');
    assert.ok(k.handshakesPerS > 0);
    assert.ok(r.server?.bytesPerConnection !== undefined);
    assert.is(r.workers.count, 2);
    assert.match(formatResult(r), /warm-up +50 connections opened and closed/);
    const cold = await bench('connect', { connections: 5, holdS: 0, warmupS: 0 });
    assert.is(cold.connect!.warmedUp, 0);
    assert.is(cold.connect!.ok, 5);
  }),
);

test(
  'in-process mode (--threads 0) runs the same worker code',
  timed(async () => {
    const r = await bench('throughput', { pairs: 1, threads: 0, durationS: 0.5 });
    assert.equal(r.errors, []);
    assert.is(r.workers.mode, 'inline');
    assert.ok(r.throughput!.packets > 0);
    assert.is(r.throughput!.corrupt, 0);
  }),
);

test(
  'a relay that is not there: the failures are reported, nothing hangs',
  timed(async () => {
    const relay = await testRelay({ clock: systemClock, autoTimers: true });
    const port = relay.port;
    await relay.close();
    const r = await runBench(benchOptions({ workload: 'connect', host: '127.0.0.1', port, keyHex: KEY, connections: 5, threads: 1, holdS: 0 }));
    assert.is(r.connect!.ok, 0);
    assert.is(r.connect!.failed, 5);
    assert.is(r.connect!.warmedUp, 0, 'the warm-up stopped at its first failure and counted nothing');
    assert.equal(r.errors, ['no connection could be opened: ECONNREFUSED ×5']);
  }),
);

test(
  'a relay that accepts and never answers: set-up and opening end at the phase deadline, reported as failures',
  timed(async () => {
    const sockets = new Set<Socket>();
    const server = createServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const base = { host: '127.0.0.1', port, keyHex: KEY, threads: 1, timeoutS: 2, holdS: 0, durationS: 0.5, warmupS: 0 };
      const k = await runBench(benchOptions({ ...base, workload: 'connect', connections: 4 }));
      assert.is(k.connect!.ok, 0);
      assert.is(k.connect!.failed, 4);
      // The connect warm-up stays inside the set-up deadline: the run still ends with its counts.
      const warm = await runBench(benchOptions({ ...base, workload: 'connect', connections: 4, warmupS: 2 }));
      assert.match(warm.errors.join('\n'), /^no connection could be opened: \w+ ×4$/);
      assert.is(warm.connect!.failed, 4);
      assert.is(warm.connect!.warmedUp, 0);
      const t = await runBench(benchOptions({ ...base, workload: 'throughput', pairs: 2 }));
      assert.is(t.throughput!.pairs, 0);
      assert.is(t.throughput!.failedPairs, 2);
      assert.match(t.errors.join('\n'), /^no pair could be set up: \w+ ×2$/);
      assert.match(k.errors.join('\n'), /^no connection could be opened: \w+ ×4$/);
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  }),
);

test(
  'a relay that refuses some connections: the run fails, and says for how many the figures stand',
  timed(async () => {
    const relay = await testRelay({ clock: systemClock, autoTimers: true, maxPerIp: 2 });
    try {
      const base = { host: '127.0.0.1', port: relay.port, keyHex: Buffer.from(relay.publicKey).toString('hex'), threads: 1, perSource: 0, holdS: 0, warmupS: 0 };
      const k = await runBench(benchOptions({ ...base, workload: 'connect', connections: 4, concurrency: 1 }));
      assert.is(k.connect!.ok, 2);
      assert.match(k.errors.join('\n'), /^2 of 4 connection\(s\) failed: (\w+ ×\d(, )?)+; the figures are for 2/);
      if (k.connect!.failures.CLOSED) assert.match(k.errors[0]!, /every socket came from one address.*--per-source above 0/, 'the likely cause: one source address');
      const t = await runBench(benchOptions({ ...base, workload: 'throughput', pairs: 2, durationS: 0.3 }));
      // Which sockets the cap refuses depends on timing: one pair or both fail.
      assert.ok(t.throughput!.failedPairs >= 1);
      assert.match(t.errors.join('\n'), /^(no pair could be set up|1 of 2 pair\(s\) failed to set up): .*every socket came from one address/);
    } finally {
      await relay.close();
    }
  }),
);

test(
  'a wrong --key: every connection closed at the hello, and the error asks about the key',
  timed(async () => {
    const relay = await testRelay({ clock: systemClock, autoTimers: true });
    try {
      const r = await runBench(benchOptions({ workload: 'connect', host: '127.0.0.1', port: relay.port, keyHex: KEY, connections: 3, threads: 1, holdS: 0, warmupS: 0 }));
      assert.is(r.connect!.ok, 0);
      assert.match(r.errors.join('\n'), /^no connection could be opened: CLOSED ×3 \(.*is --key the relay's public key\?\)$/);
    } finally {
      await relay.close();
    }
  }),
);

test('--server-pid of no process is an error before any load', async () => {
  const started = performance.now();
  const r = await runBench(benchOptions({ workload: 'connect', host: '127.0.0.1', port: 1, keyHex: KEY, serverPid: 2 ** 31 - 1 }));
  assert.equal(r.errors, [`--server-pid ${2 ** 31 - 1}: there is no such process`]);
  assert.is(r.connect, undefined);
  assert.ok(performance.now() - started < 1000, 'no worker was started');
});

test(
  'a relay that stops forwarding mid-run: a --timeout shorter than the drain still gets the result',
  timed(async () => {
    const relay = await testRelay({ clock: systemClock, autoTimers: true });
    // A proxy that can be frozen: bytes stop flowing both ways, as from a stopped relay.
    let frozen = false;
    const held = new Set<Socket>();
    const proxy = createServer((client) => {
      const upstream = createConnection({ host: '127.0.0.1', port: relay.port });
      held.add(client).add(upstream);
      for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
        from.on('data', (bytes) => {
          if (!frozen) to.write(bytes);
        });
        from.on('error', () => {});
        from.on('close', () => to.destroy());
      }
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const port = (proxy.address() as { port: number }).port;
      // Frozen 300 ms into the measured window, however long set-up took.
      let freeze: NodeJS.Timeout | undefined;
      const r = await runBench(
        benchOptions({ workload: 'throughput', host: '127.0.0.1', port, keyHex: Buffer.from(relay.publicKey).toString('hex'), pairs: 2, threads: 1, warmupS: 0.2, durationS: 1, timeoutS: 1, stallS: 0.5 }),
        { onProgress: (view) => void (view.phase === 'measure' && (freeze ??= setTimeout(() => (frozen = true), 300))) },
      );
      clearTimeout(freeze);
      assert.ok(frozen);
      assert.ok(!r.errors.some((e) => /sent no 'result'/.test(e)), r.errors.join('; '));
      assert.is(r.throughput!.pairs, 2);
      assert.ok(r.throughput!.packets > 0, 'packets before the freeze are counted');
      assert.match(r.warnings.join('\n'), /2 pair\(s\) stalled/);
    } finally {
      for (const s of held) s.destroy();
      proxy.close();
      await relay.close();
    }
  }),
);

test('--compare: an unwritable --out and a missing --bootstrapd are refused before any run', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'toxrelay-out-'));
  try {
    const file = join(dir, 'a-file');
    await writeFile(file, 'x');
    const refused = await prepareOutDir(file).then(() => undefined, (e: Error) => e.message);
    assert.match(refused ?? 'written', /^bench: --out .*a-file: cannot write a report there \(E\w+\)$/);
    await prepareOutDir(join(dir, 'new', 'deeper'));
    assert.equal(await readdir(join(dir, 'new', 'deeper')), [], 'made, and the probe is gone');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  // A path that exists but cannot be run: the run fails with a reason, the bench does not crash.
  const dir2 = await mkdtemp(join(tmpdir(), 'toxrelay-bd-'));
  try {
    const failed = await startBootstrapd(dir2, join(dir2, 'run')).then(() => 'started', (e: Error) => e.message);
    assert.match(failed, /^tox-bootstrapd did not start: .*cannot start .*EACCES/);
  } finally {
    await rm(dir2, { recursive: true, force: true });
  }
  assert.throws(() => parseBenchArgs(['--compare', '--bootstrapd', '/nonexistent/tox-bootstrapd']), (e: unknown) => e instanceof CliError && /--bootstrapd \/nonexistent\/tox-bootstrapd does not exist/.test((e as Error).message));
});

test(
  '--compare stopped by SIGTERM stops its relays, removes their keys and exits 143',
  timed(async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'toxrelay-sig-'));
    const bench = spawn(process.execPath, [join(ROOT, 'bin/toxrelay.js'), 'bench', '--compare', 'connect', '--connections', '50', '--hold', '60', '--quiet', '--out', join(tmp, 'out')], {
      env: { ...process.env, TMPDIR: tmp },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    bench.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => bench.once('exit', (code) => resolve(code)));
    try {
      // The relay it started: a child process of the bench, holding its connections for 60 s.
      let relayPid: number | undefined;
      for (let i = 0; i < 150 && relayPid === undefined; i++) {
        await new Promise((r) => setTimeout(r, 100));
        // Not the `toxrelay --help` it runs first to learn the checkout's flags.
        relayPid = childPids(bench.pid!).find((pid) => cmdline(pid).includes('--keys'));
      }
      assert.ok(relayPid, 'the bench started a relay');
      assert.ok((await readdir(tmp)).some((d) => d.startsWith('toxrelay-bench-')), 'with a directory of its own');
      await new Promise((r) => setTimeout(r, 1500)); // into the run
      bench.kill('SIGTERM');
      assert.is(await exited, 143);
      assert.match(stderr, /bench: SIGTERM: stopping the relays; no report is written/);
      assert.not.ok(existsSync(`/proc/${relayPid}`), 'the relay was stopped');
      assert.equal((await readdir(tmp)).filter((d) => d !== 'out'), [], 'keys and configs removed');
    } finally {
      bench.kill('SIGKILL');
      await rm(tmp, { recursive: true, force: true });
    }
  }, 30_000),
);

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return ''; // gone meanwhile
  }
}

test('once an interrupted comparison has stopped its relays, no relay is started after (in a process of its own)', () => {
  // The registry is per process, and stopping is for good: a child process keeps this one's intact.
  const code = `
    import { stopLiveRelays, startToxrelay, startBootstrapd } from ${JSON.stringify(join(ROOT, 'src/bench/relays.ts'))};
    await stopLiveRelays();
    for (const start of [() => startToxrelay('/nonexistent/a'), () => startBootstrapd('/bin/true', '/nonexistent/b')]) {
      console.log(await start().then(() => 'started', (e) => e.message));
    }`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
  assert.equal(out.trim().split('\n'), ['toxrelay not started: the comparison is stopping', 'tox-bootstrapd not started: the comparison is stopping']);
});

/** The PIDs whose parent is `pid` (Linux /proc). */
function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

// ---- the comparison report ----

test('report: figures, ratios, a table and a self-contained HTML page with SVG charts', () => {
  const result = (relay: 'toxrelay' | 'tox-bootstrapd', packetsPerS: number): BenchResult => ({
    workload: 'throughput',
    target: { host: '127.0.0.1', port: 1 },
    startedAt: '2026-01-01T00:00:00Z',
    options: {},
    workers: { mode: 'threads', count: 2 },
    throughput: {
      pairs: 100, failedPairs: 0, setupErrors: {}, windowS: 5, packets: packetsPerS * 5, packetsPerS, payloadBytes: 0,
      megabytesPerS: packetsPerS / 1000, perPairPerS: { min: 1, median: 2, max: 3 }, sent: 10, received: 10, lost: 0,
      lossRatio: 0, outOfOrder: 0, corrupt: 0, unresolved: 0, acks: 0, probes: 0, closedPairs: 0, stalledPairs: 0, stalls: [],
    },
    warnings: relay === 'tox-bootstrapd' ? ['1 pair(s) stalled <x>'] : [],
    errors: [],
    server: {
      pid: 1,
      alive: true,
      cpuUsPerPacket: relay === 'toxrelay' ? 16 : 48,
      cpuPerBoxOps: relay === 'toxrelay' ? 16 / 12 : 48 / 8,
      boxCost: relay === 'toxrelay' ? { plaintextBytes: 1025, sealUs: 6, openUs: 6 } : { plaintextBytes: 1025, sealUs: 4, openUs: 4 },
    },
  });
  const runs = [
    { relay: 'toxrelay' as const, round: 1, workload: 'throughput' as const, command: ['node', 'toxrelay.js', '--port', '4001', '--keys', '/tmp/x/toxrelay-1/keys'], result: result('toxrelay', 30_000) },
    { relay: 'tox-bootstrapd' as const, round: 1, workload: 'throughput' as const, command: ['tox-bootstrapd', '--config=/tmp/x/tox-bootstrapd-2/tox-bootstrapd.conf'], result: result('tox-bootstrapd', 10_000) },
  ];
  const figs = figures(runs, ['toxrelay', 'tox-bootstrapd']);
  const pps = figs.find((f) => f.id === 'throughput.packetsPerS')!;
  assert.is(pps.ratio, 3);
  // Each run timed its own yardstick; the steadier figure divides by the fastest of them (8 µs).
  const fastest = figs.find((f) => f.id === 'throughput.cpuPerFastestBoxOps')!;
  assert.equal(fastest.values, { toxrelay: [2], 'tox-bootstrapd': [6] });
  assert.is(fastest.ratio, undefined, 'figures relative to a yardstick get no ratio of ratios');
  assert.is(figs.find((f) => f.id === 'throughput.cpuPerBoxOps')!.ratio, undefined);
  // A run in which no pair came up carries zeros, a partial one fewer pairs: both stay out of the means.
  const failed = result('toxrelay', 0);
  failed.throughput = { ...failed.throughput!, pairs: 0, failedPairs: 100 };
  failed.errors = ['no pair could be set up: CLOSED ×100'];
  const partial = result('toxrelay', 20_000);
  partial.errors = ['3 of 100 pair(s) failed to set up: CLOSED ×3; the figures are for 97'];
  const withFailed = figures([...runs, { ...runs[0]!, round: 2, result: failed }, { ...runs[0]!, round: 3, result: partial }], ['toxrelay', 'tox-bootstrapd']);
  assert.equal(withFailed.find((f) => f.id === 'throughput.packetsPerS')!.values.toxrelay, [30_000]);
  // Loss where tox-bootstrapd lost nothing: no ratio, but toxrelay is marked worse in words.
  const lossy = result('toxrelay', 30_000);
  lossy.throughput = { ...lossy.throughput!, lost: 1, lossRatio: 0.1 };
  const lossFigs = figures([{ ...runs[0]!, result: lossy }, runs[1]!], ['toxrelay', 'tox-bootstrapd']);
  const lossReport = (figs: Figure[]): CompareReport => ({ ...report, figures: figs });
  const parsed = parseBenchArgs(['--compare']);
  assert.ok(parsed.kind === 'compare');
  const report: CompareReport = {
    tool: 'test',
    startedAt: 'a',
    finishedAt: 'b',
    machine: { cpuModel: 'cpu', cpus: 2, node: 'v20', kernel: 'k', memoryGiB: 1, loadavg: [0, 0, 0], loopbackMtu: 65536 },
    options: { ...parsed.compare, notes: ['connect: fewer <connections>'] },
    relays: ['toxrelay', 'tox-bootstrapd'],
    versions: { toxrelay: '0.1.0', 'tox-bootstrapd': '0.2.18' },
    skipped: [],
    runs,
    figures: figs,
  };
  const html = renderHtml(report);
  assert.match(formatCompare(lossReport(lossFigs)), /Packets lost.*10\.0?\b.*0 .*\(tox-bootstrapd better\)/);
  assert.match(renderHtml(lossReport(lossFigs)), /<p class="warn">Packets lost \(dropped by the relay\), whole run: toxrelay 10.* %, tox-bootstrapd 0 \(no ratio\)\.<\/p>/);
  assert.match(html, /^<!doctype html>/);
  assert.ok((html.match(/<svg /g) ?? []).length >= 3, 'a summary chart and one chart per figure');
  assert.match(html, /3\.00×/);
  assert.match(html, /tox-bootstrapd 0\.2\.18/);
  assert.match(html, /<h2>Relays<\/h2>\s*<table><tr><td>toxrelay \(throughput\)<\/td><td class="num"><code>node toxrelay\.js --port P --keys DIR\/keys<\/code>/, 'each relay\'s command lines');
  assert.match(html, /<code>tox-bootstrapd --config=DIR\/tox-bootstrapd\.conf<\/code>/);
  assert.match(html, /stalled &lt;x&gt;/, 'text is escaped');
  assert.match(html, /<p class="warn">Note: connect: fewer &lt;connections&gt;<\/p>/, "the comparison's notes");
  assert.match(formatCompare(report), /^note: connect: fewer <connections>$/m);
  assert.not.match(html, /<script|https?:\/\/(?!www\.w3\.org)/, 'self-contained');
  assert.match(formatCompare(report), /Relayed packets per second.*30,000.*10,000.*3\.00×/);
  assert.is(bootstrapdVersion(['Running "tox-bootstrapd" version 1000002018.']), '0.2.18');
});

test("the machine's busy share leaves out CPU known not to be work (a latency worker's polling)", () => {
  const before = { busy: 1000, total: 2000 };
  const after = { busy: 1150, total: 2200 }; // 200 ticks on all CPUs, 150 of them busy
  assert.is(busyShare(before, after), 0.75);
  assert.is(busyShare(before, after, 0.5), 0.5, '0.5 s = 50 ticks of polling');
  assert.is(busyShare(before, after, 10), 0, 'never below 0');
  assert.is(busyShare(after, before), undefined, 'no time passed');
});

test("the bench's CPU: polling is not work, worker processes add their whole CPU, a worker ≥ 90 % busy is the limit", () => {
  // One latency thread worker: 8 s of CPU in a 10 s window, 5 s of it (wall clock) in turns polling
  // with nothing to do, on a CPU 80 % of the time: 4 s of CPU polling.
  const latency = benchCpu({
    samples: [{ wallS: 10, threadS: 8, processS: 99, elu: 1, pollingS: 5 }],
    mode: 'threads',
    windowS: 10,
    coordinatorS: 7, // the process: coordinator and thread worker together
    machineFrom: { busy: 0, total: 0 },
    machineTo: { busy: 1500, total: 2000 }, // 2 CPUs × 10 s × 100 ticks, 75 % busy
    polls: true,
  });
  assert.equal(latency.perWorkerS, [4]);
  assert.is(latency.utilization, 0.4);
  assert.is(latency.pollingS, 4);
  assert.is(latency.benchS, 7);
  assert.is(latency.machineBusy, 0.55, '(1500 − 4 s × 100 ticks) / 2000');
  assert.not.ok(latency.limited);
  // Two worker processes, busy: their CPU is not in the coordinator's, and they were the limit.
  const busy = benchCpu({
    samples: [{ wallS: 10, processS: 9.5, elu: 1 }, { wallS: 10, processS: 9.6, elu: 1 }],
    mode: 'processes',
    windowS: 10,
    coordinatorS: 0.5,
    polls: false,
  });
  assert.is(busy.benchS, 19.6);
  assert.is(busy.utilization, 0.955);
  assert.ok(busy.limited);
  assert.not.ok('pollingS' in busy);
  assert.not.ok('machineBusy' in busy, 'no /proc/stat samples');
  // More polling than the window (12 s of 10 at a 10 % CPU share: 1.2 s of 1): never below zero.
  assert.equal(benchCpu({ samples: [{ wallS: 10, threadS: 1, processS: 1, elu: 1, pollingS: 12 }], mode: 'threads', windowS: 10, coordinatorS: 1, polls: true }).perWorkerS, [0]);
});

for (const mode of ['threads', 'processes'] as const) {
  test(`bench worker ${mode} get a 16 MiB semi-space, so that their own scavenges do not set the reported p99`, async () => {
    const [worker] = await startWorkers(mode, 1, 30_000);
    try {
      assert.ok(worker!.youngGenerationBytes >= 16 * 1024 * 1024, `new space ${worker!.youngGenerationBytes} bytes`);
    } finally {
      await worker!.close(5_000);
    }
  });
}

test("--compare runs this checkout's toxrelay with a free UDP port that may reach this machine, and with --busy-poll for latency only", async () => {
  const extra = await toxrelayExtraArgs();
  assert.equal(extra, { all: ['--udp-port', '0', '--udp-to-this-host'], latency: ['--busy-poll', String(COMPARE_BUSY_POLL_US)] });
});

test.run();
