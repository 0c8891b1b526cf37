/* SPDX-License-Identifier: MIT */
/* bms/felicity.c - Felicity Solar batteries (LUX-Y and others) over
 * Bluetooth LE: ASCII requests, JSON answers.
 *
 * See bms/PROTOCOLS.md §36.  Bluetooth LE only, through the Wi-Fi/BLE
 * module's service 6e6f736a-4643-4d44-8fa9-0fafd005e455 (write
 * 49535258-..., notify 49535458-...).  A poll writes the documented read
 * request (nothing else is ever written):
 *	RT	"wifilocalMonitor:get dev real infor"
 *	BASIC	"wifilocalMonitor:get dev basice infor" (the identity; on the
 *		first poll of a connection, while bms_ident_due())
 * and each is answered by one JSON object ("CommVer":1), sent in 35-byte
 * notifications from '{' to '}'.  There is no checksum: an answer whose
 * JSON is not well-formed is rejected whole (as a bad checksum).  The
 * parser below is bounded: at most FE_MAX_LEN bytes, arrays nested at most
 * FE_MAX_DEPTH deep (no objects inside the object), no recursion, strings
 * of printable ASCII up to FE_MAX_STR, integers of at most 10 digits.
 * RT, the keys read: the pack's own ones.  Each pack of a parallel bank
 * has its own module and answers with its own values at index 0 of the
 * ...List keys (its siblings' slots 65535 or -1) and the bank's beside
 * them, identical in every pack's answer: Batt (the bank's voltage and the
 * sum of the packs' currents), Batsoc, LVolCur, Bfault / Bwarn (the OR of
 * the packs' words).  None of the bank's is read (§36.2, §36.3):
 *	BattList [[mV, ...],[0.1 A (+ = charging), ...]]  voltage, current
 *	    (required: without it there is no value of this pack's own)
 *	BatsocList [[SOC 0.01 %, ?, capacity 0.001 Ah]]  SOC, full, remaining
 *	BatcelList [[cell mV ...],[...]]  cells (65535 = no cell)
 *	BtemList [[0.1 degC ...]]  temperatures (32767 = no sensor)
 *	BBfault, BBwarn  raw_alarms[0], [1]: any bit raises OTHER (their bits'
 *	meanings are not published)
 * Not transmitted: cycles, SOH, MOSFET states, balancing.  Not served:
 * BLVolCu (the pack's limits by the look of it, served by no source: §36.2),
 * BMaxMin, Bstate, Estate, Templist.
 */
#include "bms.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "drivers.h"

#define FE_MAX_LEN 2048   /* the longest answer framed (RT of 16 cells: 802) */
#define FE_MAX_DEPTH 3    /* the object, an array, an array in it */
#define FE_MAX_STR 64     /* characters of a string or key */
#define FE_MAX_DIGITS 10  /* an integer's digits (beyond: refused) */
#define FE_MAX_NUM 24     /* characters of any number (fractions too) */
#define FE_NULL INT64_MIN /* a null element of an array */
#define FE_MAX_MV 200000  /* 200 V */
#define FE_MAX_DA 20000   /* 2000 A in 0.1 A */
#define FE_MAX_MAH 10000000 /* 10000 Ah */
#define FE_MAX_TEMPS 16   /* elements of BtemList read (all served: BMS_MAX_TEMPS) */
#define FE_NO_CELL 65535
#define FE_NO_SLOT 65535  /* a ...List slot without a value (a sibling pack's) */
#define FE_MAX_SLOTS 16   /* elements of a BattList row read (one a pack of the bank) */
#define FE_NO_TEMP 32767

enum { FE_RT, FE_BASIC, FE_DONE };

enum fe_key {
	FE_K_COMMVER,
	FE_K_BATT,     /* the bank's: not read, it marks an RT answer */
	FE_K_BATTLIST, /* the pack's voltage and current */
	FE_K_SOC,
	FE_K_CELLS,
	FE_K_TEMPS,
	FE_K_FAULT, /* BBfault, the pack's (Bfault is the bank's) */
	FE_K_WARN,  /* BBwarn, the pack's (Bwarn is the bank's) */
	FE_K_VERSION,
	FE_K_DEVSN,
	FE_K_M1SW,
	FE_K_TYPE,
	FE_K_SUBTYPE,
	FE_NKEYS
};

static const char *const fe_names[FE_NKEYS] = {
	"CommVer", "Batt", "BattList", "BatsocList", "BatcelList", "BtemList", "BBfault", "BBwarn",
	"version", "DevSN", "M1SwVer", "Type", "SubType",
};

