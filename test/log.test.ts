// The logger: pino JSON lines off a TTY, readable lines on one; levels; stdout/stderr split.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger, defaultLogFormat, silentLogger, type LogLevel } from '../src/log.ts';

interface Capture {
  lines: string[];
  readonly isTTY?: boolean;
  write(s: string): boolean;
}

function sink(isTTY?: boolean): Capture {
  const lines: string[] = [];
  return {
    lines,
    ...(isTTY === undefined ? {} : { isTTY }),
    write(s: string) {
      assert.ok(s.endsWith('\n'), `one line per write: ${JSON.stringify(s)}`);
      lines.push(s.slice(0, -1));
      return true;
    },
  };
}

function logAll(level: LogLevel, isTTY?: boolean) {
  const out = sink(isTTY);
  const err = sink(isTTY);
  const log = createLogger(level, out, err);
  log.error('an error');
  log.warn('a warning');
  log.info('some info');
  log.debug('a debug line');
  return { log, out: out.lines, err: err.lines };
}

const parse = (lines: string[]) => lines.map((line) => JSON.parse(line) as Record<string, unknown>);

test('off a TTY: one JSON object a line with time, level, name and msg; warnings and errors on stderr', () => {
  const { log, out, err } = logAll('info');
  assert.not.ok(log.debugEnabled);
  const records = [...parse(err), ...parse(out)];
  assert.equal(
    records.map((r) => [r.level, r.msg, r.name]),
    [
      ['error', 'an error', 'toxrelay'],
      ['warn', 'a warning', 'toxrelay'],
      ['info', 'some info', 'toxrelay'],
    ],
  );
  for (const r of records) {
    assert.match(String(r.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(Object.keys(r).sort(), ['level', 'msg', 'name', 'time']);
  }
});

test('debug lines only at debug', () => {
  const debug = logAll('debug');
  assert.ok(debug.log.debugEnabled);
  assert.equal(parse(debug.out).map((r) => [r.level, r.msg]), [['info', 'some info'], ['debug', 'a debug line']]);
  assert.equal(parse(debug.err).map((r) => r.level), ['error', 'warn']);

  assert.equal(logAll('warn').out, []);
  assert.equal(parse(logAll('warn').err).map((r) => r.level), ['error', 'warn']);
  assert.equal(parse(logAll('error').err).map((r) => r.level), ['error']);
  const silent = logAll('silent');
  assert.equal([...silent.out, ...silent.err], []);
  assert.not.ok(silent.log.debugEnabled);
});

test('messages are written as given: quotes, newlines and % survive', () => {
  const out = sink();
  const log = createLogger('debug', out, sink());
  const msg = 'a "quoted" 100% %s %d\nsecond line';
  log.debug(msg);
  assert.is(out.lines.length, 1);
  assert.is(parse(out.lines)[0]!.msg, msg);
});

test('on a TTY: the readable one-line format, same levels and streams', () => {
  const { out, err } = logAll('debug', true);
  const line = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (.{5}) (.*)$/;
  assert.equal(err.map((l) => line.exec(l)?.slice(2)), [['error', 'an error'], ['warn ', 'a warning']]);
  assert.equal(out.map((l) => line.exec(l)?.slice(2)), [['info ', 'some info'], ['debug', 'a debug line']]);
  assert.equal(logAll('info', true).out.length, 1);
});

test('the format follows stdout: pretty on a TTY, JSON otherwise, or as asked', () => {
  assert.is(defaultLogFormat({ isTTY: true, write: () => true }), 'pretty');
  assert.is(defaultLogFormat({ isTTY: false, write: () => true }), 'json');
  assert.is(defaultLogFormat({ write: () => true }), 'json');
  const out = sink(true);
  createLogger('info', out, sink(true), 'json').info('forced');
  assert.is(parse(out.lines)[0]!.msg, 'forced');
});

test('silentLogger writes nothing and needs no process', () => {
  assert.is(silentLogger.level, 'silent');
  assert.not.ok(silentLogger.debugEnabled);
  silentLogger.error('x');
  silentLogger.info('x');
});

test.run();
