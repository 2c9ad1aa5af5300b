// What the relay does with each decrypted packet from a client (§4). Replies that only change a
// byte or two (pong, OOB, data) are rewritten in the plaintext area and sent from there.

import { emitSend, emitUdpRequest } from './actions';
import { C_PING_ID, C_PUBLIC_KEY, record } from './connections';
import {
  CLOSE_BAD_PACKET, CLOSE_UNSUPPORTED, CONNECT_NOTIFICATION, DISCONNECT_NOTIFICATION, FAMILY_IPV4,
  FAMILY_IPV6, FORWARD_REQUEST, KEY_SIZE, MAX_FORWARD_DATA, MAX_OOB_DATA, MODULE_FORWARDING, MODULE_ONION,
  NUM_RESERVED_IDS, OOB_RECV, OOB_SEND, ONION_REQUEST, ONION_REQUEST_DROP_AT_OR_BELOW,
  ONION_REQUEST_MAX_LENGTH, ONION_REQUEST_MIN_LENGTH, PING, PING_ID_SIZE, PONG, ROUTING_REQUEST,
} from './constants';
import { findByKey } from './keyindex';
import { killConnection } from './lifecycle';
import { disconnectRequest, relayData, routingRequest } from './routing';

const ROUTING_REQUEST_LENGTH = 1 + KEY_SIZE;
const NOTIFICATION_LENGTH = 2;
const PING_LENGTH = 1 + PING_ID_SIZE;
const OOB_HEADER_LENGTH = 1 + KEY_SIZE;

let modules: i32 = 0;

export function enableModules(flags: i32): void {
  modules = flags;
}

export function handlePacket(slot: i32, plain: usize, len: i32): void {
  const id = load<u8>(plain);
  if (id >= <u8>NUM_RESERVED_IDS) {
    relayData(slot, plain, len);
    return;
  }
  switch (id) {
    case ROUTING_REQUEST:
      if (len != ROUTING_REQUEST_LENGTH) break;
      routingRequest(slot, plain + 1);
      return;
    case CONNECT_NOTIFICATION:
      // A client has no business sending it, but c-toxcore tolerates the well-formed one.
      if (len != NOTIFICATION_LENGTH) break;
      return;
    case DISCONNECT_NOTIFICATION:
      if (len != NOTIFICATION_LENGTH) break;
      disconnectRequest(slot, load<u8>(plain, 1));
      return;
    case PING:
      if (len != PING_LENGTH) break;
      store<u8>(plain, PONG); // answered even for id 0
      emitSend(slot, plain, len, true);
      return;
    case PONG:
      if (len != PING_LENGTH || load<u64>(plain + 1) == 0) break;
      answerPing(slot, plain + 1);
      return;
    case OOB_SEND:
      if (len <= OOB_HEADER_LENGTH || len > OOB_HEADER_LENGTH + MAX_OOB_DATA) break;
      sendOutOfBand(slot, plain, len);
      return;
    case ONION_REQUEST:
      // Without the onion module c-toxcore ignores it, whatever its length.
      if ((modules & MODULE_ONION) == 0) return;
      if (len <= ONION_REQUEST_MIN_LENGTH) break;
      if (len > ONION_REQUEST_DROP_AT_OR_BELOW && len <= ONION_REQUEST_MAX_LENGTH) emitUdpRequest(slot, plain, len, false);
      return;
    case FORWARD_REQUEST:
      if ((modules & MODULE_FORWARDING) == 0) {
        killConnection(slot, CLOSE_UNSUPPORTED);
        return;
      }
      if (!isForwardRequest(plain, len)) break;
      emitUdpRequest(slot, plain, len, true);
      return;
    default:
      break; // server-only ids (1, 7, 9, 11) and reserved ids (12..15)
  }
  killConnection(slot, CLOSE_BAD_PACKET);
}

/** A pong answers the outstanding ping only if the ids match; others are ignored (§4). */
function answerPing(slot: i32, id: usize): void {
  const c = record(slot);
  const outstanding = load<u64>(c + C_PING_ID);
  if (outstanding != 0 && outstanding == load<u64>(id)) store<u64>(c + C_PING_ID, 0);
}

/** `[6][dest][data]` becomes `[7][sender][data]` for dest, if dest is confirmed; no link needed. */
function sendOutOfBand(slot: i32, plain: usize, len: i32): void {
  const dest = findByKey(plain + 1);
  if (dest < 0) return;
  store<u8>(plain, OOB_RECV);
  memory.copy(plain + 1, record(slot) + C_PUBLIC_KEY, KEY_SIZE);
  emitSend(dest, plain, len, false);
}

/** `[10][family 2 or 10][4 or 16 address bytes][port 2][data ≤ 1792]` (§9). */
function isForwardRequest(plain: usize, len: i32): bool {
  if (len < 2) return false;
  const family = load<u8>(plain, 1);
  let addressLength = 0;
  if (family == FAMILY_IPV4) addressLength = 4;
  else if (family == FAMILY_IPV6) addressLength = 16;
  else return false;
  const dataLength = len - 2 - addressLength - 2;
  return dataLength >= 0 && dataLength <= MAX_FORWARD_DATA;
}