/* Where the values of the keys read begin: offset + 1, 0 = absent. */
struct fe_doc {
	uint16_t at[FE_NKEYS];
};

static size_t fe_ws(const uint8_t *p, size_t len, size_t i)
{
	while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	return i;
}

/* The string at p[i] == '"': the index after its closing quote, or 0.
 * Printable ASCII; the escapes \" \\ \/ only. */
static size_t fe_string(const uint8_t *p, size_t len, size_t i)
{
	size_t start = ++i;
	for (; i < len && i - start <= FE_MAX_STR; i++) {
		if (p[i] == '"')
			return i + 1;
		if (p[i] == '\\') {
			if (++i >= len || (p[i] != '"' && p[i] != '\\' && p[i] != '/'))
				return 0;
			continue;
		}
		if (p[i] < 0x20 || p[i] > 0x7E)
			return 0;
	}
	return 0;
}

static bool fe_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* A JSON number at p[i]: the index after it, or 0. */
static size_t fe_number(const uint8_t *p, size_t len, size_t i)
{
	size_t s = i, d;
	if (i < len && p[i] == '-')
		i++;
	for (d = i; i < len && fe_digit(p[i]); i++)
		;
	if (i == d || (p[d] == '0' && i - d > 1))
		return 0;
	if (i < len && p[i] == '.') {
		for (d = ++i; i < len && fe_digit(p[i]); i++)
			;
		if (i == d)
			return 0;
	}
	if (i < len && (p[i] == 'e' || p[i] == 'E')) {
		if (++i < len && (p[i] == '+' || p[i] == '-'))
			i++;
		for (d = i; i < len && fe_digit(p[i]); i++)
			;
		if (i == d)
			return 0;
	}
	return i - s <= FE_MAX_NUM ? i : 0;
}

static bool fe_word(const uint8_t *p, size_t len, size_t i, const char *w)
{
	size_t n = strlen(w);
	return len - i >= n && memcmp(p + i, w, n) == 0;
}

/* A string, number, null, true or false at p[i]: the index after it, or 0. */
static size_t fe_scalar(const uint8_t *p, size_t len, size_t i)
{
	if (p[i] == '"')
		return fe_string(p, len, i);
	if (p[i] == '-' || fe_digit(p[i]))
		return fe_number(p, len, i);
	if (fe_word(p, len, i, "null") || fe_word(p, len, i, "true"))
		return i + 4;
	if (fe_word(p, len, i, "false"))
		return i + 5;
	return 0;
}

/* A value (a scalar, or arrays of them FE_MAX_DEPTH - 1 deep) at p[i]:
 * the index after it, or 0.  A loop and a depth count: no recursion. */
static size_t fe_value(const uint8_t *p, size_t len, size_t i)
{
	int depth = 0;
	bool want = true; /* a value (or the end of an empty array) comes next */

	for (;;) {
		if ((i = fe_ws(p, len, i)) >= len)
			return 0;
		if (want && p[i] == '[') {
			if (++depth >= FE_MAX_DEPTH)
				return 0;
			i = fe_ws(p, len, i + 1);
			if (i < len && p[i] == ']') {
				i++;
				want = false;
				if (--depth == 0)
					return i;
			}
			continue;
		}
		if (want) {
			if (!(i = fe_scalar(p, len, i)))
				return 0;
			if (depth == 0)
				return i;
			want = false;
		} else if (p[i] == ',') {
			i++;
			want = true;
		} else if (p[i] == ']') {
			i++;
			if (--depth == 0)
				return i;
		} else {
			return 0;
		}
	}
}

static int fe_key_of(const uint8_t *k, size_t n)
{
	for (int i = 0; i < FE_NKEYS; i++)
		if (fe_names[i][0] == k[0] && strlen(fe_names[i]) == n && memcmp(fe_names[i], k, n) == 0)
			return i;
	return -1;
}

/* Is p[0..len) one JSON object, '{' first and '}' last, within the bounds
 * above?  The offsets of the keys read into d (a key read twice: not). */
