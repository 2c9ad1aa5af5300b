/*
 * toxharness: real Tox clients (libtoxcore, public tox.h API only) talking through ONE TCP relay.
 *
 *   toxharness --relay HOST:PORT:PKHEX [--hold SECONDS] [--file-mib N] [--timeout-scale X]
 *              [--dht-host ADDR] [--verbose]
 *
 * In this one process it builds
 *   - a small DHT of ordinary UDP Tox nodes (NUM_DHT instances: UDP on, IPv6 off unless --dht-host
 *     is IPv6, local discovery off, hole punching off, no TCP relay port), bootstrapped to each
 *     other on --dht-host (127.0.0.1 by default: the relay must reach them by UDP, for it sends
 *     them the clients' onion packets);
 *   - two clients A and B with UDP OFF (IPv6 off unless the relay host is IPv6, local discovery
 *     off) that know the DHT nodes (tox_bootstrap: they become onion path nodes) and whose ONLY TCP
 *     relay is the relay under test (tox_add_tcp_relay). No Tox instance here runs a TCP relay.
 * A and B can therefore only reach the network, and each other, through that relay: the onion
 * (TCP ONION_REQUEST, relay -> UDP hop 2 -> ... and ONION_RESPONSE back), then a routed link.
 *
 * Phases, each bounded in time (bounds are multiplied by --timeout-scale). Each prints exactly one
 * line on stdout, `phase NAME ok SECONDS [details]` or `phase NAME FAIL why`; the first failure
 * ends the run with exit status 1. Exit 0: every phase passed. Exit 2: bad command line or set-up.
 *   dht             the DHT nodes are connected (self connection status not NONE; on loopback
 *                   toxcore reports TCP for a UDP node, because loopback counts as LAN)
 *   relay           A and B report TOX_CONNECTION_TCP (they are announced through the relay)
 *   friend-request  A -> B by address, B's callback sees it and B accepts (tox_friend_add_norequest)
 *   online          the friendship is TOX_CONNECTION_TCP on both sides
 *   messages        MSG_COUNT messages each way, all intact and in order
 *   file            --file-mib MiB (default 4; 0 skips the phase) from A to B, byte-exact
 *   hold            only with --hold S: S seconds idle; A, B and the friendship (on both sides) stay
 *                   TCP the whole time (the relay's pings must be answered, the onion keep working),
 *                   then one message each way
 * A SIGALRM set to the sum of all bounds plus a margin ends the process even if toxcore hangs.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <tox/tox.h>

#define NUM_DHT 4
#define MSG_COUNT 50
#define MAX_SLEEP_MS 20

/* Base bounds in seconds, before --timeout-scale. */
#define T_DHT 60.0
#define T_RELAY 60.0
#define T_FRIEND_REQUEST 60.0
#define T_ONLINE 60.0
#define T_MESSAGES 30.0
#define T_FILE_BASE 30.0
#define T_FILE_PER_MIB 15.0
#define T_HOLD_EXTRA 30.0

#define FRIEND_REQUEST_TEXT "toxrelay interop: friend request from A"

typedef struct Peer {
    const char *name;
    Tox *tox;
    bool verbose;

    /* friend request (B) */
    bool request_seen;
    bool request_bad;
    uint8_t request_pk[TOX_PUBLIC_KEY_SIZE];
    char request_why[160];

    /* friend connection transitions (both) */
    double self_tcp_at; /* seconds after the start when self status first became TCP (0: not yet) */

    Tox_Connection friend_status;
    unsigned friend_drops; /* times the friend connection went to NONE after being up */

    /* messages received: the next expected index, and the first problem seen */
    uint32_t msg_next;
    char msg_error[256];
    const char *msg_from; /* the sender's name, for the expected text */
    uint32_t hold_msgs;   /* messages received with the "hold" text */

    /* file receiving (B) */
    bool file_offered;
    uint32_t file_number;
    uint64_t file_size;
    uint64_t file_received;
    uint64_t file_hash;
    bool file_done;
    char file_error[256];

    /* file sending (A) */
    uint32_t send_file_number;
    bool send_file_active;
    bool send_file_done;
    char send_error[256];
} Peer;

static Tox *dht[NUM_DHT];
static Peer peer_a = {.name = "A"};
static Peer peer_b = {.name = "B"};
static bool verbose;

/* ---------------------------------------------------------------- time and output */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double start_time;

