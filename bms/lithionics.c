/* SPDX-License-Identifier: MIT */
/* bms/lithionics.c - Lithionics NeverDie / Li3 batteries over Bluetooth
 * LE: the BMS's serial stream, comma-delimited ASCII lines, listened to.
 *
 * See bms/PROTOCOLS.md §59.  Bluetooth LE only: service FFE0, the BMS
 * notifies its stream on FFE1 by itself; nothing is ever written (listen
 * only).  Lines end in CR LF; two of them make a sample:
 *	the primary line, ten fields:
 *	  V x0.01, cell 1..4 x0.01 V, temperature 1 and 2 degF, current A
 *	  (signed, - = discharging), SOC %, status code (6 hex digits)
 *	the status line, from "&,": field 2 the remaining Ah (the others
 *	  not published)
 * "ERROR" (the answer to a command) and any other line are skipped.  The
 * status code's bits are not published (one of them is normal operation,
 * §59.3): served as the raw alarm words, no alarm raised from them.  The
 * fixed-length variant of the stream ("Serial Data Format" 2: another field
 * order, its first field a battery id) is not read: refused (BMS_E_HEADER).
 * No checksum exists: a line is taken by its grammar.
 *
 * Progress: step (enum below), seen (bit 0 the primary line, bit 1 the
 * status line of this poll).
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"

#define LT_MAX 80     /* the longest line taken, CR LF included */
#define LT_PRIMARY 10 /* fields of the primary line */
#define LT_STATUS 3   /* fields of a status line at least: "&", ?, remaining Ah */
#define LT_FIELDS 12  /* fields looked at at most */
#define LT_CELLS 4
#define LT_SEEN_PRIMARY 1u
#define LT_SEEN_STATUS 2u

enum { LT_WAIT, LT_DONE };

/* One line split at its commas: field i is line[at[i] .. at[i] + len[i]). */
struct lt_fields {
	unsigned n;
	uint8_t at[LT_FIELDS], len[LT_FIELDS];
};

/* The fields of line[0..n) (no CR LF); false for more than LT_FIELDS. */
static bool lt_split(const uint8_t *line, size_t n, struct lt_fields *f)
{
	f->n = 0;
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && line[i] != ',')
			continue;
		if (f->n == LT_FIELDS)
			return false;
		f->at[f->n] = (uint8_t)start;
		f->len[f->n] = (uint8_t)(i - start);
		f->n++;
		start = i + 1;
	}
	return true;
}

/* Field i as a decimal integer (an optional '-', 1..7 digits). */
static bool lt_int(const uint8_t *line, const struct lt_fields *f, unsigned i, long *v)
{
	const uint8_t *p = line + f->at[i];
	size_t n = f->len[i], k = 0;
	bool neg = n > 0 && p[0] == '-';
	k = neg ? 1 : 0;
	if (n <= k || n - k > 7)
		return false;
	long x = 0;
	for (; k < n; k++) {
		if (p[k] < '0' || p[k] > '9')
			return false;
		x = x * 10 + (p[k] - '0');
	}
	*v = neg ? -x : x;
	return true;
}

/* The fixed-length variant's field widths (aiobmsble PR 271): not read. */
static bool lt_fixed_variant(const struct lt_fields *f)
{
	static const uint8_t w[LT_PRIMARY] = { 1, 5, 4, 3, 3, 1, 5, 6, 3, 6 };
	for (unsigned i = 0; i < LT_PRIMARY; i++)
		if (f->len[i] != w[i])
			return false;
	return true;
}

/* Is line[0..n) a primary line: ten fields, nine integers and the status
 * code of 1..8 hex digits? */
static bool lt_primary_ok(const uint8_t *line, size_t n, struct lt_fields *f)
{
	long v;
	uint32_t x;
	if (!lt_split(line, n, f) || f->n != LT_PRIMARY)
		return false;
	for (unsigned i = 0; i < LT_PRIMARY - 1; i++)
		if (!lt_int(line, f, i, &v))
			return false;
	unsigned k = LT_PRIMARY - 1;
	return f->len[k] >= 1 && f->len[k] <= 8 && bms_hexn(line + f->at[k], f->len[k], &x);
}

/* Is line[0..n) a status line: "&," and at least two more fields, the
 * remaining Ah an integer? */
static bool lt_status_ok(const uint8_t *line, size_t n, struct lt_fields *f)
{
	long v;
	return n >= 2 && line[0] == '&' && line[1] == ',' && lt_split(line, n, f) && f->n >= LT_STATUS &&
	       f->len[0] == 1 && lt_int(line, f, 2, &v);
}

/* ---- the framer ---------------------------------------------------------- */

/* A line up to CR LF.  A primary or a status line is a frame; an empty
 * line, "ERROR", any other line (a line cut at the stream's start, an
 * unknown one) is skipped whole, as is a line that starts like one of
 * ours but is not one.  A line with a byte that is no printable ASCII is
 * a damaged line (BADSUM, whole: the next line starts after its CR LF).
 * No CR LF within LT_MAX bytes: skipped up to its next CR (or all). */
static enum bms_scan lt_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	struct lt_fields f;
	(void)poll;
	if (len == 0)
		return BMS_SCAN_NEED;
	size_t i = 0;
	bool bad = false;
	for (; i + 1 < len && i + 2 <= LT_MAX; i++) {
		if (buf[i] == '\r' && buf[i + 1] == '\n')
			break;
		bad = bad || buf[i] < 0x20 || buf[i] > 0x7E;
	}
	if (i + 2 > LT_MAX || i + 1 >= len || buf[i] != '\r' || buf[i + 1] != '\n') {
		if (len < LT_MAX)
			return BMS_SCAN_NEED;
		size_t k = 1;
		while (k < len && buf[k] != '\r')
			k++;
		*n = k;
		return BMS_SCAN_SKIP;
	}
	*n = i + 2;
	if (bad)
		return BMS_SCAN_BADSUM;
	if (lt_primary_ok(buf, i, &f) || lt_status_ok(buf, i, &f))
		return BMS_SCAN_FRAME;
	return BMS_SCAN_SKIP;
}

