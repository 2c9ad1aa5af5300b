// The text of `toxrelay bench --help`. Defaults are read from the code that applies them.
import { DEFAULT_BOOTSTRAPD, DEFAULT_OUT_DIR } from './args.ts';
import { WARMUP_CONNECTIONS } from './connect.ts';
import { AUTO_PROCESSES_ABOVE, BENCH_DEFAULTS as d, defaultThreads, SOCKETS_PER_PROCESS } from './options.ts';
import { MAX_PAYLOAD_SIZE, MIN_PAYLOAD_SIZE } from './payload.ts';

export function benchHelpText(): string {
  return `toxrelay bench — a load generator for any Tox TCP relay (toxrelay, tox-bootstrapd, …)

Usage:
  toxrelay bench WORKLOAD --port P --key HEX [--host H] [OPTIONS]
  toxrelay bench --compare [WORKLOAD…] [OPTIONS]

Workloads:
  throughput  P client pairs linked to each other; each side sends S-byte data packets with at
              most W in flight (the receiver acknowledges every W/2). Reports relayed packets/s,
              payload MB/s, loss (sequence gaps), per-pair packets/s min..max.
  latency     P pairs ping-ponging one data packet each; round-trip p50/p90/p99/max in µs.
              Its workers poll rather than sleep while it runs (a core each), so that the
              time to wake the client is not counted as the relay's.
  connect     C connections opened (TCP, handshake, a confirming ping) at most K at once, then
              held idle; handshakes/s, and with --server-pid the server's memory per connection.
Every payload carries a sequence number and a checksum (CRC-32), checked on receipt: a bad one
is reported as corruption.

Target:
  --host H            the relay's address (default: ${d.host}); loopback only unless --allow-remote
  --port P            its TCP port (required without --compare)
  --key HEX           its public key, 64 hex digits (required without --compare)
  --server-pid PID    read the relay's memory (/proc/PID/status) and CPU time around the load;
                      throughput then also times libsodium.js's seal + open of one packet
                      first and reports the relay's CPU per packet as a multiple of it

Load:
  --pairs N           pairs (default: throughput ${d.throughputPairs}, latency ${d.latencyPairs})
  --size B            payload bytes per data packet, ${MIN_PAYLOAD_SIZE}..${MAX_PAYLOAD_SIZE} (default: ${d.size})
  --window W          throughput: packets in flight per side (default: ${d.window})
  --duration S        measured seconds (default: ${d.durationS}), after --warmup S (default: ${d.warmupS})
                      connect: up to --warmup S of connections (at most ${WARMUP_CONNECTIONS} per worker) opened
                      and closed before the measured ones; 0 = none
  --connections C     connect: connections (default: ${d.connections}; with --compare ${d.compareConnections},
                      or what the open-files limit allows, since a relay's fixed costs
                      swamp its memory per connection in small runs)
  --concurrency K     connect: connections opening at once (default: ${d.concurrency})
  --hold S            connect: seconds every connection is held idle before the memory is read (default: ${d.holdS})

Bench:
  --threads N         worker threads (default: one per CPU, less one when the relay is on this
                      machine, here ${defaultThreads()}; 0 = no workers)
  --processes N       worker processes instead of threads. Threads share one process's file
                      descriptors, so above ${AUTO_PROCESSES_ABOVE} sockets the bench uses processes by itself
                      (at most ${SOCKETS_PER_PROCESS} sockets each).
  --per-source N      sockets per loopback source address 127.0.x.y (default: ${d.perSource}; 0 = the
                      kernel's choice), so that a per-address limit (toxrelay: 64) does not refuse them;
                      only for a 127.x.y.z --host (::1 and localhost: one source address)
  --stall S           a pair without progress for S seconds is reported stalled (default: ${d.stallS})
  --timeout S         limit of each set-up phase (default: ${d.timeoutS})
  --json              print one JSON object instead of the table
  --quiet             no progress on stderr

Comparison:
  --compare           start toxrelay (this checkout's bin/toxrelay.js) and, if it exists,
                      tox-bootstrapd on free loopback ports, run each workload (all three unless
                      named) against each in turn, and write report.json and report.html
  --rounds N          repeat everything N times, alternating the order (default: 1)
  --out DIR           where the report goes (default: ${DEFAULT_OUT_DIR})
  --latency-pairs N   latency pairs in a comparison (default: ${d.latencyPairs}; --pairs is for throughput)
  --bootstrapd PATH   tox-bootstrapd to run (default: ${DEFAULT_BOOTSTRAPD})

The bench's own CPU time is reported; when its workers used ≥ 90 % of their CPU it warns that
the bench, not the relay, was the limit. Progress goes to stderr (a bar on a terminal, a line
every few seconds otherwise), the table to stdout.

Note: tox-bootstrapd 0.2.18 on a loopback with MTU 65536 can wedge a connection that bursts
≥ ~150 KB (PROTOCOL §13); keep window × size well below that. A stalled pair is reported, not
waited for.

Examples:
  toxrelay bench throughput --port 33445 --key 3F…A1 --pairs 100 --duration 10
  toxrelay bench latency --port 33445 --key 3F…A1
  toxrelay bench connect --port 33445 --key 3F…A1 --connections 5000 --server-pid 1234
  toxrelay bench --compare --duration 5 --rounds 2
`;
}
