// `toxrelay testbed`: the page server (and the relay it starts), run as a child process from the
// sources; a Node WebSocket client goes through that relay as the page's clients do.
// Needs the page built (npm run build; `npm test` builds first).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WebSocket } from 'ws';
import { RelayClient } from '../src/client/index.ts';
import { connectWebSocket, type WebSocketConstructor } from '../src/client/ws.ts';
import { parseTestbedArgs } from '../src/testbed/command.ts';
import { CliError } from '../src/cli/args.ts';
import { freePort, timed as timedWithin } from './support/process.ts';

const timed = (body: () => Promise<void>, ms = TEST_TIMEOUT_MS) => timedWithin(body, ms);

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUN = join(ROOT, 'src/cli/run.ts');
const TEST_TIMEOUT_MS = 30_000;


interface Running {
  child: ChildProcess;
  pageUrl: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `toxrelay testbed ARGS` and waits for its "Testbed: URL" line. */
async function startTestbed(args: string[]): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', RUN, 'testbed', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  child.stderr!.on('data', (chunk) => (err += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const pageUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "Testbed:" line within 20 s; stdout: ${out} stderr: ${err}`)), 20_000);
    const check = () => {
      const match = /^Testbed: (http:\/\/\S+)$/m.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', check);
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`testbed exited (${code}) before it was ready; stderr: ${err}`));
    });
  });
  return { child, pageUrl, stdout: () => out, stderr: () => err, exited };
}

