// The text of `toxrelay --help`. Defaults are read from the code that applies them, so they cannot drift.
import { MAX_BUSY_POLL_US } from '../config/settings.ts';
import { LOG_LEVELS } from '../log.ts';
import { RELAY_DEFAULTS } from '../relay/options.ts';
import { DEFAULT_KEYS_FILE, DEFAULT_LOG_LEVEL } from './args.ts';

export function helpText(version: string): string {
  const d = RELAY_DEFAULTS;
  return `toxrelay ${version} — a Tox TCP relay server

Tox clients that cannot reach each other directly (behind NAT or a firewall that only lets
TCP out) connect to a TCP relay, which forwards their encrypted packets. toxrelay speaks the
same protocol as c-toxcore's TCP server and is a drop-in for the TCP relay of tox-bootstrapd:
clients reach it with its address, port and public key.

Usage:
  toxrelay [run] [OPTIONS]         run the relay (the default command)
  toxrelay keygen FILE [--force]   write a new keypair to FILE (refuses to replace an
                                   existing FILE unless --force is given)
  toxrelay pubkey FILE             print the public key of keys FILE as 64 hex digits
  toxrelay bench WORKLOAD …        load a relay (this one or any other) and measure it;
                                   see toxrelay bench --help
  toxrelay testbed [--port N]      serve a web page (and a relay on loopback) to watch
                                   and drive a relay; see toxrelay testbed --help
  toxrelay help | --help | -h      show this text
  toxrelay --version | -v          show the version

Options of run:
  --port N                  TCP port to listen on; repeat for several ports
                            (default: ${d.ports.join(', ')}; 0 means any free port)
  --host ADDR               IPv4 or IPv6 address, or 'localhost', to listen on, for
                            TCP, WebSocket and UDP (default: every address, IPv4 and IPv6)
  --ws-port N               WebSocket port: the same Tox stream as TCP in binary
                            messages, for browsers and websockify-style clients;
                            repeat for several (default: none, WebSocket off;
                            0 means any free port)
  --udp-port N              UDP port of the onion hop and forwarding that real Tox
                            clients need to find friends (default: 33445, like
                            tox-bootstrapd; 0 means any free port)
  --no-udp                  no UDP: onion requests are ignored and forward requests
                            close the connection, as in c-toxcore without those modules
  --udp-to-this-host        let onion and forward requests reach this machine (loopback
                            and its own addresses), for a Tox network on one machine;
                            without it they are refused, so that clients cannot reach
                            local UDP services
  --keys FILE               keys file; created with a new keypair if it does not exist
                            (default: ${DEFAULT_KEYS_FILE})
  --max-connections N       connections held at once, counting handshakes (default: ${d.maxConnections});
                            when full, a newcomer replaces the oldest connection that has not
                            confirmed its handshake, if that one is over 2 s old
  --max-per-ip N            connections held at once from one IP address, an IPv6 /64, over
                            TCP and WebSocket together (default: ${d.maxPerIp})
  --handshake-timeout SECS  time a new connection has to complete its handshake and send its
                            first packet; decimals allowed (default: ${d.handshakeTimeoutMs / 1000})
  --busy-poll MICROSECONDS  after input from a client, keep polling the sockets this long
                            instead of sleeping (0 to ${MAX_BUSY_POLL_US}; default: ${d.busyPollUs}, off): lower
                            latency where waking a process is slow, as on virtual machines,
                            for a whole core of CPU while packets keep coming (any
                            connected client can keep them coming)
  --log-level LEVEL         ${LOG_LEVELS.join('|')} (default: ${DEFAULT_LOG_LEVEL});
                            debug logs every connection
  --metrics HOST:PORT       serve Prometheus metrics at http://HOST:PORT/metrics
                            (default: off; e.g. 127.0.0.1:9464)
  --config FILE             read these settings from a TOML file whose keys are the
                            flags' names: port (a number or an array), host, ws-port,
                            udp-port, no-udp, udp-to-this-host, keys, max-connections, max-per-ip,
                            handshake-timeout, busy-poll, log-level, metrics; flags given too
                            override it
  --bootstrapd-config FILE  read an existing tox-bootstrapd config (libconfig) for what it
                            shares with the relay: keys_file_path, tcp_relay_ports, port
                            (UDP), enable_ipv6 (false: IPv4 only), enable_tcp_relay;
                            --config and flags override it; other keys are ignored

On start the relay prints "Public key: <64 hex digits>" on a line of its own (at every log
level): give that key, with the host and port, to the clients that should use the relay.
SIGINT or SIGTERM closes every connection and exits; a second signal exits at once.

Keys file:
  64 bytes, the public key (32) followed by the secret key (32), mode 0600 — the format of
  tox-bootstrapd's keys_file_path, so a relay can take over a tox-bootstrapd's keys and
  identity (and the reverse). A file whose public key does not match its secret key, or that
  is shorter than 64 bytes, is refused and left untouched; bytes after the 64th are ignored,
  as tox-bootstrapd ignores them.

Examples:
  toxrelay --port 33445 --port 3389 --keys /var/lib/toxrelay/keys --log-level warn
  toxrelay --ws-port 8080          also serve WebSocket clients at ws://HOST:8080/
  toxrelay keygen relay.keys && toxrelay pubkey relay.keys
  toxrelay --bootstrapd-config /etc/tox-bootstrapd.conf   take over a tox-bootstrapd's
                                   relay with the same key and ports

Exit status: 0 on success (including after SIGINT/SIGTERM), 1 on an error (such as a port
already in use, a bad keys file or a bad config file, whose one line names FILE:LINE: KEY),
2 on a usage error (an unknown or malformed option).
`;
}