/* ---- the decoder --------------------------------------------------------- */

/* degF (an integer) in degC */
static float lt_deg_c(long f)
{
	return (float)(f - 32) * 5.0f / 9.0f;
}

/* The primary line's values into the snapshot. */
static int lt_primary(struct bms_poll *poll, const uint8_t *line, const struct lt_fields *f)
{
	struct bms_snapshot *s = &poll->snap;
	long v[LT_PRIMARY - 1];
	uint32_t code;
	if (lt_fixed_variant(f))
		return BMS_E_HEADER; /* the fixed-length variant: another field order */
	for (unsigned i = 0; i < LT_PRIMARY - 1; i++)
		(void)lt_int(line, f, i, &v[i]);
	(void)bms_hexn(line + f->at[9], f->len[9], &code);
	if (v[0] <= 0 || v[0] > 100000 || v[8] < 0 || v[8] > 100 || v[7] > 3000 || v[7] < -3000)
		return BMS_E_RANGE;
	for (unsigned i = 0; i < LT_CELLS; i++)
		if (v[1 + i] < 0 || v[1 + i] > 6553)
			return BMS_E_RANGE;
	s->voltage = (float)v[0] / 100.0f;
	unsigned nc = poll->cells_forced && poll->cells_forced < LT_CELLS ? poll->cells_forced : LT_CELLS;
	for (unsigned i = 0; i < LT_CELLS; i++)
		s->cell_mv[i] = i < nc ? (uint16_t)(v[1 + i] * 10) : 0;
	s->ncells = (uint8_t)nc;
	s->temp_c[0] = lt_deg_c(v[5]);
	s->temp_c[1] = lt_deg_c(v[6]);
	s->ntemps = 2;
	s->current = (float)v[7];
	if (poll->invert_current)
		s->current = -s->current;
	s->soc = (float)v[8];
	s->raw_alarms[0] = (uint16_t)(code & 0xFFFF);
	s->raw_alarms[1] = (uint16_t)(code >> 16);
	s->nraw = 2;
	s->alarms = 0; /* the bits' meaning is not published (§59.3) */
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_CURRENT | BMS_HAS_SOC |
		      BMS_HAS_ALARMS;
	return BMS_OK;
}

static int lt_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	struct lt_fields f;
	if (len < 4 || len > LT_MAX || frame[len - 2] != '\r' || frame[len - 1] != '\n')
		return BMS_E_SHORT;
	size_t n = len - 2;
	if (poll->step != LT_WAIT)
		return BMS_E_UNEXPECTED; /* the poll has its sample */
	if (lt_status_ok(frame, n, &f)) {
		long ah;
		(void)lt_int(frame, &f, 2, &ah);
		if (ah < 0 || ah > 100000)
			return BMS_E_RANGE;
		poll->snap.remain_ah = (float)ah;
		poll->snap.present |= BMS_HAS_REMAIN;
		poll->seen |= LT_SEEN_STATUS;
	} else if (lt_primary_ok(frame, n, &f)) {
		int rc = lt_primary(poll, frame, &f);
		if (rc < 0)
			return rc;
		poll->seen |= LT_SEEN_PRIMARY;
	} else {
		return BMS_E_HEADER;
	}
	if (poll->seen != (LT_SEEN_PRIMARY | LT_SEEN_STATUS))
		return BMS_MORE;
	poll->step = LT_DONE;
	return BMS_OK;
}

static int lt_finish(struct bms_poll *poll)
{
	return bms_finish_at(poll, LT_DONE);
}

/* FFE0 / FFE1 notify (aiobmsble lithionics_bms); nothing is written. */
static const struct bms_gatt lt_gatt[] = {
	{ .service = BMS_UUID16("ffe0"), .notify = BMS_UUID16("ffe1") },
	BMS_GATT_END,
};

/* "Li" + a digit + "-" (aiobmsble's pattern Li[0-9]-*: "Li3-061322094") */
static bool lt_name_ok(const char *n)
{
	return n[0] == 'L' && n[1] == 'i' && n[2] >= '0' && n[2] <= '9' && n[3] == '-';
}

static const struct bms_ble_hint lt_ble_hints[] = {
	{1, BMS_BLE_NAME, NULL, lt_name_ok, 0, false, "name Li<digit>-<serial> (Lithionics NeverDie / Li3)"},
	{0},
};

static const struct bms_ble lt_ble = {
	.only = true,
	.gatt = lt_gatt,
	.hints = lt_ble_hints,
};

const struct bms_driver bms_lithionics_driver = {
	.name = "lithionics",
	.description = "Lithionics NeverDie / Li3 over Bluetooth LE (its ASCII stream on FFE1, listened to)",
	.vendor = "Lithionics",
	.protocol_id = 50,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_REMAIN |
		BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_ALARMS,
	BMS_BLE_ONLY,
	.interbyte = 0.5,
	/* the stream's rate is not published: a few seconds for both lines */
	.default_timeout = 5.0,
	.listen_only = true,
	.scan = lt_scan,
	.handle = lt_handle,
	.finish = lt_finish,
	.ble = &lt_ble,
};
