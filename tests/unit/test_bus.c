/* SPDX-License-Identifier: MIT */
/* tests/unit/test_bus.c - listen mode's bus layer (bms/base/bus.c, bms/base/listen.c
 * and the drivers' hear(); bms/PROTOCOLS.md §39), pure: a bus heard whole,
 * both directions, cut into frames by bms_bus_scan() with each family's
 * framer and paired by bms_bus_pair(), as gateway/poll/listener.c does.
 *
 *   - the real bus captures of tests/fixtures/vectors.tsv (BUS-SEPLOS3-*: a
 *     Seplos V3 master polling slave 2, six frames back to back with no
 *     gap; BUS-JKPB-*: a JK-PB master's trigger, the slave's anonymous
 *     300-byte record and the acknowledgement that names it, the master's
 *     own record acknowledged from 0x00) fed whole, a byte at a time, cut
 *     at every point and in random chunks: the same frames (kind, address,
 *     place) and the same pairs every time;
 *   - garbage before and between frames, a frame whose CRC is broken, a
 *     truncated frame and two frames that collided: skipped, counted as
 *     skipped bytes, the next good frame found and paired;
 *   - each family's hear(): seplos3 on the capture (with the request, and
 *     without: the master's own answers), jk-pb on the capture's record,
 *     pace and pylontech by the request their own poll sends, renogy,
 *     eg4-ll and pace-modbus by block and range, daly-modbus by replay
 *     through the framer and pairer (its answers come from 0x50 + board,
 *     its requests go to 0x80 + board); another address, a bad checksum, a
 *     read that holds no block whole, a request with another INFO.
 */
#include "../../bms/bms.h"
#include "../../bms/bus.h"
#include "../../bms/drivers.h"
#include "../../bms/pylonframe.h"
#include "bus_vectors.h"
#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* the status acknowledgement from the master itself, as
 * syssi/esphome-jk-bms#442 describes it (00 10 16 20 00 01 + its CRC) */
#define JKPB_ACK_MASTER "001016200001"

/* Other families' rows (tests/fixtures/README.md names their sources). */
#define JKPB_02 \
	"55aaeb900100ac0d00008c0a0000550b0000420e0000740d000005000000750d0000540b00007a0d0000160d0000c409" \
	"000060ea0000030000003c000000a08601002c0100003c00000005000000d00700005e010000400100005e0100004001" \
	"0000320000004600000020030000bc02000010000000010000000100000001000000c0450400dc050000700d00000000" \
	"000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"000000000000000000000000000000000000000000000000000000000000030000000000000060e316000033000a18fe" \
	"ffffff9fe99d030000000034000310161e00016465"
#define JKPB_03 \
	"55aaeb9003004a4b5f50423241313653323050000000313541000000000031352e34310000001c29e502160000004242" \
	"303200000000000000000000000031323334000000000000000000000000323430393134000034303131393439313438" \
	"3000303030004a4b2d424d5300000000000000000000313336393133000000000000000000004a4b2d424d5300000000" \
	"000000000000ffffffff8fe99d0300000000901f00000000c0d8e7fe3f00000100000000000000000004ff6700000000" \
	"00000000000000000000ff0f000000000000000000000000000001ff6700000000000000000000000000090800016400" \
	"00005f0000003c000000320000000000000000000000002f00000a78011e0000000000000000000000000000000000fe" \
	"9fe9ff0f00000000000000f6000310161c0001c5a5"
#define PACE25_01 "~25014600F07A0001100CC70CC80CC70CC70CC70CC50CC60CC70CC70CC60CC70CC60CC60CC70CC60CC7060B9B0B" \
	"990B990B990BB30BBCFF1FCCCD12D303286A008C2710E1E4\r"
/* its 0x44: quiet, both MOSFETs on, discharging */
#define PACE25_02 "~25014600004C000110000000000000000000000000000000000600000000000000000000000E000000000000EF3A\r"
#define PYL_02 "~20024600A04210020F000000000000000000000000000000050000000000000000000E00000000F108\r"
#define PYL_06 "~20024600B014026EF05AA0022BFDD5C0F915\r"
#define RENOGY_REQ_01 "300313880022455c"
#define RENOGY_01 \
	"30034400040023002100210021000000000000000000000000000000000000000000000000000200aa00aa0000000000" \
	"00000000000000000000000000000000000000000000002574"
#define EG4LL_REQ_01 "02030000002705e3"
#define EG4LL_01 \
	"02034e14f600780d1a0d190d1b0d1b0d1a0d1b0d1a0d1b0d1a0d1b0d1a0d1a0d1a0d1b0d1a0d1a0019001b0018006100" \
	"640064006100010000000000000000000b15752a00181818180000001003e800004e71"
#define DALYN_REQ_3 "8103000000405bfa"
#define DALYN_06 \
	"5103800cf40cf00cf30cf20cf30cf10cf30cf30cf00cf30cf30cf40cf30cf30cf30cf500000000000000000000000000" \
	"000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"000000003e003e003e003e0000000000000000021274d7036000b6001000040cf5001099ef"
#define DALYN_REQ_4 "81030041003e8bce"
#define DALYN_07 \
	"51037c00090005003e0004003e000100000002000000000a98000700070000000000000000000100010000000000000c" \
	"f201d700000040004600000000ffff000075301a06021402210b4b0402000000000080000074be0011035f0000000000" \
	"000080000000000000ffffffffffffffffffffffffffffffff00ffffff0002b8ac"

/* ------------------------------------------------------------ streams */

struct stream {
	uint8_t b[4096];
	size_t n;
};

static void put(struct stream *s, const uint8_t *p, size_t n)
{
	CHECK(s->n + n <= sizeof(s->b));
	if (s->n + n > sizeof(s->b))
		return;
	memcpy(s->b + s->n, p, n);
	s->n += n;
}

static void put_hex(struct stream *s, const char *hex)
{
	uint8_t b[1024];
	int n = check_hex(hex, b, sizeof(b));
	CHECK(n > 0);
	if (n > 0)
		put(s, b, (size_t)n);
}

/* A Modbus frame given without its CRC: append it. */
static void put_crc(struct stream *s, const char *hex)
{
	uint8_t b[300];
	int n = check_hex(hex, b, sizeof(b) - 2);
	CHECK(n > 0);
	if (n <= 0)
		return;
	uint16_t c = bms_crc16_modbus(b, (size_t)n);
	b[n] = (uint8_t)c;
	b[n + 1] = (uint8_t)(c >> 8);
	put(s, b, (size_t)n + 2);
}