static void note(const char *fmt, ...)
{
    if (!verbose) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[%7.2f] ", now_s() - start_time);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void phase_ok(const char *name, double started, const char *fmt, ...)
{
    printf("phase %s ok %.2f", name, now_s() - started);
    if (fmt && *fmt) {
        va_list ap;
        va_start(ap, fmt);
        fputc(' ', stdout);
        vprintf(fmt, ap);
        va_end(ap);
    }
    fputc('\n', stdout);
    fflush(stdout);
}

static void phase_fail(const char *name, const char *fmt, ...)
{
    printf("phase %s FAIL ", name);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

static const char *conn_name(Tox_Connection c)
{
    switch (c) {
        case TOX_CONNECTION_NONE:
            return "NONE";
        case TOX_CONNECTION_TCP:
            return "TCP";
        case TOX_CONNECTION_UDP:
            return "UDP";
    }
    return "?";
}

static void log_cb(Tox *tox, Tox_Log_Level level, const char *file, uint32_t line, const char *func, const char *message,
                   void *user_data)
{
    (void)tox;
    (void)func;
    if (level < TOX_LOG_LEVEL_DEBUG) {
        return;
    }
    fprintf(stderr, "[%7.2f] toxcore %s %d %s:%u %s\n", now_s() - start_time, (const char *)user_data, (int)level, file,
            line, message);
}

/* ---------------------------------------------------------------- the iteration loop */

/* One pass over every instance, then sleep the smallest iteration interval (at most 20 ms). */
static void iterate_all(void)
{
    uint32_t interval = MAX_SLEEP_MS;
    for (int i = 0; i < NUM_DHT; ++i) {
        tox_iterate(dht[i], NULL);
        uint32_t t = tox_iteration_interval(dht[i]);
        if (t < interval) {
            interval = t;
        }
    }
    Peer *peers[2] = {&peer_a, &peer_b};
    for (int i = 0; i < 2; ++i) {
        tox_iterate(peers[i]->tox, peers[i]);
        uint32_t t = tox_iteration_interval(peers[i]->tox);
        if (t < interval) {
            interval = t;
        }
    }
    if (interval == 0) {
        interval = 1;
    }
    struct timespec ts = {0, (long)interval * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---------------------------------------------------------------- content generators */

/* Byte `pos` of the test file: a cheap, position-dependent pseudo-random stream. */
static uint8_t file_byte(uint64_t pos)
{
    uint64_t x = (pos >> 3) * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 32;
    return (uint8_t)(x >> ((pos & 7) * 8));
}

static uint64_t fnv1a(uint64_t h, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; ++i) {
        h ^= data[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

#define FNV_INIT 0xcbf29ce484222325ull

/* Message i from `from`: a header, then a filler whose length varies with i, up to the maximum. */
static size_t make_message(char *out, const char *from, const char *to, uint32_t i)
{
    size_t max = tox_max_message_length();
    int n = snprintf(out, max + 1, "%s->%s #%04" PRIu32 " ", from, to, i);
    size_t len;
    if (i == MSG_COUNT - 1) {
        len = max; /* the last one is as long as tox allows */
    } else {
        len = (size_t)n + (i * 97u) % (max - (size_t)n);
    }
    for (size_t k = (size_t)n; k < len; ++k) {
        out[k] = (char)('a' + (k * 7 + i) % 26);
    }
    out[len] = '\0';
    return len;
}

/* ---------------------------------------------------------------- callbacks */

static void on_friend_request(Tox *tox, const uint8_t *public_key, const uint8_t *message, size_t length,
                              void *user_data)
{
    (void)tox;
    Peer *p = user_data;
    if (p->request_seen) {
        return; /* toxcore may deliver a repeated request; the first one counts */
    }
    p->request_seen = true;
    memcpy(p->request_pk, public_key, TOX_PUBLIC_KEY_SIZE);
    size_t want = strlen(FRIEND_REQUEST_TEXT);
    if (length != want || memcmp(message, FRIEND_REQUEST_TEXT, want) != 0) {
        p->request_bad = true;
        snprintf(p->request_why, sizeof p->request_why, "request text differs (%zu bytes, expected %zu)", length, want);
    }
    note("%s: friend request received", p->name);
}

static void on_friend_connection(Tox *tox, uint32_t friend_number, Tox_Connection status, void *user_data)
{
    (void)tox;
    (void)friend_number;
    Peer *p = user_data;
    if (p->friend_status != TOX_CONNECTION_NONE && status == TOX_CONNECTION_NONE) {
        ++p->friend_drops;
    }
    note("%s: friend connection %s -> %s", p->name, conn_name(p->friend_status), conn_name(status));
    p->friend_status = status;
}

static void on_self_connection(Tox *tox, Tox_Connection status, void *user_data)
{
    (void)tox;
    Peer *p = user_data;
    if (status == TOX_CONNECTION_TCP && p->self_tcp_at == 0) {
        p->self_tcp_at = now_s() - start_time;
    }
    note("%s: self connection %s", p->name, conn_name(status));
}

static void on_friend_message(Tox *tox, uint32_t friend_number, Tox_Message_Type type, const uint8_t *message,
                              size_t length, void *user_data)
{
    (void)tox;
    (void)friend_number;
    Peer *p = user_data;
    char expect[TOX_MAX_MESSAGE_LENGTH + 1];
    if (length >= 5 && memcmp(message, "hold ", 5) == 0) {
        char want[64];
        int n = snprintf(want, sizeof want, "hold %s->%s", p->msg_from, p->name);
        if (length == (size_t)n && memcmp(message, want, (size_t)n) == 0) {
            ++p->hold_msgs;
        } else if (!p->msg_error[0]) {
            snprintf(p->msg_error, sizeof p->msg_error, "unexpected hold message of %zu bytes", length);
        }
        return;
    }
    if (p->msg_error[0]) {
        return;
    }
    if (p->msg_next >= MSG_COUNT) {
        snprintf(p->msg_error, sizeof p->msg_error, "extra message after #%u (%zu bytes)", MSG_COUNT - 1, length);
        return;
    }
    uint32_t i = p->msg_next;
    size_t len = make_message(expect, p->msg_from, p->name, i);
    Tox_Message_Type want_type = (i % 5 == 4) ? TOX_MESSAGE_TYPE_ACTION : TOX_MESSAGE_TYPE_NORMAL;
    if (length != len || memcmp(message, expect, len) != 0) {
        char head[24] = {0};
        memcpy(head, message, length < 16 ? length : 16);
        for (int k = 0; head[k]; ++k) {
            if (head[k] < 32 || head[k] > 126) {
                head[k] = '.';
            }
        }
        snprintf(p->msg_error, sizeof p->msg_error,
                 "%s expected #%04u (%zu bytes), got %zu bytes starting \"%s\" (lost, reordered or corrupted)", p->name,
                 i, len, length, head);
        return;
    }
    if (type != want_type) {
        snprintf(p->msg_error, sizeof p->msg_error, "%s: message #%04u has type %d, expected %d", p->name, i, (int)type,
                 (int)want_type);
        return;
    }
    p->msg_next = i + 1;
}

static void on_file_recv(Tox *tox, uint32_t friend_number, uint32_t file_number, uint32_t kind, uint64_t file_size,
                         const uint8_t *filename, size_t filename_length, void *user_data)
{
    Peer *p = user_data;
    (void)filename;
    (void)filename_length;
    if (kind != TOX_FILE_KIND_DATA) {
        /* e.g. an avatar offer: refuse it, it is not ours */
        tox_file_control(tox, friend_number, file_number, TOX_FILE_CONTROL_CANCEL, NULL);
        return;
    }
    if (p->file_offered) {
        snprintf(p->file_error, sizeof p->file_error, "a second file offer");
        return;
    }
    p->file_offered = true;
    p->file_number = file_number;
    p->file_size = file_size;
    p->file_hash = FNV_INIT;
    Tox_Err_File_Control err;
    if (!tox_file_control(tox, friend_number, file_number, TOX_FILE_CONTROL_RESUME, &err)) {
        snprintf(p->file_error, sizeof p->file_error, "tox_file_control(RESUME) failed: error %d", (int)err);
    }
    note("%s: file offer of %" PRIu64 " bytes accepted", p->name, file_size);
}

static void on_file_recv_chunk(Tox *tox, uint32_t friend_number, uint32_t file_number, uint64_t position,
                               const uint8_t *data, size_t length, void *user_data)
{
    (void)tox;
    (void)friend_number;
    Peer *p = user_data;
    if (!p->file_offered || file_number != p->file_number || p->file_error[0]) {
        return;
    }
    if (length == 0) {
        if (p->file_received != p->file_size) {
            snprintf(p->file_error, sizeof p->file_error, "transfer ended after %" PRIu64 " of %" PRIu64 " bytes",
                     p->file_received, p->file_size);
        }
        p->file_done = true;
        return;
    }
    if (position != p->file_received) {
        snprintf(p->file_error, sizeof p->file_error, "chunk at %" PRIu64 ", expected %" PRIu64, position,
                 p->file_received);
        return;
    }
    if (position + length > p->file_size) {
        snprintf(p->file_error, sizeof p->file_error, "chunk past the end (%" PRIu64 "+%zu > %" PRIu64 ")", position,
                 length, p->file_size);
        return;
    }
    for (size_t k = 0; k < length; ++k) {
        if (data[k] != file_byte(position + k)) {
            snprintf(p->file_error, sizeof p->file_error, "byte %" PRIu64 " is 0x%02x, expected 0x%02x", position + k,
                     data[k], file_byte(position + k));
            return;
        }
    }
    p->file_hash = fnv1a(p->file_hash, data, length);
    p->file_received += length;
}

static void on_file_chunk_request(Tox *tox, uint32_t friend_number, uint32_t file_number, uint64_t position,
                                  size_t length, void *user_data)
{
    Peer *p = user_data;
    if (!p->send_file_active || file_number != p->send_file_number || p->send_error[0]) {
        return;
    }
    if (length == 0) {
        p->send_file_done = true;
        return;
    }
    uint8_t buf[2048];
    if (length > sizeof buf) {
        snprintf(p->send_error, sizeof p->send_error, "chunk request of %zu bytes", length);
        return;
    }
    for (size_t k = 0; k < length; ++k) {
        buf[k] = file_byte(position + k);
    }
    Tox_Err_File_Send_Chunk err;
    if (!tox_file_send_chunk(tox, friend_number, file_number, position, buf, length, &err)) {
        snprintf(p->send_error, sizeof p->send_error, "tox_file_send_chunk at %" PRIu64 " failed: error %d", position,
                 (int)err);
    }
}

static void on_file_recv_control(Tox *tox, uint32_t friend_number, uint32_t file_number, Tox_File_Control control,
                                 void *user_data)
{
    (void)tox;
    (void)friend_number;
    Peer *p = user_data;
    if (p->send_file_active && file_number == p->send_file_number && control == TOX_FILE_CONTROL_CANCEL) {
        snprintf(p->send_error, sizeof p->send_error, "the receiver cancelled the transfer");
    }
}

/* ---------------------------------------------------------------- set-up */

static Tox *new_tox(bool udp, bool ipv6, void *log_user_data, Tox_Err_New *err)
{
    struct Tox_Options *o = tox_options_new(NULL);
    if (!o) {
        *err = TOX_ERR_NEW_MALLOC;
        return NULL;
    }
    tox_options_set_ipv6_enabled(o, ipv6);
    tox_options_set_udp_enabled(o, udp);
    tox_options_set_local_discovery_enabled(o, false);
    tox_options_set_hole_punching_enabled(o, false);
    tox_options_set_tcp_port(o, 0); /* no TCP relay in this process, ever */
    tox_options_set_proxy_type(o, TOX_PROXY_TYPE_NONE);
    if (verbose) {
        tox_options_set_log_callback(o, log_cb);
        tox_options_set_log_user_data(o, log_user_data);
    }
    Tox *t = tox_new(o, err);
    tox_options_free(o);
    return t;
}

static bool parse_hex(const char *hex, uint8_t *out, size_t n)
{
    if (strlen(hex) != 2 * n) {
        return false;
    }
    for (size_t i = 0; i < n; ++i) {
        unsigned v;
        char two[3] = {hex[2 * i], hex[2 * i + 1], 0};
        char *end;
        if (!((two[0] >= '0' && two[0] <= '9') || ((two[0] | 32) >= 'a' && (two[0] | 32) <= 'f')) ||
            !((two[1] >= '0' && two[1] <= '9') || ((two[1] | 32) >= 'a' && (two[1] | 32) <= 'f'))) {
            return false;
        }
        v = (unsigned)strtoul(two, &end, 16);
        out[i] = (uint8_t)v;
    }
    return true;
}

/* Is anything accepting TCP connections at host:port? (for the diagnosis of a failed `relay`) */
static const char *probe_tcp(const char *host, uint16_t port)
{
    struct sockaddr_in6 a6;
    struct sockaddr_in a4;
    struct sockaddr *sa;
    socklen_t len;
    int family;
    memset(&a6, 0, sizeof a6);
    memset(&a4, 0, sizeof a4);
    if (inet_pton(AF_INET, host, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons(port);
        sa = (struct sockaddr *)&a4;
        len = sizeof a4;
        family = AF_INET;
    } else if (inet_pton(AF_INET6, host, &a6.sin6_addr) == 1) {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons(port);
        sa = (struct sockaddr *)&a6;
        len = sizeof a6;
        family = AF_INET6;
    } else {
        return "not probed (host is a name)";
    }
    int fd = socket(family, SOCK_STREAM, 0);
    if (fd < 0) {
        return "not probed (socket failed)";
    }
    struct timeval tv = {3, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int rc = connect(fd, sa, len);
    int e = errno;
    close(fd);
    if (rc == 0) {
        return "the relay port accepts TCP connections, so the handshake or the onion through it failed";
    }
    static char buf[128];
    snprintf(buf, sizeof buf, "nothing accepts TCP connections there (%s)", strerror(e));
    return buf;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: toxharness --relay HOST:PORT:PKHEX [--hold SECONDS] [--file-mib N] [--timeout-scale X]\n"
            "                  [--dht-host ADDR] [--verbose]\n"
            "  --relay          the TCP relay under test (IPv6: [::1]:PORT:KEY or ::1:PORT:KEY)\n"
            "  --hold S         after the file, stay idle S seconds; the friendship must stay up (default 0: no hold)\n"
            "  --file-mib N     size of the file sent A -> B in MiB (default 4; 0: no file phase)\n"
            "  --timeout-scale  multiply every phase bound by X (default 1)\n"
            "  --dht-host ADDR  the address under which the local DHT nodes are known (default 127.0.0.1);\n"
            "                   the relay sends them the clients' onion packets by UDP, so it must reach it\n"
            "  --verbose        progress and toxcore's log on stderr\n");
}

int main(int argc, char **argv)
{
    const char *relay_arg = NULL;
    const char *dht_host = "127.0.0.1";
    double hold = 0, scale = 1;
    double file_mib = 4;

    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--verbose")) {
            verbose = true;
        } else if (v && !strcmp(a, "--relay")) {
            relay_arg = v;
            ++i;
        } else if (v && !strcmp(a, "--dht-host")) {
            dht_host = v;
            ++i;
        } else if (v && (!strcmp(a, "--hold") || !strcmp(a, "--file-mib") || !strcmp(a, "--timeout-scale"))) {
            char *end;
            double d = strtod(v, &end);
            if (*end || end == v || !(d >= 0) || d > 86400) {
                fprintf(stderr, "toxharness: %s needs a number, got '%s'\n", a, v);
                return 2;
            }
            if (!strcmp(a, "--hold")) {
                hold = d;
            } else if (!strcmp(a, "--file-mib")) {
                if (d > 1024) {
                    fprintf(stderr, "toxharness: --file-mib at most 1024\n");
                    return 2;
                }
                file_mib = d;
            } else {
                if (d <= 0 || d > 100) {
                    fprintf(stderr, "toxharness: --timeout-scale must be in (0, 100]\n");
                    return 2;
                }
                scale = d;
            }
            ++i;
        } else {
            fprintf(stderr, "toxharness: unexpected argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!relay_arg) {
        usage(stderr);
        return 2;
    }

    /* HOST:PORT:KEY, split from the right so that an IPv6 host keeps its colons. */
    char relay_host[256];
    uint16_t relay_port;
    uint8_t relay_pk[TOX_PUBLIC_KEY_SIZE];
    {
        const char *k = strrchr(relay_arg, ':');
        const char *p = NULL;
        for (const char *s = k ? k - 1 : NULL; s && s >= relay_arg; --s) {
            if (*s == ':') {
                p = s;
                break;
            }
        }
        if (!k || !p || p == relay_arg || (size_t)(p - relay_arg) >= sizeof relay_host) {
            fprintf(stderr, "toxharness: --relay wants HOST:PORT:PKHEX, got '%s'\n", relay_arg);
            return 2;
        }
        size_t hl = (size_t)(p - relay_arg);
        memcpy(relay_host, relay_arg, hl);
        relay_host[hl] = 0;
        if (hl >= 2 && relay_host[0] == '[' && relay_host[hl - 1] == ']') {
            memmove(relay_host, relay_host + 1, hl - 2);
            relay_host[hl - 2] = 0;
        }
        char portbuf[16];
        size_t pl = (size_t)(k - p - 1);
        char *end;
        if (pl == 0 || pl >= sizeof portbuf) {
            fprintf(stderr, "toxharness: bad port in --relay '%s'\n", relay_arg);
            return 2;
        }
        memcpy(portbuf, p + 1, pl);
        portbuf[pl] = 0;
        unsigned long port = strtoul(portbuf, &end, 10);
        if (*end || port == 0 || port > 65535) {
            fprintf(stderr, "toxharness: bad port in --relay '%s'\n", relay_arg);
            return 2;
        }
        relay_port = (uint16_t)port;
        if (!parse_hex(k + 1, relay_pk, sizeof relay_pk)) {
            fprintf(stderr, "toxharness: the key in --relay must be 64 hex digits\n");
            return 2;
        }
    }
    bool relay_v6 = strchr(relay_host, ':') != NULL;
    bool dht_v6 = strchr(dht_host, ':') != NULL; /* an IPv6 --dht-host needs dual-stack DHT nodes */
    uint64_t file_size = (uint64_t)(file_mib * 1048576.0);

    double t_file = T_FILE_BASE + T_FILE_PER_MIB * file_mib;
    double total = (T_DHT + T_RELAY + T_FRIEND_REQUEST + T_ONLINE + T_MESSAGES + t_file + hold + T_HOLD_EXTRA) * scale;
    alarm((unsigned)total + 60); /* the last resort: SIGALRM's default action ends the process */

    setvbuf(stdout, NULL, _IOLBF, 0);
    start_time = now_s();
    printf("relay %s port %u key %s\n", relay_host, relay_port, relay_arg + strlen(relay_arg) - 64);

    int status = 1;
    Tox_Err_New en;
    for (int i = 0; i < NUM_DHT; ++i) {
        static char names[NUM_DHT][8];
        snprintf(names[i], sizeof names[i], "D%d", i);
        dht[i] = new_tox(true, dht_v6, names[i], &en);
        if (!dht[i]) {
            fprintf(stderr, "toxharness: tox_new for DHT node %d failed: error %d\n", i, (int)en);
            for (int j = 0; j < i; ++j) {
                tox_kill(dht[j]);
            }
            return 2;
        }
    }
    peer_a.tox = new_tox(false, relay_v6, "A", &en);
    peer_b.tox = peer_a.tox ? new_tox(false, relay_v6, "B", &en) : NULL;
    if (!peer_a.tox || !peer_b.tox) {
        fprintf(stderr, "toxharness: tox_new for a client failed: error %d\n", (int)en);
        status = 2;
        goto out;
    }

    uint16_t dht_port[NUM_DHT];
    uint8_t dht_key[NUM_DHT][TOX_PUBLIC_KEY_SIZE];
    for (int i = 0; i < NUM_DHT; ++i) {
        Tox_Err_Get_Port ep;
        dht_port[i] = tox_self_get_udp_port(dht[i], &ep);
        tox_self_get_dht_id(dht[i], dht_key[i]);
        if (ep != TOX_ERR_GET_PORT_OK) {
            fprintf(stderr, "toxharness: DHT node %d has no UDP port\n", i);
            status = 2;
            goto out;
        }
        note("DHT node %d: UDP port %u", i, dht_port[i]);
    }
    for (int i = 0; i < NUM_DHT; ++i) {
        for (int j = 0; j < NUM_DHT; ++j) {
            Tox_Err_Bootstrap eb;
            if (i != j && !tox_bootstrap(dht[i], dht_host, dht_port[j], dht_key[j], &eb)) {
                fprintf(stderr, "toxharness: tox_bootstrap(%s) failed: error %d\n", dht_host, (int)eb);
                status = 2;
                goto out;
            }
        }
    }
    Peer *peers[2] = {&peer_a, &peer_b};
    peer_a.msg_from = "B";
    peer_b.msg_from = "A";
    for (int k = 0; k < 2; ++k) {
        Tox *t = peers[k]->tox;
        tox_callback_friend_request(t, on_friend_request);
        tox_callback_friend_connection_status(t, on_friend_connection);
        tox_callback_self_connection_status(t, on_self_connection);
        tox_callback_friend_message(t, on_friend_message);
        tox_callback_file_recv(t, on_file_recv);
        tox_callback_file_recv_chunk(t, on_file_recv_chunk);
        tox_callback_file_chunk_request(t, on_file_chunk_request);
        tox_callback_file_recv_control(t, on_file_recv_control);
        for (int i = 0; i < NUM_DHT; ++i) {
            Tox_Err_Bootstrap eb;
            if (!tox_bootstrap(t, dht_host, dht_port[i], dht_key[i], &eb)) {
                fprintf(stderr, "toxharness: tox_bootstrap for %s failed: error %d\n", peers[k]->name, (int)eb);
                status = 2;
                goto out;
            }
        }
        Tox_Err_Bootstrap eb;
        if (!tox_add_tcp_relay(t, relay_host, relay_port, relay_pk, &eb)) {
            fprintf(stderr, "toxharness: tox_add_tcp_relay(%s, %u) failed: error %d\n", relay_host, relay_port, (int)eb);
            status = 2;
            goto out;
        }
    }

    /* ---- dht */
    double t0 = now_s();
    {
        double deadline = t0 + T_DHT * scale;
        int up = 0;
        while (now_s() < deadline) {
            iterate_all();
            up = 0;
            for (int i = 0; i < NUM_DHT; ++i) {
                up += tox_self_get_connection_status(dht[i]) != TOX_CONNECTION_NONE;
            }
            if (up == NUM_DHT) {
                break;
            }
        }
        if (up != NUM_DHT) {
            phase_fail("dht", "only %d of %d DHT nodes connected after %.0f s", up, NUM_DHT, T_DHT * scale);
            goto out;
        }
        phase_ok("dht", t0, "(%d UDP nodes, status %s)", NUM_DHT, conn_name(tox_self_get_connection_status(dht[0])));
    }

    /* ---- relay */
    t0 = now_s();
    {
        double deadline = t0 + T_RELAY * scale;
        Tox_Connection ca = TOX_CONNECTION_NONE, cb = TOX_CONNECTION_NONE;
        while (now_s() < deadline) {
            iterate_all();
            ca = tox_self_get_connection_status(peer_a.tox);
            cb = tox_self_get_connection_status(peer_b.tox);
            if (ca == TOX_CONNECTION_TCP && peer_a.self_tcp_at == 0) {
                peer_a.self_tcp_at = now_s() - start_time;
            }
            if (cb == TOX_CONNECTION_TCP && peer_b.self_tcp_at == 0) {
                peer_b.self_tcp_at = now_s() - start_time;
            }
            if (ca == TOX_CONNECTION_TCP && cb == TOX_CONNECTION_TCP) {
                break;
            }
            if (ca == TOX_CONNECTION_UDP || cb == TOX_CONNECTION_UDP) {
                break;
            }
        }
        if (ca != TOX_CONNECTION_TCP || cb != TOX_CONNECTION_TCP) {
            phase_fail("relay", "after %.1f s A is %s and B is %s, expected TCP for both; %s", now_s() - t0,
                       conn_name(ca), conn_name(cb), probe_tcp(relay_host, relay_port));
            goto out;
        }
        /* A and B start with the DHT, so they may already be online when this phase begins. */
        phase_ok("relay", t0, "(A at %.2f s, B at %.2f s after the start)", peer_a.self_tcp_at, peer_b.self_tcp_at);
    }

    /* ---- friend-request */
    t0 = now_s();
    uint32_t a_fn, b_fn;
    uint8_t a_pk[TOX_PUBLIC_KEY_SIZE], b_pk[TOX_PUBLIC_KEY_SIZE];
    tox_self_get_public_key(peer_a.tox, a_pk);
    tox_self_get_public_key(peer_b.tox, b_pk);
    {
        uint8_t b_addr[TOX_ADDRESS_SIZE];
        tox_self_get_address(peer_b.tox, b_addr);
        Tox_Err_Friend_Add ef;
        a_fn = tox_friend_add(peer_a.tox, b_addr, (const uint8_t *)FRIEND_REQUEST_TEXT, strlen(FRIEND_REQUEST_TEXT), &ef);
        if (ef != TOX_ERR_FRIEND_ADD_OK) {
            phase_fail("friend-request", "tox_friend_add failed: error %d", (int)ef);
            goto out;
        }
        double deadline = t0 + T_FRIEND_REQUEST * scale;
        while (now_s() < deadline && !peer_b.request_seen) {
            iterate_all();
        }
        if (!peer_b.request_seen) {
            phase_fail("friend-request", "B did not receive A's request within %.0f s", T_FRIEND_REQUEST * scale);
            goto out;
        }
        if (peer_b.request_bad) {
            phase_fail("friend-request", "%s", peer_b.request_why);
            goto out;
        }
        if (memcmp(peer_b.request_pk, a_pk, TOX_PUBLIC_KEY_SIZE) != 0) {
            phase_fail("friend-request", "the request does not come from A's public key");
            goto out;
        }
        b_fn = tox_friend_add_norequest(peer_b.tox, peer_b.request_pk, &ef);
        if (ef != TOX_ERR_FRIEND_ADD_OK) {
            phase_fail("friend-request", "B's tox_friend_add_norequest failed: error %d", (int)ef);
            goto out;
        }
        phase_ok("friend-request", t0, NULL);
    }

    /* ---- online */
    t0 = now_s();
    {
        double deadline = t0 + T_ONLINE * scale;
        Tox_Connection ca = TOX_CONNECTION_NONE, cb = TOX_CONNECTION_NONE;
        while (now_s() < deadline) {
            iterate_all();
            ca = tox_friend_get_connection_status(peer_a.tox, a_fn, NULL);
            cb = tox_friend_get_connection_status(peer_b.tox, b_fn, NULL);
            if (ca != TOX_CONNECTION_NONE && cb != TOX_CONNECTION_NONE) {
                break;
            }
        }
        if (ca != TOX_CONNECTION_TCP || cb != TOX_CONNECTION_TCP) {
            phase_fail("online", "after %.1f s A sees B %s and B sees A %s, expected TCP for both", now_s() - t0,
                       conn_name(ca), conn_name(cb));
            goto out;
        }
        peer_a.friend_drops = peer_b.friend_drops = 0;
        phase_ok("online", t0, NULL);
    }

    /* ---- messages */
    t0 = now_s();
    {
        double deadline = t0 + T_MESSAGES * scale;
        uint32_t sent[2] = {0, 0};
        uint32_t fns[2] = {a_fn, b_fn};
        char buf[TOX_MAX_MESSAGE_LENGTH + 1];
        char why[256] = "";
        while (now_s() < deadline) {
            for (int k = 0; k < 2 && !why[0]; ++k) {
                /* a few per pass; a full send queue (SENDQ) is retried on the next pass */
                for (int burst = 0; burst < 10 && sent[k] < MSG_COUNT; ++burst) {
                    Peer *from = peers[k], *to = peers[1 - k];
                    size_t len = make_message(buf, from->name, to->name, sent[k]);
                    Tox_Message_Type type = (sent[k] % 5 == 4) ? TOX_MESSAGE_TYPE_ACTION : TOX_MESSAGE_TYPE_NORMAL;
                    Tox_Err_Friend_Send_Message em;
                    tox_friend_send_message(from->tox, fns[k], type, (const uint8_t *)buf, len, &em);
                    if (em == TOX_ERR_FRIEND_SEND_MESSAGE_SENDQ) {
                        break;
                    }
                    if (em != TOX_ERR_FRIEND_SEND_MESSAGE_OK) {
                        snprintf(why, sizeof why, "%s: tox_friend_send_message #%u failed: error %d", from->name,
                                 sent[k], (int)em);
                        break;
                    }
                    ++sent[k];
                }
            }
            if (why[0]) {
                break;
            }
            iterate_all();
            if (peer_a.msg_error[0] || peer_b.msg_error[0]) {
                break;
            }
            if (peer_a.msg_next == MSG_COUNT && peer_b.msg_next == MSG_COUNT) {
                break;
            }
        }
        if (why[0] || peer_a.msg_error[0] || peer_b.msg_error[0]) {
            phase_fail("messages", "%s", why[0] ? why : peer_b.msg_error[0] ? peer_b.msg_error : peer_a.msg_error);
            goto out;
        }
        if (peer_a.msg_next != MSG_COUNT || peer_b.msg_next != MSG_COUNT) {
            phase_fail("messages", "after %.0f s B has %u of %u from A and A has %u of %u from B", T_MESSAGES * scale,
                       peer_b.msg_next, MSG_COUNT, peer_a.msg_next, MSG_COUNT);
            goto out;
        }
        phase_ok("messages", t0, "(%d each way)", MSG_COUNT);
    }

    /* ---- file */
    if (file_size > 0) {
        t0 = now_s();
        double deadline = t0 + t_file * scale;
        uint64_t expect_hash = FNV_INIT;
        for (uint64_t pos = 0; pos < file_size;) {
            uint8_t buf[4096];
            size_t n = file_size - pos < sizeof buf ? (size_t)(file_size - pos) : sizeof buf;
            for (size_t k = 0; k < n; ++k) {
                buf[k] = file_byte(pos + k);
            }
            expect_hash = fnv1a(expect_hash, buf, n);
            pos += n;
        }
        static const char fname[] = "interop.bin";
        Tox_Err_File_Send es;
        peer_a.send_file_number = tox_file_send(peer_a.tox, a_fn, TOX_FILE_KIND_DATA, file_size, NULL,
                                                (const uint8_t *)fname, sizeof fname - 1, &es);
        if (es != TOX_ERR_FILE_SEND_OK) {
            phase_fail("file", "tox_file_send failed: error %d", (int)es);
            goto out;
        }
        peer_a.send_file_active = true;
        while (now_s() < deadline && !peer_b.file_done && !peer_b.file_error[0] && !peer_a.send_error[0]) {
            iterate_all();
        }
        if (peer_a.send_error[0] || peer_b.file_error[0]) {
            phase_fail("file", "%s", peer_b.file_error[0] ? peer_b.file_error : peer_a.send_error);
            goto out;
        }
        if (!peer_b.file_done) {
            phase_fail("file", "after %.0f s B has %" PRIu64 " of %" PRIu64 " bytes%s", t_file * scale,
                       peer_b.file_received, file_size, peer_b.file_offered ? "" : " (no file offer arrived)");
            goto out;
        }
        if (peer_b.file_size != file_size || peer_b.file_hash != expect_hash) {
            phase_fail("file", "size %" PRIu64 " hash %016" PRIx64 ", expected size %" PRIu64 " hash %016" PRIx64,
                       peer_b.file_size, peer_b.file_hash, file_size, expect_hash);
            goto out;
        }
        double secs = now_s() - t0;
        phase_ok("file", t0, "(%.2f MiB, %.2f MiB/s, fnv1a %016" PRIx64 ")", file_mib,
                 secs > 0 ? file_mib / secs : 0.0, expect_hash);
    }

    /* ---- hold */
    if (hold > 0) {
        t0 = now_s();
        double idle_end = t0 + hold;
        unsigned drops_a = peer_a.friend_drops, drops_b = peer_b.friend_drops;
        char why[256] = "";
        while (now_s() < idle_end) {
            iterate_all();
            Tox_Connection ca = tox_friend_get_connection_status(peer_a.tox, a_fn, NULL);
            Tox_Connection cb = tox_friend_get_connection_status(peer_b.tox, b_fn, NULL);
            /* the self status too: it stays TCP only while A and B stay announced through the relay */
            Tox_Connection sa = tox_self_get_connection_status(peer_a.tox);
            Tox_Connection sb = tox_self_get_connection_status(peer_b.tox);
            if (ca != TOX_CONNECTION_TCP || cb != TOX_CONNECTION_TCP || peer_a.friend_drops != drops_a ||
                peer_b.friend_drops != drops_b || sa != TOX_CONNECTION_TCP || sb != TOX_CONNECTION_TCP) {
                snprintf(why, sizeof why,
                         "after %.1f s idle A sees B %s and B sees A %s, A is %s and B is %s (expected TCP throughout)",
                         now_s() - t0, conn_name(ca), conn_name(cb), conn_name(sa), conn_name(sb));
                break;
            }
        }
        if (why[0]) {
            phase_fail("hold", "%s", why);
            goto out;
        }
        double deadline = now_s() + T_HOLD_EXTRA * scale;
        bool sent_a = false, sent_b = false;
        char msg[64];
        while (now_s() < deadline && !(peer_a.hold_msgs && peer_b.hold_msgs) && !peer_a.msg_error[0] &&
               !peer_b.msg_error[0]) {
            Tox_Err_Friend_Send_Message em;
            if (!sent_a) {
                int n = snprintf(msg, sizeof msg, "hold A->B");
                tox_friend_send_message(peer_a.tox, a_fn, TOX_MESSAGE_TYPE_NORMAL, (const uint8_t *)msg, (size_t)n, &em);
                sent_a = em == TOX_ERR_FRIEND_SEND_MESSAGE_OK;
            }
            if (!sent_b) {
                int n = snprintf(msg, sizeof msg, "hold B->A");
                tox_friend_send_message(peer_b.tox, b_fn, TOX_MESSAGE_TYPE_NORMAL, (const uint8_t *)msg, (size_t)n, &em);
                sent_b = em == TOX_ERR_FRIEND_SEND_MESSAGE_OK;
            }
            iterate_all();
        }
        if (peer_a.msg_error[0] || peer_b.msg_error[0]) {
            phase_fail("hold", "%s", peer_b.msg_error[0] ? peer_b.msg_error : peer_a.msg_error);
            goto out;
        }
        if (!peer_a.hold_msgs || !peer_b.hold_msgs) {
            phase_fail("hold", "after the idle time, B got %u and A got %u of the final messages", peer_b.hold_msgs,
                       peer_a.hold_msgs);
            goto out;
        }
        phase_ok("hold", t0, "(%.0f s idle, A, B and the friendship stayed TCP)", hold);
    }

    printf("all phases ok %.2f\n", now_s() - start_time);
    status = 0;

out:
    if (peer_b.tox) {
        tox_kill(peer_b.tox);
    }
    if (peer_a.tox) {
        tox_kill(peer_a.tox);
    }
    for (int i = 0; i < NUM_DHT; ++i) {
        if (dht[i]) {
            tox_kill(dht[i]);
        }
    }
    fflush(stdout);
    return status;
}
