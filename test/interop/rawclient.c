/*
 * rawclient: an independent Tox TCP relay client, written in C from /work/shared/PROTOCOL.md
 * (§0-§7) alone. It shares no code with the TypeScript relay, so a scenario that passes against
 * both our relay and tox-bootstrapd shows the two speak the same wire protocol.
 *
 * Usage: rawclient HOST PORT SERVER_PK_HEX
 * Prints one line per step, "ok <step>" or "FAIL <step>: <why>", and exits 0 only if every
 * step passes. Each step is bounded by STEP_MS; the whole run by an alarm.
 *
 * Build: gcc -O2 -Wall -Wextra -Werror -std=c11 -D_POSIX_C_SOURCE=200809L rawclient.c -lsodium
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#define STEP_MS 5000
#define QUIET_MS 300
#define PK 32
#define NONCE 24
#define MAC 16
#define MAX_FRAME 2048               /* largest value of the u16be length prefix (§2) */
#define MAX_PLAIN (MAX_FRAME - MAC)  /* 2032 */
#define HELLO_SIZE 128
#define REPLY_SIZE 96

enum { ROUTING_REQUEST = 0, ROUTING_RESPONSE = 1, CONNECT_NOTIFICATION = 2, DISCONNECT_NOTIFICATION = 3,
       PING = 4, PONG = 5, OOB_SEND = 6, OOB_RECV = 7 };

struct conn {
    const char *name;
    int fd;
    uint8_t pk[PK], sk[PK];        /* long-term identity */
    uint8_t key[32];               /* session key */
    uint8_t send_nonce[NONCE], recv_nonce[NONCE];
    uint8_t buf[2 * (2 + MAX_FRAME)];
    size_t len;                    /* bytes buffered in buf */
};

static uint8_t server_pk[PK];
static char why[512];               /* reason of the last failure */

