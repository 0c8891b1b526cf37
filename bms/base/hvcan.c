/* SPDX-License-Identifier: MIT */
/* bms/base/hvcan.c - the poll of a high-voltage pack read listen only from
 * its own CAN bus (bms/hvcan.h; bms/PROTOCOLS.md §85): each frame checked
 * by its family and dropped whole when it fails, the slots and groups of
 * cells learned, a tester's answers reassembled, the cells whole or absent.
 * Pure. */
#include "../hvcan.h"

#include <math.h>
#include <string.h>

/* persist: the slots learned (bits 0-15), the groups of set A (16-23) and
 * of set B (24-28) the pack sends, a poll learned. */
#define HV_P_SLOTS 0xFFFFu
#define HV_P_A(p) (((p) >> 16) & 0xFFu)
#define HV_P_B(p) (((p) >> 24) & 0x1Fu)
#define HV_P_LEARNED 0x80000000u

static struct hv_state *st_of(struct bms_poll *poll)
{
	return BMS_PRIV(poll, struct hv_state);
}

static const struct hv_state *cst_of(const struct bms_poll *poll)
{
	return BMS_PRIV(poll, struct hv_state);
}

/* The first n groups of set A (a bit each, 128 at most) all heard? */
static bool groups_all(const uint64_t *a, unsigned n)
{
	for (unsigned w = 0; w < 2; w++) {
		unsigned k = n > 64 * w ? n - 64 * w : 0;
		uint64_t want = k >= 64 ? UINT64_MAX : (1ull << k) - 1u;
		if ((a[w] & want) != want)
			return false;
	}
	return true;
}

static bool group_heard(const uint64_t *a, unsigned g)
{
	return (a[g / 64] >> (g % 64)) & 1u;
}

/* The groups heard as a count from the first: every one up to the last
 * heard (the next polls wait for each of them; one missing before it:
 * this poll's list is not whole, cells_whole() finds it). */
static unsigned groups_count(const uint64_t *a)
{
	for (unsigned g = HV_GROUPS_A; g > 0; g--)
		if (group_heard(a, g - 1))
			return g;
	return 0;
}

static bool b_all(uint32_t b, unsigned n)
{
	uint32_t want = n >= 32 ? UINT32_MAX : (1u << n) - 1u;
	return (b & want) == want;
}

static unsigned b_count(uint32_t b)
{
	unsigned n = 0;
	for (unsigned g = 0; g < 32; g++)
		if ((b >> g) & 1u)
			n = g + 1;
	return n;
}

/* The answers of a tester all whole in this poll. */
static bool answers_all(const struct hv_family *f, const struct hv_state *st)
{
	return f->nanswers && groups_all(st->a, f->nanswers);
}

enum bms_scan hv_scan(const struct hv_family *f, const uint8_t *buf, size_t len, size_t *n)
{
	enum bms_scan r = bms_can_scan(buf, len, n);
	if (r != BMS_SCAN_FRAME)
		return r;
	struct bms_can_msg m;
	if (bms_can_parse(buf, *n, &m) != BMS_OK || m.rtr)
		return r; /* handle() passes it over */
	return f->check(&m) ? BMS_SCAN_FRAME : BMS_SCAN_BADSUM;
}

/* Every slot and group the pack is known to send is there; for a family
 * of answers, every answer (whether a tester asks is not known: the poll
 * waits for them up to its timeout), also in a learning poll: it ends at
 * its answers' end, never cutting one at its timeout, and learns what it
 * heard until then. */
static bool whole(const struct hv_family *f, const struct bms_poll *poll)
{
	const struct hv_state *st = cst_of(poll);
	uint32_t p = poll->persist;
	uint16_t want = (uint16_t)(f->need | (p & HV_P_SLOTS));
	if (st->refused || (st->slots & want) != want)
		return false;
	if (f->nanswers)
		return answers_all(f, st) || st->dropped; /* a broken answer: the next poll's */
	if (!(p & HV_P_LEARNED))
		return false;
	return groups_all(st->a, HV_P_A(p)) && b_all(st->b, HV_P_B(p));
}

