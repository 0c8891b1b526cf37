/* SPDX-License-Identifier: MIT */
/* tests/sim/sim.c - bmsgw-sim: main, command line, transports, pacing, control.
 *
 *   bmsgw-sim --protocol daly (--tcp HOST:PORT | --pty PATH) [--baud N]
 *             [--pack SPEC]... [--control HOST:PORT] [--seed N] [--static]
 *             [--master]
 *
 * One simulated wire (a TCP serial server or a pty) with one or more packs
 * on it; every pack answers only its own address.  Single-threaded, one
 * ppoll() loop, timer driven: a request occupies the line for its own wire
 * time, the answer is scheduled the BMS latency after that (--latency, the
 * protocol's default) and its bytes are released at the pace of the
 * configured baud (10 bits per byte).  The wire is measured: bytes, latency,
 * and the silence the master leaves after each answer.  With --master the
 * bus has a master of its own (sim_master.c), which polls the packs; what
 * comes from the pty is then a listener's.  See tests/sim/README.md.
 */
#include "sim.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* in protocol-id order, from the registry's one list; NULL for a protocol
 * that no wire carries (mqtt-json: its packs arrive through a broker, and
 * tests/integration/test_mqtt_json.py publishes them to a real one) */
#define sim_proto_mqtt_json (*(const struct sim_proto *)NULL)
#define SIM_PROTO_REF_(sym) &sim_proto_##sym,
static const struct sim_proto *const protocols[] = { BMS_DRIVER_LIST(SIM_PROTO_REF_) };
#undef SIM_PROTO_REF_
#define NPROTOCOLS (sizeof protocols / sizeof protocols[0])

#define NS_PER_MS 1000000ll
#define NS_PER_S 1000000000ll
#define RX_CAP 1024
#define RX_GAP_NS (200 * NS_PER_MS) /* a request's bytes must not be further apart */
#define TX_CAP 8192
#define MAX_PENDING 32
#define MAX_CTL 8
#define CTL_LINE 1024
#define CTL_OUT_MAX (1u << 20)
#define LATENCY_MAX_MS 10000
#define IDLE_SAMPLES 65536
#define RXLOG_BYTES (256 * 1024)
#define RXLOG_CHUNKS 16384

enum tx_mode { TX_NORMAL, TX_SPLIT, TX_MERGE };

/* An answer (or an echo) waiting for its time. */
struct pending {
	int64_t due;
	enum tx_mode mode;
	int slow;
	struct sim_reply r; /* frames = chunks a TCP serial server would send together */
};

struct ctl_client {
	int fd;
	size_t inlen;
	int overflow;
	char in[CTL_LINE];
	struct sim_buf out;
	size_t outoff;
};

static struct {
	const struct sim_proto *proto;
	int baud;
	int npacks;
	struct sim_pack packs[SIM_MAX_PACKS];
	int frozen;
	int master;             /* --master: the bus has its own master (sim_master.c) */
	/* transport: TCP serial server or pty */
	int is_tcp;
	int listen_fd, client_fd;
	int client_eof; /* the client shut down its sending side: answer, then close */
	int pty_master, pty_slave;
	const char *pty_link;
	char pty_name[128];
	int link_made;
	/* control */
	int ctl_fd;
	struct ctl_client ctl[MAX_CTL];
	/* wire rx */
	size_t rxlen;
	int64_t rx_first, rx_last; /* arrival of the first / last byte in rx */
	uint8_t rx[RX_CAP];
	/* wire tx: bytes with the time each may be written */
	size_t txhead, txtail;
	int64_t line_free;
	uint8_t tx[TX_CAP];
	int64_t txrel[TX_CAP];
	/* answers not yet due */
	int npend;
	struct pending pend[MAX_PENDING];
	/* BMS response latency, ms */
	int lat_min, lat_max;
	/* stats */
	unsigned long requests, answers, bad_requests, connections;
	unsigned long rx_bytes, tx_bytes, transactions;
	int64_t latency_ns_sum;
	/* the master's silence after an answer: idle_from = when the last answer
	 * byte was released (0 = no complete answer to measure from) */
	int64_t idle_from;
	int answer_out; /* an answer is being written: idle_from follows its last byte */
	unsigned long idle_n;
	int64_t idle_sum, idle_max;
	int64_t idle[IDLE_SAMPLES]; /* the last IDLE_SAMPLES samples, ns */
	int64_t next_tick;
	int64_t next_emit;
	/* pty options */
	int strict_baud;        /* requests at another speed than --baud are garbage */
	int unheld;             /* the slave is not kept open */
	int64_t pty_hup_until;  /* unheld, nobody has the slave open: look again then */
	unsigned long wrong_baud; /* bytes received at another speed */
	/* every byte received, in read() chunks (control `rxlog`) */
	size_t log_len, log_n;
	unsigned long log_lost;
	uint8_t log[RXLOG_BYTES];
	struct { size_t off, len; int64_t t; int baud; } log_chunk[RXLOG_CHUNKS];
	int64_t t_start;
} S;

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* ---- command line -------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: bmsgw-sim --protocol NAME (--tcp HOST:PORT | --pty PATH) [--baud N]\n"
	        "                 [--pack SPEC]... [--control HOST:PORT] [--seed N] [--static]\n"
	        "                 [--latency MS|MIN-MAX] [--master]\n"
	        "       bmsgw-sim --trace DAYS [--step S] [--cells] [--seed N] [--pack SPEC]\n"
	        "       bmsgw-sim --replay FILE (--tcp HOST:PORT | --pty PATH) [--baud N] [--control HOST:PORT]\n"
	        "  --protocol NAME     protocol spoken by the packs:");
	for (size_t i = 0; i < NPROTOCOLS; i++)
		if (protocols[i])
			fprintf(f, " %s", protocols[i]->name);
	fprintf(f,
	        "\n"
	        "  --tcp HOST:PORT     listen like a TCP serial server (one client; a new one replaces it)\n"
	        "  --pty PATH          create a pty, raw mode, symlink PATH -> its slave device\n"
	        "  --baud N            pace answers at N baud, 10 bits per byte (default: protocol's)\n"
	        "  --pack SPEC         a pack on the bus (repeatable), SPEC = key=value,... with keys\n"
	        "                      address cells sensors soc current capacity cycles soh mos_temp\n"
	        "                      ccl dcl (A) cvl dvl (V) full16 junk; dialect=d2|81 (daly-modbus),\n"
	        "                      layout=24s|32s\n"
	        "                      (jk-ble), key=32 hex digits (victron-ble), dialect=v12|v13\n"
	        "                      nolisten=0|1 (pylon-can), dialect=1e|7e (tdt), id=N (ogt),\n"
	        "                      unlock=HHHH|none, pages=acked|burst (d-powercore),\n"
	        "                      pin=TEXT (the Bluetooth module's PIN: jbd, ant, dometic,\n"
	        "                      smartbms123, saftkiste, lolan),\n"
	        "                      nosettings=0|1 (daly, pylontech, ks48, ant, humsienk, ogt,\n"
	        "                      jbd-up, daren, seplos over BLE, pace, the register\n"
	        "                      tables with a settings range: renogy ...)\n"
	        "                      layout=v1|v2 (superb, ecoworthy, neey)\n"
	        "                      string=N: a member of series string N, whose members\n"
	        "                      share one current (README.md \"Packs in series\")\n"
	        "                      (default: one pack, address 1, 16 cells, 2 sensors, SOC 60,\n"
	        "                      current +5.0 A, capacity 100 Ah); model=lfp|nmc runs the\n"
	        "                      battery model instead (README.md \"Battery model\": its keys)\n"
	        "  --control HOST:PORT line-based control port (state, set, fault, stats, freeze, ...)\n"
	        "  --seed N            seed of the random generator (default 1)\n"
	        "  --static            the state does not move (like the control command `freeze`)\n"
	        "  --latency MS|MIN-MAX  BMS response latency after the request's end on the wire\n"
	        "                      (default: the protocol's, daly 50-80, others 20-50 ms)\n"
	        "  --strict-baud       pty: the master must set --baud on the pty; bytes at another\n"
	        "                      rate are garbage to the BMS (and what it sends, to the master)\n"
	        "  --unheld            pty: do not keep the slave open (nobody holds the port)\n"
	        "  --master            pty: the bus has a master of its own, which polls the packs as the\n"
	        "                      protocol's real master does; the pty is a listener (README.md)\n"
	        "  --trace DAYS        write DAYS of the battery model as a history CSV with its truth\n"
	        "                      on stdout, as fast as it goes (--pack: its capacity, cells and\n"
	        "                      model keys; --seed: the model's)\n"
	        "  --step S            with --trace: seconds between rows (default 10)\n"
	        "  --cells             with --trace: each cell's voltage too, and the cells' truth\n"
	        "  --replay FILE       play a capture of `bmsgw --capture` back: a recorded request\n"
	        "                      gets its recorded answer; a listen-only capture is played\n"
	        "                      onto the line with its timing, round and round\n"
	        "PORT 0 picks a free port; the real one is printed on stdout.\n");
}