static void fail_why(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int remaining(int64_t deadline) {
    int64_t r = deadline - now_ms();
    return r < 0 ? 0 : (int)r;
}

static void sleep_ms(int ms) {
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* §0: the 24-byte nonce is a big-endian integer; add 1 to byte 23 and carry towards byte 0. */
static void increment_nonce(uint8_t n[NONCE]) {
    for (int i = NONCE - 1; i >= 0; i--) {
        if (++n[i] != 0) break;
    }
}

static void hex(const uint8_t *b, size_t n, char *out, size_t outsz) {
    static const char digits[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < n && o + 3 < outsz; i++) {
        out[o++] = digits[b[i] >> 4];
        out[o++] = digits[b[i] & 15];
    }
    if (n * 2 + 1 > outsz && o + 3 < outsz) { out[o++] = '.'; out[o++] = '.'; }
    out[o] = 0;
}

static int parse_hex_key(const char *s, uint8_t out[PK]) {
    if (strlen(s) != 2 * PK) return -1;
    for (int i = 0; i < 2 * PK; i++) {
        char c = s[i];
        int v;
        if (c >= '0' && c <= '9') v = c - '0';
        else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
        else return -1;
        if (i % 2 == 0) out[i / 2] = (uint8_t)(v << 4);
        else out[i / 2] |= (uint8_t)v;
    }
    return 0;
}

/* ---------- sockets ---------- */

static int tcp_connect(const char *host, const char *port, int64_t deadline) {
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) { fail_why("getaddrinfo(%s, %s): %s", host, port, gai_strerror(rc)); return -1; }
    int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    if (fd < 0) { fail_why("socket: %s", strerror(errno)); freeaddrinfo(res); return -1; }
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    rc = connect(fd, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    if (rc != 0 && errno != EINPROGRESS) { fail_why("connect: %s", strerror(errno)); close(fd); return -1; }
    if (rc != 0) {
        struct pollfd p = { fd, POLLOUT, 0 };
        int n = poll(&p, 1, remaining(deadline));
        if (n <= 0) { fail_why("connect: %s", n == 0 ? "timed out" : strerror(errno)); close(fd); return -1; }
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) { fail_why("connect: %s", strerror(err)); close(fd); return -1; }
    }
    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    int one = 1;   /* so that the 1-byte writes of the split-frame step really go out one by one */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* Write all n bytes, waiting with poll() for room, until the deadline. */
static int write_all(int fd, const uint8_t *p, size_t n, int64_t deadline) {
    while (n > 0) {
        struct pollfd pf = { fd, POLLOUT, 0 };
        int r = poll(&pf, 1, remaining(deadline));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) { fail_why("send: %s", r == 0 ? "timed out" : strerror(errno)); return -1; }
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
            fail_why("send: %s", strerror(errno));
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read exactly n bytes (short reads are accumulated) until the deadline. */
static int read_exact(int fd, uint8_t *p, size_t n, int64_t deadline) {
    size_t got = 0;
    while (got < n) {
        struct pollfd pf = { fd, POLLIN, 0 };
        int r = poll(&pf, 1, remaining(deadline));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) { fail_why("recv: %s after %zu of %zu bytes", r == 0 ? "timed out" : strerror(errno), got, n); return -1; }
        ssize_t k = recv(fd, p + got, n - got, MSG_DONTWAIT);
        if (k == 0) { fail_why("connection closed by the relay after %zu of %zu bytes", got, n); return -1; }
        if (k < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
            fail_why("recv: %s", strerror(errno));
            return -1;
        }
        got += (size_t)k;
    }
    return 0;
}

/* ---------- handshake (§1) ---------- */

static int handshake(struct conn *c, const char *host, const char *port, int split) {
    int64_t deadline = now_ms() + STEP_MS;
    crypto_box_keypair(c->pk, c->sk);
    uint8_t k_lt[32];
    if (crypto_box_beforenm(k_lt, server_pk, c->sk) != 0) { fail_why("beforenm(S_pk, C_sk) failed"); return -1; }

    uint8_t e_pk[PK], e_sk[PK];
    crypto_box_keypair(e_pk, e_sk);
    uint8_t plain[PK + NONCE];                  /* Ce_pk ‖ Nc */
    memcpy(plain, e_pk, PK);
    randombytes_buf(plain + PK, NONCE);
    memcpy(c->send_nonce, plain + PK, NONCE);   /* our frames start at Nc */

    uint8_t hello[HELLO_SIZE];                  /* C_pk ‖ N1 ‖ box(K_lt, N1, Ce_pk ‖ Nc) */
    memcpy(hello, c->pk, PK);
    randombytes_buf(hello + PK, NONCE);
    if (crypto_box_easy_afternm(hello + PK + NONCE, plain, sizeof plain, hello + PK, k_lt) != 0) {
        fail_why("crypto_box_easy_afternm failed");
        return -1;
    }

    c->fd = tcp_connect(host, port, deadline);
    if (c->fd < 0) return -1;
    if (split) {
        /* 127 bytes, a pause, then the last byte: the relay must wait for all 128 (§1 step 1). */
        if (write_all(c->fd, hello, HELLO_SIZE - 1, deadline) != 0) return -1;
        sleep_ms(100);
        if (write_all(c->fd, hello + HELLO_SIZE - 1, 1, deadline) != 0) return -1;
    } else if (write_all(c->fd, hello, HELLO_SIZE, deadline) != 0) {
        return -1;
    }

    uint8_t reply[REPLY_SIZE];                  /* N2 ‖ box(K_lt, N2, Se_pk ‖ Ns) */
    if (read_exact(c->fd, reply, REPLY_SIZE, deadline) != 0) return -1;
    uint8_t opened[PK + NONCE];
    if (crypto_box_open_easy_afternm(opened, reply + NONCE, REPLY_SIZE - NONCE, reply, k_lt) != 0) {
        fail_why("the 96-byte reply does not open with K_lt");
        return -1;
    }
    if (crypto_box_beforenm(c->key, opened, e_sk) != 0) { fail_why("beforenm(Se_pk, Ce_sk) failed"); return -1; }
    memcpy(c->recv_nonce, opened + PK, NONCE);  /* the relay's frames start at Ns */
    sodium_memzero(e_sk, sizeof e_sk);
    sodium_memzero(k_lt, sizeof k_lt);

    /* Nothing may follow the reply before we speak (the relay sends no frame unprompted yet). */
    c->len = 0;
    return 0;
}

/* ---------- framing (§2) ---------- */

/* Encrypt and send one frame; byte_by_byte sends it in 1-byte writes with a short pause between. */
static int send_frame(struct conn *c, const uint8_t *plain, size_t n, int byte_by_byte) {
    int64_t deadline = now_ms() + STEP_MS;
    if (n == 0 || n > MAX_PLAIN) { fail_why("internal: plaintext length %zu", n); return -1; }
    uint8_t frame[2 + MAX_FRAME];
    size_t len = n + MAC;
    frame[0] = (uint8_t)(len >> 8);
    frame[1] = (uint8_t)(len & 0xff);
    if (crypto_box_easy_afternm(frame + 2, plain, n, c->send_nonce, c->key) != 0) {
        fail_why("crypto_box_easy_afternm failed");
        return -1;
    }
    increment_nonce(c->send_nonce);
    if (!byte_by_byte) return write_all(c->fd, frame, 2 + len, deadline);
    for (size_t i = 0; i < 2 + len; i++) {
        if (write_all(c->fd, frame + i, 1, deadline) != 0) return -1;
        sleep_ms(2);
    }
    return 0;
}

/*
 * Receive one frame into out (its plaintext), waiting at most timeout_ms.
 * Returns 1 with a frame, 0 on timeout (partial bytes stay buffered), -1 on error.
 * Frames may arrive split across any number of recv() calls, or several in one.
 */
static int recv_frame_raw(struct conn *c, uint8_t *out, size_t *outlen, int timeout_ms) {
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        while (c->len >= 2) {
            size_t len = ((size_t)c->buf[0] << 8) | c->buf[1];
            if (len == 0) {   /* an empty prefix carries nothing and consumes no nonce */
                memmove(c->buf, c->buf + 2, c->len - 2);
                c->len -= 2;
                continue;
            }
            if (len <= MAC || len > MAX_FRAME) { fail_why("relay sent a frame length of %zu", len); return -1; }
            if (c->len < 2 + len) break;
            if (crypto_box_open_easy_afternm(out, c->buf + 2, len, c->recv_nonce, c->key) != 0) {
                fail_why("a %zu-byte frame from the relay does not decrypt (wrong key or nonce)", len);
                return -1;
            }
            increment_nonce(c->recv_nonce);
            *outlen = len - MAC;
            memmove(c->buf, c->buf + 2 + len, c->len - 2 - len);
            c->len -= 2 + len;
            return 1;
        }
        int wait = remaining(deadline);
        struct pollfd pf = { c->fd, POLLIN, 0 };
        int r = poll(&pf, 1, wait);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) { fail_why("poll: %s", strerror(errno)); return -1; }
        if (r == 0) return 0;
        ssize_t k = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, MSG_DONTWAIT);
        if (k == 0) { fail_why("connection closed by the relay"); return -1; }
        if (k < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
            fail_why("recv: %s", strerror(errno));
            return -1;
        }
        c->len += (size_t)k;
    }
}

