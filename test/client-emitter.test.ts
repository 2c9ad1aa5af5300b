// The client's event emitter: listeners changing the list during an emit disturb nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Emitter } from '../src/client/emitter.ts';

interface Events {
  tick: number;
  other: string;
}

test('every listener present when the emit began is called, once, in order', () => {
  const e = new Emitter<Events>();
  const calls: string[] = [];
  const offFirst = e.on('tick', (n) => {
    calls.push(`first ${n}`);
    offFirst(); // removes itself mid-emit
    e.on('tick', (m) => calls.push(`late ${m}`)); // added mid-emit: from the next emit on
  });
  e.on('tick', (n) => calls.push(`second ${n}`));
  e.emit('tick', 1);
  assert.equal(calls, ['first 1', 'second 1']);
  e.emit('tick', 2);
  assert.equal(calls, ['first 1', 'second 1', 'second 2', 'late 2']);
});

test('a listener added twice is called once; has() follows adds and removes', () => {
  const e = new Emitter<Events>();
  let count = 0;
  const listener = () => count++;
  assert.is(e.has('tick'), false);
  e.on('tick', listener);
  e.on('tick', listener);
  assert.is(e.has('tick'), true);
  assert.is(e.has('other'), false);
  e.emit('tick', 1);
  assert.is(count, 1);
  e.off('tick', listener);
  assert.is(e.has('tick'), false);
  e.emit('tick', 2);
  assert.is(count, 1);
  e.off('tick', listener); // removing what is not there is harmless
});

test.run();
