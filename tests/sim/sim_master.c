/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_master.c - bmsgw-sim --master: a bus whose master is not
 * bmsgw.  The simulator polls its own packs cyclically, the way the real
 * master of the protocol does, and writes each request and the addressed
 * pack's answer onto the pty, paced at the baud with the pack's latency:
 * what a listener on that RS485 bus receives (bmsgw's `listen = true`).
 *
 *   jk-pb      the master at DIP 0 (bms/PROTOCOLS.md §6.3; the bus captures
 *              of syssi/esphome-jk-bms#442 and jblance/mpp-solar#460): FC16
 *              of one register to 0x1620 (status) for 1..15, every
 *              MST_JK_RARE-th cycle also 0x161E (settings) and 0x161C
 *              (device info); an address that does not answer gets the
 *              request and silence.  A pack at address 0 is the master: its
 *              own records go on the bus without a request, each with its
 *              ACK from 0x00.
 *   seplos3    the master is the pack at address 1 (mr-manuel/venus-os_
 *              dbus-serialbattery#247's dump): FC04 0x1000 x 0x12 (one
 *              register more than bmsgw reads, as the master asks), FC04
 *              0x1100 x 0x1A, FC01 0x1200 x 0x90 to 2 .. the highest pack
 *              address (and any other pack), a request every 200 ms
 *              (DpunktS/seplos_v3_sniffer's README), then its own three
 *              answers with no request before them.  Without a pack at 1 it
 *              is an external master with no data.
 *   eg4-ll, renogy, pace-modbus, daly-modbus: an inverter or a display (no
 *              data of its own) reading for each pack the blocks bmsgw's
 *              driver reads (bms/eg4_ll.c, renogy.c, pace_modbus.c,
 *              daly_modbus.c; not the identity blocks), pack after pack.
 *   pace, pylontech, seplos, daren, eg4-lp4: such an external master
 *              sending the analog (0x42) and alarm (0x44) commands with the
 *              VER, CID1 and INFO bmsgw's driver sends (bms/pace.c,
 *              pylontech.c, seplos.c, daren.c, eg4_lp4.c; daren has no 0x44
 *              and its KS48100 packs are asked with '>').
 * A cycle over all addresses then repeats.  What arrives from the pty is
 * counted (and its first 64 bytes kept); while the master runs it is a
 * collision, never answered; after `master stop` the packs answer it as
 * the simulator does without --master.  Frames are encoded here and by the
 * responders: bms/ is not used.
 */
#include "sim.h"
#include "sim_mbslave.h"
#include "sim_pylonframe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MST_NS_PER_MS 1000000ll
#define MST_MAX_ADDR 255
#define MST_REQ_MAX 64
#define MST_HEX_KEEP 64
#define MST_GARBAGE_MAX 1024
#define MST_JK_RARE 10 /* jk-pb: settings and device info every 10th cycle */
#define MST_COLLIDE_BYTES 12

/* A Modbus read bmsgw's driver makes. */
struct mst_read {
	uint8_t fc;
	uint16_t start, count;
};

/* How the real master of a protocol polls. */
struct mst_plan {
	const char *proto;
	int own_addr;      /* the master is the pack at this address (-1: an external
	                    * master without data of its own) */
	int own_outside;   /* own_addr is outside the packs' range (jk-pb's DIP 0) */
	int nblocks;       /* requests per address */
	/* Request `block` to address a (pack p, NULL if none) in cycle `cycle`
	 * into out: its length, 0 = not asked this cycle. */
	size_t (*request)(const struct mst_plan *pl, int a, int block, unsigned long cycle,
	                  const struct sim_pack *p, uint8_t *out);
	const struct mst_read *reads; /* Modbus: the reads */
	uint8_t pf_ver, pf_cid1;      /* paceic: VER, CID1 */
	int pf_info;                  /* paceic INFO: 0 none, 1 ADR, 2 ADR but FF for ADR 0 */
	int period_ms;     /* from a request's start to the next request's, at least */
	int timeout_ms;    /* from a request's end to the next request, if unanswered */
	int gap_ms;        /* from an answer's end to the next request */
	int cycle_ms;      /* from a cycle's start to the next cycle's, at least */
	int scan;          /* addresses: 0 the packs', 1 addr_min..addr_max, 2 2..the
	                    * highest pack address and the packs' */
};

static struct {
	const struct mst_plan *plan;
	const struct sim_proto *proto;
	int on, running;
	int64_t next_at;
	int64_t owns_from;        /* from then on the listener's bytes are collisions */
	int64_t cycle_start;
	unsigned long cycles;
	int naddr, addrs[MST_MAX_ADDR + 1];
	int ai, block, unanswered; /* position in the cycle; ai == naddr: own data */
	unsigned long sent[MST_MAX_ADDR + 1], answered[MST_MAX_ADDR + 1], own_frames;
	unsigned long heard, collisions;
	size_t nkept;
	uint8_t kept[MST_HEX_KEEP];
	/* the schedule on the simulator's clock (a self-test reads these
	 * instead of timing its reads: a late timer only delays) */
	int64_t last_start, silent_from; /* the last frame's start; an unanswered request's end */
	int64_t closest, quietest, planned_max; /* start to start (least), silence after an
	                          * unanswered request (least), start to the next as planned (most) */
	int garbage;              /* random bytes before the next frame */
	int collide;              /* the next answer is damaged */
} M;

/* ---- requests ------------------------------------------------------------- */

static size_t mst_jk_request(const struct mst_plan *pl, int a, int block, unsigned long cycle,
                             const struct sim_pack *p, uint8_t *out)
{
	static const uint16_t reg[] = { 0x1620, 0x161E, 0x161C }; /* status, settings, info */
	(void)pl;
	(void)p;
	if (block > 0 && cycle % MST_JK_RARE != 0)
		return 0;
	const uint8_t f[9] = { (uint8_t)a, 0x10, (uint8_t)(reg[block] >> 8), (uint8_t)reg[block], 0x00, 0x01, 0x02, 0, 0 };
	memcpy(out, f, sizeof f);
	return sim_mb_put_crc(out, sizeof f);
}

static size_t mst_mb_request(const struct mst_plan *pl, int a, int block, unsigned long cycle,
                             const struct sim_pack *p, uint8_t *out)
{
	const struct mst_read *r = &pl->reads[block];
	(void)cycle;
	(void)p;
	/* daly-modbus asks 0x80 + board (answers come from 0x50 + board) */
	out[0] = (uint8_t)(strcmp(pl->proto, "daly-modbus") == 0 ? 0x80 + a : a);
	out[1] = r->fc;
	out[2] = (uint8_t)(r->start >> 8);
	out[3] = (uint8_t)r->start;
	out[4] = (uint8_t)(r->count >> 8);
	out[5] = (uint8_t)r->count;
	return sim_mb_put_crc(out, 6);
}

static size_t mst_pf_request(const struct mst_plan *pl, int a, int block, unsigned long cycle,
                             const struct sim_pack *p, uint8_t *out)
{
	static const uint8_t cid2[] = { 0x42, 0x44 };
	static struct sim_reply r;
	struct sim_pylonframe_info in;
	(void)cycle;
	memset(&r, 0, sizeof r);
	memset(&in, 0, sizeof in);
	if (pl->pf_info)
		sim_pylonframe_put8(&in, pl->pf_info == 2 && a == 0 ? 0xFF : (unsigned)a);
	/* daren's KS48100 packs are asked with '>' (bms/daren.c) */
	uint8_t soi = strcmp(pl->proto, "daren") == 0 && p && p->dialect == 'K' ? '>' : '~';
	/* a request is a frame with CID2 where an answer has RTN */
	if (sim_pylonframe_reply_ex(&r, soi, pl->pf_ver, (uint8_t)a, pl->pf_cid1, cid2[block], &in) ||
	    r.len > MST_REQ_MAX)
		return 0;
	memcpy(out, r.buf, r.len);
	return r.len;
}

/* ---- the masters ---------------------------------------------------------- */

static const struct mst_read mst_sv3[] = { { 0x04, 0x1000, 0x12 }, { 0x04, 0x1100, 0x1A }, { 0x01, 0x1200, 0x90 } };
static const struct mst_read mst_ll[] = { { 0x03, 0, 39 } };                                  /* bms/eg4_ll.c */
static const struct mst_read mst_rng[] = { { 0x03, 5000, 34 }, { 0x03, 5042, 7 }, { 0x03, 5100, 8 } }; /* renogy.c */
static const struct mst_read mst_pm[] = { { 0x03, 0, 37 } };                                  /* pace_modbus.c */
static const struct mst_read mst_dm[] = { { 0x03, 0x00, 0x40 }, { 0x03, 0x41, 0x3E } };       /* daly_modbus.c */

/* An external master (inverter, display): 50 ms after an answer, 300 ms
 * (Modbus) or 500 ms (paceic, longer answers) of waiting, a cycle a second. */
#define MST_MB(name, tbl) \
	{ .proto = name, .own_addr = -1, .nblocks = (int)(sizeof tbl / sizeof tbl[0]), .request = mst_mb_request, \
	  .reads = tbl, .timeout_ms = 300, .gap_ms = 50, .cycle_ms = 1000 }
#define MST_PF(name, ver, cid1, info, nb) \
	{ .proto = name, .own_addr = -1, .nblocks = nb, .request = mst_pf_request, .pf_ver = ver, \
	  .pf_cid1 = cid1, .pf_info = info, .timeout_ms = 500, .gap_ms = 50, .cycle_ms = 1000 }

static const struct mst_plan mst_plans[] = {
	/* no timing is published; the captures have none: 100 ms of waiting,
	 * more than a slave's latency and its 308 bytes (27 ms at 115200), 10
	 * ms after an answer */
	{ .proto = "jk-pb", .own_addr = 0, .own_outside = 1, .nblocks = 3, .request = mst_jk_request,
	  .timeout_ms = 100, .gap_ms = 10, .scan = 1 },
	{ .proto = "seplos3", .own_addr = 1, .nblocks = 3, .request = mst_mb_request, .reads = mst_sv3,
	  .period_ms = 200, .timeout_ms = 150, .scan = 2 },
	MST_MB("eg4-ll", mst_ll),
	MST_MB("renogy", mst_rng),
	MST_MB("pace-modbus", mst_pm),
	MST_MB("daly-modbus", mst_dm),
	MST_PF("pace", 0x25, 0x46, 2, 2),
	MST_PF("pylontech", 0x20, 0x46, 1, 2),
	MST_PF("seplos", 0x20, 0x46, 1, 2),
	MST_PF("daren", 0x22, 0x4A, 1, 1),
	MST_PF("eg4-lp4", 0x20, 0x4A, 0, 2),
};

int sim_master_setup(const struct sim_proto *proto, char *why, size_t cap)
{
	for (size_t i = 0; i < sizeof mst_plans / sizeof mst_plans[0]; i++) {
		if (strcmp(mst_plans[i].proto, proto->name) == 0) {
			M.plan = &mst_plans[i];
			M.proto = proto;
			M.on = M.running = 1;
			M.next_at = 0; /* the first cycle starts at once */
			return 0;
		}
	}
	snprintf(why, cap, "--master: no bus master for '%s' (jk-pb, seplos3, eg4-ll, renogy, pace-modbus, "
	         "daly-modbus, pace, pylontech, seplos, daren, eg4-lp4)", proto->name);
	return -1;
}

int sim_master_own_address(const struct sim_proto *proto)
{
	return M.on && M.proto == proto && M.plan->own_outside ? M.plan->own_addr : -1;
}

static struct sim_pack *mst_pack(int address)
{
	for (int i = 0; i < sim_bus_npacks(); i++)
		if (sim_bus_pack(i)->address == address)
			return sim_bus_pack(i);
	return NULL;
}

static struct sim_pack *mst_own(void)
{
	return M.plan->own_addr >= 0 ? mst_pack(M.plan->own_addr) : NULL;
}

static int mst_listed(int a)
{
	for (int i = 0; i < M.naddr; i++)
		if (M.addrs[i] == a)
			return 1;
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* The addresses the master polls this cycle. */
static void mst_addresses(void)
{
	M.naddr = 0;
	if (M.plan->scan == 1) {
		for (int a = M.proto->addr_min; a <= M.proto->addr_max && a <= MST_MAX_ADDR; a++)
			M.addrs[M.naddr++] = a;
		return;
	}
	int hi = 0;
	for (int i = 0; i < sim_bus_npacks(); i++) {
		int a = sim_bus_pack(i)->address;
		hi = a > hi ? a : hi;
		if (a != M.plan->own_addr && !mst_listed(a))
			M.addrs[M.naddr++] = a;
	}
	if (M.plan->scan != 2)
		return;
	for (int a = 2; a <= hi; a++)
		if (a != M.plan->own_addr && !mst_listed(a))
			M.addrs[M.naddr++] = a;
	qsort(M.addrs, (size_t)M.naddr, sizeof M.addrs[0], cmp_int);
}

static void mst_new_cycle(int64_t at)
{
	mst_addresses();
	M.ai = M.block = M.unanswered = 0;
	M.cycle_start = at;
	M.next_at = at;
}

/* Does frame f (n bytes) pass its check: a JK record's sum8, a paceic
 * CHKSUM, else a Modbus CRC? */
static int mst_frame_ok(const uint8_t *f, size_t n)
{
	if (n == 300 && f[0] == 0x55 && f[1] == 0xAA) {
		unsigned sum = 0;
		for (size_t i = 0; i < n - 1; i++)
			sum += f[i];
		return (uint8_t)sum == f[n - 1];
	}
	if (n >= 18 && (f[0] == '~' || f[0] == '>')) {
		unsigned sum = 0, got = 0;
		for (size_t i = 1; i < n - 5; i++)
			sum += f[i];
		for (size_t i = n - 5; i < n - 1; i++) {
			int c = f[i], v = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
			if (v < 0)
				return 0;
			got = got << 4 | (unsigned)v;
		}
		return ((~sum + 1) & 0xFFFF) == got;
	}
	uint16_t c = n >= 4 ? sim_mb_crc(f, n - 2) : 0;
	return n >= 4 && f[n - 2] == (uint8_t)c && f[n - 1] == (uint8_t)(c >> 8);
}

/* `collide`: a second talker on the line during the answer: from a third
 * of its first frame on, MST_COLLIDE_BYTES bytes are what a receiver makes of
 * two drivers at once (the bits of random bytes ANDed in) - until its check
 * fails, as a collision's almost always does. */
static void mst_collide(struct sim_reply *r)
{
	size_t len = r->nframes ? r->frame_end[0] : 0, from = len / 3;
	M.collide = 0;
	for (size_t i = from; i < len && i < from + MST_COLLIDE_BYTES; i++)
		r->buf[i] = (uint8_t)(r->buf[i] & sim_rand());
	for (unsigned bit = 0; from < len && mst_frame_ok(r->buf, len); bit++)
		r->buf[from + bit / 8 % (len - from)] ^= (uint8_t)(1u << (bit % 8));
}

static void mst_advance(void)
{
	M.block++;
	if (M.block >= M.plan->nblocks || (M.ai < M.naddr && M.unanswered)) {
		M.block = 0;
		M.ai++;
		M.unanswered = 0;
	}
}

static void mst_garbage(int64_t now)
{
	uint8_t junk[MST_GARBAGE_MAX];
	for (int i = 0; i < M.garbage; i++)
		junk[i] = (uint8_t)sim_rand();
	sim_wire_put(junk, (size_t)M.garbage, now);
	M.garbage = 0;
}

static int64_t mst_later(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static int64_t mst_least(int64_t was, int64_t v)
{
	return was == 0 || v < was ? v : was;
}

/* A frame starts at `start`; the next one is planned at `next`; silent_from:
 * the end of this frame if it is a request nobody answers, else 0. */
static void mst_timing(int64_t start, int64_t silent_from, int64_t next)
{
	if (M.last_start)
		M.closest = mst_least(M.closest, start - M.last_start);
	if (M.silent_from)
		M.quietest = mst_least(M.quietest, start - M.silent_from);
	if (next - start > M.planned_max)
		M.planned_max = next - start;
	M.last_start = start;
	M.silent_from = silent_from;
}

/* One request (or one of the master's own answers) of the cycle. */
static void mst_step(int64_t now)
{
	struct sim_pack *own = mst_own();
	if (M.ai == M.naddr && !own)
		M.ai++;
	if (M.ai > M.naddr) {
		M.cycles++;
		mst_new_cycle(mst_later(now, M.cycle_start + M.plan->cycle_ms * MST_NS_PER_MS));
		return;
	}
	int a = M.ai < M.naddr ? M.addrs[M.ai] : M.plan->own_addr;
	uint8_t req[MST_REQ_MAX];
	size_t n = M.plan->request(M.plan, a, M.block, M.cycles, mst_pack(a), req);
	if (n == 0) {
		mst_advance();
		M.next_at = now;
		return;
	}
	if (M.garbage)
		mst_garbage(now);
	void (*mangle)(struct sim_reply *) = M.collide ? mst_collide : NULL;
	int64_t next;
	if (M.ai == M.naddr) {
		/* the master's own data: its answer, no request before it */
		int64_t end = sim_bus_answer(own, req, n, now, 1, mangle);
		M.own_frames += end != 0;
		next = mst_later(end + M.plan->gap_ms * MST_NS_PER_MS, now + M.plan->period_ms * MST_NS_PER_MS);
		mst_timing(now, 0, next);
	} else {
		int64_t req_end = sim_wire_put(req, n, now);
		int64_t start = req_end - (int64_t)n * sim_byte_ns();
		if (!M.owns_from)
			M.owns_from = start;
		M.sent[a]++;
		int64_t end = sim_bus_answer(NULL, req, n, req_end, 0, mangle);
		if (end) {
			M.answered[a]++;
			next = end + M.plan->gap_ms * MST_NS_PER_MS;
		} else {
			next = req_end + M.plan->timeout_ms * MST_NS_PER_MS;
			M.unanswered = M.block == 0;
		}
		next = mst_later(next, start + M.plan->period_ms * MST_NS_PER_MS);
		mst_timing(start, end ? 0 : req_end, next);
	}
	mst_advance();
	M.next_at = next;
}

void sim_master_run(int64_t now)
{
	if (M.running && M.next_at == 0)
		mst_new_cycle(now);
	for (int guard = 0; M.running && now >= M.next_at && guard < 64; guard++)
		mst_step(now);
}

int64_t sim_master_due(void)
{
	return M.running ? M.next_at : INT64_MAX;
}

int sim_master_heard(const uint8_t *b, size_t n, int64_t now)
{
	M.heard += n;
	for (size_t i = 0; i < n && M.nkept < MST_HEX_KEEP; i++)
		M.kept[M.nkept++] = b[i];
	if (!M.running || !M.owns_from || now < M.owns_from)
		return 0;
	M.collisions += n;
	return 1;
}

static void mst_listener_json(struct sim_buf *out)
{
	sim_buf_printf(out, "\"from_listener_bytes\":%lu,\"from_listener_hex\":\"", M.heard);
	for (size_t i = 0; i < M.nkept; i++)
		sim_buf_printf(out, "%02x", M.kept[i]);
	sim_buf_printf(out, "\",\"collisions\":%lu", M.collisions);
}

void sim_master_stats_json(struct sim_buf *out)
{
	mst_listener_json(out);
	sim_buf_printf(out, ",");
}

void sim_master_stats_reset(void)
{
	M.heard = M.collisions = 0;
	M.nkept = 0;
}

/* `master`: its state as JSON. */
static void mst_state_json(struct sim_buf *out)
{
	sim_buf_printf(out, "{\"master\":\"%s\",\"protocol\":\"%s\",\"own_address\":", M.running ? "running" : "stopped",
	               M.plan->proto);
	if (mst_own())
		sim_buf_printf(out, "%d", M.plan->own_addr);
	else
		sim_buf_printf(out, "null");
	sim_buf_printf(out, ",\"cycles\":%lu,\"own_frames\":%lu,\"requests\":{", M.cycles, M.own_frames);
	for (int a = 0, k = 0; a <= MST_MAX_ADDR; a++)
		if (M.sent[a])
			sim_buf_printf(out, "%s\"%d\":%lu", k++ ? "," : "", a, M.sent[a]);
	sim_buf_printf(out, "},\"answers\":{");
	for (int a = 0, k = 0; a <= MST_MAX_ADDR; a++)
		if (M.answered[a])
			sim_buf_printf(out, "%s\"%d\":%lu", k++ ? "," : "", a, M.answered[a]);
	sim_buf_printf(out, "},\"closest_ms\":%.1f,\"quietest_ms\":%.1f,\"planned_max_ms\":%.1f,",
	               (double)M.closest / MST_NS_PER_MS, (double)M.quietest / MST_NS_PER_MS,
	               (double)M.planned_max / MST_NS_PER_MS);
	mst_listener_json(out);
	sim_buf_printf(out, "}");
}

int sim_master_ctl(int argc, char **argv, struct sim_buf *out)
{
	const char *cmd = argv[0];
	if (strcmp(cmd, "master") && strcmp(cmd, "garbage") && strcmp(cmd, "collide"))
		return 0;
	if (!M.on) {
		sim_buf_printf(out, "error: %s: the simulator runs without --master", cmd);
		return 1;
	}
	if (strcmp(cmd, "master") == 0 && argc == 1) {
		mst_state_json(out);
	} else if (strcmp(cmd, "master") == 0 && argc == 2 && strcmp(argv[1], "stop") == 0) {
		M.running = 0;
		M.owns_from = 0;
		sim_buf_printf(out, "ok");
	} else if (strcmp(cmd, "master") == 0 && argc == 2 && strcmp(argv[1], "start") == 0) {
		if (!M.running) {
			M.running = 1;
			mst_new_cycle(sim_clock_ns()); /* a new cycle; it owns the bus at its first request */
		}
		sim_buf_printf(out, "ok");
	} else if (strcmp(cmd, "garbage") == 0 && argc == 2) {
		char *end;
		long k = strtol(argv[1], &end, 10);
		if (!*argv[1] || *end || k < 1 || k > MST_GARBAGE_MAX) {
			sim_buf_printf(out, "error: garbage N wants 1..%d bytes", MST_GARBAGE_MAX);
			return 1;
		}
		M.garbage = (int)k;
		sim_buf_printf(out, "ok");
	} else if (strcmp(cmd, "collide") == 0 && argc == 1) {
		M.collide = 1;
		sim_buf_printf(out, "ok");
	} else {
		sim_buf_printf(out, "error: usage: master [start|stop] | garbage N | collide");
	}
	return 1;
}