/* The Modbus frame hex from another address (its CRC computed again). */
static void put_readdr(struct stream *s, const char *hex, uint8_t addr)
{
	uint8_t b[300];
	int n = check_hex(hex, b, sizeof(b));
	CHECK(n > 2);
	if (n <= 2)
		return;
	b[0] = addr;
	uint16_t c = bms_crc16_modbus(b, (size_t)n - 2);
	b[n - 2] = (uint8_t)c;
	b[n - 1] = (uint8_t)(c >> 8);
	put(s, b, (size_t)n);
}

static size_t hex(const char *h, uint8_t *b, size_t cap)
{
	int n = check_hex(h, b, (int)cap);
	CHECK(n > 0);
	return n > 0 ? (size_t)n : 0;
}

/* ------------------------------------------------------------ what was heard */

#define MAXF 48
#define ANS_MAX 512

struct pair {
	uint8_t addr;
	size_t rn, an;
	uint8_t req[BMS_BUS_REQ_MAX];
	uint8_t ans[ANS_MAX];
};

struct heard {
	int nf, na;
	struct bms_bus_frame f[MAXF];
	size_t at[MAXF];        /* where in the stream each frame began */
	struct pair a[MAXF];
	size_t skipped;         /* bytes skipped, those of BADSUM with them */
	int badsum;             /* whole frames whose checksum failed */
	int asked;
};

struct bus {
	bms_bus_at *at;
	struct bms_rx rx;
	struct bms_bus_pairer pr;
	size_t done;            /* bytes of the stream consumed */
	struct heard h;
};

static void bus_init(struct bus *b, bms_bus_at *at)
{
	memset(b, 0, sizeof(*b));
	b->at = at;
	bms_bus_pair_reset(&b->pr);
}

static void take(struct bus *b, const struct bms_bus_frame *f, const uint8_t *p)
{
	struct heard *h = &b->h;
	if (h->nf < MAXF) {
		h->f[h->nf] = *f;
		h->at[h->nf] = b->done;
		h->nf++;
	}
	struct bms_bus_answer a;
	int r = bms_bus_pair(&b->pr, f, p, &a);
	if (r == BMS_BUS_ASKED)
		h->asked++;
	if (r != BMS_BUS_ANSWERED || h->na >= MAXF)
		return;
	struct pair *q = &h->a[h->na++];
	q->addr = a.addr;
	q->rn = a.rn;
	q->an = a.an;
	CHECK(a.rn <= BMS_BUS_REQ_MAX && a.an <= ANS_MAX && (a.rn == 0) == (a.req == NULL));
	if (a.rn <= BMS_BUS_REQ_MAX && a.req)
		memcpy(q->req, a.req, a.rn);
	if (a.an <= ANS_MAX)
		memcpy(q->ans, a.ans, a.an);
}

/* What the listener does with the bytes of one read(). */
static void bus_bytes(struct bus *b, const uint8_t *p, size_t n)
{
	bms_rx_feed(&b->rx, p, n);
	for (;;) {
		struct bms_bus_frame f;
		size_t k = 0;
		enum bms_scan r = bms_bus_scan(b->at, &b->pr.ctx, b->rx.buf, b->rx.len, &f, &k);
		if (r == BMS_SCAN_NEED)
			break;
		CHECK(k >= 1 && k <= b->rx.len);
		if (k < 1 || k > b->rx.len)
			break;
		if (r == BMS_SCAN_FRAME) {
			CHECK(k == f.len);
			take(b, &f, b->rx.buf);
		} else {
			CHECK(r == BMS_SCAN_SKIP || (r == BMS_SCAN_BADSUM && k == 1));
			b->h.skipped += k;
			b->h.badsum += r == BMS_SCAN_BADSUM;
		}
		bms_rx_consume(&b->rx, k);
		b->done += k;
	}
}

enum cut { WHOLE, BYTES, RANDOM, SPLIT };

/* The stream through a bus reader, cut as told (SPLIT: in two at `at`). */
#define TAIL 300

static void hear_stream(bms_bus_at *at, const struct stream *s, enum cut cut, size_t split, bool tail,
			struct heard *out)
{
	struct bus *b = malloc(sizeof(*b));
	if (!b)
		abort();
	bus_init(b, at);
	size_t i = 0;
	while (i < s->n) {
		size_t k = s->n - i;
		if (cut == BYTES)
			k = 1;
		else if (cut == RANDOM)
			k = 1 + (size_t)rand() % 23;
		else if (cut == SPLIT && i < split)
			k = split - i;
		if (k > s->n - i)
			k = s->n - i;
		bus_bytes(b, s->b + i, k);
		i += k;
	}
	if (tail) {
		/* bytes that begin no frame: a false beginning inside damaged
		 * bytes waits for its length (at most 5 + 255 bytes) before it
		 * is known not to be one; on a bus the next round's bytes
		 * settle it, here these */
		uint8_t ff[TAIL];
		memset(ff, 0xFF, sizeof(ff));
		bus_bytes(b, ff, sizeof(ff));
		CHECK(b->h.skipped >= TAIL);
		b->h.skipped -= TAIL;
	}
	*out = b->h;
	free(b);
}

static bool same_heard(const struct heard *x, const struct heard *y)
{
	if (x->nf != y->nf || x->na != y->na || x->skipped != y->skipped || x->asked != y->asked ||
	    x->badsum != y->badsum)
		return false;
	for (int i = 0; i < x->nf; i++)
		if (x->f[i].kind != y->f[i].kind || x->f[i].addr != y->f[i].addr || x->f[i].len != y->f[i].len ||
		    x->at[i] != y->at[i])
			return false;
	for (int i = 0; i < x->na; i++) {
		const struct pair *p = &x->a[i], *q = &y->a[i];
		if (p->addr != q->addr || p->rn != q->rn || p->an != q->an || memcmp(p->req, q->req, p->rn) != 0 ||
		    memcmp(p->ans, q->ans, p->an) != 0)
			return false;
	}
	return true;
}

/* The stream heard whole; then in every other cut the same.  tail: bytes
 * that begin no frame after it (a clean stream's frames are all found
 * without them, each as its last byte comes). */
static void hear_all_cuts(bms_bus_at *at, const struct stream *s, struct heard *whole, bool tail)
{
	static struct heard h;
	hear_stream(at, s, WHOLE, 0, tail, whole);
	hear_stream(at, s, BYTES, 0, tail, &h);
	CHECK(same_heard(whole, &h));
	bool all = true;
	for (int k = 0; k < 20; k++) {
		hear_stream(at, s, RANDOM, 0, tail, &h);
		all = all && same_heard(whole, &h);
	}
	for (size_t k = 1; k < s->n; k++) {
		hear_stream(at, s, SPLIT, k, tail, &h);
		all = all && same_heard(whole, &h);
	}
	CHECK(all);
}

