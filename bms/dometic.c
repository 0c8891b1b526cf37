/* SPDX-License-Identifier: MIT */
/* bms/dometic.c - Dometic Büttner batteries over Bluetooth LE: the
 * greeting on two keep-alive channels, APP+AEN, then a stream of 8-byte
 * frames of every battery on the link, one pack each.
 *
 * bms/PROTOCOLS.md §72.  Service FEFB (or 2345), characteristics
 * 0000xxxx-0000-1000-8000-008025000000: the data on 0002 (notify) / 0001
 * (write), and more (a link of channels, BMS_CHR_*): channel 1 is 000a
 * (notify), 2 is 0009 (write), 3 is 0004 (notify), 4 is 0003 (write).  Once
 * a connection: the greeting 000a notifies (9B 00) is echoed on 0009, the
 * one 0004 notifies (12) answered FF on 0003 (the keep-alive answer, FF and
 * DF in turn); APP+AEN (APP+AEN=<pin> with the pack's pin) on 0001 is
 * answered MST+AEN on 0002; APP+NET; APP+RDN=1 starts the stream:
 *	23 85 <battery> <index> <4 data bytes>		no checksum
 *	02 voltage u16 0.01 V, current u16 0.01 A (<= 32767 charging, else
 *	   32767 - x);  07 design Ah u32;  0B SOC;  0C temperature (u16 - 500)
 *	   0.1 degC;  0E SOH;  36 the energy left, Wh u16;  56 / 57 two cells
 *	   each, u16 mV (big-endian throughout)
 * The pack's address is its battery byte (several batteries share one
 * link, each a pack on the same ble:// port); address_any takes the first
 * battery a poll hears.  Later polls of a connection write the keep-alive
 * (APP+NET, FF / DF on 0003) and listen.  The first poll of a pack on a
 * connection that is greeted already (another pack's: the stream runs)
 * goes straight to listening.
 *
 * Progress: step (DM_*; DM_BEGIN resolves); persist DM_P_GREETED (the
 * stream was started on this connection), DM_P_DF (the next keep-alive
 * answer is DF).
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"

#define DM_UUID(x) "0000" x "-0000-1000-8000-008025000000"
#define DM_HEAD0 0x23
#define DM_HEAD1 0x85
#define DM_FRAME 8
#define DM_CH_DATA 0
#define DM_CH_HELLO 1   /* 000a: the greeting */
#define DM_CH_ECHO 2    /* 0009: its echo */
#define DM_CH_KA 3      /* 0004: the keep-alive */
#define DM_CH_KA_ANS 4  /* 0003: its answer */
#define DM_CELLS 4
#define DM_P_GREETED 0x1u
#define DM_P_DF 0x2u
#define DM_RDN_TRIES 2  /* APP+RDN=1 again at most this often a poll (a silent stream) */

enum { DM_BEGIN = 0, DM_HELLO, DM_ECHO, DM_WAITB, DM_ACKB, DM_AEN, DM_NET, DM_RDN, DM_KEEP, DM_DATA, DM_DONE };

/* The indices a sample takes: 02, 0B, 0C, 0E, 36, 56, 57 (and 07, the
 * design capacity, on a refresh or while none is kept). */
enum { DM_I_VI, DM_I_SOC, DM_I_TEMP, DM_I_SOH, DM_I_WH, DM_I_C12, DM_I_C34, DM_I_DESIGN };
#define DM_NEED ((1u << DM_I_DESIGN) - 1u)

struct dm_state {
	uint32_t seen;          /* DM_I_* bits */
	uint16_t wh;            /* 0x36 */
	uint8_t echo[8], necho; /* the greeting to echo */
	uint8_t battery;        /* address_any: the battery taken */
	bool locked;            /* ... once one was */
	bool ka_seen;           /* 0004 notified already */
	uint8_t rdn;            /* APP+RDN=1 written again this poll */
};

static const struct bms_ble_pin dm_pin;

static int dm_step(const struct bms_poll *poll)
{
	if (poll->step != DM_BEGIN)
		return poll->step;
	return poll->link_fresh || !(poll->persist & DM_P_GREETED) ? DM_HELLO : DM_KEEP;
}

static uint32_t dm_need(const struct bms_poll *poll)
{
	bool design = poll->refresh || !(poll->kept.have & BMS_HAS_FULL);
	return DM_NEED | (design ? 1u << DM_I_DESIGN : 0);
}

static bool dm_listens(const struct bms_poll *poll)
{
	const struct dm_state *st = BMS_PRIV(poll, struct dm_state);
	int step = dm_step(poll);
	if (step == DM_HELLO)
		return true;
	if (step == DM_WAITB)
		return !st->ka_seen;
	if (step == DM_DATA) /* a retry writes APP+RDN=1 again, twice at most */
		return poll->attempt == 0 || st->rdn >= DM_RDN_TRIES;
	return false;
}