/* What this poll heard, learned for the next ones. */
static void learn(const struct hv_family *f, struct bms_poll *poll)
{
	const struct hv_state *st = cst_of(poll);
	uint32_t p = HV_P_LEARNED | st->slots | f->need;
	if (!f->nanswers) {
		p |= (uint32_t)groups_count(st->a) << 16;
		p |= (uint32_t)(b_count(st->b) & 0x1Fu) << 24;
	}
	poll->persist = p;
}

/* Group r (HV_A(g) or HV_B(g)) heard beyond the count learned: the count
 * grows to it (a learning poll that missed the last frames of a cycle
 * learned too few). */
static void grow(struct bms_poll *poll, int r)
{
	uint32_t p = poll->persist;
	if (r >= HV_B(0)) {
		unsigned g = (unsigned)(r - HV_B(0)) + 1u;
		if (g > HV_P_B(p))
			poll->persist = (p & ~(0x1Fu << 24)) | (g & 0x1Fu) << 24;
	} else {
		unsigned g = (unsigned)(r - HV_A(0)) + 1u;
		if (g > HV_P_A(p))
			poll->persist = (p & ~(0xFFu << 16)) | (g & 0xFFu) << 16;
	}
}

int hv_handle(const struct hv_family *f, struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	struct bms_can_msg m;
	int rc = bms_can_parse(frame, len, &m);
	if (rc != BMS_OK)
		return rc;
	if (m.rtr)
		return BMS_E_UNEXPECTED;
	struct hv_state *st = st_of(poll);
	int r = f->frame(poll, &m);
	if (r == BMS_E_UNEXPECTED)
		return r;
	if (r < 0) {
		st->refused = true;
		return r;
	}
	if (r >= HV_TAKEN)
		;
	else if (r >= HV_B(0))
		st->b |= 1u << (r - HV_B(0));
	else if (r >= HV_A(0)) {
		unsigned g = (unsigned)(r - HV_A(0));
		if (group_heard(st->a, g))
			st->a2[g / 64] |= 1ull << (g % 64);
		st->a[g / 64] |= 1ull << (g % 64);
	} else
		st->slots |= (uint16_t)(1u << r);
	if (r >= HV_A(0) && r < HV_TAKEN && !f->nanswers && (poll->persist & HV_P_LEARNED))
		grow(poll, r); /* a group beyond those learned: the pack sends more, every poll waits for it */
	poll->sub++;
	if (!whole(f, poll))
		return BMS_MORE;
	if (!(poll->persist & HV_P_LEARNED))
		learn(f, poll); /* a family of answers: a learning poll whole at its answers */
	return BMS_OK;
}


bool hv_timeout(const struct hv_family *f, struct bms_poll *poll)
{
	const struct hv_state *st = cst_of(poll);
	uint32_t p = poll->persist;
	if (st->refused || (st->slots & f->need) != f->need) {
		poll->persist = 0; /* learn again from the next poll */
		return false;
	}
	if (!(p & HV_P_LEARNED)) {
		learn(f, poll); /* the first poll: what the pack sends */
		/* its cells whole only where it heard whole cycles: every group
		 * twice at least (cells_whole) */
		poll->step = st->a[0] == st->a2[0] && st->a[1] == st->a2[1] ? 2 : 1;
		return true;
	}
	uint16_t slots = (uint16_t)(p & HV_P_SLOTS);
	bool groups = f->nanswers ? true : groups_all(st->a, HV_P_A(p)) && b_all(st->b, HV_P_B(p));
	if ((st->slots & slots) != slots || !groups) {
		poll->persist = 0; /* a slot or a group learned is missing: no poll, learn again */
		return false;
	}
	return true; /* a family of answers: without them (no tester asks) the poll has no cells */
}

/* The cells of this poll: whole (every group learned, or every answer),
 * each written; else none.  A learning poll's broadcast cells only where
 * every group it heard came twice (whole cycles heard: it missed no
 * cycle's last frames); else none. */