struct want {
	enum bms_bus_kind kind;
	uint8_t addr;
	size_t len;
};

/* The first n frames of h are w (and h has `total`). */
static void check_frames_of(const struct heard *h, const struct want *w, int n, int total)
{
	CHECK_EQ_INT(h->nf, total);
	for (int i = 0; i < n && i < h->nf; i++) {
		CHECK_EQ_INT(h->f[i].kind, w[i].kind);
		CHECK_EQ_INT(h->f[i].addr, w[i].addr);
		CHECK_EQ_INT(h->f[i].len, w[i].len);
	}
}

static void check_frames(const struct heard *h, const struct want *w, int n)
{
	check_frames_of(h, w, n, n);
}

/* Answer i of h: from addr, to the request req (NULL: none), bytes ans. */
static void check_pair(const struct heard *h, int i, uint8_t addr, const char *req, const char *ans)
{
	uint8_t q[BMS_BUS_REQ_MAX], a[ANS_MAX];
	size_t qn = req ? hex(req, q, sizeof(q)) : 0, an = hex(ans, a, sizeof(a));
	CHECK(i < h->na);
	if (i >= h->na)
		return;
	const struct pair *p = &h->a[i];
	CHECK_EQ_INT(p->addr, addr);
	CHECK_EQ_INT(p->rn, qn);
	CHECK(p->rn == qn && memcmp(p->req, q, qn) == 0);
	CHECK_EQ_INT(p->an, an);
	CHECK(p->an == an && memcmp(p->ans, a, an) == 0);
}

/* ------------------------------------------------------------ framing M2 */

static void seplos3_cycle(struct stream *s)
{
	put_hex(s, BUS_SEPLOS3_REQ_01);
	put_hex(s, BUS_SEPLOS3_01);
	put_hex(s, BUS_SEPLOS3_REQ_02);
	put_hex(s, BUS_SEPLOS3_02);
	put_hex(s, BUS_SEPLOS3_REQ_03);
	put_hex(s, BUS_SEPLOS3_03);
}

static const struct want m2_frames[] = {
	{ BMS_BUS_REQUEST, 2, 8 }, { BMS_BUS_ANSWER, 2, 41 }, { BMS_BUS_REQUEST, 2, 8 },
	{ BMS_BUS_ANSWER, 2, 57 }, { BMS_BUS_REQUEST, 2, 8 }, { BMS_BUS_ANSWER, 2, 23 },
};

static void check_m2_pairs(const struct heard *h, int first)
{
	check_pair(h, first, 2, BUS_SEPLOS3_REQ_01, BUS_SEPLOS3_01);
	check_pair(h, first + 1, 2, BUS_SEPLOS3_REQ_02, BUS_SEPLOS3_02);
	check_pair(h, first + 2, 2, BUS_SEPLOS3_REQ_03, BUS_SEPLOS3_03);
}

/* BUS-SEPLOS3-04: the slave's cycle as on the wire, in every cut. */
static void test_m2_stream(void)
{
	static struct stream s;
	static struct heard h;
	memset(&s, 0, sizeof(s));
	seplos3_cycle(&s);
	CHECK_EQ_INT(s.n, 145);
	hear_all_cuts(bms_bus_modbus_at, &s, &h, false);
	check_frames(&h, m2_frames, 6);
	static const size_t at[6] = { 0, 8, 49, 57, 114, 122 };
	for (int i = 0; i < 6 && i < h.nf; i++)
		CHECK_EQ_INT(h.at[i], at[i]);
	CHECK_EQ_INT(h.badsum, 0);
	CHECK_EQ_INT(h.skipped, 0);
	CHECK_EQ_INT(h.asked, 3);
	CHECK_EQ_INT(h.na, 3);
	check_m2_pairs(&h, 0);
}

/* The master's own answers (address 1, no request before them) and a
 * slave's cycle after them: answers alone (rn 0), then the slave's pairs. */
static void test_m2_master_own(void)
{
	static struct stream s;
	static struct heard h;
	memset(&s, 0, sizeof(s));
	put_readdr(&s, BUS_SEPLOS3_01, 1);
	put_readdr(&s, BUS_SEPLOS3_02, 1);
	put_readdr(&s, BUS_SEPLOS3_03, 1);
	seplos3_cycle(&s);
	hear_all_cuts(bms_bus_modbus_at, &s, &h, false);
	static const struct want w[3] = { { BMS_BUS_ANSWER, 1, 41 }, { BMS_BUS_ANSWER, 1, 57 }, { BMS_BUS_ANSWER, 1, 23 } };
	check_frames_of(&h, w, 3, 9);
	CHECK_EQ_INT(h.na, 6);
	for (int i = 0; i < 3 && i < h.na; i++)
		CHECK(h.a[i].addr == 1 && h.a[i].rn == 0);
	check_m2_pairs(&h, 3);
	CHECK_EQ_INT(h.badsum, 0);
	CHECK_EQ_INT(h.skipped, 0);
}

/* Garbage before and between the frames (bytes that start no frame, and
 * bytes that look like a beginning: 01 03 02 ...): skipped, counted, the
 * frames and pairs as without it. */
static void test_m2_garbage(void)
{
	static struct stream s;
	static struct heard h;
	static const char *const frames[6] = { BUS_SEPLOS3_REQ_01, BUS_SEPLOS3_01, BUS_SEPLOS3_REQ_02,
					       BUS_SEPLOS3_02, BUS_SEPLOS3_REQ_03, BUS_SEPLOS3_03 };
	static const char *const junk[6] = { "fffe0099aa", "0103", "00", "ff", "11223344", "0204" };
	size_t junk_n = 0;
	memset(&s, 0, sizeof(s));
	for (int i = 0; i < 6; i++) {
		size_t n0 = s.n;
		put_hex(&s, junk[i]);
		junk_n += s.n - n0;
		put_hex(&s, frames[i]);
	}
	put_hex(&s, "0000ff");
	junk_n += 3;
	hear_all_cuts(bms_bus_modbus_at, &s, &h, true);
	check_frames(&h, m2_frames, 6);
	check_m2_pairs(&h, 0);
	/* the trailing 00 00 ff: "00 00" may begin nothing, ff never: all skipped */
	CHECK_EQ_INT(h.badsum, 0);
	CHECK_EQ_INT(h.skipped, junk_n);
}