static bool fe_parse(const uint8_t *p, size_t len, struct fe_doc *d)
{
	size_t i;

	memset(d, 0, sizeof(*d));
	if (len < 2 || len > FE_MAX_LEN || p[0] != '{' || p[len - 1] != '}')
		return false;
	i = fe_ws(p, len, 1);
	if (p[i] == '}')
		return i + 1 == len;
	for (;;) {
		if (i >= len || p[i] != '"')
			return false;
		size_t e = fe_string(p, len, i);
		if (!e)
			return false;
		int key = fe_key_of(p + i + 1, e - i - 2);
		i = fe_ws(p, len, e);
		if (i >= len || p[i] != ':')
			return false;
		i = fe_ws(p, len, i + 1);
		if (key >= 0) {
			if (d->at[key])
				return false;
			d->at[key] = (uint16_t)(i + 1);
		}
		if (i >= len || !(i = fe_value(p, len, i)))
			return false;
		i = fe_ws(p, len, i);
		if (i < len && p[i] == '}')
			return i + 1 == len;
		if (i >= len || p[i] != ',')
			return false;
		i = fe_ws(p, len, i + 1);
	}
}

/* An integer (at most FE_MAX_DIGITS digits, no fraction) or null at p[*i]
 * into *v (null: FE_NULL); *i moved past it. */
static bool fe_int(const uint8_t *p, size_t len, size_t *i, int64_t *v)
{
	size_t k = *i;
	int64_t x = 0;
	unsigned nd = 0;
	bool neg = k < len && p[k] == '-';

	if (fe_word(p, len, k, "null")) {
		*v = FE_NULL;
		*i = k + 4;
		return true;
	}
	for (k += neg; k < len && fe_digit(p[k]); k++) {
		if (++nd > FE_MAX_DIGITS)
			return false;
		x = x * 10 + (p[k] - '0');
	}
	if (!nd || (k < len && (p[k] == '.' || p[k] == 'e' || p[k] == 'E')) || x > INT32_MAX)
		return false;
	*v = neg ? -x : x;
	*i = k;
	return true;
}

/* The integer value of key k: false when absent, null or not an integer. */
static bool fe_get(const uint8_t *p, size_t len, const struct fe_doc *d, int k, int64_t *v)
{
	size_t i = d->at[k];
	return i && fe_int(p, len, &(size_t){ i - 1 }, v) && *v != FE_NULL;
}

/* The elements of the array at p[i] ('['), integers or null, into
 * out[0..*n) (at most max).  BMS_OK, or BMS_E_RANGE. */
static int fe_ints(const uint8_t *p, size_t len, size_t i, int64_t *out, unsigned max, unsigned *n)
{
	*n = 0;
	if (i >= len || p[i] != '[')
		return BMS_E_RANGE;
	i = fe_ws(p, len, i + 1);
	if (i < len && p[i] == ']')
		return BMS_OK;
	for (;;) {
		if (*n >= max || !fe_int(p, len, &i, &out[*n]))
			return BMS_E_RANGE;
		(*n)++;
		i = fe_ws(p, len, i);
		if (i < len && p[i] == ']')
			return BMS_OK;
		if (i >= len || p[i] != ',')
			return BMS_E_RANGE;
		i = fe_ws(p, len, i + 1);
	}
}

/* Row `row` of key k's array of arrays into out[0..*n).  BMS_E_SHORT when
 * the key is absent, BMS_E_RANGE when it has no such row or the row is not
 * integers. */
static int fe_row(const uint8_t *p, size_t len, const struct fe_doc *d, int k, unsigned row, int64_t *out,
		  unsigned max, unsigned *n)
{
	size_t i = d->at[k];
	if (!i--)
		return BMS_E_SHORT;
	if (p[i] != '[')
		return BMS_E_RANGE;
	i = fe_ws(p, len, i + 1);
	for (unsigned r = 0;; r++) {
		if (i >= len || p[i] != '[')
			return BMS_E_RANGE;
		if (r == row)
			return fe_ints(p, len, i, out, max, n);
		if (!(i = fe_value(p, len, i)))
			return BMS_E_RANGE;
		i = fe_ws(p, len, i);
		if (i >= len || p[i] != ',')
			return BMS_E_RANGE;
		i = fe_ws(p, len, i + 1);
	}
}

/* The pack's voltage and current (BattList, index 0: this pack; 65535 in
 * the voltage's slot is a slot without a value, -1 in the current's is
 * -0.1 A: FELICITY-01 has -1 in Batt too), SOC and capacity
 * (BatsocList). */