/* Like recv_frame_raw, but answers the relay's own PINGs (§7) and keeps waiting. */
static int recv_frame(struct conn *c, uint8_t *out, size_t *outlen, int timeout_ms) {
    int64_t deadline = now_ms() + timeout_ms;
    for (int guard = 0; guard < 16; guard++) {
        int r = recv_frame_raw(c, out, outlen, remaining(deadline));
        if (r != 1) return r;
        if (*outlen == 9 && out[0] == PING) {
            uint8_t pong[9];
            pong[0] = PONG;
            memcpy(pong + 1, out + 1, 8);
            if (send_frame(c, pong, sizeof pong, 0) != 0) return -1;
            continue;
        }
        return 1;
    }
    fail_why("too many server pings");
    return -1;
}

/* Wait for the next frame on c and require it to equal want[0..n). */
static int expect(struct conn *c, const uint8_t *want, size_t n) {
    uint8_t got[MAX_PLAIN];
    size_t glen = 0;
    int r = recv_frame(c, got, &glen, STEP_MS);
    if (r < 0) return -1;
    if (r == 0) {
        char w[80];
        hex(want, n, w, sizeof w);
        fail_why("%s: nothing within %d ms (%zu partial bytes buffered); wanted %s", c->name, STEP_MS, c->len, w);
        return -1;
    }
    if (glen != n || memcmp(got, want, n) != 0) {
        char g[80], w[80];
        hex(got, glen, g, sizeof g);
        hex(want, n, w, sizeof w);
        size_t at = 0;
        while (at < glen && at < n && got[at] == want[at]) at++;
        fail_why("%s: got %zu bytes %s, wanted %zu bytes %s (first difference at byte %zu)", c->name, glen, g, n, w, at);
        return -1;
    }
    return 0;
}