/* A broken CRC: that frame is skipped, the next one found. */
static void test_m2_bad_crc(void)
{
	static struct stream s;
	static struct heard h;
	memset(&s, 0, sizeof(s));
	put_hex(&s, BUS_SEPLOS3_REQ_01);
	size_t at = s.n;
	put_hex(&s, BUS_SEPLOS3_01);
	s.b[s.n - 1] ^= 0x01;
	put_hex(&s, BUS_SEPLOS3_REQ_02);
	put_hex(&s, BUS_SEPLOS3_02);
	hear_all_cuts(bms_bus_modbus_at, &s, &h, true);
	static const struct want w[3] = { { BMS_BUS_REQUEST, 2, 8 }, { BMS_BUS_REQUEST, 2, 8 }, { BMS_BUS_ANSWER, 2, 57 } };
	check_frames(&h, w, 3);
	CHECK_EQ_INT(h.badsum, 1); /* the answer its request asked for, broken: counted */
	CHECK_EQ_INT(h.skipped, 41);
	CHECK(h.nf == 3 && h.at[1] == at + 41);
	CHECK_EQ_INT(h.na, 1);
	check_pair(&h, 0, 2, BUS_SEPLOS3_REQ_02, BUS_SEPLOS3_02);
}

/* A frame cut short, and two frames that collided (two transmitters at
 * once: the bytes where they overlap ANDed, as a dominant 0 wins), each
 * followed by good frames: those are found and paired. */
static void test_m2_truncated_collision(void)
{
	static struct stream s;
	static struct heard h;
	memset(&s, 0, sizeof(s));
	put_hex(&s, BUS_SEPLOS3_REQ_01);
	put_hex(&s, BUS_SEPLOS3_01);
	s.n -= 21; /* the answer cut after 20 bytes */
	put_hex(&s, BUS_SEPLOS3_REQ_02);
	put_hex(&s, BUS_SEPLOS3_02);
	/* pack 2's PIA answer and pack 3's, the last 20 bytes of one on the first 20 of the other */
	struct stream a = { .n = 0 }, b = { .n = 0 };
	put_hex(&a, BUS_SEPLOS3_01);
	put_readdr(&b, BUS_SEPLOS3_01, 3);
	size_t c0 = s.n;
	put(&s, a.b, a.n);
	for (size_t i = 0; i < 20; i++)
		s.b[c0 + a.n - 20 + i] &= b.b[i];
	put(&s, b.b + 20, b.n - 20);
	size_t garbled = s.n - c0;
	put_hex(&s, BUS_SEPLOS3_REQ_03);
	put_hex(&s, BUS_SEPLOS3_03);
	hear_all_cuts(bms_bus_modbus_at, &s, &h, true);
	static const struct want w[5] = { { BMS_BUS_REQUEST, 2, 8 }, { BMS_BUS_REQUEST, 2, 8 }, { BMS_BUS_ANSWER, 2, 57 },
					  { BMS_BUS_REQUEST, 2, 8 }, { BMS_BUS_ANSWER, 2, 23 } };
	check_frames(&h, w, 5);
	CHECK_EQ_INT(h.badsum, 1); /* the cut answer (its request known); the collision is noise */
	CHECK_EQ_INT(h.skipped, 20 + garbled);
	CHECK_EQ_INT(h.na, 2);
	check_pair(&h, 0, 2, BUS_SEPLOS3_REQ_02, BUS_SEPLOS3_02);
	check_pair(&h, 1, 2, BUS_SEPLOS3_REQ_03, BUS_SEPLOS3_03);
}

/* ------------------------------------------------------------ framing M1 */

/* BUS-JKPB-01: trigger, anonymous record, the ACK from 1 that names it. */
static void test_m1_slave(void)
{
	static struct stream s;
	static struct heard h;
	memset(&s, 0, sizeof(s));
	put_hex(&s, JKPB_REQ_2);
	put_hex(&s, BUS_JKPB_01);
	CHECK_EQ_INT(s.n, 11 + 308);
	hear_all_cuts(bms_bus_jkpb_at, &s, &h, false);
	static const struct want w[3] = { { BMS_BUS_REQUEST, 1, 11 }, { BMS_BUS_ANON, 0, 300 }, { BMS_BUS_ACK, 1, 8 } };
	check_frames(&h, w, 3);
	CHECK_EQ_INT(h.badsum, 0);
	CHECK_EQ_INT(h.skipped, 0);
	CHECK_EQ_INT(h.na, 1);
	char rec[601];
	memcpy(rec, BUS_JKPB_01, 600);
	rec[600] = '\0';
	check_pair(&h, 0, 1, JKPB_REQ_2, rec);
}

/* The master alone: triggers of absent slaves, then its own record
 * acknowledged from 0x00 (no request to 0 before it: rn 0); BUS-JKPB-03,
 * an acknowledgement with no record before it, pairs with nothing. */
static void test_m1_master(void)
{
	static struct stream s;
	static struct heard h;
	memset(&s, 0, sizeof(s));
	put_hex(&s, BUS_JKPB_03);
	put_hex(&s, BUS_JKPB_REQ_04);
	put_hex(&s, BUS_JKPB_REQ_05);
	put_hex(&s, BUS_JKPB_REQ_06);
	uint8_t rec[308];
	CHECK_EQ_INT(hex(BUS_JKPB_01, rec, sizeof(rec)), 308);
	put(&s, rec, 300); /* the record, without its ACK */
	put_crc(&s, JKPB_ACK_MASTER);
	CHECK(memcmp(s.b + s.n - 8, "\x00\x10\x16\x20\x00\x01\x05\x9a", 8) == 0); /* 05 9A, as the issue gives it */
	hear_all_cuts(bms_bus_jkpb_at, &s, &h, false);
	static const struct want w[6] = { { BMS_BUS_ACK, 0, 8 },     { BMS_BUS_REQUEST, 2, 11 },
					  { BMS_BUS_REQUEST, 14, 11 }, { BMS_BUS_REQUEST, 15, 11 },
					  { BMS_BUS_ANON, 0, 300 },   { BMS_BUS_ACK, 0, 8 } };
	check_frames(&h, w, 6);
	CHECK_EQ_INT(h.badsum, 0);
	CHECK_EQ_INT(h.skipped, 0);
	CHECK_EQ_INT(h.na, 1);
	CHECK(h.na == 1 && h.a[0].addr == 0 && h.a[0].rn == 0 && h.a[0].an == 300 && memcmp(h.a[0].ans, rec, 300) == 0);
}

/* The acknowledgement first, then the record (a JK-PB sends either
 * first): the record is still the acknowledging slave's. */