static int fe_pack(const uint8_t *p, size_t len, const struct fe_doc *d, struct bms_snapshot *s)
{
	int64_t v[FE_MAX_SLOTS];
	unsigned n;
	int rc;

	if ((rc = fe_row(p, len, d, FE_K_BATTLIST, 0, v, FE_MAX_SLOTS, &n)) != BMS_OK)
		return rc;
	if (n < 1 || v[0] < 0 || v[0] > FE_MAX_MV || v[0] == FE_NO_SLOT)
		return BMS_E_RANGE;
	s->voltage = (float)v[0] / 1000.0f;
	s->present |= BMS_HAS_VOLTAGE;
	if ((rc = fe_row(p, len, d, FE_K_BATTLIST, 1, v, FE_MAX_SLOTS, &n)) != BMS_OK)
		return rc;
	if (n >= 1 && v[0] != FE_NULL) {
		if (v[0] < -FE_MAX_DA || v[0] > FE_MAX_DA)
			return BMS_E_RANGE;
		s->current = (float)v[0] / 10.0f;
		s->present |= BMS_HAS_CURRENT;
	}
	if ((rc = fe_row(p, len, d, FE_K_SOC, 0, v, 3, &n)) != BMS_OK)
		return rc;
	if (n < 1 || v[0] < 0 || v[0] > 10000)
		return BMS_E_RANGE;
	s->soc = (float)v[0] / 100.0f;
	s->present |= BMS_HAS_SOC;
	if (n >= 3 && v[2] != FE_NULL) {
		if (v[2] <= 0 || v[2] > FE_MAX_MAH)
			return BMS_E_RANGE;
		s->full_ah = (float)v[2] / 1000.0f;
		s->remain_ah = (float)((double)v[0] * (double)v[2] / 1e7);
		s->present |= BMS_HAS_FULL | BMS_HAS_REMAIN;
	}
	return BMS_OK;
}

/* Cells (BatcelList row 0) and temperatures (BtemList row 0). */
static int fe_cells(const struct bms_poll *poll, const uint8_t *p, size_t len, const struct fe_doc *d,
		    struct bms_snapshot *s)
{
	int64_t v[BMS_LV_MAX_CELLS];
	unsigned n, last = 0;
	int rc;

	if ((rc = fe_row(p, len, d, FE_K_CELLS, 0, v, BMS_LV_MAX_CELLS, &n)) != BMS_OK)
		return rc;
	for (unsigned i = 0; i < n; i++) {
		if (v[i] == FE_NULL || v[i] == FE_NO_CELL)
			v[i] = 0;
		if (v[i] < 0 || v[i] > BMS_PLAUSIBLE_MAX_CELL_MV)
			return BMS_E_RANGE;
		s->cell_mv[i] = (uint16_t)v[i];
		if (v[i])
			last = i + 1;
	}
	if (poll->cells_forced)
		last = poll->cells_forced < n ? poll->cells_forced : n;
	for (unsigned i = last; i < BMS_LV_MAX_CELLS; i++)
		s->cell_mv[i] = 0;
	s->ncells = (uint8_t)last;
	s->present |= BMS_HAS_CELLS;
	if (!d->at[FE_K_TEMPS])
		return BMS_OK;
	int64_t t[FE_MAX_TEMPS];
	if ((rc = fe_row(p, len, d, FE_K_TEMPS, 0, t, FE_MAX_TEMPS, &n)) != BMS_OK)
		return rc;
	/* 32767 and null: no sensor, left out; one beyond -50..150 degC is
	 * kept as read, for the gateway to serve absent and flag a sensor
	 * fault (bms_sensor_faults) */
	for (unsigned i = 0; i < n && s->ntemps < BMS_MAX_TEMPS; i++)
		if (t[i] != FE_NULL && t[i] != FE_NO_TEMP)
			s->temp_c[s->ntemps++] = (float)t[i] / 10.0f;
	if (s->ntemps)
		s->present |= BMS_HAS_TEMPS;
	return BMS_OK;
}

/* RT: the pack, the cells, the fault and warning words. */
static int fe_rt(struct bms_poll *poll, const uint8_t *p, size_t len, const struct fe_doc *d)
{
	struct bms_snapshot s;
	int64_t f = 0, w = 0;
	int rc;

	memset(&s, 0, sizeof(s));
	if ((rc = fe_pack(p, len, d, &s)) != BMS_OK || (rc = fe_cells(poll, p, len, d, &s)) != BMS_OK)
		return rc;
	if (poll->invert_current)
		s.current = -s.current;
	bool hf = fe_get(p, len, d, FE_K_FAULT, &f), hw = fe_get(p, len, d, FE_K_WARN, &w);
	if (f < 0 || f > 0xFFFF || w < 0 || w > 0xFFFF)
		return BMS_E_RANGE;
	if (hf || hw) {
		s.raw_alarms[0] = (uint16_t)f;
		s.raw_alarms[1] = (uint16_t)w;
		s.nraw = 2;
		s.alarms = f || w ? BMS_AL_OTHER : 0;
		s.present |= BMS_HAS_ALARMS;
	}
	s.state = s.current > 0 ? 1 : s.current < 0 ? 2 : 0;
	poll->snap = s;
	return BMS_OK;
}

