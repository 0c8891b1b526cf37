/* SPDX-License-Identifier: MIT */
/* bms/smartbms123.c - 123\SmartBMS generation 3 (123electric) over
 * Bluetooth LE: ASCII lines on the Nordic UART service, asked for by a `$`
 * ping, after its PIN and its stream's start.
 *
 * bms/PROTOCOLS.md §73.  Lines end in CR, fields are `_`-separated hex:
 *	U_<V>_<?>_<I>_<?>	V 0.005 V, I signed (+/-) 0.05 A, + charging
 *	C_<n>_<count>_<V>_<T>_...	cell n (1-based) of count: 0.005 V, T - 276 degC
 *	E_<?>_<?>_<?>_<SOC>	SOC %
 *	H_<SOH>_...		SOH %
 *	OK / NA / WRONG / KO	the answers to a command
 * A field X... is not available (0).  Once a connection (and again when
 * the lines stop): a ping `$`, `PW<pin>!` CR (with a pin: OK, else its
 * refusal, auth failed), a ping, `E!` CR (OK starts the lines; NA: not
 * authorised, auth failed).  Then each step writes a ping and takes one
 * line; a poll is whole once U, E and every cell's C came (H where it
 * comes).  The module answers only while pinged (aiobmsble pings every
 * 330 ms): here a ping goes after every line, and again at each try.
 * Lines that come between the steps are kept (keep_rx).
 *
 * Progress: step (SM_*; SM_DATA + k: the k-th line of the poll); persist
 * SM_P_STREAMING (E! was taken on this connection).
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"

#define SM_LINE_MAX 120
#define SM_FIELDS 8
#define SM_MAX_CELLS 32
#define SM_T0 276
#define SM_P_STREAMING 0x1u

enum { SM_BEGIN = 0, SM_PING0, SM_PW, SM_PING1, SM_EN, SM_DATA };
#define SM_MAX_LINES (3 * SM_MAX_CELLS + 12) /* lines a poll takes at most */

struct sm_state {
	uint32_t cells;   /* bit n: cell n + 1's line came */
	uint8_t ncells;   /* the count of the C lines */
	bool u, e, h;     /* those lines came */
};

static const struct bms_ble_pin sm_pin;

static int sm_step(const struct bms_poll *poll)
{
	if (poll->step != SM_BEGIN)
		return poll->step;
	return poll->link_fresh || !(poll->persist & SM_P_STREAMING) ? SM_PING0 : SM_DATA;
}

static bool sm_complete(const struct bms_poll *poll)
{
	const struct sm_state *st = BMS_PRIV(poll, struct sm_state);
	uint32_t all = st->ncells == 32 ? 0xFFFFFFFFu : (1u << st->ncells) - 1u;
	return st->u && st->e && st->ncells && st->cells == all;
}

static int sm_text(uint8_t *out, size_t cap, const char *a, const char *b)
{
	size_t na = strlen(a), nb = b ? strlen(b) : 0;
	if (cap < na + nb + 2)
		return BMS_E_NOSPACE;
	memcpy(out, a, na);
	if (b)
		memcpy(out + na, b, nb);
	out[na + nb] = '!';
	out[na + nb + 1] = '\r';
	return (int)(na + nb + 2);
}

static int sm_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	int step = sm_step(poll);
	if (step >= SM_DATA && sm_complete(poll))
		return 0;
	if (step >= SM_DATA && !(poll->persist & SM_P_STREAMING))
		step = SM_PING0; /* the lines stopped (a try unanswered): start them again */
	if (step < SM_PING0 || step >= SM_DATA + SM_MAX_LINES)
		return step >= SM_DATA ? 0 : BMS_E_RANGE;
	poll->step = step;
	switch (step) {
	case SM_PW:
		poll->auth = BMS_AUTH_SENT;
		poll->secret_req = true;
		return sm_text(out, cap, "PW", poll->pin);
	case SM_EN:
		return sm_text(out, cap, "E", NULL);
	default: /* the pings, and every line's */
		return bms_request_copy(out, cap, "$", 1);
	}
}

/* A ping is answered by nothing of its own: the handshake's step ends when
 * it is written (a line's ping is answered by the line). */
static bool sm_sent(struct bms_poll *poll)
{
	if (poll->step == SM_PING0) {
		/* no PIN: none sent (aiobmsble sends it with a secret only) */
		poll->step = poll->pin[0] ? SM_PW : SM_EN;
		return true;
	}
	if (poll->step == SM_PING1) {
		poll->step = SM_EN;
		return true;
	}
	return false;
}

/* ---- the framer ---------------------------------------------------------- */