function kill(running: Running | undefined): void {
  if (running && running.child.exitCode === null && running.child.signalCode === null && running.child.pid) {
    try {
      process.kill(running.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

test.before(() => {
  for (const file of ['index.html', 'app.js', 'style.css', 'core.wasm']) {
    if (!existsSync(join(ROOT, 'build/testbed', file))) throw new Error(`build/testbed/${file} is missing: run \`npm run build\` first`);
  }
});

test(
  'testbed serves the page, config.json names its relay, a WebSocket client goes through it, SIGTERM stops it',
  timed(async () => {
    const port = await freePort();
    let running: Running | undefined;
    const clients: RelayClient[] = [];
    try {
      running = await startTestbed(['--port', String(port)]);
      assert.is(running.pageUrl, `http://127.0.0.1:${port}/`);

      const expected: Array<[string, RegExp]> = [
        ['', /^text\/html/],
        ['index.html', /^text\/html/],
        ['app.js', /^text\/javascript/],
        ['style.css', /^text\/css/],
        ['core.wasm', /^application\/wasm$/],
      ];
      for (const [path, type] of expected) {
        const response = await fetch(running.pageUrl + path);
        assert.is(response.status, 200, path);
        assert.match(response.headers.get('content-type') ?? '', type, path);
        const body = new Uint8Array(await response.arrayBuffer());
        if (path === 'core.wasm') assert.equal([...body.subarray(0, 4)], [0x00, 0x61, 0x73, 0x6d], 'wasm magic');
        if (path === '' || path === 'index.html') {
          const html = new TextDecoder().decode(body);
          for (const id of ['create-clients', 'link', 'send', 'send-oob', 'burst', 'mode-server', 'mode-inpage']) assert.ok(html.includes(`data-testid="${id}"`), id);
        }
      }
      assert.is((await fetch(`${running.pageUrl}nothing.js`)).status, 404);
      assert.is((await fetch(`${running.pageUrl}%2e%2e/%2e%2e/package.json`)).status, 404);

      const configResponse = await fetch(`${running.pageUrl}config.json`);
      assert.match(configResponse.headers.get('content-type') ?? '', /^application\/json/);
      const config = (await configResponse.json()) as { wsUrl: string; publicKey: string; managed: boolean };
      assert.match(config.wsUrl, /^ws:\/\/127\.0\.0\.1:\d+\/$/);
      assert.match(config.publicKey, /^[0-9A-Fa-f]{64}$/);
      assert.is(config.managed, true);
      assert.ok(running.stdout().includes(config.wsUrl), 'the relay URL is printed');

      const serverPublicKey = Uint8Array.from(config.publicKey.match(/../g)!.map((h) => parseInt(h, 16)));
      for (let i = 0; i < 2; i++) {
        const transport = await connectWebSocket(config.wsUrl, WebSocket as unknown as WebSocketConstructor);
        const client = await RelayClient.create({ transport, serverPublicKey });
        clients.push(client);
        await client.connect();
        assert.is(client.state, 'confirmed');
      }
      // And the two link and exchange data through it, as two clients of the page do.
      const [a, b] = clients as [RelayClient, RelayClient];
      const onlineA = a.waitFor('connectNotification');
      const onlineB = b.waitFor('connectNotification');
      a.routingRequest(b.publicKey);
      b.routingRequest(a.publicKey);
      const { connId } = await onlineA;
      await onlineB;
      const arrived = b.waitFor('data');
      a.sendData(connId, new TextEncoder().encode('hello'));
      assert.is(new TextDecoder().decode((await arrived).data), 'hello');
      for (const client of clients) client.close();

      running.child.kill('SIGTERM');
      const { code } = await running.exited;
      assert.is(code, 0, `exit code after SIGTERM (stderr: ${running.stderr()})`);
      assert.is(running.stderr(), '');
    } finally {
      for (const client of clients) client.close();
      kill(running);
    }
  }),
);

test(
  'testbed --relay-url/--relay-key points the page at that relay',
  timed(async () => {
    const port = await freePort();
    const key = 'ab'.repeat(32);
    let running: Running | undefined;
    try {
      running = await startTestbed(['--port', String(port), '--relay-url', 'ws://127.0.0.1:9/', '--relay-key', key]);
      const config = (await (await fetch(`${running.pageUrl}config.json`)).json()) as { wsUrl: string; publicKey: string; managed: boolean };
      assert.equal(config, { wsUrl: 'ws://127.0.0.1:9/', publicKey: key.toUpperCase(), managed: false });
      running.child.kill('SIGINT');
      assert.is((await running.exited).code, 0);
    } finally {
      kill(running);
    }
  }),
);

test(
  'testbed: a port in use is one line and exit 1',
  timed(async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        execFile(process.execPath, ['--import', 'tsx', RUN, 'testbed', '--port', String(port)], { cwd: ROOT, timeout: 20_000, killSignal: 'SIGKILL' }, (err, _stdout, stderr) => {
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stderr });
        });
      });
      assert.is(result.code, 1);
      assert.match(result.stderr, /^toxrelay: HTTP port \d+ on 127\.0\.0\.1 is already in use \(EADDRINUSE\)/);
      assert.is(result.stderr.trim().split('\n').length, 1);
    } finally {
      blocker.close();
    }
  }),
);

test('testbed flags: defaults, and one-line usage errors', () => {
  assert.equal(parseTestbedArgs([]), { kind: 'run', config: { port: 8080, host: '127.0.0.1' } });
  assert.equal(parseTestbedArgs(['--help']), { kind: 'help' });
  const bad: Array<[string[], RegExp]> = [
    [['--port', 'x'], /^--port: expected an HTTP port/],
    [['--port', '70000'], /^--port: expected an HTTP port/],
    [['--host', 'example.org'], /^--host: expected an IPv4 or IPv6 address/],
    [['--relay-url', 'ws://127.0.0.1:1/'], /^--relay-url and --relay-key go together/],
    [['--relay-url', 'http://x/', '--relay-key', 'ab'.repeat(32)], /^--relay-url: expected a ws:\/\/ or wss:\/\/ URL/],
    [['--relay-url', 'ws://127.0.0.1:1/', '--relay-key', 'abc'], /^--relay-key: expected 64 hex digits/],
    [['--bogus'], /^unknown option --bogus for testbed/],
    [['extra'], /^testbed takes no arguments/],
  ];
  for (const [args, pattern] of bad) {
    try {
      parseTestbedArgs(args);
      assert.unreachable(`accepted ${args.join(' ')}`);
    } catch (error) {
      assert.instance(error, CliError, args.join(' '));
      assert.match((error as Error).message, pattern);
    }
  }
});

test.run();
