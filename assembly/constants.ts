// Protocol constants (PROTOCOL.md §0–§5) and the core's own layout tuning, kept apart.

// --- protocol ---
export const KEY_SIZE: i32 = 32;
export const NONCE_SIZE: i32 = 24;
export const MAC_SIZE: i32 = 16;
export const HANDSHAKE_REQUEST_SIZE: i32 = 128;
export const MAX_FRAME_SIZE: i32 = 2048; // ciphertext incl. MAC
export const MAX_PLAINTEXT_SIZE: i32 = MAX_FRAME_SIZE - MAC_SIZE; // 2032
export const NUM_RESERVED_IDS: i32 = 16; // conn_id = link slot + 16
export const LINKS_PER_CONNECTION: i32 = 240;
export const MAX_OOB_DATA: i32 = 1024;
export const PING_ID_SIZE: i32 = 8;

export const ROUTING_REQUEST: u8 = 0;
export const ROUTING_RESPONSE: u8 = 1;
export const CONNECT_NOTIFICATION: u8 = 2;
export const DISCONNECT_NOTIFICATION: u8 = 3;
export const PING: u8 = 4;
export const PONG: u8 = 5;
export const OOB_SEND: u8 = 6;
export const OOB_RECV: u8 = 7;
export const ONION_REQUEST: u8 = 8;
export const ONION_RESPONSE: u8 = 9;
export const FORWARD_REQUEST: u8 = 10;
export const FORWARDING: u8 = 11;

// --- onion first hop (§8) and forwarding (§9): what the core checks before the UDP side ---
export const ONION_REQUEST_MIN_LENGTH: i32 = 1 + NONCE_SIZE + 2 * (32 + 19 + 16); // ≤ this kills
export const ONION_REQUEST_DROP_AT_OR_BELOW: i32 = 1 + NONCE_SIZE + 153; // silently dropped
export const ONION_REQUEST_MAX_LENGTH: i32 = 1 + NONCE_SIZE + 1335; // above: silently dropped
export const FAMILY_IPV4: u8 = 2;
export const FAMILY_IPV6: u8 = 10;
export const MAX_FORWARD_DATA: i32 = 2048 - 256; // 1792

// --- optional modules the host enables at init ---
export const MODULE_ONION: i32 = 1;
export const MODULE_FORWARDING: i32 = 2;

// --- connection states (§3) ---
export const STATE_FREE: u8 = 0;
export const STATE_CONNECTED: u8 = 1; // waiting for the 128-byte handshake
export const STATE_UNCONFIRMED: u8 = 2; // handshake done, no valid frame yet
export const STATE_CONFIRMED: u8 = 3;

// --- link slot status (§5) ---
export const LINK_UNUSED: u8 = 0;
export const LINK_REQUESTED: u8 = 1; // asked for, peer offline or not asking back
export const LINK_ONLINE: u8 = 2;

// --- layout tuning ---
// Link slots live in chunks of 8 allocated on first use, so a connection with few links stays small.
export const LINKS_PER_CHUNK: i32 = 8;
export const CHUNKS_PER_CONNECTION: i32 = LINKS_PER_CONNECTION / LINKS_PER_CHUNK; // 30
export const MAX_ACTIONS: i32 = 2048;
export const OUT_AREA_SIZE: i32 = 16384;
export const INPUT_AREA_SIZE: i32 = 65536;

// --- why a connection was closed (reported with each KILL action) ---
export const CLOSE_BAD_FRAME_LENGTH: u8 = 1; // §2: 1..16 or > 2048
export const CLOSE_DECRYPT_FAILED: u8 = 2; // host: bad handshake or bad MAC
export const CLOSE_BAD_PACKET: u8 = 3; // §4: wrong length for its id, reserved or server-only id
export const CLOSE_UNUSED_SLOT: u8 = 4; // §5.2/§5.3: data or disconnect on an unused link
export const CLOSE_PING_TIMEOUT: u8 = 5; // §7
export const CLOSE_HANDSHAKE_TIMEOUT: u8 = 6; // not confirmed in time
export const CLOSE_REPLACED: u8 = 7; // §1: same key confirmed on a newer connection
export const CLOSE_SOCKET_CLOSED: u8 = 8; // host: the peer hung up or errored
export const CLOSE_UNSUPPORTED: u8 = 9; // §4: forward request without a forwarding module
export const CLOSE_OUTPUT_OVERFLOW: u8 = 10; // host: the client stopped reading
export const CLOSE_SERVER_SHUTDOWN: u8 = 11; // host: the relay is stopping
export const CLOSE_EVICTED: u8 = 12; // host: the table was full, and this unconfirmed connection was the oldest

// --- action kinds written for the host ---
export const ACTION_SEND: u8 = 1; // encrypt ptr[len] and send it to slot
export const ACTION_KILL: u8 = 2; // close slot's socket; the core has already forgotten it
export const ACTION_ONION: u8 = 3; // pass ptr[len], an onion request from slot, to the UDP side (§8)
export const ACTION_FORWARD: u8 = 4; // pass ptr[len], a forward request from slot, to the UDP side (§9)
export const ACTION_SIZE: i32 = 16;