/* A line: printable ASCII up to CR (at most SM_LINE_MAX); a byte that
 * starts none (a control byte, LF) is skipped, a line without its CR within
 * SM_LINE_MAX is damage (one byte dropped). */
static enum bms_scan sm_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	if (len == 0)
		return BMS_SCAN_NEED;
	if (buf[0] < 0x20 || buf[0] > 0x7E) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	for (size_t i = 1; i < len && i <= SM_LINE_MAX; i++) {
		if (buf[i] == '\r')
			return bms_scan_tail(true, true, i + 1, n);
		if (buf[i] < 0x20 || buf[i] > 0x7E)
			return bms_scan_tail(false, true, 1, n);
	}
	if (len > SM_LINE_MAX)
		return bms_scan_tail(false, true, 1, n);
	return BMS_SCAN_NEED;
}

/* ---- the decoder --------------------------------------------------------- */

/* A line's fields (at most SM_FIELDS), the CR dropped: their count. */
static int sm_split(const uint8_t *line, size_t len, const uint8_t **f, size_t *fl)
{
	int k = 0;
	size_t start = 0;
	for (size_t i = 0; i <= len && k < SM_FIELDS; i++) {
		if (i == len || line[i] == '_') {
			f[k] = line + start;
			fl[k++] = i - start;
			start = i + 1;
		}
	}
	return k;
}

/* A field's value: hex digits (1..8), X... for none (0), an optional sign
 * where signed; false when it is no such field. */
static bool sm_hex(const uint8_t *p, size_t n, bool sign, int64_t *v)
{
	int64_t s = 1;
	if (sign && n && (p[0] == '+' || p[0] == '-')) {
		s = p[0] == '-' ? -1 : 1;
		p++;
		n--;
	}
	if (n && (p[0] == 'X' || p[0] == 'x')) {
		*v = 0;
		return true;
	}
	uint32_t u;
	if (n == 0 || n > 8 || !bms_hexn(p, n, &u))
		return false;
	*v = s * (int64_t)u;
	return true;
}

static int sm_cell(struct bms_poll *poll, const uint8_t **f, const size_t *fl)
{
	struct sm_state *st = BMS_PRIV(poll, struct sm_state);
	int64_t idx, cnt, cv, t;
	if (!sm_hex(f[1], fl[1], false, &idx) || !sm_hex(f[2], fl[2], false, &cnt) || !sm_hex(f[3], fl[3], false, &cv) ||
	    !sm_hex(f[4], fl[4], false, &t))
		return BMS_E_HEADER;
	if (cnt < 1 || cnt > SM_MAX_CELLS || idx < 1 || idx > cnt || (st->ncells && cnt != st->ncells) ||
	    cv == 0 || cv * 5 > 65535)
		return BMS_E_RANGE;
	st->ncells = (uint8_t)cnt;
	poll->snap.cell_mv[idx - 1] = (uint16_t)(cv * 5);
	if (idx <= BMS_MAX_TEMPS)
		poll->snap.temp_c[idx - 1] = (float)(t - SM_T0);
	st->cells |= 1u << (idx - 1);
	return BMS_OK;
}

/* One data line into the snapshot (§73.2). */
static int sm_data(struct bms_poll *poll, const uint8_t **f, const size_t *fl, int nf)
{
	struct sm_state *st = BMS_PRIV(poll, struct sm_state);
	struct bms_snapshot *s = &poll->snap;
	int64_t a, b;
	switch (f[0][0]) {
	case 'U':
		if (nf < 5 || !sm_hex(f[1], fl[1], false, &a) || !sm_hex(f[3], fl[3], true, &b))
			return BMS_E_HEADER;
		if (a == 0)
			return BMS_E_RANGE;
		s->voltage = (float)a * 0.005f;
		s->current = (float)b * 0.05f;
		s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT;
		st->u = true;
		return BMS_OK;
	case 'C':
		return nf < 5 ? BMS_E_HEADER : sm_cell(poll, f, fl);
	case 'E':
		if (nf < 5 || !sm_hex(f[4], fl[4], false, &a))
			return BMS_E_HEADER;
		if (a > 100)
			return BMS_E_RANGE;
		s->soc = (float)a;
		s->present |= BMS_HAS_SOC;
		st->e = true;
		return BMS_OK;
	case 'H':
		if (nf < 2 || !sm_hex(f[1], fl[1], false, &a))
			return BMS_E_HEADER;
		if (a > 100)
			return BMS_E_RANGE;
		s->soh = (float)a;
		s->present |= BMS_HAS_SOH;
		st->h = true;
		return BMS_OK;
	default:
		return BMS_OK; /* another line of the stream: not decoded, its ping answered */
	}
}