static void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die_usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("bmsgw-sim: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr);
	exit(2);
}

/* ---- sockets ------------------------------------------------------------- */

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* Split "HOST:PORT" / "[V6]:PORT"; host "" or "*" = any.  0 or -1. */
static int split_hostport(const char *spec, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *colon;
	const char *h = spec;
	size_t hl;
	if (spec[0] == '[') {
		const char *rb = strchr(spec, ']');
		if (!rb || rb[1] != ':')
			return -1;
		h = spec + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(spec, ':');
		if (!colon)
			return -1;
		hl = (size_t)(colon - spec);
	}
	if (hl >= hostlen || strlen(colon + 1) >= portlen || !colon[1])
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	strcpy(port, colon + 1);
	char *end;
	long p = strtol(port, &end, 10);
	if (*end || p < 0 || p > 65535)
		return -1;
	if (strcmp(host, "*") == 0)
		host[0] = '\0';
	return 0;
}

static void describe_addr(const struct sockaddr *sa, socklen_t len, char *out, size_t outlen)
{
	char h[128], p[16]; /* numeric host (IPv6 with scope fits), numeric port */
	if (getnameinfo(sa, len, h, sizeof h, p, sizeof p, NI_NUMERICHOST | NI_NUMERICSERV)) {
		snprintf(out, outlen, "?");
		return;
	}
	if (sa->sa_family == AF_INET6)
		snprintf(out, outlen, "[%s]:%s", h, p);
	else
		snprintf(out, outlen, "%s:%s", h, p);
}

/* Listen on HOST:PORT; the bound address (real port) in desc.  -1 on error. */
static int listen_on(const char *spec, char *desc, size_t desclen)
{
	char host[256], port[16];
	if (split_hostport(spec, host, sizeof host, port, sizeof port))
		return -1;
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	int rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (rc) {
		fprintf(stderr, "bmsgw-sim: %s: %s\n", spec, gai_strerror(rc));
		return -1;
	}
	int fd = -1, err = 0;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 8) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		fprintf(stderr, "bmsgw-sim: listen %s: %s\n", spec, strerror(err));
		return -1;
	}
	set_nonblock(fd);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		describe_addr((struct sockaddr *)&ss, sl, desc, desclen);
	else
		snprintf(desc, desclen, "%s", spec);
	return fd;
}

/* ---- the wire ------------------------------------------------------------ */

static int wire_fd(void)
{
	return S.is_tcp ? S.client_fd : S.pty_master;
}

static void wire_reset(void)
{
	/* a new connection (or none): a BMS that streams stops until asked */
	for (int i = 0; i < S.npacks; i++)
		S.packs[i].stream = S.packs[i].authed = 0;
	S.rxlen = 0;
	S.txhead = S.txtail = 0;
	S.npend = 0;
	S.line_free = 0;
	S.idle_from = 0; /* a new connection: nothing to measure from */
	S.answer_out = 0;
}

static void close_client(void)
{
	if (S.client_fd >= 0) {
		close(S.client_fd);
		S.client_fd = -1;
	}
	S.client_eof = 0;
	wire_reset();
}

static void tx_push(uint8_t b, int64_t rel)
{
	if (S.txtail == TX_CAP && S.txhead > 0) {
		memmove(S.tx, S.tx + S.txhead, S.txtail - S.txhead);
		memmove(S.txrel, S.txrel + S.txhead, (S.txtail - S.txhead) * sizeof S.txrel[0]);
		S.txtail -= S.txhead;
		S.txhead = 0;
	}
	if (S.txtail == TX_CAP)
		return; /* nobody reads: the bytes are lost, as on a serial line */
	if (S.txtail > S.txhead && rel < S.txrel[S.txtail - 1])
		rel = S.txrel[S.txtail - 1];
	S.tx[S.txtail] = b;
	S.txrel[S.txtail] = rel;
	S.txtail++;
}

/* Put an answer on the line: byte i is complete on the wire at
 * start + (i+1) * byte time.  A pty gets each byte when it is complete; a TCP
 * client gets what a serial server would send: one write per frame (normal),
 * per 1..3 bytes with small extra gaps (split), or per answer (merge). */
static void emit(const struct pending *pd, int64_t now)
{
	const struct sim_reply *r = &pd->r;
	if (r->len == 0 || wire_fd() < 0)
		return;
	int64_t bt = 10 * NS_PER_S / S.baud;
	if (pd->slow)
		bt *= 10;
	int64_t start = S.line_free > now ? S.line_free : now;
	S.line_free = start + (int64_t)r->len * bt;
	S.tx_bytes += r->len;
	int64_t prev = 0;
	size_t chunk_end = 0;
	int frame = 0;
	for (size_t i = 0; i < r->len; i++) {
		int64_t rel;
		if (!S.is_tcp) {
			rel = start + (int64_t)(i + 1) * bt;
		} else if (pd->mode == TX_MERGE) {
			rel = start + (int64_t)r->len * bt;
		} else if (pd->mode == TX_SPLIT) {
			if (i >= chunk_end) {
				chunk_end = i + (size_t)sim_rand_range(1, 3);
				if (chunk_end > r->len)
					chunk_end = r->len;
				int64_t t = start + (int64_t)chunk_end * bt;
				int64_t gap = prev + sim_rand_range(1, 5) * NS_PER_MS;
				prev = t > gap ? t : gap;
			}
			rel = prev;
		} else {
			while (frame < r->nframes - 1 && i >= r->frame_end[frame])
				frame++;
			rel = start + (int64_t)r->frame_end[frame] * bt;
		}
		tx_push(r->buf[i], rel);
	}
	if (S.is_tcp && pd->mode == TX_SPLIT && prev > S.line_free)
		S.line_free = prev;
	S.answer_out = 1; /* idle_from is set when its last byte is written */
	S.idle_from = 0;
}