/* The string value of key k into dst (printable, trimmed); false if it is
 * absent or no string. */
static bool fe_text(const uint8_t *p, size_t len, const struct fe_doc *d, int k, char *dst, size_t cap)
{
	size_t i = d->at[k], e;
	if (!i-- || p[i] != '"' || !(e = fe_string(p, len, i)))
		return false;
	bms_ident_text(dst, cap, p + i + 1, e - i - 2);
	return true;
}

/* BASIC: firmware M1SwVer (and the module's version), Type / SubType,
 * DevSN. */
static int fe_basic(struct bms_poll *poll, const uint8_t *p, size_t len, const struct fe_doc *d)
{
	struct bms_ident *id = &poll->kept.ident;
	char ver[16] = "";
	int64_t fw, ty, sub;

	memset(id, 0, sizeof(*id));
	snprintf(id->vendor, sizeof(id->vendor), "Felicity Solar");
	(void)fe_text(p, len, d, FE_K_VERSION, ver, sizeof(ver));
	if (fe_get(p, len, d, FE_K_M1SW, &fw) && fw >= 0 && fw <= 0xFFFF)
		snprintf(id->firmware, sizeof(id->firmware), "%u%s%s%s", (unsigned)fw, ver[0] ? " (module " : "",
			 ver, ver[0] ? ")" : "");
	else
		snprintf(id->firmware, sizeof(id->firmware), "%s", ver);
	if (fe_get(p, len, d, FE_K_TYPE, &ty) && ty >= 0 && ty <= 0xFFFF) {
		if (fe_get(p, len, d, FE_K_SUBTYPE, &sub) && sub >= 0 && sub <= 0xFFFF)
			snprintf(id->model, sizeof(id->model), "type %u/%u", (unsigned)ty, (unsigned)sub);
		else
			snprintf(id->model, sizeof(id->model), "type %u", (unsigned)ty);
	}
	(void)fe_text(p, len, d, FE_K_DEVSN, id->serial, sizeof(id->serial));
	poll->kept.ident_state = BMS_IDENT_HAVE;
	return BMS_OK;
}

/* The step whose request is outstanding. */
static int fe_current(const struct bms_poll *poll)
{
	if (poll->step == FE_BASIC && !bms_ident_due(poll))
		return FE_DONE;
	return poll->step <= FE_BASIC ? poll->step : FE_DONE;
}

static int fe_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	static const char rt[] = "wifilocalMonitor:get dev real infor";
	static const char basic[] = "wifilocalMonitor:get dev basice infor";
	int i = fe_current(poll);
	const char *q = i == FE_RT ? rt : i == FE_BASIC ? basic : NULL;
	return q ? bms_request_copy(out, cap, q, strlen(q)) : 0;
}

/* The extent of the object at buf[0] ('{'): the structure alone (strings,
 * brackets).  FRAME when it parses, BADSUM when it ends broken; a '{'
 * inside it (an answer starts again after a lost notification: no object
 * nests in these answers) ends it as SKIP up to that '{'. */
static enum bms_scan fe_extent(const uint8_t *buf, size_t len, size_t *n)
{
	int depth = 1;
	bool str = false, esc = false;
	struct fe_doc d;

	/* while an answer arrives (a scan after every notification): no
	 * brace after the first yet, nothing to decide */
	if (len < FE_MAX_LEN && !memchr(buf + 1, '}', len - 1) && !memchr(buf + 1, '{', len - 1))
		return BMS_SCAN_NEED;
	for (size_t i = 1; i < len; i++) {
		uint8_t c = buf[i];
		if (i >= FE_MAX_LEN) {
			*n = 1;
			return BMS_SCAN_SKIP;
		}
		if (c == '{') {
			*n = i;
			return BMS_SCAN_SKIP;
		}
		if (str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				str = false;
			continue;
		}
		if (c == '"')
			str = true;
		else if (c == '[' || c == ']')
			depth += c == '[' ? 1 : -1;
		else if (c != '}')
			continue;
		if (depth < 1 || depth > FE_MAX_DEPTH || (c == '}' && depth != 1)) {
			*n = i + 1;
			return BMS_SCAN_BADSUM;
		}
		if (c == '}') {
			*n = i + 1;
			return fe_parse(buf, i + 1, &d) ? BMS_SCAN_FRAME : BMS_SCAN_BADSUM;
		}
	}
	return len >= FE_MAX_LEN ? (*n = 1, BMS_SCAN_SKIP) : BMS_SCAN_NEED;
}