/* One record (channel k, data[0..n)) into out: its length, or BMS_E_NOSPACE. */
static int dm_rec(uint8_t *out, size_t cap, uint8_t k, const void *data, size_t n)
{
	size_t m = bms_chr_record(out, cap, k, data, n);
	return m ? (int)m : BMS_E_NOSPACE;
}

/* The keep-alive answer on 0003: FF and DF in turn (aiobmsble; the turn
 * moves when it is written, dm_sent()). */
static uint8_t dm_ka(const struct bms_poll *poll)
{
	return (poll->persist & DM_P_DF) ? 0xDF : 0xFF;
}

static int dm_aen(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	char text[8 + BMS_PIN_MAX + 1] = "APP+AEN";
	if (poll->auth == BMS_AUTH_REFUSED)
		return BMS_E_AUTH; /* the secret went unanswered: never again this poll */
	if (poll->pin[0]) {
		strcat(text, "=");
		strcat(text, poll->pin);
		poll->secret_req = true;
		poll->auth = BMS_AUTH_SENT;
	}
	return dm_rec(out, cap, DM_CH_DATA, text, strlen(text));
}

/* APP+NET and the keep-alive answer: two records in one request. */
static int dm_keep(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	int a = dm_rec(out, cap, DM_CH_DATA, "APP+NET", 7);
	if (a < 0)
		return a;
	uint8_t b = dm_ka(poll);
	int c = dm_rec(out + a, cap - (size_t)a, DM_CH_KA_ANS, &b, 1);
	return c < 0 ? c : a + c;
}

static int dm_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	struct dm_state *st = BMS_PRIV(poll, struct dm_state);
	int step = dm_step(poll);
	if (step == DM_WAITB && st->ka_seen)
		step = DM_ACKB; /* it came while the greeting was awaited */
	if (step == DM_DATA && !dm_listens(poll))
		step = DM_RDN; /* a silent stream: started again */
	poll->step = step;
	switch (step) {
	case DM_ECHO:
		return dm_rec(out, cap, DM_CH_ECHO, st->echo, st->necho);
	case DM_ACKB: {
		uint8_t b = dm_ka(poll);
		return dm_rec(out, cap, DM_CH_KA_ANS, &b, 1);
	}
	case DM_AEN:
		return dm_aen(poll, out, cap);
	case DM_NET:
		return dm_rec(out, cap, DM_CH_DATA, "APP+NET", 7);
	case DM_RDN:
		return dm_rec(out, cap, DM_CH_DATA, "APP+RDN=1", 9);
	case DM_KEEP:
		return dm_keep(poll, out, cap);
	case DM_DONE:
		return 0;
	default:
		return BMS_E_RANGE; /* a step that listens is never asked for a request */
	}
}

/* The writes nothing answers: their steps end when written. */
static bool dm_sent(struct bms_poll *poll)
{
	struct dm_state *st = BMS_PRIV(poll, struct dm_state);
	switch (poll->step) {
	case DM_ECHO:
		poll->step = DM_WAITB;
		return true;
	case DM_ACKB:
		poll->persist ^= DM_P_DF;
		poll->step = DM_AEN;
		return true;
	case DM_NET:
		poll->step = DM_RDN;
		return true;
	case DM_RDN:
		if (poll->attempt > 0)
			st->rdn++; /* a retry's: counted */
		poll->persist |= DM_P_GREETED;
		poll->step = DM_DATA;
		return true;
	case DM_KEEP:
		poll->persist ^= DM_P_DF;
		poll->step = DM_DATA;
		return true;
	default:
		return false;
	}
}

/* ---- the framer ---------------------------------------------------------- */

/* The link's records, whole (bms/base/gattrec.c); what is no record skipped. */
static enum bms_scan dm_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	uint8_t k;
	const uint8_t *d;
	size_t dn, used;
	if (bms_chr_next(buf, len, &k, &d, &dn, &used))
		return bms_scan_tail(true, true, used, n);
	if (!used)
		return BMS_SCAN_NEED;
	*n = used;
	return BMS_SCAN_SKIP;
}

/* ---- the decoder --------------------------------------------------------- */

