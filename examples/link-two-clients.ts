// Two clients on one relay, linked by public key, exchanging a data packet: the shortest complete
// use of the client (README, "Using the client"). test/example.test.ts runs it against a relay.
//
//   node --import tsx examples/link-two-clients.ts HOST PORT RELAY_PUBLIC_KEY_HEX

import { RelayClient } from '../src/client/index.ts';
import { connectTcp } from '../src/client/tcp.ts';

const [host = '127.0.0.1', port = '33445', keyHex = ''] = process.argv.slice(2);
if (!/^[0-9a-fA-F]{64}$/.test(keyHex)) {
  console.error('usage: link-two-clients.ts HOST PORT RELAY_PUBLIC_KEY_HEX (64 hex digits)');
  process.exit(2);
}
const serverPublicKey = Uint8Array.from(Buffer.from(keyHex, 'hex'));

const alice = await RelayClient.create({ transport: await connectTcp(host, Number(port)), serverPublicKey });
const bob = await RelayClient.create({ transport: await connectTcp(host, Number(port)), serverPublicKey });
await Promise.all([alice.connect(), bob.connect()]); // handshake, then a ping the relay answers

// A link comes up once both sides have asked for each other; each learns its own conn_id for it.
const aliceLinked = alice.waitFor('connectNotification');
const bobLinked = bob.waitFor('connectNotification');
alice.routingRequest(bob.publicKey);
bob.routingRequest(alice.publicKey);
const [{ connId: toBob }, { connId: toAlice }] = await Promise.all([aliceLinked, bobLinked]);

const received = bob.waitFor('data', (packet) => packet.connId === toAlice);
alice.sendData(toBob, new TextEncoder().encode('hello over the relay'));
console.log('bob got:', new TextDecoder().decode((await received).data));

alice.close();
bob.close();