/* An answer is a JSON object; whatever comes before a '{' is skipped. */
static enum bms_scan fe_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	enum bms_scan r;
	if (!bms_scan_start(buf, len, '{', &r, n))
		return r;
	return fe_extent(buf, len, n);
}

/* An RT answer: one with its real-time keys, the bank's or the pack's
 * (one without BattList is an RT answer refused, not another answer). */
static bool fe_is_rt(const struct fe_doc *d)
{
	return d->at[FE_K_BATTLIST] || d->at[FE_K_BATT] || d->at[FE_K_CELLS];
}

static int fe_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	struct fe_doc d;
	int64_t ver;
	int i = fe_current(poll), rc;

	if (len < 2 || frame[0] != '{')
		return BMS_E_HEADER;
	if (!fe_parse(frame, len, &d))
		return BMS_E_CHECKSUM;
	if (!fe_get(frame, len, &d, FE_K_COMMVER, &ver) || ver != 1)
		return BMS_E_HEADER; /* another protocol version */
	if (i == FE_RT && fe_is_rt(&d)) {
		if ((rc = fe_rt(poll, frame, len, &d)) == BMS_OK)
			poll->step = FE_BASIC;
		return rc;
	}
	if (i == FE_BASIC && !fe_is_rt(&d) && (d.at[FE_K_M1SW] || d.at[FE_K_VERSION])) {
		if ((rc = fe_basic(poll, frame, len, &d)) == BMS_OK)
			poll->step = FE_DONE;
		return rc;
	}
	return BMS_E_UNEXPECTED; /* not the answer outstanding ("get Date"'s, a late one) */
}

/* The identity not answered: the poll goes on without it. */
static bool fe_timeout(struct bms_poll *poll)
{
	if (fe_current(poll) != FE_BASIC)
		return false;
	bms_ident_missing(poll, false);
	poll->step = FE_DONE;
	return true;
}

static int fe_finish(struct bms_poll *poll)
{
	if (fe_current(poll) != FE_DONE)
		return BMS_E_INVALID;
	return bms_check_pack(&poll->snap, false);
}

/* aiobmsble's felicity_bms (uuid_services, uuid_tx, uuid_rx). */
static const struct bms_gatt fe_gatt[] = {
	{ .service = "6e6f736a-4643-4d44-8fa9-0fafd005e455", .notify = "49535458-8341-43f4-a9d4-ec0e34729bb3",
	  .write = "49535258-184d-4bd9-bc61-20c647249616" },
	BMS_GATT_END,
};

/* The module's names are its Wi-Fi serial: "F07" or "F10", then digits
 * (F100011002424470238): aiobmsble matches F07* and F10*; the digits make
 * it narrower. */
static bool fe_ble_name(const char *n)
{
	size_t k = strlen(n);
	if (k < 10 || n[0] != 'F' || (strncmp(n + 1, "07", 2) != 0 && strncmp(n + 1, "10", 2) != 0))
		return false;
	for (size_t i = 3; i < k; i++)
		if (!fe_digit((uint8_t)n[i]))
			return false;
	return true;
}

static const struct bms_ble_hint fe_ble_hints[] = {
	{1, BMS_BLE_NAME, NULL, fe_ble_name, 0, false, "name F07... / F10... and digits (Felicity Solar)"},
	{0},
};

static const struct bms_ble fe_ble = {
	.only = true,
	.gatt = fe_gatt,
	.hints = fe_ble_hints,
};

const struct bms_driver bms_felicity_driver = {
	.name = "felicity",
	.description = "Felicity Solar battery over Bluetooth LE (JSON answers to wifilocalMonitor requests)",
	.vendor = "Felicity Solar",
	.protocol_id = 29,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_REMAIN |
		BMS_HAS_FULL | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_ALARMS,
	BMS_BLE_ONLY,
	.interbyte = 0.3,
	/* an RT answer is 23 notifications of 35 bytes */
	.default_timeout = 3.0,
	.next_request = fe_next_request,
	.scan = fe_scan,
	.handle = fe_handle,
	.timeout = fe_timeout,
	.finish = fe_finish,
	.ble = &fe_ble,
};