/* The answer to a command: OK moves on; NA, WRONG, KO refuse (the PIN, or
 * the stream without one). */
static int sm_reply(struct bms_poll *poll, bool ok)
{
	if (poll->step != SM_PW && poll->step != SM_EN)
		return BMS_E_UNEXPECTED; /* a late one */
	if (!ok) {
		poll->persist &= ~SM_P_STREAMING;
		return BMS_E_AUTH;
	}
	if (poll->step == SM_PW) {
		poll->auth = BMS_AUTH_OK;
		poll->step = SM_PING1;
	} else {
		poll->persist |= SM_P_STREAMING;
		poll->step = SM_DATA;
	}
	return BMS_OK;
}

static int sm_handle(struct bms_poll *poll, const uint8_t *line, size_t len)
{
	if (len < 2 || line[len - 1] != '\r')
		return BMS_E_SHORT;
	len--;
	for (size_t i = 0; i < len; i++)
		if (line[i] < 0x20 || line[i] > 0x7E)
			return BMS_E_HEADER;
	static const char *const replies[] = { "OK", "NA", "WRONG", "KO" };
	for (size_t k = 0; k < 4; k++)
		if (len == strlen(replies[k]) && memcmp(line, replies[k], len) == 0)
			return sm_reply(poll, k == 0);
	const uint8_t *f[SM_FIELDS];
	size_t fl[SM_FIELDS];
	int nf = sm_split(line, len, f, fl);
	if (nf < 2 || fl[0] != 1 || f[0][0] < 'A' || f[0][0] > 'Z')
		return BMS_E_UNEXPECTED; /* no line of the stream */
	if (poll->step < SM_DATA)
		return BMS_E_UNEXPECTED; /* the stream before its start (an earlier connection's) */
	int rc = sm_data(poll, f, fl, nf);
	if (rc == BMS_OK)
		poll->step++;
	return rc;
}

/* A line's ping unanswered: the stream may have stopped: the next try
 * starts it again. */
static bool sm_timeout(struct bms_poll *poll)
{
	if (poll->step >= SM_DATA)
		poll->persist &= ~SM_P_STREAMING;
	return false;
}

static int sm_finish(struct bms_poll *poll)
{
	const struct sm_state *st = BMS_PRIV(poll, struct sm_state);
	if (!sm_complete(poll))
		return BMS_E_INVALID;
	poll->snap.ncells = st->ncells;
	poll->snap.ntemps = (uint8_t)(st->ncells < BMS_MAX_TEMPS ? st->ncells : BMS_MAX_TEMPS);
	poll->snap.present |= BMS_HAS_CELLS | BMS_HAS_TEMPS;
	return bms_check_pack(&poll->snap, false);
}

static const struct bms_gatt sm_gatt[] = {
	BMS_GATT_NUS,
	BMS_GATT_END,
};

/* --ble-scan: its name 123\SmartBMS with the Nordic UART service
 * (aiobmsble's x123smart_bms; its smartbms_bms, the 58-byte frame, takes
 * the name too: such a module is smartbms58's, set by hand). */
static const struct bms_ble_hint sm_ble_hints[] = {
	{1, BMS_BLE_NAME, "123\\SmartBMS", NULL, 0, false, "name 123\\SmartBMS (123\\SmartBMS gen 3)"},
	{0},
};

/* Its PIN, four digits (aiobmsble's x123smart_bms); none is sent without one. */
static const struct bms_ble_pin sm_pin = {
	.name = "PIN",
	.min_len = 4,
	.max_len = 4,
	.digits = true,
};

static const struct bms_ble sm_ble = {
	.only = true,
	.gatt = sm_gatt,
	.hints = sm_ble_hints,
	.pin = &sm_pin,
};

const struct bms_driver bms_smartbms123_driver = {
	.name = "smartbms123",
	.description = "123\\SmartBMS gen 3 over Bluetooth LE (ASCII lines pinged with $, its PIN and E!)",
	.vendor = "123electric",
	.protocol_id = 63,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_CELLS |
		BMS_HAS_TEMPS,
	BMS_BLE_ONLY,
	.interbyte = 0.3,
	.default_timeout = 4.0, /* aiobmsble waits 4 s for a command's answer */
	.next_request = sm_next_request,
	.scan = sm_scan,
	.handle = sm_handle,
	.timeout = sm_timeout,
	.finish = sm_finish,
	.sent = sm_sent,
	.keep_rx = true,
	.ble = &sm_ble,
};