static void test_m1_ack_first(void)
{
	static struct stream s;
	static struct heard h;
	uint8_t rec[308];
	CHECK_EQ_INT(hex(BUS_JKPB_01, rec, sizeof(rec)), 308);
	memset(&s, 0, sizeof(s));
	put_hex(&s, JKPB_REQ_2);
	put(&s, rec + 300, 8);
	put(&s, rec, 300);
	hear_all_cuts(bms_bus_jkpb_at, &s, &h, false);
	static const struct want w[3] = { { BMS_BUS_REQUEST, 1, 11 }, { BMS_BUS_ACK, 1, 8 }, { BMS_BUS_ANON, 0, 300 } };
	check_frames(&h, w, 3);
	CHECK_EQ_INT(h.na, 1);
	CHECK(h.na == 1 && h.a[0].addr == 1 && h.a[0].rn == 11 && h.a[0].an == 300 && memcmp(h.a[0].ans, rec, 300) == 0);
}

/* A record with a broken sum, then a good one: the first is skipped whole
 * (its ACK pairs with nothing), the second attributed. */
static void test_m1_bad_sum(void)
{
	static struct stream s;
	static struct heard h;
	memset(&s, 0, sizeof(s));
	put_hex(&s, JKPB_REQ_2);
	put_hex(&s, BUS_JKPB_01);
	s.b[11 + 299] ^= 0x40;
	put_hex(&s, "ff00");
	put_hex(&s, JKPB_REQ_2);
	put_hex(&s, BUS_JKPB_01);
	hear_all_cuts(bms_bus_jkpb_at, &s, &h, true);
	CHECK_EQ_INT(h.badsum, 1);
	CHECK_EQ_INT(h.skipped, 302);
	CHECK_EQ_INT(h.na, 1);
	CHECK(h.na == 1 && h.a[0].addr == 1 && h.a[0].rn == 11 && h.a[0].an == 300);
}

/* paceic: a command and its RTN by ADR; one with a broken CHKSUM counted. */
static void test_paceic_stream(void)
{
	static struct stream s;
	static struct heard h;
	static const char req[] = "~25014642E00201FD30\r"; /* PACE25-REQ-42 */
	memset(&s, 0, sizeof(s));
	put(&s, (const uint8_t *)req, strlen(req));
	put(&s, (const uint8_t *)PACE25_01, strlen(PACE25_01));
	s.b[s.n - 2] = s.b[s.n - 2] == '4' ? '5' : '4';
	put(&s, (const uint8_t *)"\x00\x11", 2);
	put(&s, (const uint8_t *)req, strlen(req));
	put(&s, (const uint8_t *)PACE25_01, strlen(PACE25_01));
	hear_all_cuts(bms_bus_paceic_at, &s, &h, false);
	size_t rl = strlen(req), al = strlen(PACE25_01);
	static struct want w[3];
	w[0] = (struct want){ BMS_BUS_REQUEST, 1, rl };
	w[1] = (struct want){ BMS_BUS_REQUEST, 1, rl };
	w[2] = (struct want){ BMS_BUS_ANSWER, 1, al };
	check_frames(&h, w, 3);
	CHECK_EQ_INT(h.badsum, 1);
	CHECK_EQ_INT(h.skipped, al + 2);
	CHECK(h.na == 1 && h.a[0].addr == 1 && h.a[0].rn == rl && h.a[0].an == al);
}

/* ------------------------------------------------------------ hear() */

static void begin(struct bms_poll *poll, uint8_t addr)
{
	memset(poll, 0, sizeof(*poll));
	bms_poll_begin(poll, addr, 0, false);
	poll->refresh = true; /* as the listener: whatever the master asks may be decoded */
	poll->link = BMS_LINK_WIRE;
}

static int hear(const struct bms_driver *d, struct bms_poll *poll, const char *req, const char *ans)
{
	uint8_t q[300], a[1024];
	size_t qn = req ? hex(req, q, sizeof(q)) : 0, an = hex(ans, a, sizeof(a));
	return d->listen->hear(poll, req ? q : NULL, qn, a, an);
}

static int hear_text(const struct bms_driver *d, struct bms_poll *poll, const uint8_t *req, size_t rn,
		     const char *ans)
{
	return d->listen->hear(poll, req, rn, (const uint8_t *)ans, strlen(ans));
}

/* The sample is whole and plausible, as the poller judges a heard poll. */
static void finished_ok(const struct bms_driver *d, struct bms_poll *poll)
{
	struct bms_implausible why;
	CHECK_EQ_INT(d->finish ? d->finish(poll) : BMS_OK, BMS_OK);
	CHECK(bms_plausible(&poll->snap, &why));
}

static void check_m2_values(const struct bms_snapshot *s)
{
	static const uint16_t cells[16] = { 3272, 3273, 3273, 3271, 3271, 3274, 3272, 3273,
					    3270, 3274, 3272, 3275, 3271, 3273, 3275, 3278 };
	static const float t[5] = { 17.7f, 16.9f, 17.1f, 17.1f, 16.6f };
	CHECK_NEAR(s->voltage, 52.37, 1e-4);
	CHECK_NEAR(s->current, -6.09, 1e-4);
	CHECK_NEAR(s->remain_ah, 132.79, 1e-3);
	CHECK_NEAR(s->full_ah, 195.0, 1e-3);
	CHECK_NEAR(s->soc, 68.1, 1e-4);
	CHECK_NEAR(s->soh, 99.3, 1e-4);
	CHECK_EQ_INT(s->cycles, 68);
	CHECK_EQ_INT(s->ncells, 16);
	for (int i = 0; i < 16; i++)
		CHECK_EQ_INT(s->cell_mv[i], cells[i]);
	CHECK_EQ_INT(s->ntemps, 5);
	for (int i = 0; i < 5 && i < s->ntemps; i++)
		CHECK_NEAR(s->temp_c[i], t[i], 1e-4);
	CHECK_NEAR(s->mos_temp_c, 16.8, 1e-4);
	CHECK(s->chg_mos && s->dsg_mos);   /* PIC byte 15 = 0x03 */
	CHECK_EQ_INT(s->state, 2);         /* PIC byte 8 bit 0: discharging */
	CHECK_NEAR(s->bms_ccl_a, 130, 1e-4);
	CHECK_NEAR(s->bms_dcl_a, 130, 1e-4);
}

/* seplos3: the slave's cycle with its requests; the master's own (0x12
 * PIA registers, the table has 0x11) without. */