static void cells_whole(const struct hv_family *f, struct bms_poll *poll)
{
	struct bms_snapshot *s = &poll->snap;
	const struct hv_state *st = cst_of(poll);
	bool whole_set = f->nanswers ? answers_all(f, st)
				     : poll->step != 1 && HV_P_A(poll->persist) && groups_all(st->a, HV_P_A(poll->persist));
	unsigned n = whole_set ? st->ncells : 0;
	for (unsigned i = 0; i < n; i++)
		if (!s->cell_mv[i])
			n = 0; /* a hole in the list: no list */
	if (poll->cells_forced && poll->cells_forced < n)
		n = poll->cells_forced;
	if (n < BMS_MAX_CELLS)
		memset(s->cell_mv + n, 0, sizeof(s->cell_mv[0]) * (BMS_MAX_CELLS - n));
	s->ncells = (uint8_t)n;
	if (n)
		s->present |= BMS_HAS_CELLS;
	else
		s->present &= ~(uint32_t)BMS_HAS_CELLS;
}

/* After the family's finish: a list whose sum is not the pack's voltage
 * within 10 % is a part of the pack's cells (a stack whose other modules'
 * frames were not heard), not the list: none (the plausibility table would
 * refuse the whole poll for it).  With every cell the BMS's own highest
 * and lowest are dropped: rounded to their frame's steps (Bolt's 20 mV) and
 * heard at another instant, they would widen the list's extremes by what
 * is no cell's. */
static void cells_part(struct bms_snapshot *s)
{
	double sum = 0;
	for (unsigned i = 0; i < s->ncells; i++)
		sum += s->cell_mv[i] / 1000.0;
	if (s->ncells && (s->present & BMS_HAS_VOLTAGE) && fabs(s->voltage - sum) > 0.1 * sum) {
		memset(s->cell_mv, 0, sizeof(s->cell_mv[0]) * s->ncells);
		s->ncells = 0;
		s->present &= ~(uint32_t)BMS_HAS_CELLS;
	}
	if (s->ncells)
		s->present &= ~(uint32_t)BMS_HAS_CELL_EXT;
}

int hv_finish(const struct hv_family *f, struct bms_poll *poll)
{
	struct bms_snapshot *s = &poll->snap;
	const struct hv_state *st = cst_of(poll);
	if (st->refused || (st->slots & f->need) != f->need)
		return BMS_E_INVALID;
	cells_whole(f, poll);
	if (f->finish) {
		int rc = f->finish(poll);
		if (rc != BMS_OK)
			return rc;
	}
	cells_part(s);
	if (poll->invert_current && (s->present & BMS_HAS_CURRENT))
		s->current = -s->current;
	if (!(s->present & BMS_HAS_VOLTAGE) || !(s->voltage > 0.0f))
		return BMS_E_INVALID;
	return BMS_OK;
}

void hv_cell(struct bms_poll *poll, unsigned i, unsigned mv)
{
	struct hv_state *st = st_of(poll);
	if (i >= BMS_MAX_CELLS)
		return;
	poll->snap.cell_mv[i] = (uint16_t)mv;
	if (i + 1 > st->ncells)
		st->ncells = (uint8_t)(i + 1);
}

bool hv_tp_check(const struct bms_can_msg *m)
{
	unsigned pci = m->dlc ? m->data[0] >> 4 : 0;
	if (pci == 1)
		return m->dlc == 8;
	if (pci == 2)
		return m->dlc >= 2;
	return true; /* a single frame, flow control: not read */
}

/* The answer being read ends unfinished: dropped, if the family reads it. */
static void tp_drop(struct bms_poll *poll)
{
	struct hv_state *st = st_of(poll);
	if (st->tp.on && st->tp.ans != 0xFF)
		st->dropped = true;
	st->tp.on = false;
}

/* A first frame: the answer it opens (tp->ans 0xFF: not one the family reads). */
static void tp_first(const struct hv_family *f, struct bms_poll *poll, const uint8_t *d)
{
	struct hv_tp *tp = &st_of(poll)->tp;
	uint16_t len = (uint16_t)(((d[0] & 0x0Fu) << 8) | d[1]);
	tp_drop(poll); /* one in progress: broken */
	memset(tp, 0, sizeof(*tp));
	tp->on = true;
	tp->len = len;
	tp->sn = 1;
	tp->ans = 0xFF;
	for (uint8_t k = 0; k < f->nanswers; k++)
		if (d[2] == f->answers[k].sid && d[3] == f->answers[k].group && len >= 2u + 2u * f->answers[k].count)
			tp->ans = k;
	if (tp->ans != 0xFF)
		st_of(poll)->a[0] &= ~(1ull << tp->ans); /* its cells are being written again */
}