/* A stream frame f[0..8) of this pack's battery into the snapshot. */
static int dm_frame(struct bms_poll *poll, struct dm_state *st, const uint8_t *f)
{
	struct bms_snapshot *s = &poll->snap;
	const uint8_t *d = f + 4;
	int bit;
	switch (f[3]) {
	case 0x02: {
		uint16_t raw = bms_be16(d + 2);
		if (bms_be16(d) == 0)
			return BMS_E_RANGE;
		s->voltage = (float)bms_be16(d) / 100.0f;
		s->current = (raw <= 32767 ? (float)raw : 32767.0f - (float)raw) / 100.0f;
		s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT;
		bit = DM_I_VI;
		break;
	}
	case 0x07:
		if (bms_be32(d) == 0 || bms_be32(d) > 100000u)
			return BMS_E_RANGE;
		poll->kept.full_ah = (float)bms_be32(d);
		poll->kept.have |= BMS_HAS_FULL;
		bit = DM_I_DESIGN;
		break;
	case 0x0B: case 0x0E:
		if (d[0] > 100)
			return BMS_E_RANGE;
		if (f[3] == 0x0B)
			s->soc = d[0];
		else
			s->soh = d[0];
		s->present |= f[3] == 0x0B ? BMS_HAS_SOC : BMS_HAS_SOH;
		bit = f[3] == 0x0B ? DM_I_SOC : DM_I_SOH;
		break;
	case 0x0C:
		s->temp_c[0] = ((float)bms_be16(d) - 500.0f) / 10.0f;
		s->ntemps = 1;
		s->present |= BMS_HAS_TEMPS;
		bit = DM_I_TEMP;
		break;
	case 0x36:
		st->wh = bms_be16(d);
		bit = DM_I_WH;
		break;
	case 0x56: case 0x57: {
		unsigned i = f[3] == 0x56 ? 0 : 2;
		s->cell_mv[i] = bms_be16(d);
		s->cell_mv[i + 1] = bms_be16(d + 2);
		if (!s->cell_mv[i] || !s->cell_mv[i + 1])
			return BMS_E_RANGE;
		bit = f[3] == 0x56 ? DM_I_C12 : DM_I_C34;
		break;
	}
	default:
		return BMS_MORE; /* an index not decoded (§72.3) */
	}
	st->seen |= 1u << bit;
	return (st->seen & dm_need(poll)) == dm_need(poll) ? BMS_OK : BMS_MORE;
}

/* Is the stream frame of battery b this pack's? */
static bool dm_mine(const struct bms_poll *poll, struct dm_state *st, uint8_t b)
{
	if (!poll->address_any)
		return b == poll->address;
	if (!st->locked) {
		st->locked = true;
		st->battery = b;
	}
	return b == st->battery;
}

/* The data channel's record at the data step: a frame of the pack's
 * battery, or another's, or a text (MST+...): not this poll's. */
static int dm_data(struct bms_poll *poll, struct dm_state *st, const uint8_t *d, size_t n)
{
	if (n != DM_FRAME || d[0] != DM_HEAD0 || d[1] != DM_HEAD1)
		return BMS_E_UNEXPECTED;
	if (!dm_mine(poll, st, d[2]))
		return BMS_E_UNEXPECTED;
	int rc = dm_frame(poll, st, d);
	if (rc == BMS_OK)
		poll->step = DM_DONE;
	return rc;
}

/* The greeting: 000a's to echo, or the stream already running (another
 * pack greeted this connection): straight to its frames. */
static int dm_hello(struct bms_poll *poll, struct dm_state *st, uint8_t k, const uint8_t *d, size_t n)
{
	if (k == DM_CH_KA) {
		st->ka_seen = true;
		return BMS_E_UNEXPECTED;
	}
	if (k == DM_CH_DATA && n == DM_FRAME && d[0] == DM_HEAD0 && d[1] == DM_HEAD1) {
		poll->persist |= DM_P_GREETED;
		poll->step = DM_DATA;
		int rc = dm_data(poll, st, d, n);
		return rc == BMS_E_UNEXPECTED ? BMS_MORE : rc;
	}
	if (k != DM_CH_HELLO || n == 0 || n > sizeof(st->echo))
		return BMS_E_UNEXPECTED;
	memcpy(st->echo, d, n);
	st->necho = (uint8_t)n;
	poll->step = DM_ECHO;
	return BMS_OK;
}

static int dm_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	struct dm_state *st = BMS_PRIV(poll, struct dm_state);
	uint8_t k;
	const uint8_t *d;
	size_t n, used;
	if (!bms_chr_next(frame, len, &k, &d, &n, &used) || used != len)
		return BMS_E_SHORT;
	if (k > DM_CH_KA_ANS)
		return BMS_E_HEADER;
	switch (poll->step) {
	case DM_BEGIN: case DM_HELLO:
		poll->step = DM_HELLO;
		return dm_hello(poll, st, k, d, n);
	case DM_WAITB:
		if (k != DM_CH_KA)
			return BMS_E_UNEXPECTED;
		poll->step = DM_ACKB;
		return BMS_OK;
	case DM_AEN:
		if (k != DM_CH_DATA || n != 7 || memcmp(d, "MST+AEN", 7) != 0)
			return BMS_E_UNEXPECTED;
		poll->auth = poll->auth == BMS_AUTH_NONE ? BMS_AUTH_NONE : BMS_AUTH_OK;
		poll->step = DM_NET;
		return BMS_OK;
	case DM_DATA:
		if (k == DM_CH_KA)
			st->ka_seen = true;
		return k == DM_CH_DATA ? dm_data(poll, st, d, n) : BMS_E_UNEXPECTED;
	default:
		return BMS_E_UNEXPECTED;
	}
}