/* Require that c receives nothing (apart from server pings) for ms milliseconds. */
static int expect_quiet(struct conn *c, int ms) {
    uint8_t got[MAX_PLAIN];
    size_t glen = 0;
    int r = recv_frame(c, got, &glen, ms);
    if (r < 0) return -1;
    if (r == 1) {
        char g[80];
        hex(got, glen, g, sizeof g);
        fail_why("%s: unexpected frame of %zu bytes %s", c->name, glen, g);
        return -1;
    }
    if (c->len != 0) { fail_why("%s: %zu unexpected bytes of a partial frame", c->name, c->len); return -1; }
    return 0;
}

static void random_ping_id(uint8_t id[8]) {
    do randombytes_buf(id, 8); while (sodium_is_zero(id, 8));
}

static int ping_pong(struct conn *c, const uint8_t id[8], int byte_by_byte) {
    uint8_t p[9];
    p[0] = PING;
    memcpy(p + 1, id, 8);
    if (send_frame(c, p, sizeof p, byte_by_byte) != 0) return -1;
    p[0] = PONG;
    return expect(c, p, sizeof p);
}

/* ---------- scenario ---------- */

static int steps_ok = 0;

static int step(const char *name, int result) {
    if (result == 0) {
        printf("ok %s\n", name);
        steps_ok++;
    } else {
        printf("FAIL %s: %s\n", name, why[0] ? why : "unknown");
    }
    fflush(stdout);
    why[0] = 0;
    return result;
}

#define STEP(name, expr) do { if (step((name), (expr)) != 0) goto done; } while (0)

static int routing_request(struct conn *c, const uint8_t pk[PK]) {
    uint8_t p[1 + PK];
    p[0] = ROUTING_REQUEST;
    memcpy(p + 1, pk, PK);
    return send_frame(c, p, sizeof p, 0);
}

static int expect_routing_response(struct conn *c, uint8_t conn_id, const uint8_t pk[PK]) {
    uint8_t p[2 + PK];
    p[0] = ROUTING_RESPONSE;
    p[1] = conn_id;
    memcpy(p + 2, pk, PK);
    return expect(c, p, sizeof p);
}

static int expect_two(struct conn *c, uint8_t id, uint8_t conn_id) {
    uint8_t p[2] = { id, conn_id };
    return expect(c, p, sizeof p);
}

static int send_two(struct conn *c, uint8_t id, uint8_t conn_id) {
    uint8_t p[2] = { id, conn_id };
    return send_frame(c, p, sizeof p, 0);
}

/* count 512-byte data packets from `from` on its link `from_id`, expected at `to` as `to_id`. */
static int data_packets(struct conn *from, uint8_t from_id, struct conn *to, uint8_t to_id, int count, size_t size) {
    uint8_t pkts[3][512];
    if (count > 3 || size > 512 || size < 2) { fail_why("internal: bad data step"); return -1; }
    for (int i = 0; i < count; i++) {
        randombytes_buf(pkts[i], size);
        pkts[i][1] = (uint8_t)i;    /* distinct and ordered */
        pkts[i][0] = from_id;
        if (send_frame(from, pkts[i], size, 0) != 0) return -1;
    }
    for (int i = 0; i < count; i++) {
        pkts[i][0] = to_id;
        if (expect(to, pkts[i], size) != 0) {
            char again[sizeof why];
            memcpy(again, why, sizeof why);
            fail_why("packet %d of %d: %s", i + 1, count, again);
            return -1;
        }
    }
    return 0;
}