/* Byte b at offset pos of answer k: its cells, a word at a time.  False:
 * a cell out of 500..5000 mV, the answer dropped. */
static bool tp_byte(const struct hv_family *f, struct bms_poll *poll, unsigned pos, uint8_t b)
{
	struct hv_tp *tp = &st_of(poll)->tp;
	const struct hv_answer *a = &f->answers[tp->ans];
	if (pos < 2 || pos >= 2u + 2u * a->count)
		return true;
	if (!((pos - 2) & 1u)) {
		tp->carry = b;
		return true;
	}
	unsigned mv = (unsigned)tp->carry << 8 | b;
	if (mv < BMS_PLAUSIBLE_MIN_CELL_MV || mv > BMS_PLAUSIBLE_MAX_CELL_MV)
		return false;
	hv_cell(poll, a->first + (pos - 2) / 2, mv);
	return true;
}

int hv_tp_frame(const struct hv_family *f, struct bms_poll *poll, const struct bms_can_msg *m)
{
	struct hv_tp *tp = &st_of(poll)->tp;
	const uint8_t *d = m->data;
	unsigned pci = d[0] >> 4, at, from;
	if (pci == 1) {
		tp_first(f, poll, d);
		at = 2, from = 0;
	} else if (pci == 2 && tp->on && (d[0] & 0x0Fu) == (tp->sn & 0x0Fu)) {
		at = 1, from = tp->got;
		tp->sn++;
	} else {
		if (pci == 0 || pci == 2)
			tp_drop(poll); /* a single frame or a frame out of turn: the answer is broken */
		return pci == 3 ? HV_TAKEN : BMS_E_UNEXPECTED; /* flow control: the tester's, not read */
	}
	unsigned n = m->dlc > at ? m->dlc - at : 0;
	if (n > (unsigned)(tp->len - from))
		n = tp->len - from;
	for (unsigned i = 0; i < n; i++)
		if (tp->ans != 0xFF && !tp_byte(f, poll, from + i, d[at + i])) {
			tp_drop(poll); /* not a list of cells: dropped, its frames still to come passed over */
			tp->on = true;
			tp->ans = 0xFF;
			break;
		}
	tp->got = (uint16_t)(from + n);
	if (tp->got < tp->len) {
		if (pci == 2 && m->dlc < 8)
			tp_drop(poll); /* a short frame before the end */
		return HV_TAKEN;
	}
	tp->on = false;
	return tp->ans == 0xFF ? HV_TAKEN : HV_A(tp->ans);
}

uint8_t hv_crc8(uint8_t poly, const uint8_t *p, size_t n)
{
	uint8_t c = 0;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (uint8_t)(c & 0x80u ? (c << 1) ^ poly : c << 1);
	}
	return c;
}

uint32_t hv_bits_le(const uint8_t *d, unsigned start, unsigned len)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | d[i];
	v >>= start;
	return (uint32_t)(len >= 32 ? v : v & ((1ull << len) - 1u));
}

void hv_temps(struct bms_snapshot *s, const float *t, unsigned n)
{
	float hi = NAN, lo = NAN;
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++) {
		if (!isfinite(t[i]))
			continue;
		if (k < BMS_MAX_TEMPS)
			s->temp_c[k++] = t[i];
		hi = isfinite(hi) && hi >= t[i] ? hi : t[i];
		lo = isfinite(lo) && lo <= t[i] ? lo : t[i];
	}
	if (!k)
		return;
	s->ntemps = (uint8_t)k;
	s->present |= BMS_HAS_TEMPS;
	bms_set_temp_ext(s, hi, lo);
}

int hv_limits(struct bms_poll *poll, float cvl, float dvl, float ccl, float dcl, float vmax)
{
	struct bms_snapshot *s = &poll->snap;
	if (!(cvl > dvl) || cvl > vmax)
		return BMS_E_RANGE;
	s->bms_cvl_v = cvl;
	s->bms_dvl_v = dvl > 0 ? dvl : NAN;
	s->present |= BMS_HAS_VOLT_LIMITS;
	bms_set_cur_limits(poll, ccl > BMS_MAX_LIMIT_A ? NAN : ccl, dcl > BMS_MAX_LIMIT_A ? NAN : dcl, false);
	return 0;
}