/* A request starts arriving at `now`: the silence since the last answer,
 * if that answer is out and nothing else came in between. */
static void idle_sample(int64_t now)
{
	if (S.idle_from == 0 || S.npend > 0 || S.txhead != S.txtail || now < S.idle_from) {
		S.idle_from = 0;
		return;
	}
	int64_t d = now - S.idle_from;
	S.idle[S.idle_n % IDLE_SAMPLES] = d;
	S.idle_n++;
	S.idle_sum += d;
	if (d > S.idle_max)
		S.idle_max = d;
	S.idle_from = 0;
}

static void tx_flush(int64_t now)
{
	int fd = wire_fd();
	if (fd < 0) {
		S.txhead = S.txtail = 0;
		return;
	}
	while (S.txhead < S.txtail && S.txrel[S.txhead] <= now) {
		size_t j = S.txhead;
		while (j < S.txtail && S.txrel[j] <= now)
			j++;
		size_t n = j - S.txhead;
		ssize_t w;
		if (S.is_tcp)
			w = send(fd, S.tx + S.txhead, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		else
			w = write(fd, S.tx + S.txhead, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				S.txhead = j; /* nobody reads: lost, as on a serial line */
				continue;
			}
			if (S.is_tcp) {
				close_client();
				return;
			}
			S.txhead = j;
			continue;
		}
		S.txhead += (size_t)w;
	}
	if (S.txhead == S.txtail) {
		S.txhead = S.txtail = 0;
		if (S.answer_out) {
			S.idle_from = now_ns(); /* the answer's last byte went out just now */
			S.answer_out = 0;
		}
	}
}

int sim_bus_npacks(void)
{
	return S.npacks;
}

struct sim_pack *sim_bus_pack(int i)
{
	return i >= 0 && i < S.npacks ? &S.packs[i] : NULL;
}

static struct sim_pack *find_pack(int address)
{
	for (int i = 0; i < S.npacks; i++)
		if (S.packs[i].address == address)
			return &S.packs[i];
	return NULL;
}

static struct pending *new_pending(int64_t due)
{
	if (S.npend >= MAX_PENDING)
		return NULL;
	struct pending *pd = &S.pend[S.npend++];
	memset(pd, 0, sizeof *pd);
	pd->due = due;
	return pd;
}

/* The fault that applies to this request (and count it down). */
static enum sim_fault take_fault(struct sim_pack *p)
{
	enum sim_fault f = p->fault;
	if (f != SIM_F_NONE && p->fault_count > 0 && --p->fault_count == 0)
		p->fault = SIM_F_NONE;
	return f;
}

/* Schedule the frames of r for time `due`, damaged by fault f. */
static void queue_reply(const struct sim_reply *r, enum sim_fault f, int64_t due)
{
	struct pending *pd = new_pending(due);
	if (!pd)
		return;
	pd->mode = f == SIM_F_SPLIT ? TX_SPLIT : f == SIM_F_MERGE ? TX_MERGE : TX_NORMAL;
	pd->slow = f == SIM_F_SLOW;
	if (f == SIM_F_GARBAGE) {
		uint8_t junk[8];
		int k = sim_rand_range(1, 8);
		for (int i = 0; i < k; i++)
			junk[i] = (uint8_t)sim_rand();
		sim_reply_add(&pd->r, junk, (size_t)k);
	}
	size_t off = 0;
	for (int i = 0; i < r->nframes; i++) {
		uint8_t frame[SIM_REPLY_MAX];
		size_t fl = r->frame_end[i] - off;
		memcpy(frame, r->buf + off, fl);
		off = r->frame_end[i];
		if (f == SIM_F_BADSUM) {
			if (S.proto->corrupt)
				S.proto->corrupt(frame, fl);
			else
				frame[fl - 1] ^= 0x01;
		}
		if (f == SIM_F_TRUNCATE && i == 0 && fl > 9)
			fl = 9;
		sim_reply_add(&pd->r, frame, fl);
	}
}

/* A complete, well-formed request arrived. Returns -1 if the link was dropped. */
static int handle_request(const uint8_t *req, size_t n, int64_t now)
{
	S.requests++;
	/* the request is on the line for its own wire time (what the master
	 * wrote at once, a real line serialises) */
	int64_t bt = 10 * NS_PER_S / S.baud;
	int64_t from = S.rx_first < S.line_free ? S.line_free : S.rx_first;
	if (from < now - (int64_t)n * bt)
		from = now - (int64_t)n * bt; /* a paced writer: its bytes came at line speed */
	S.line_free = from + (int64_t)n * bt;
	if (S.line_free > now)
		now = S.line_free;
	struct sim_pack *p = find_pack(S.proto->address(req, n));
	if (!p || p->absent)
		return 0; /* nobody on the bus has that address */
	if (S.proto->is_write && S.proto->is_write(req, n))
		p->writes++; /* received, whatever the fault or the control mode does */
	/* an slcan adapter answers the host whatever the battery does */
	enum sim_fault f = S.proto->slcan ? SIM_F_NONE : take_fault(p);
	if (f == SIM_F_SILENT)
		return 0;
	if (f == SIM_F_DROP && S.is_tcp) {
		close_client();
		return -1;
	}
	static struct sim_reply r;
	memset(&r, 0, sizeof r);
	enum sim_resp res = S.proto->respond(p, req, n, &r);
	if (res == SIM_RESP_BAD) {
		S.bad_requests++;
		return 0;
	}
	if (res != SIM_RESP_OK || r.len == 0)
		return 0;
	S.answers++;
	if (f == SIM_F_ECHO) {
		struct pending *e = new_pending(now + sim_rand_range(1, 5) * NS_PER_MS);
		if (e)
			sim_reply_add(&e->r, req, n);
	}
	int64_t lat = (int64_t)sim_rand_range(S.lat_min, S.lat_max) * NS_PER_MS;
	S.transactions++;
	S.latency_ns_sum += lat;
	queue_reply(&r, f, now + lat);
	return 0;
}

int64_t sim_clock_ns(void)
{
	return now_ns();
}

int64_t sim_byte_ns(void)
{
	return 10 * NS_PER_S / S.baud;
}

int64_t sim_wire_put(const uint8_t *b, size_t n, int64_t now)
{
	static struct pending pd;
	memset(&pd, 0, sizeof pd);
	if (sim_reply_add(&pd.r, b, n))
		return now;
	emit(&pd, now);
	return S.line_free > now ? S.line_free : now;
}

int64_t sim_bus_answer(struct sim_pack *p, const uint8_t *req, size_t n, int64_t end, int own,
                       void (*mangle)(struct sim_reply *r))
{
	if (!p)
		p = find_pack(S.proto->address(req, n));
	if (!p || p->absent)
		return 0;
	if (S.proto->is_write && S.proto->is_write(req, n))
		p->writes++;
	enum sim_fault f = take_fault(p);
	static struct sim_reply r;
	memset(&r, 0, sizeof r);
	if (f == SIM_F_SILENT || S.proto->respond(p, req, n, &r) != SIM_RESP_OK || r.len == 0)
		return 0;
	if (mangle)
		mangle(&r);
	int64_t lat = own ? 0 : (int64_t)sim_rand_range(S.lat_min, S.lat_max) * NS_PER_MS;
	int before = S.npend;
	queue_reply(&r, f, end + lat);
	if (S.npend == before)
		return 0;
	S.answers++;
	if (!own) {
		S.transactions++;
		S.latency_ns_sum += lat;
	}
	const struct pending *pd = &S.pend[S.npend - 1];
	return end + lat + (int64_t)pd->r.len * sim_byte_ns() * (pd->slow ? 10 : 1);
}

