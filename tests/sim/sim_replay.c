/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_replay.c - `bmsgw-sim --replay FILE`: a capture file of
 * `bmsgw --capture` (gateway/detect/capfile.h) played back as the BMS side, made
 * into a responder (struct sim_proto) at start.
 *
 * A capture with requests (tx records, `bmsgw --capture --probe`): each
 * request recorded is known by its exact bytes; its answer is what was
 * heard after it until the next request (the rx records in between, as one
 * reply).  A request seen again gets the next recorded answer to the same
 * bytes, round and round; a request recorded without an answer gets none,
 * and bytes that are no recorded request get nothing either.  The answer
 * goes out after the simulator's latency (--latency), paced at the baud.
 * A listen-only capture (rx records only) is played onto the line with its
 * recorded timing, from the start again after its last record (plus 1 s).
 *
 * One pack, address 1, without values of its own (`state` shows nulls):
 * the replay knows bytes, not what they mean.  The capture file's reader
 * is gateway/detect/capfile.c, bmsgw's own (it is what users' files are read with,
 * and what the fuzz target fuzz_capfile.c exercises): the one piece of the
 * project the simulator uses besides the list of protocol names.
 */
#include "sim.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../gateway/detect/capfile.h"

#define RP_MAX_REQ 256
#define RP_MAX_ANS 4096
#define RP_FILE_MAX (64u << 20)

struct rp_req {
	const uint8_t *bytes;
	size_t len;
	size_t first, count, next; /* its answers: ans[first .. first + count), the next one */
};

struct rp_ans {
	size_t off, len; /* in the file's data; len 0: no answer */
};

static struct {
	struct capfile cf;
	size_t nreq, nans;
	struct rp_req req[RP_MAX_REQ];
	struct rp_ans *ans;
	uint8_t *joined;          /* answers whose rx records had to be joined */
	size_t njoined;
	/* listen-only playback */
	size_t play;              /* the next record */
	double loop_t;            /* the length of one round */
	double t0;                /* the round's start (monotonic s) */
} R;

static struct sim_proto replay_proto;

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct rp_req *find_req(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < R.nreq; i++)
		if (R.req[i].len == n && memcmp(R.req[i].bytes, p, n) == 0)
			return &R.req[i];
	return NULL;
}

static enum sim_scan rp_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return SIM_SCAN_NEED;
	bool prefix = false;
	for (size_t i = 0; i < R.nreq; i++) {
		const struct rp_req *q = &R.req[i];
		if (len >= q->len && memcmp(buf, q->bytes, q->len) == 0) {
			*n = q->len;
			return SIM_SCAN_FRAME;
		}
		if (len < q->len && memcmp(buf, q->bytes, len) == 0)
			prefix = true;
	}
	if (prefix)
		return SIM_SCAN_NEED;
	*n = 1;
	return SIM_SCAN_SKIP;
}

static int rp_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1;
}

static enum sim_resp rp_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	(void)p;
	struct rp_req *q = find_req(req, n);
	if (!q || q->count == 0)
		return SIM_RESP_NONE;
	const struct rp_ans *a = &R.ans[q->first + q->next];
	q->next = (q->next + 1) % q->count;
	if (a->len == 0)
		return SIM_RESP_NONE;
	return sim_reply_add(reply, R.joined + a->off, a->len) ? SIM_RESP_BAD : SIM_RESP_OK;
}

/* Listen-only: the records whose time has come, as one emission. */
static enum sim_resp rp_emit(struct sim_pack *p, struct sim_reply *reply)
{
	(void)p;
	const struct capfile *cf = &R.cf;
	double now = mono();
	if (R.t0 == 0)
		R.t0 = now;
	if (R.play >= cf->nrec) {
		if (now - R.t0 < R.loop_t)
			return SIM_RESP_NONE;
		R.t0 += R.loop_t;
		R.play = 0;
	}
	while (R.play < cf->nrec && cf->rec[R.play].t <= now - R.t0) {
		const struct capfile_rec *r = &cf->rec[R.play];
		if (reply->len + r->len > SIM_REPLY_MAX || reply->nframes >= SIM_REPLY_FRAMES)
			break;
		sim_reply_add(reply, cf->data + r->off, r->len);
		R.play++;
	}
	return reply->len ? SIM_RESP_OK : SIM_RESP_NONE;
}