static void test_hear_seplos3(void)
{
	const struct bms_driver *d = &bms_seplos3_driver;
	struct bms_poll poll;
	begin(&poll, 2);
	CHECK_EQ_INT(hear(d, &poll, BUS_SEPLOS3_REQ_01, BUS_SEPLOS3_01), 0);
	CHECK_EQ_INT(hear(d, &poll, BUS_SEPLOS3_REQ_02, BUS_SEPLOS3_02), 1);
	CHECK_EQ_INT(hear(d, &poll, BUS_SEPLOS3_REQ_03, BUS_SEPLOS3_03), 2);
	check_m2_values(&poll.snap);
	finished_ok(d, &poll);

	/* the master's own: address 1, no request */
	struct stream s[3] = { { .n = 0 } };
	put_readdr(&s[0], BUS_SEPLOS3_01, 1);
	put_readdr(&s[1], BUS_SEPLOS3_02, 1);
	put_readdr(&s[2], BUS_SEPLOS3_03, 1);
	begin(&poll, 1);
	for (int k = 0; k < 3; k++)
		CHECK_EQ_INT(d->listen->hear(&poll, NULL, 0, s[k].b, s[k].n), k);
	check_m2_values(&poll.snap);
	finished_ok(d, &poll);
	/* the slave's answers without their requests: told by size alike */
	begin(&poll, 2);
	CHECK_EQ_INT(hear(d, &poll, NULL, BUS_SEPLOS3_01), 0);
	CHECK_NEAR(poll.snap.voltage, 52.37, 1e-4);
}