/* The speed the master set on the pty (a pty carries any; the master's
 * termios are read through the master side), 0 when unknown or on TCP. */
static int line_baud(void)
{
	static const struct { speed_t s; int b; } t[] = {
		{B1200, 1200}, {B2400, 2400}, {B4800, 4800}, {B9600, 9600}, {B19200, 19200}, {B38400, 38400},
		{B57600, 57600}, {B115200, 115200}, {B230400, 230400}, {B460800, 460800}, {B921600, 921600},
	};
	struct termios tio;
	if (S.is_tcp || S.pty_master < 0 || tcgetattr(S.pty_master, &tio) < 0)
		return 0;
	speed_t sp = cfgetospeed(&tio);
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (t[i].s == sp)
			return t[i].b;
	return 0;
}

/* --strict-baud: does the master talk at the simulated BMS's rate? */
static int baud_matches(void)
{
	int b = S.strict_baud ? line_baud() : 0;
	return !b || b == S.baud;
}

static void log_rx(const uint8_t *p, size_t n, int64_t now)
{
	if (S.log_n >= RXLOG_CHUNKS || S.log_len + n > RXLOG_BYTES) {
		S.log_lost += n;
		return;
	}
	memcpy(S.log + S.log_len, p, n);
	S.log_chunk[S.log_n].off = S.log_len;
	S.log_chunk[S.log_n].len = n;
	S.log_chunk[S.log_n].t = now;
	S.log_chunk[S.log_n].baud = line_baud();
	S.log_n++;
	S.log_len += n;
}

/* Every emit_ms, for protocols whose BMS talks unasked: what every pack
 * sends by itself, with its fault applied as to an answer (a fault's
 * COUNT counts what was sent). */
static void emit_unsolicited(int64_t now)
{
	static struct sim_reply r;
	if (wire_fd() < 0)
		return; /* TCP without a client: nobody hears it */
	for (int i = 0; i < S.npacks; i++) {
		struct sim_pack *p = &S.packs[i];
		memset(&r, 0, sizeof r);
		if (S.proto->emit(p, &r) != SIM_RESP_OK || r.len == 0)
			continue;
		enum sim_fault f = take_fault(p);
		if (f == SIM_F_SILENT)
			continue;
		if (f == SIM_F_DROP && S.is_tcp) {
			close_client();
			return;
		}
		if (!baud_matches())
			for (size_t k = 0; k < r.len; k++)
				r.buf[k] = (uint8_t)sim_rand(); /* what a reader at another rate decodes */
		S.answers++;
		queue_reply(&r, f, now);
	}
}

static int64_t emit_period(void)
{
	return S.proto->emit_ms > 0 ? S.proto->emit_ms * NS_PER_MS : NS_PER_S;
}

static void process_rx(int64_t now)
{
	while (S.rxlen > 0) {
		size_t n = 0;
		enum sim_scan s = S.proto->scan(S.rx, S.rxlen, &n);
		if (s == SIM_SCAN_NEED)
			break;
		if (n == 0 || n > S.rxlen)
			n = 1;
		if (s == SIM_SCAN_FRAME) {
			uint8_t req[RX_CAP];
			memcpy(req, S.rx, n);
			memmove(S.rx, S.rx + n, S.rxlen - n);
			S.rxlen -= n;
			if (handle_request(req, n, now) < 0)
				return;
			continue;
		}
		if (s == SIM_SCAN_BAD)
			S.bad_requests++;
		memmove(S.rx, S.rx + n, S.rxlen - n);
		S.rxlen -= n;
	}
}

static void wire_read(int64_t now)
{
	int fd = wire_fd();
	uint8_t buf[512];
	ssize_t n = read(fd, buf, sizeof buf);
	if (n == 0 && S.is_tcp) {
		S.client_eof = 1; /* half-closed (`printf ... | nc`): send what is due, then close */
		return;
	}
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR && errno != EWOULDBLOCK)) {
		if (S.is_tcp)
			close_client();
		return; /* pty: EIO while no one has the slave open; nothing to do */
	}
	if (n < 0)
		return;
	S.rx_bytes += (unsigned long)n;
	log_rx(buf, (size_t)n, now);
	if (S.master && sim_master_heard(buf, (size_t)n, now)) {
		S.rxlen = 0; /* the bus's master talks: a collision, nobody answers */
		return;
	}
	if (!baud_matches()) {
		/* a UART at another rate receives garbage: no request in it */
		S.wrong_baud += (unsigned long)n;
		S.rxlen = 0;
		return;
	}
	if (S.rxlen && now - S.rx_last > RX_GAP_NS) {
		S.bad_requests++; /* an incomplete request, abandoned */
		S.rxlen = 0;
	}
	if (S.rxlen == 0) {
		S.rx_first = now;
		idle_sample(now);
	}
	S.rx_last = now;
	size_t k = (size_t)n;
	if (k > RX_CAP)
		k = RX_CAP;
	if (S.rxlen + k > RX_CAP) {
		size_t drop = S.rxlen + k - RX_CAP;
		memmove(S.rx, S.rx + drop, S.rxlen - drop);
		S.rxlen -= drop;
	}
	memcpy(S.rx + S.rxlen, buf + (size_t)n - k, k);
	S.rxlen += k;
	process_rx(now);
}

static void run_pending(int64_t now)
{
	for (;;) {
		int best = -1;
		for (int i = 0; i < S.npend; i++)
			if (S.pend[i].due <= now && (best < 0 || S.pend[i].due < S.pend[best].due))
				best = i;
		if (best < 0)
			return;
		emit(&S.pend[best], now);
		S.pend[best] = S.pend[--S.npend];
	}
}

/* ---- pty ----------------------------------------------------------------- */

static int pty_open(const char *path)
{
	if (openpty(&S.pty_master, &S.pty_slave, NULL, NULL, NULL) < 0) {
		fprintf(stderr, "bmsgw-sim: openpty: %s\n", strerror(errno));
		return -1;
	}
	if (ttyname_r(S.pty_slave, S.pty_name, sizeof S.pty_name)) {
		fprintf(stderr, "bmsgw-sim: ttyname: %s\n", strerror(errno));
		return -1;
	}
	struct termios t;
	if (tcgetattr(S.pty_slave, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(S.pty_slave, TCSANOW, &t);
	}
	set_nonblock(S.pty_master);
	fcntl(S.pty_slave, F_SETFD, FD_CLOEXEC);
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISLNK(st.st_mode)) {
			fprintf(stderr, "bmsgw-sim: %s exists and is not a symlink\n", path);
			return -1;
		}
		unlink(path); /* stale link of an earlier run */
	}
	if (symlink(S.pty_name, path) < 0) {
		fprintf(stderr, "bmsgw-sim: symlink %s -> %s: %s\n", path, S.pty_name, strerror(errno));
		return -1;
	}
	S.pty_link = path;
	S.link_made = 1;
	return 0;
}