static void rp_view(const struct sim_pack *p, struct sim_view *v)
{
	memset(v, 0, sizeof(*v));
	v->address = p->address;
}

/* The answer to request record i: the rx records up to the next request. */
static void add_answer(size_t i)
{
	const struct capfile *cf = &R.cf;
	size_t len = 0, off = R.njoined;
	for (size_t k = i + 1; k < cf->nrec && !cf->rec[k].sent; k++) {
		size_t n = cf->rec[k].len;
		if (len + n > RP_MAX_ANS)
			n = RP_MAX_ANS - len; /* a reply holds so much */
		memcpy(R.joined + R.njoined, cf->data + cf->rec[k].off, n);
		R.njoined += n;
		len += n;
	}
	R.ans[R.nans++] = (struct rp_ans){ off, len };
}

/* Group the answers by request: requests in order of first appearance. */
static int index_requests(char *why, size_t cap)
{
	const struct capfile *cf = &R.cf;
	size_t ntx = 0;
	for (size_t i = 0; i < cf->nrec; i++)
		ntx += cf->rec[i].sent;
	R.ans = calloc(ntx ? ntx : 1, sizeof(*R.ans));
	R.joined = malloc(cf->ndata ? cf->ndata : 1);
	if (!R.ans || !R.joined) {
		snprintf(why, cap, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < cf->nrec; i++) {
		const struct capfile_rec *r = &cf->rec[i];
		if (!r->sent || find_req(cf->data + r->off, r->len))
			continue;
		if (R.nreq >= RP_MAX_REQ) {
			snprintf(why, cap, "more than %d different requests", RP_MAX_REQ);
			return -1;
		}
		struct rp_req *q = &R.req[R.nreq++];
		q->bytes = cf->data + r->off;
		q->len = r->len;
		q->first = R.nans;
		for (size_t k = i; k < cf->nrec; k++)
			if (cf->rec[k].sent && cf->rec[k].len == q->len &&
			    memcmp(cf->data + cf->rec[k].off, q->bytes, q->len) == 0) {
				add_answer(k);
				q->count++;
			}
	}
	return 0;
}

static char *read_all(const char *path, size_t *len, char *why, size_t cap)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!f) {
		snprintf(why, cap, "%s: %s", path, strerror(errno));
		return NULL;
	}
	size_t n = 0, room = 65536;
	char *buf = malloc(room);
	while (buf) {
		if (n == room) {
			char *b = room < RP_FILE_MAX ? realloc(buf, room * 2) : NULL;
			if (!b) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = b;
			room *= 2;
		}
		size_t k = fread(buf + n, 1, room - n, f);
		if (k == 0)
			break;
		n += k;
	}
	if (f != stdin)
		fclose(f);
	if (!buf)
		snprintf(why, cap, "%s: too large or out of memory", path);
	*len = n;
	return buf;
}

const struct sim_proto *sim_replay_load(const char *path, char *why, size_t cap)
{
	size_t len = 0;
	char err[160];
	char *text = read_all(path, &len, why, cap);
	if (!text)
		return NULL;
	int rc = capfile_parse(text, len, &R.cf, err, sizeof(err));
	free(text);
	if (rc < 0) {
		snprintf(why, cap, "%s: %s", path, err);
		return NULL;
	}
	if (R.cf.nrec == 0) {
		snprintf(why, cap, "%s: no records", path);
		return NULL;
	}
	if (index_requests(why, cap) < 0)
		return NULL;
	R.loop_t = R.cf.rec[R.cf.nrec - 1].t + 1.0;
	replay_proto = (struct sim_proto){
		.name = "replay",
		.default_baud = R.cf.baud > 0 ? R.cf.baud : 9600,
		.addr_min = 1,
		.addr_max = 1,
		.max_cells = 16,
		.max_temps = 2,
		.scan = rp_scan,
		.address = rp_address,
		.respond = rp_respond,
		.view = rp_view,
	};
	if (R.nreq == 0) { /* listen only: play it onto the line */
		replay_proto.emit = rp_emit;
		replay_proto.emit_ms = 10;
	}
	return &replay_proto;
}

size_t sim_replay_requests(void)
{
	return R.nreq;
}