static void test_hear_seplos3_refused(void)
{
	const struct bms_driver *d = &bms_seplos3_driver;
	struct bms_poll poll;
	begin(&poll, 3); /* another pack's answer */
	CHECK_EQ_INT(hear(d, &poll, BUS_SEPLOS3_REQ_01, BUS_SEPLOS3_01), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(hear(d, &poll, NULL, BUS_SEPLOS3_01), BMS_E_UNEXPECTED);
	CHECK(!(poll.snap.present & BMS_HAS_VOLTAGE));
	begin(&poll, 2);
	struct stream s = { .n = 0 };
	put_hex(&s, BUS_SEPLOS3_01);
	s.b[10] ^= 0x04;
	CHECK_EQ_INT(d->listen->hear(&poll, NULL, 0, s.b, s.n), BMS_E_CHECKSUM);
	uint8_t q[8];
	CHECK_EQ_INT(hex(BUS_SEPLOS3_REQ_01, q, sizeof(q)), 8);
	CHECK_EQ_INT(d->listen->hear(&poll, q, 8, s.b, s.n), BMS_E_CHECKSUM);
	CHECK(!(poll.snap.present & BMS_HAS_VOLTAGE));
	/* a read from 0x1001: PIA (0x1000 x 0x11) is not inside it */
	struct stream r = { .n = 0 }, a = { .n = 0 };
	put_crc(&r, "020410010012");
	uint8_t data[41];
	CHECK_EQ_INT(hex(BUS_SEPLOS3_01, data, sizeof(data)), 41);
	put(&a, data, 39);
	uint16_t c = bms_crc16_modbus(a.b, a.n);
	a.b[a.n++] = (uint8_t)c;
	a.b[a.n++] = (uint8_t)(c >> 8);
	CHECK_EQ_INT(d->listen->hear(&poll, r.b, r.n, a.b, a.n), BMS_E_UNEXPECTED);
	/* a request whose count is not the answer's */
	struct stream r2 = { .n = 0 };
	put_crc(&r2, "020410000011");
	int rc = d->listen->hear(&poll, r2.b, r2.n, data, 41);
	CHECK(rc < 0 && rc != BMS_E_UNEXPECTED);
	CHECK(!(poll.snap.present & BMS_HAS_VOLTAGE));
}

/* jk-pb: the record of BUS-JKPB-01 (its values by the layout of bms/PROTOCOLS.md §6.3). */
static void test_hear_jkpb(void)
{
	const struct bms_driver *d = &bms_jk_pb_driver;
	struct bms_poll poll;
	begin(&poll, 1);
	uint8_t rec[308];
	CHECK_EQ_INT(hex(BUS_JKPB_01, rec, sizeof(rec)), 308);
	uint8_t q[11];
	hex(JKPB_REQ_2, q, sizeof(q));
	CHECK_EQ_INT(d->listen->hear(&poll, q, 11, rec, 300), 0);
	const struct bms_snapshot *s = &poll.snap;
	CHECK_NEAR(s->voltage, 53.538, 1e-3);
	CHECK_NEAR(s->soc, 100, 1e-4);
	CHECK_NEAR(s->current, 0, 1e-4);
	CHECK_NEAR(s->remain_ah, 302.762, 1e-3);
	CHECK_NEAR(s->full_ah, 304.0, 1e-3);
	CHECK_EQ_INT(s->ncells, 16);
	static const uint16_t cells[16] = { 3346, 3346, 3346, 3346, 3346, 3346, 3346, 3346,
					    3346, 3346, 3345, 3345, 3346, 3345, 3346, 3345 };
	for (int i = 0; i < 16; i++)
		CHECK_EQ_INT(s->cell_mv[i], cells[i]);
	finished_ok(d, &poll);
	/* the master's own (no request) decodes alike */
	begin(&poll, 0);
	CHECK_EQ_INT(d->listen->hear(&poll, NULL, 0, rec, 300), 0);
	CHECK_NEAR(poll.snap.voltage, 53.538, 1e-3);
	/* the settings record (JKPB-02): kept, a key read now and then */
	uint8_t set[320];
	CHECK_EQ_INT(hex(JKPB_02, set, sizeof(set)), 309); /* record, 0x00, ACK */
	CHECK(d->listen->hear(&poll, NULL, 0, set, 300) >= BMS_LISTEN_EXTRA);
	/* the device information (JKPB-03): where the heating temperatures
	 * are, kept, a key read now and then; the settings heard after it
	 * have them (284 / 285 on 15A 15.41) */
	uint8_t info[320];
	CHECK_EQ_INT(hex(JKPB_03, info, sizeof(info)), 309);
	CHECK(!bms_settings_has(&poll.kept.settings, BMS_SET_HEAT_STOP_C));
	CHECK(d->listen->hear(&poll, NULL, 0, info, 300) >= BMS_LISTEN_EXTRA);
	CHECK(d->listen->hear(&poll, NULL, 0, set, 300) >= BMS_LISTEN_EXTRA);
	CHECK_NEAR(poll.kept.settings.v[BMS_SET_HEAT_STOP_C], 10.0, 1e-6);
	/* a broken sum, a wrong length */
	rec[100] ^= 1;
	CHECK_EQ_INT(d->listen->hear(&poll, NULL, 0, rec, 300), BMS_E_CHECKSUM);
	rec[100] ^= 1;
	CHECK_EQ_INT(d->listen->hear(&poll, NULL, 0, rec, 299), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(d->listen->hear(&poll, NULL, 0, q, 11), BMS_E_UNEXPECTED);
}

/* The request step s of driver d's poll of poll sends (its length). */
static int request_at(const struct bms_driver *d, const struct bms_poll *poll, int s, uint8_t *out, size_t cap)
{
	struct bms_poll c = *poll;
	c.step = s;
	c.sub = 0;
	c.seen = 0;
	c.attempt = 0;
	return d->next_request(&c, out, cap);
}

/* The first step of d's poll whose request has CID2 cid2 (-1: none). */
static int paceic_step(const struct bms_driver *d, const struct bms_poll *poll, uint8_t cid2, uint8_t *out,
		       size_t cap, int *n)
{
	for (int s = 0; s < BMS_LISTEN_EXTRA; s++) {
		struct bms_pylonframe f;
		uint8_t info[BMS_PYLONFRAME_MAX_INFO];
		*n = request_at(d, poll, s, out, cap);
		if (*n > 0 && bms_pylonframe_parse(out, (size_t)*n, &f, info, sizeof(info)) == BMS_OK && f.cid2 == cid2)
			return s;
	}
	return -1;
}

/* The paceic request req (n bytes) built again with another VER or INFO. */
static int paceic_rebuild(const uint8_t *req, size_t n, int ver, const uint8_t *info, size_t ninfo, uint8_t *out,
			  size_t cap)
{
	struct bms_pylonframe f;
	uint8_t in[BMS_PYLONFRAME_MAX_INFO];
	if (bms_pylonframe_parse(req, n, &f, in, sizeof(in)) != BMS_OK)
		return -1;
	if (!info) {
		info = in;
		ninfo = f.ninfo;
	}
	return bms_pylonframe_build(out, cap, (uint8_t)(ver >= 0 ? ver : f.ver), f.adr, f.cid1, f.cid2, info, ninfo);
}

/* pace: PACE25-01 to the 0x42 its own poll of ADR 1 sends. */
static void test_hear_pace(void)
{
	const struct bms_driver *d = &bms_pace_driver;
	struct bms_poll poll;
	uint8_t q[128], q2[128];
	int n = 0;
	begin(&poll, 1);
	int s = paceic_step(d, &poll, 0x42, q, sizeof(q), &n);
	CHECK(s >= 0);
	if (s < 0)
		return;
	CHECK(n == (int)strlen("~25014642E00201FD30\r") && memcmp(q, "~25014642E00201FD30\r", (size_t)n) == 0);
	/* another INFO (the pack 2's command): not this pack's answer */
	int n2 = paceic_rebuild(q, (size_t)n, -1, (const uint8_t *)"\x02", 1, q2, sizeof(q2));
	CHECK_EQ_INT(hear_text(d, &poll, q2, (size_t)n2, PACE25_01), BMS_E_UNEXPECTED);
	/* no request heard: not paired either */
	CHECK_EQ_INT(hear_text(d, &poll, NULL, 0, PACE25_01), BMS_E_UNEXPECTED);
	CHECK(!(poll.snap.present & BMS_HAS_VOLTAGE));
	/* another VER: the same command */
	n2 = paceic_rebuild(q, (size_t)n, 0x20, NULL, 0, q2, sizeof(q2));
	CHECK(n2 > 0 && q2[1] == '2' && q2[2] == '0');
	CHECK_EQ_INT(hear_text(d, &poll, q2, (size_t)n2, PACE25_01), s);
	CHECK_NEAR(poll.snap.voltage, 52.429, 1e-4);
	begin(&poll, 1);
	CHECK_EQ_INT(hear_text(d, &poll, q, (size_t)n, PACE25_01), s);
	CHECK_NEAR(poll.snap.voltage, 52.429, 1e-4);
	CHECK_NEAR(poll.snap.current, -2.25, 1e-4);
	CHECK_EQ_INT(poll.snap.ncells, 16);
	CHECK_EQ_INT(poll.snap.cycles, 140);
	/* another pack's poll (ADR 2) does not send it */
	begin(&poll, 2);
	CHECK_EQ_INT(hear_text(d, &poll, q, (size_t)n, PACE25_01), BMS_E_UNEXPECTED);
	/* a round heard from its 0x44 on (the master's order, or a round
	 * whose 0x42 was damaged on the wire): the 0x42 after it keeps the
	 * alarms and MOSFETs */
	uint8_t q44[128];
	int n44 = 0, s44 = -1;
	begin(&poll, 1);
	s44 = paceic_step(d, &poll, 0x44, q44, sizeof(q44), &n44);
	CHECK(s44 >= 0 && s44 != s);
	if (s44 >= 0) {
		CHECK_EQ_INT(hear_text(d, &poll, q44, (size_t)n44, PACE25_02), s44);
		CHECK_EQ_INT(hear_text(d, &poll, q, (size_t)n, PACE25_01), s);
		CHECK((poll.snap.present & (BMS_HAS_ALARMS | BMS_HAS_MOSFETS | BMS_HAS_VOLTAGE)) ==
		      (BMS_HAS_ALARMS | BMS_HAS_MOSFETS | BMS_HAS_VOLTAGE));
		CHECK(poll.snap.chg_mos && poll.snap.dsg_mos);
		CHECK_EQ_INT(poll.snap.raw_alarms[2], 0x000E);
		CHECK_NEAR(poll.snap.voltage, 52.429, 1e-4);
		finished_ok(d, &poll);
	}
	/* a broken checksum in the answer */
	char bad[256];
	snprintf(bad, sizeof(bad), "%s", PACE25_01);
	bad[strlen(bad) - 2] = bad[strlen(bad) - 2] == '4' ? '5' : '4';
	begin(&poll, 1);
	CHECK(hear_text(d, &poll, q, (size_t)n, bad) < 0);
	CHECK(!(poll.snap.present & BMS_HAS_VOLTAGE));
}

/* pylontech: PYL-02 to the 0x44 of ADR 2 its poll sends, PYL-06 to its 0x92. */
static void test_hear_pylontech(void)
{
	const struct bms_driver *d = &bms_pylontech_driver;
	struct bms_poll poll;
	uint8_t q[128], q2[128];
	int n = 0;
	begin(&poll, 2);
	int s = paceic_step(d, &poll, 0x44, q, sizeof(q), &n);
	CHECK(s >= 0);
	if (s < 0)
		return;
	CHECK(n == 20 && memcmp(q, "~20024644E00202FD31\r", 20) == 0); /* PYL-REQ-44a */
	int n2 = paceic_rebuild(q, (size_t)n, -1, (const uint8_t *)"\x03", 1, q2, sizeof(q2));
	CHECK_EQ_INT(hear_text(d, &poll, q2, (size_t)n2, PYL_02), BMS_E_UNEXPECTED);
	n2 = paceic_rebuild(q, (size_t)n, 0x21, NULL, 0, q2, sizeof(q2));
	CHECK_EQ_INT(hear_text(d, &poll, q2, (size_t)n2, PYL_02), s);
	CHECK(poll.snap.present & BMS_HAS_ALARMS);
	/* the 0x92 (charge and discharge limits), another step */
	int s92 = paceic_step(d, &poll, 0x92, q, sizeof(q), &n);
	CHECK(s92 >= 0 && s92 != s);
	if (s92 >= 0)
		CHECK_EQ_INT(hear_text(d, &poll, q, (size_t)n, PYL_06), s92);
	CHECK(poll.snap.present & BMS_HAS_CUR_LIMITS);
}

/* The Modbus register drivers by block and range. */
static void test_hear_mb_tables(void)
{
	struct bms_poll poll;
	begin(&poll, 0x30);
	CHECK_EQ_INT(hear(&bms_renogy_driver, &poll, RENOGY_REQ_01, RENOGY_01), 0);
	CHECK_EQ_INT(poll.snap.ncells, 4);
	CHECK(poll.snap.present & BMS_HAS_CELLS);
	begin(&poll, 0x31);
	CHECK_EQ_INT(hear(&bms_renogy_driver, &poll, RENOGY_REQ_01, RENOGY_01), BMS_E_UNEXPECTED);

	begin(&poll, 2);
	CHECK_EQ_INT(hear(&bms_eg4_ll_driver, &poll, EG4LL_REQ_01, EG4LL_01), 0);
	CHECK_NEAR(poll.snap.voltage, 53.66, 1e-4);
	CHECK_NEAR(poll.snap.soc, 97.0, 1e-4);
	CHECK_EQ_INT(hear(&bms_eg4_ll_driver, &poll, NULL, EG4LL_01), 0); /* alone: by size */
	/* a read of 0x0001 x 0x27 does not hold the block 0x0000 x 39 */
	struct stream r = { .n = 0 };
	put_crc(&r, "020300010027");
	uint8_t a[128];
	size_t an = hex(EG4LL_01, a, sizeof(a));
	CHECK_EQ_INT(bms_eg4_ll_driver.listen->hear(&poll, r.b, r.n, a, an), BMS_E_UNEXPECTED);

	/* pace-modbus: no capture is public (§25.4): an answer built from the
	 * document's table, FC03 0 x 37, 53.20 V, -12.34 A */
	struct stream req = { .n = 0 }, ans = { .n = 0 };
	put_crc(&req, "010300000025");
	CHECK(memcmp(req.b, "\x01\x03\x00\x00\x00\x25\x84\x11", 8) == 0);
	char h[7 + 74 * 2 + 1] = "01034a";
	for (int i = 0; i < 37; i++)
		snprintf(h + 6 + 4 * i, 5, "%04x", i == 0 ? 0xFB2E : i == 1 ? 5320 : i == 2 ? 76 : 0);
	put_crc(&ans, h);
	begin(&poll, 1);
	CHECK_EQ_INT(bms_pace_modbus_driver.listen->hear(&poll, req.b, req.n, ans.b, ans.n), 0);
	CHECK_NEAR(poll.snap.voltage, 53.2, 1e-4);
	CHECK_NEAR(poll.snap.current, -12.34, 1e-4);
	ans.b[ans.n - 1] ^= 0xff;
	CHECK_EQ_INT(bms_pace_modbus_driver.listen->hear(&poll, req.b, req.n, ans.b, ans.n), BMS_E_CHECKSUM);
}

/* daly-modbus by replay, through the framer and the pairer as the
 * listener hears it: requests to 0x81 (board 1), answers from 0x51. */
static void test_hear_daly_modbus(void)
{
	const struct bms_driver *d = &bms_daly_modbus_driver;
	static struct stream s;
	static struct heard h;
	memset(&s, 0, sizeof(s));
	put_hex(&s, DALYN_REQ_3);
	put_hex(&s, DALYN_06);
	put_hex(&s, DALYN_REQ_4);
	put_hex(&s, DALYN_07);
	hear_all_cuts(d->listen->at, &s, &h, false);
	CHECK_EQ_INT(h.nf, 4);
	CHECK_EQ_INT(h.skipped, 0);
	CHECK_EQ_INT(h.na, 2);
	struct bms_poll poll;
	begin(&poll, 1);
	int keys = 0;
	for (int i = 0; i < h.na; i++) {
		/* the answer goes to the pack at its address: board 1 */
		CHECK_EQ_INT(h.a[i].addr, 1);
		int k = d->listen->hear(&poll, h.a[i].rn ? h.a[i].req : NULL, h.a[i].rn, h.a[i].ans, h.a[i].an);
		CHECK(k >= 0 && k < BMS_LISTEN_EXTRA);
		if (k >= 0 && k < 32)
			keys |= 1 << k;
	}
	CHECK_EQ_INT(keys, 3); /* the first two steps of its poll */
	CHECK_NEAR(poll.snap.voltage, 53.0, 1e-4);
	CHECK_NEAR(poll.snap.soc, 86.4, 1e-4);
	CHECK_EQ_INT(poll.snap.ncells, 16);
	finished_ok(d, &poll);
	/* board 2's poll does not send these */
	begin(&poll, 2);
	CHECK_EQ_INT(hear(d, &poll, DALYN_REQ_3, DALYN_06), BMS_E_UNEXPECTED);
	/* the answer alone: never paired */
	begin(&poll, 1);
	CHECK_EQ_INT(hear(d, &poll, NULL, DALYN_06), BMS_E_UNEXPECTED);
}

int main(void)
{
	srand(36);
	test_m2_stream();
	test_m2_master_own();
	test_m2_garbage();
	test_m2_bad_crc();
	test_m2_truncated_collision();
	test_m1_slave();
	test_m1_master();
	test_m1_ack_first();
	test_m1_bad_sum();
	test_paceic_stream();
	test_hear_seplos3();
	test_hear_seplos3_refused();
	test_hear_jkpb();
	test_hear_pace();
	test_hear_pylontech();
	test_hear_mb_tables();
	test_hear_daly_modbus();
	return check_report();
}