static void pty_unlink(void)
{
	if (!S.link_made)
		return;
	char buf[sizeof S.pty_name];
	ssize_t n = readlink(S.pty_link, buf, sizeof buf - 1);
	if (n >= 0) {
		buf[n] = '\0';
		if (strcmp(buf, S.pty_name) == 0)
			unlink(S.pty_link);
	}
	S.link_made = 0;
}

/* ---- control port -------------------------------------------------------- */

static int split_words(char *line, char **argv, int max)
{
	int argc = 0;
	char *save = NULL;
	for (char *t = strtok_r(line, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (argc == max)
			return -1;
		argv[argc++] = t;
	}
	return argc;
}

/* "MS" or "MIN-MAX" (ms, 0..LATENCY_MAX_MS, MIN <= MAX).  0 or -1. */
static int parse_latency(const char *text, int *lo, int *hi)
{
	char *end;
	long a = strtol(text, &end, 10), b = a;
	if (end == text || a < 0)
		return -1;
	if (*end == '-') {
		const char *t = end + 1;
		b = strtol(t, &end, 10);
		if (end == t)
			return -1;
	}
	if (*end || b < a || b > LATENCY_MAX_MS)
		return -1;
	*lo = (int)a;
	*hi = (int)b;
	return 0;
}

static void stats_reset(void)
{
	S.requests = S.answers = S.bad_requests = 0;
	S.rx_bytes = S.tx_bytes = S.transactions = 0;
	S.latency_ns_sum = 0;
	S.idle_n = 0;
	S.idle_sum = S.idle_max = 0;
	S.idle_from = 0;
	S.wrong_baud = 0;
	for (int i = 0; i < S.npacks; i++)
		S.packs[i].writes = 0;
	sim_master_stats_reset();
}

/* `rxlog`: every byte received, chunk by chunk: ms since the start, the
 * rate the master had set on the pty (0: unknown, TCP), the bytes. */
static void rxlog_json(struct sim_buf *out)
{
	sim_buf_printf(out, "{\"chunks\":[");
	for (size_t i = 0; i < S.log_n; i++) {
		sim_buf_printf(out, "%s[%lld,%d,\"", i ? "," : "", (long long)((S.log_chunk[i].t - S.t_start) / NS_PER_MS),
		               S.log_chunk[i].baud);
		for (size_t k = 0; k < S.log_chunk[i].len; k++)
			sim_buf_printf(out, "%02x", S.log[S.log_chunk[i].off + k]);
		sim_buf_printf(out, "\"]");
	}
	sim_buf_printf(out, "],\"lost\":%lu}", S.log_lost);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* The wire part of `stats`, closing the object. */
static void stats_wire_json(struct sim_buf *out)
{
	static int64_t sorted[IDLE_SAMPLES];
	size_t n = S.idle_n < IDLE_SAMPLES ? S.idle_n : IDLE_SAMPLES;
	memcpy(sorted, S.idle, n * sizeof sorted[0]);
	qsort(sorted, n, sizeof sorted[0], cmp_i64);
	long long p50 = n ? sorted[(n - 1) / 2] / 1000 : 0, p95 = n ? sorted[(n - 1) * 95 / 100] / 1000 : 0;
	sim_buf_printf(out,
	               "\"wrong_baud\":%lu,\"rx_bytes\":%lu,\"tx_bytes\":%lu,\"transactions\":%lu,\"latency_ms_sum\":%lld,"
	               "\"idle_n\":%lu,\"idle_us_mean\":%lld,\"idle_us_p50\":%lld,\"idle_us_p95\":%lld,"
	               "\"idle_us_max\":%lld}",
	               S.wrong_baud, S.rx_bytes, S.tx_bytes, S.transactions, (long long)(S.latency_ns_sum / NS_PER_MS),
	               S.idle_n, S.idle_n ? (long long)(S.idle_sum / (int64_t)S.idle_n / 1000) : 0LL, p50, p95,
	               (long long)(S.idle_max / 1000));
}

static struct sim_pack *ctl_pack(const char *s, struct sim_buf *out)
{
	char *end;
	long a = strtol(s, &end, 0);
	struct sim_pack *p = NULL;
	if (*s && !*end)
		p = find_pack((int)a);
	if (!p)
		sim_buf_printf(out, "error: no pack with address %s", s);
	return p;
}

/* Execute one control line; the answer (without newline) goes to out.
 * Returns 1 for quit. */
static int ctl_exec(char *line, struct sim_buf *out)
{
	char *argv[16];
	int argc = split_words(line, argv, 16);
	if (argc < 0) {
		sim_buf_printf(out, "error: too many words");
		return 0;
	}
	if (argc == 0)
		return 0;
	const char *cmd = argv[0];
	char err[256];
	if (strcmp(cmd, "state") == 0 && argc == 1) {
		sim_buf_printf(out, "{\"packs\":[");
		for (int i = 0; i < S.npacks; i++) {
			struct sim_view v;
			S.proto->view(&S.packs[i], &v);
			if (i)
				sim_buf_printf(out, ",");
			sim_view_json(out, &v, &S.packs[i]);
			if (S.proto->slcan) {
				out->len--; /* the pack's closing brace: the adapter's members go inside */
				sim_can_json(out, &S.packs[i]);
			}
		}
		sim_buf_printf(out, "]");
		sim_strings_json(out, S.packs, S.npacks, S.proto);
		/* unasked: it also speaks when nobody asked (a stream, a cycle, a master) */
		sim_buf_printf(out, ",\"frozen\":%s,\"protocol\":\"%s\",\"baud\":%d,\"latency_ms\":[%d,%d],"
		               "\"unasked\":%s,\"ble_name\":",
		               S.frozen ? "true" : "false", S.proto->name, S.baud, S.lat_min, S.lat_max,
		               S.proto->emit || S.master ? "true" : "false");
		/* a name is printable ASCII; its backslash escaped (123\SmartBMS) */
		if (S.proto->ble_name) {
			sim_buf_printf(out, "\"");
			for (const char *c = S.proto->ble_name; *c; c++)
				sim_buf_printf(out, "%s%c", *c == '\\' || *c == '"' ? "\\" : "", *c);
			sim_buf_printf(out, "\"}");
		} else {
			sim_buf_printf(out, "null}");
		}
	} else if (strcmp(cmd, "stats") == 0 && argc == 2 && strcmp(argv[1], "reset") == 0) {
		stats_reset();
		sim_buf_printf(out, "ok");
	} else if (strcmp(cmd, "stats") == 0 && argc == 1) {
		unsigned long writes = 0;
		for (int i = 0; i < S.npacks; i++)
			writes += S.packs[i].writes;
		/* busy: a request still arriving or awaited, an answer not yet due
		 * or not yet all written (a test waits for it to end, not a time) */
		sim_buf_printf(out,
		               "{\"requests\":%lu,\"answers\":%lu,\"bad_requests\":%lu,\"connections\":%lu,"
		               "\"writes\":%lu,\"busy\":%s,",
		               S.requests, S.answers, S.bad_requests, S.connections, writes,
		               S.rxlen > 0 || S.npend > 0 || S.txhead != S.txtail ? "true" : "false");
		if (S.master)
			sim_master_stats_json(out);
		stats_wire_json(out);
	} else if (strcmp(cmd, "rxlog") == 0 && argc == 1) {
		rxlog_json(out);
	} else if (strcmp(cmd, "rxlog") == 0 && argc == 2 && strcmp(argv[1], "reset") == 0) {
		S.log_len = S.log_n = 0;
		S.log_lost = 0;
		sim_buf_printf(out, "ok");
	} else if (strcmp(cmd, "latency") == 0 && argc == 2) {
		int lo, hi;
		if (parse_latency(argv[1], &lo, &hi)) {
			sim_buf_printf(out, "error: latency wants MS or MIN-MAX, 0..%d ms", LATENCY_MAX_MS);
			return 0;
		}
		S.lat_min = lo;
		S.lat_max = hi;
		sim_buf_printf(out, "ok");
	} else if (strcmp(cmd, "freeze") == 0 && argc == 1) {
		S.frozen = 1;
		sim_buf_printf(out, "ok");
	} else if (strcmp(cmd, "thaw") == 0 && argc == 1) {
		S.frozen = 0;
		sim_buf_printf(out, "ok");
	} else if (strcmp(cmd, "quit") == 0 && argc == 1) {
		sim_buf_printf(out, "ok");
		return 1;
	} else if (strcmp(cmd, "set") == 0) {
		if (argc < 4) {
			sim_buf_printf(out, "error: usage: set ADDR KEY VALUE");
			return 0;
		}
		struct sim_pack *p = ctl_pack(argv[1], out);
		if (!p)
			return 0;
		int rc;
		if (!sim_string_set(S.packs, S.npacks, p, argc - 2, argv + 2, err, sizeof err, &rc))
			rc = sim_pack_set(p, argc - 2, argv + 2, S.proto, err, sizeof err);
		if (rc == 0)
			sim_string_after_set(S.packs, S.npacks, p, argv[2]);
		if (rc)
			sim_buf_printf(out, "error: %s", err);
		else
			sim_buf_printf(out, "ok");
	} else if (strcmp(cmd, "fault") == 0) {
		if (argc < 3 || argc > 4) {
			sim_buf_printf(out, "error: usage: fault ADDR KIND [COUNT]");
			return 0;
		}
		struct sim_pack *p = ctl_pack(argv[1], out);
		if (!p)
			return 0;
		int k = sim_fault_parse(argv[2]);
		if (k < 0) {
			sim_buf_printf(out, "error: unknown fault '%s' (none silent badsum truncate garbage "
			               "drop slow echo split merge)", argv[2]);
			return 0;
		}
		long count = -1;
		if (argc == 4) {
			char *end;
			count = strtol(argv[3], &end, 10);
			if (!*argv[3] || *end || count < 1) {
				sim_buf_printf(out, "error: COUNT must be a positive number");
				return 0;
			}
		}
		p->fault = (enum sim_fault)k;
		p->fault_count = k == SIM_F_NONE ? 0 : count;
		sim_buf_printf(out, "ok");
	} else if (strcmp(cmd, "control") == 0) {
		if (argc < 3 || argc > 4) {
			sim_buf_printf(out, "error: usage: control ADDR normal|refuse|noswitch|silent|noack|"
			               "protect [chg|dsg|both]");
			return 0;
		}
		struct sim_pack *p = ctl_pack(argv[1], out);
		if (!p)
			return 0;
		if (sim_pack_control(p, argv[2], argc == 4 ? argv[3] : NULL, err, sizeof err))
			sim_buf_printf(out, "error: %s", err);
		else
			sim_buf_printf(out, "ok");
	} else if (strcmp(cmd, "pack") == 0) {
		if (argc != 3 || (strcmp(argv[2], "absent") && strcmp(argv[2], "present"))) {
			sim_buf_printf(out, "error: usage: pack ADDR absent|present");
			return 0;
		}
		struct sim_pack *p = ctl_pack(argv[1], out);
		if (!p)
			return 0;
		p->absent = strcmp(argv[2], "absent") == 0;
		sim_buf_printf(out, "ok");
	} else if (sim_master_ctl(argc, argv, out)) {
		/* master, garbage, collide: answered */
	} else if (strcmp(cmd, "help") == 0) {
		sim_buf_printf(out, "commands: state | stats [reset] | rxlog [reset] | latency MS|MIN-MAX | freeze | thaw | "
		               "set ADDR KEY VALUE | fault ADDR KIND [COUNT] | control ADDR MODE [chg|dsg|both] | "
		               "pack ADDR absent|present | master [start|stop] | garbage N | collide | quit");
	} else {
		sim_buf_printf(out, "error: unknown command '%s' (try help)", cmd);
	}
	return 0;
}

static void ctl_close(struct ctl_client *c)
{
	close(c->fd);
	sim_buf_free(&c->out);
	memset(c, 0, sizeof *c);
	c->fd = -1;
}

static void ctl_flush(struct ctl_client *c)
{
	while (c->outoff < c->out.len) {
		ssize_t w = send(c->fd, c->out.p + c->outoff, c->out.len - c->outoff,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				ctl_close(c);
			return;
		}
		c->outoff += (size_t)w;
	}
	c->out.len = c->outoff = 0;
}

static void ctl_read(struct ctl_client *c)
{
	char buf[1024];
	ssize_t n = read(c->fd, buf, sizeof buf);
	if (n < 0 && (errno == EAGAIN || errno == EINTR || errno == EWOULDBLOCK))
		return;
	int eof = 0;
	if (n <= 0) {
		if (c->inlen == 0 || c->overflow) {
			ctl_close(c);
			return;
		}
		buf[0] = '\n'; /* a last command without newline */
		n = 1;
		eof = 1;
	}
	for (ssize_t i = 0; i < n; i++) {
		char ch = buf[i];
		if (ch != '\n') {
			if (c->inlen + 1 < CTL_LINE)
				c->in[c->inlen++] = ch;
			else
				c->overflow = 1;
			continue;
		}
		if (c->inlen && c->in[c->inlen - 1] == '\r')
			c->inlen--;
		c->in[c->inlen] = '\0';
		size_t before = c->out.len;
		int quit = 0;
		if (c->overflow)
			sim_buf_printf(&c->out, "error: line too long");
		else
			quit = ctl_exec(c->in, &c->out);
		if (c->out.len != before)
			sim_buf_printf(&c->out, "\n");
		c->inlen = 0;
		c->overflow = 0;
		if (quit) {
			ctl_flush(c);
			stop_flag = 1;
			return;
		}
	}
	if (c->out.len - c->outoff > CTL_OUT_MAX) {
		ctl_close(c); /* does not read its answers */
		return;
	}
	ctl_flush(c);
	if (eof && c->fd >= 0)
		ctl_close(c);
}

static void ctl_accept(void)
{
	int fd = accept(S.ctl_fd, NULL, NULL);
	if (fd < 0)
		return;
	set_nonblock(fd);
	for (int i = 0; i < MAX_CTL; i++) {
		if (S.ctl[i].fd < 0) {
			S.ctl[i].fd = fd;
			return;
		}
	}
	const char msg[] = "error: too many control connections\n";
	if (send(fd, msg, sizeof msg - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* nothing to do */
	}
	close(fd);
}

static void wire_accept(void)
{
	int fd = accept(S.listen_fd, NULL, NULL);
	if (fd < 0)
		return;
	set_nonblock(fd);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	close_client(); /* a new client replaces the old one */
	S.client_fd = fd;
	S.connections++;
}

/* ---- main loop ----------------------------------------------------------- */

static int64_t next_deadline(int64_t now)
{
	int64_t d = S.next_tick;
	if (S.proto->emit && S.next_emit < d)
		d = S.next_emit;
	for (int i = 0; i < S.npend; i++)
		if (S.pend[i].due < d)
			d = S.pend[i].due;
	if (S.txhead < S.txtail && S.txrel[S.txhead] < d)
		d = S.txrel[S.txhead];
	if (S.pty_hup_until > now && S.pty_hup_until < d)
		d = S.pty_hup_until;
	if (S.master && sim_master_due() < d)
		d = sim_master_due();
	return d > now ? d : now;
}

static void loop(const sigset_t *waitmask)
{
	S.next_tick = now_ns() + NS_PER_S;
	S.next_emit = now_ns() + emit_period();
	while (!stop_flag) {
		int64_t now = now_ns();
		if (now >= S.next_tick) {
			if (!S.frozen)
				sim_bus_tick(S.packs, S.npacks); /* strings move together */
			S.next_tick += NS_PER_S;
			if (S.next_tick <= now)
				S.next_tick = now + NS_PER_S;
		}
		if (S.proto->emit && now >= S.next_emit) {
			emit_unsolicited(now);
			S.next_emit += emit_period();
			if (S.next_emit <= now)
				S.next_emit = now + emit_period();
		}
		/* an answer due goes on the line before the master's next request:
		 * a loop woken late must not put that request first */
		run_pending(now);
		if (S.master)
			sim_master_run(now);
		run_pending(now);
		tx_flush(now);
		if (S.client_eof && S.npend == 0 && S.txhead == S.txtail)
			close_client();

		struct pollfd pfd[4 + MAX_CTL];
		int nfd = 0, i_listen = -1, i_wire = -1, i_ctl = -1, i_c[MAX_CTL];
		if (S.is_tcp && S.listen_fd >= 0) {
			i_listen = nfd;
			pfd[nfd++] = (struct pollfd){.fd = S.listen_fd, .events = POLLIN};
		}
		if (wire_fd() >= 0 && !(S.is_tcp && S.client_eof) && now >= S.pty_hup_until) {
			i_wire = nfd;
			pfd[nfd++] = (struct pollfd){.fd = wire_fd(), .events = POLLIN};
		}
		if (S.ctl_fd >= 0) {
			i_ctl = nfd;
			pfd[nfd++] = (struct pollfd){.fd = S.ctl_fd, .events = POLLIN};
		}
		for (int i = 0; i < MAX_CTL; i++) {
			i_c[i] = -1;
			if (S.ctl[i].fd < 0)
				continue;
			i_c[i] = nfd;
			short ev = POLLIN;
			if (S.ctl[i].outoff < S.ctl[i].out.len)
				ev |= POLLOUT;
			pfd[nfd++] = (struct pollfd){.fd = S.ctl[i].fd, .events = ev};
		}
		int64_t wait = next_deadline(now) - now;
		struct timespec ts = {.tv_sec = (time_t)(wait / NS_PER_S), .tv_nsec = (long)(wait % NS_PER_S)};
		int rc = ppoll(pfd, (nfds_t)nfd, &ts, waitmask);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "bmsgw-sim: ppoll: %s\n", strerror(errno));
			break;
		}
		now = now_ns();
		if (i_wire >= 0 && (pfd[i_wire].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    pfd[i_wire].fd == wire_fd()) {
			if (!S.is_tcp && !(pfd[i_wire].revents & POLLIN))
				/* pty without a reader on the other side: nothing to read;
				 * with --unheld the master says so until somebody opens
				 * the slave: look again in a few ms instead of spinning */
				S.pty_hup_until = S.unheld ? now + 5 * NS_PER_MS : 0;
			else
				wire_read(now);
		}
		if (i_listen >= 0 && (pfd[i_listen].revents & POLLIN))
			wire_accept();
		for (int i = 0; i < MAX_CTL && !stop_flag; i++) {
			if (i_c[i] < 0 || S.ctl[i].fd != pfd[i_c[i]].fd)
				continue;
			short re = pfd[i_c[i]].revents;
			if (re & POLLOUT)
				ctl_flush(&S.ctl[i]);
			if (S.ctl[i].fd >= 0 && (re & (POLLIN | POLLHUP | POLLERR)))
				ctl_read(&S.ctl[i]);
		}
		if (i_ctl >= 0 && (pfd[i_ctl].revents & POLLIN))
			ctl_accept();
	}
}

/* --trace DAYS [--step S] [--seed N] [--pack SPEC]: the battery model's
 * trace on stdout (sim_trace.c); SPEC: capacity, cells and the model's
 * keys (model=lfp is implied). */
static int trace_mode(const char *days_s, const char *step_s, const char *spec, int nspecs,
                      unsigned long long seed, int cells)
{
	struct sim_model_cfg c;
	char *end, *copy = strdup(spec), *save = NULL;
	if (!days_s)
		die_usage("%s", "--step and --cells go with --trace DAYS");
	if (nspecs > 1)
		die_usage("%s", "--trace takes one --pack");
	double days = strtod(days_s, &end);
	if (!*days_s || *end || !(days > 0 && days <= 3650))
		die_usage("bad --trace '%s' (want days, 0 < DAYS <= 3650)", days_s);
	double step = step_s ? strtod(step_s, &end) : 10;
	if (step_s && (!*step_s || *end || !(step >= 1 && step <= 86400)))
		die_usage("bad --step '%s' (want seconds, 1..86400)", step_s);
	sim_model_defaults(&c);
	c.on = 1;
	c.seed = seed;
	for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		int bad = !eq;
		if (eq) {
			*eq = '\0';
			if (strcmp(tok, "capacity") == 0 || strcmp(tok, "cells") == 0) {
				double v = strtod(eq + 1, &end);
				bad = !eq[1] || *end || !(v >= 1 && v <= (tok[1] == 'a' ? 100000 : SIM_MODEL_CELLS));
				if (tok[1] == 'a')
					c.rated_ah = v;
				else
					c.cells = (int)v;
			} else {
				bad = sim_model_set(&c, tok, eq + 1) != 0;
			}
		}
		if (bad)
			die_usage("--trace --pack: bad or unknown '%s%s%s'", tok, eq ? "=" : "", eq ? eq + 1 : "");
	}
	free(copy);
	if (sim_trace_write(&c, days, step, cells, stdout) < 0) {
		fprintf(stderr, "bmsgw-sim: --trace: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *proto_name = NULL, *tcp = NULL, *pty = NULL, *control = NULL;
	const char *specs[SIM_MAX_PACKS];
	int nspecs = 0, is_static = 0, trace_cells = 0;
	long baud = 0;
	unsigned long long seed = 1;
	int lat_lo = -1, lat_hi = -1;
	const char *trace = NULL, *step = NULL, *replay = NULL;
	static const struct option opts[] = {
		{"protocol", required_argument, NULL, 'p'}, {"tcp", required_argument, NULL, 't'},
		{"pty", required_argument, NULL, 'y'},      {"baud", required_argument, NULL, 'b'},
		{"pack", required_argument, NULL, 'k'},     {"control", required_argument, NULL, 'c'},
		{"seed", required_argument, NULL, 's'},     {"static", no_argument, NULL, 'S'},
		{"latency", required_argument, NULL, 'l'},
		{"strict-baud", no_argument, NULL, 'B'},    {"unheld", no_argument, NULL, 'U'},
		{"trace", required_argument, NULL, 'T'},    {"step", required_argument, NULL, 'P'},
		{"replay", required_argument, NULL, 'R'},   {"master", no_argument, NULL, 'M'},
		{"cells", no_argument, NULL, 'C'},
		{"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
	};
	opterr = 0;
	int o;
	char *end;
	while ((o = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (o) {
		case 'p':
			proto_name = optarg;
			break;
		case 't':
			tcp = optarg;
			break;
		case 'y':
			pty = optarg;
			break;
		case 'b':
			baud = strtol(optarg, &end, 10);
			if (!*optarg || *end || baud < 50 || baud > 4000000)
				die_usage("bad --baud '%s'", optarg);
			break;
		case 'k':
			if (nspecs == SIM_MAX_PACKS)
				die_usage("too many --pack (max %d)", SIM_MAX_PACKS);
			specs[nspecs++] = optarg;
			break;
		case 'c':
			control = optarg;
			break;
		case 's':
			seed = strtoull(optarg, &end, 0);
			if (!*optarg || *end || *optarg == '-')
				die_usage("bad --seed '%s'", optarg);
			break;
		case 'S':
			is_static = 1;
			break;
		case 'l':
			if (parse_latency(optarg, &lat_lo, &lat_hi))
				die_usage("bad --latency '%s' (want MS or MIN-MAX, 0..%d)", optarg, LATENCY_MAX_MS);
			break;
		case 'B':
			S.strict_baud = 1;
			break;
		case 'U':
			S.unheld = 1;
			break;
		case 'T':
			trace = optarg;
			break;
		case 'P':
			step = optarg;
			break;
		case 'R':
			replay = optarg;
			break;
		case 'C':
			trace_cells = 1;
			break;
		case 'M':
			S.master = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			die_usage("option %s needs an argument", argv[optind - 1]);
			break;
		default:
			die_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	if (trace || step || trace_cells)
		return trace_mode(trace, step, nspecs ? specs[0] : "", nspecs, seed, trace_cells);
	if (replay) {
		char why[256];
		if (proto_name || nspecs)
			die_usage("%s", "--replay plays one capture: no --protocol, no --pack");
		S.proto = sim_replay_load(replay, why, sizeof why);
		if (!S.proto) {
			fprintf(stderr, "bmsgw-sim: --replay %s\n", why);
			return 1;
		}
	}
	if (!proto_name && !S.proto)
		die_usage("%s", "--protocol is required");
	for (size_t i = 0; proto_name && i < NPROTOCOLS; i++)
		if (protocols[i] && strcmp(protocols[i]->name, proto_name) == 0)
			S.proto = protocols[i];
	if (!S.proto)
		die_usage("unknown protocol '%s'", proto_name);
	if (!tcp == !pty)
		die_usage("%s", "exactly one of --tcp and --pty is required");
	if ((S.strict_baud || S.unheld) && !pty)
		die_usage("%s", "--strict-baud and --unheld go with --pty");
	if (S.master) {
		char why[256];
		if (!pty || replay)
			die_usage("%s", "--master goes with --pty and a --protocol");
		if (sim_master_setup(S.proto, why, sizeof why))
			die_usage("%s", why);
	}
	S.baud = baud ? (int)baud : S.proto->default_baud;
	if (lat_lo >= 0) {
		S.lat_min = lat_lo;
		S.lat_max = lat_hi;
	} else if (S.proto->latency_max_ms > 0) {
		S.lat_min = S.proto->latency_min_ms;
		S.lat_max = S.proto->latency_max_ms;
	} else {
		S.lat_min = SIM_LATENCY_MIN_MS;
		S.lat_max = SIM_LATENCY_MAX_MS;
	}
	{
		char h[256], p[16];
		if (tcp && split_hostport(tcp, h, sizeof h, p, sizeof p))
			die_usage("bad --tcp '%s' (want HOST:PORT)", tcp);
		if (control && split_hostport(control, h, sizeof h, p, sizeof p))
			die_usage("bad --control '%s' (want HOST:PORT)", control);
		if (pty && !*pty)
			die_usage("%s", "--pty needs a path");
	}

	sim_seed(seed);
	S.t_start = now_ns();
	S.npacks = nspecs ? nspecs : 1;
	for (int i = 0; i < S.npacks; i++) {
		sim_pack_init(&S.packs[i], S.proto->addr_min + i);
		if (S.proto->default_cells)
			S.packs[i].ncells = S.proto->default_cells;
		char err[256];
		if (i < nspecs && sim_pack_parse(&S.packs[i], specs[i], S.proto, err, sizeof err))
			die_usage("%s", err);
		if ((S.packs[i].address < S.proto->addr_min || S.packs[i].address > S.proto->addr_max) &&
		    !(S.master && S.packs[i].address == sim_master_own_address(S.proto)))
			die_usage("pack address out of range in '%s'", i < nspecs ? specs[i] : "");
		for (int j = 0; j < i; j++)
			if (S.packs[j].address == S.packs[i].address)
				die_usage("two packs with the same address ('%s')", specs[i]);
	}
	{
		char err[256];
		if (sim_string_check(S.packs, S.npacks, err, sizeof err))
			die_usage("%s", err);
	}
	S.frozen = is_static;

	S.listen_fd = S.client_fd = S.pty_master = S.pty_slave = S.ctl_fd = -1;
	for (int i = 0; i < MAX_CTL; i++)
		S.ctl[i].fd = -1;

	sigset_t block, waitmask;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGTERM);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	char wire_desc[300] = "", ctl_desc[300] = "";
	int rc = 0;
	if (tcp) {
		S.is_tcp = 1;
		S.listen_fd = listen_on(tcp, wire_desc, sizeof wire_desc);
		if (S.listen_fd < 0)
			return 1;
	} else if (pty_open(pty) < 0) {
		pty_unlink();
		return 1;
	} else if (S.unheld) {
		close(S.pty_slave); /* its settings (raw) stay with the pty */
		S.pty_slave = -1;
	}
	if (control) {
		S.ctl_fd = listen_on(control, ctl_desc, sizeof ctl_desc);
		if (S.ctl_fd < 0) {
			pty_unlink();
			return 1;
		}
	}
	if (S.is_tcp)
		printf("listening tcp %s\n", wire_desc);
	else
		printf("pty %s -> %s\n", pty, S.pty_name);
	if (control)
		printf("control %s\n", ctl_desc);
	fflush(stdout);

	loop(&waitmask);

	pty_unlink();
	for (int i = 0; i < MAX_CTL; i++)
		if (S.ctl[i].fd >= 0)
			ctl_close(&S.ctl[i]);
	if (S.client_fd >= 0)
		close(S.client_fd);
	if (S.listen_fd >= 0)
		close(S.listen_fd);
	if (S.ctl_fd >= 0)
		close(S.ctl_fd);
	if (S.pty_master >= 0)
		close(S.pty_master);
	if (S.pty_slave >= 0)
		close(S.pty_slave);
	return rc;
}