static int oob(struct conn *from, struct conn *to) {
    static const uint8_t data[5] = { 1, 2, 3, 4, 5 };
    uint8_t p[1 + PK + sizeof data];
    p[0] = OOB_SEND;
    memcpy(p + 1, to->pk, PK);
    memcpy(p + 1 + PK, data, sizeof data);
    if (send_frame(from, p, sizeof p, 0) != 0) return -1;
    p[0] = OOB_RECV;
    memcpy(p + 1, from->pk, PK);
    return expect(to, p, sizeof p);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s HOST PORT SERVER_PK_HEX\n", argv[0]);
        return 2;
    }
    if (parse_hex_key(argv[3], server_pk) != 0) {
        fprintf(stderr, "SERVER_PK_HEX must be 64 hex digits\n");
        return 2;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "sodium_init failed\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    alarm(120);   /* a hard stop, whatever happens: 24 steps of at most 5 s each */

    struct conn a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.name = "A"; a.fd = -1;
    b.name = "B"; b.fd = -1;
    const char *host = argv[1], *port = argv[2];
    int failed = 1;
    uint8_t id[8];

    STEP("handshake A", handshake(&a, host, port, 0));
    STEP("handshake B (hello split 127+1)", handshake(&b, host, port, 1));
    random_ping_id(id);
    STEP("confirm A with PING/PONG", ping_pong(&a, id, 0));
    random_ping_id(id);
    STEP("confirm B with PING/PONG", ping_pong(&b, id, 0));

    /* §5.1: A asks for B (one-sided), then B asks for A (mutual: link). */
    STEP("A routing request for B -> [1][16][B pk]",
         routing_request(&a, b.pk) != 0 ? -1 : expect_routing_response(&a, 16, b.pk));
    STEP("B routing request for A -> [1][16][A pk]",
         routing_request(&b, a.pk) != 0 ? -1 : expect_routing_response(&b, 16, a.pk));
    STEP("A connect notification [2][16]", expect_two(&a, CONNECT_NOTIFICATION, 16));
    STEP("B connect notification [2][16]", expect_two(&b, CONNECT_NOTIFICATION, 16));

    /* §5.2 */
    STEP("three 512-byte data packets A->B in order", data_packets(&a, 16, &b, 16, 3, 512));
    STEP("one 512-byte data packet B->A", data_packets(&b, 16, &a, 16, 1, 512));

    /* §4 id 6/7 */
    STEP("OOB A->B [6][B pk][0102030405] -> [7][A pk][0102030405]", oob(&a, &b));

    /* §4 id 4/5, the bytes of TCP_test.c */
    {
        static const uint8_t fixed[8] = { 0x08, 0x06, 0x09, 0x43, 0, 0, 0, 0 };
        STEP("PING 0806094300000000 -> PONG with the same bytes", ping_pong(&a, fixed, 0));
    }

    /* §5.3 */
    STEP("A disconnect [3][16] -> B gets [3][16]",
         send_two(&a, DISCONNECT_NOTIFICATION, 16) != 0 ? -1 : expect_two(&b, DISCONNECT_NOTIFICATION, 16));
    STEP("A gets no reply to its disconnect (300 ms)", expect_quiet(&a, QUIET_MS));

    /* §2: a frame in 1-byte writes is reassembled */
    random_ping_id(id);
    STEP("PING sent in 1-byte writes is answered", ping_pong(&a, id, 1));

    /*
     * Beyond TCP_test.c: give the two ends different conn ids, so that the relay's rewriting of
     * the first byte shows. A first asks for a key nobody holds (slot 0 -> 16), then asks for B
     * again: B's slot still names A (status 1), so the link comes back at once on slot 1 (17).
     */
    {
        uint8_t nobody_pk[PK], nobody_sk[PK];
        crypto_box_keypair(nobody_pk, nobody_sk);
        STEP("A routing request for an offline key -> [1][16][key]",
             routing_request(&a, nobody_pk) != 0 ? -1 : expect_routing_response(&a, 16, nobody_pk));
        STEP("A routing request for B again -> [1][17][B pk]",
             routing_request(&a, b.pk) != 0 ? -1 : expect_routing_response(&a, 17, b.pk));
        STEP("A relinked: connect notification [2][17]", expect_two(&a, CONNECT_NOTIFICATION, 17));
        STEP("B relinked: connect notification [2][16]", expect_two(&b, CONNECT_NOTIFICATION, 16));
        STEP("data A->B rewritten from 17 to 16", data_packets(&a, 17, &b, 16, 2, 100));
        STEP("data B->A rewritten from 16 to 17", data_packets(&b, 16, &a, 17, 1, 100));
        STEP("data on the offline link is dropped silently",
             send_two(&a, 16, 0xaa) != 0 ? -1 : expect_quiet(&b, QUIET_MS));
        random_ping_id(id);
        STEP("A still served after all that", ping_pong(&a, id, 0));
    }

    /*
     * Closing B: our relay notices at once, tox-bootstrapd 0.2.18 only at its ping timeout
     * (§7), so this is not asserted.
     */
    printf("skip B closes its socket (detection time differs between relays; not asserted)\n");
    failed = 0;

done:
    if (a.fd >= 0) close(a.fd);
    if (b.fd >= 0) close(b.fd);
    printf("%s: %d steps ok\n", failed ? "FAILED" : "PASSED", steps_ok);
    fflush(stdout);
    return failed ? 1 : 0;
}