/* A greeting that never came: echoed as aiobmsble's mock greets (9B 00),
 * the keep-alive answered anyway; APP+AEN=<pin> unanswered is its refusal
 * (no refusal frame is known: the retry of the step is refused, auth
 * failed, the secret tried once a poll); the stream's silence is a failed
 * try. */
static bool dm_timeout(struct bms_poll *poll)
{
	struct dm_state *st = BMS_PRIV(poll, struct dm_state);
	switch (poll->step) {
	case DM_BEGIN: case DM_HELLO:
		st->echo[0] = 0x9B;
		st->echo[1] = 0x00;
		st->necho = 2;
		poll->step = DM_ECHO;
		return true;
	case DM_WAITB:
		poll->step = DM_ACKB;
		return true;
	case DM_AEN:
		if (poll->pin[0])
			poll->auth = BMS_AUTH_REFUSED;
		return false;
	default:
		return false;
	}
}

static int dm_finish(struct bms_poll *poll)
{
	const struct dm_state *st = BMS_PRIV(poll, struct dm_state);
	struct bms_snapshot *s = &poll->snap;
	if (poll->step != DM_DONE || (st->seen & dm_need(poll)) != dm_need(poll))
		return BMS_E_INVALID;
	s->ncells = DM_CELLS;
	s->present |= BMS_HAS_CELLS;
	if (poll->kept.have & BMS_HAS_FULL) {
		s->full_ah = poll->kept.full_ah;
		s->present |= BMS_HAS_FULL;
	}
	if (s->voltage > 0.0f) { /* the energy left over the voltage, as aiobmsble derives it */
		s->remain_ah = (float)st->wh / s->voltage;
		s->present |= BMS_HAS_REMAIN;
	}
	return bms_check_pack(s, false);
}

/* The keep-alive channels and their answers (channels 1..4). */
static const struct bms_gatt_chr dm_more[] = {
	{ DM_UUID("000a"), true },
	{ DM_UUID("0009"), false },
	{ DM_UUID("0004"), true },
	{ DM_UUID("0003"), false },
	{ NULL, false },
};

/* Service FEFB, or 2345 (aiobmsble's dometic_bms names both). */
static const struct bms_gatt dm_gatt[] = {
	{ .service = BMS_UUID16("fefb"), .notify = DM_UUID("0002"), .write = DM_UUID("0001"), .more = dm_more },
	{ .service = BMS_UUID16("2345"), .notify = DM_UUID("0002"), .write = DM_UUID("0001"), .more = dm_more },
	BMS_GATT_END,
};

/* --ble-scan: the manufacturer data of company 2117 (0x0845; aiobmsble's
 * matcher, whose data starts 14 85). */
static const struct bms_ble_hint dm_ble_hints[] = {
	{2, BMS_BLE_COMPANY, NULL, NULL, 0x0845, false, "company 0x0845 (Dometic Büttner)"},
	{0},
};

/* The secret of APP+AEN=<secret> (aiobmsble's dometic_bms); without one
 * APP+AEN alone. */
static const struct bms_ble_pin dm_pin = {
	.name = "secret",
	.min_len = 1,
	.max_len = 16,
};

static const struct bms_ble dm_ble = {
	.only = true,
	.gatt = dm_gatt,
	.hints = dm_ble_hints,
	.pin = &dm_pin,
};

const struct bms_driver bms_dometic_driver = {
	.name = "dometic",
	.description = "Dometic Büttner batteries over Bluetooth LE (its APP+AEN greeting, then 8-byte frames of "
		       "every battery on the link)",
	.vendor = "Dometic",
	.protocol_id = 62,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN |
		BMS_HAS_FULL | BMS_HAS_CELLS | BMS_HAS_TEMPS,
	.default_baud = 115200,
	.gap_floor = 0,
	.interbyte = 0.3,
	.min_address = 0,
	.max_address = 255,
	.any_address = true,
	.default_timeout = 3.0,
	.next_request = dm_next_request,
	.scan = dm_scan,
	.handle = dm_handle,
	.timeout = dm_timeout,
	.finish = dm_finish,
	.sent = dm_sent,
	.keep_rx = true,
	.listens = dm_listens,
	.ble = &dm_ble,
};
