/* SPDX-License-Identifier: MIT */
/* bms/d_powercore.c - D-powercore DXB / TBA packs (e-foil batteries:
 * Fliteboard's Flitecells, a DXB46A) over Bluetooth LE.
 *
 * See bms/PROTOCOLS.md §69.  Bluetooth LE only: service FFF0, writes to
 * FFF3, notifications on FFF4.  Everything on the air is a 20-byte page:
 *	byte 0	the frame bytes it carries (1..18), bit 7 set: an
 *		acknowledgement (the page it acknowledges, echoed)
 *	byte 1	its number (high nibble, from 1) and the pages of the
 *		frame (low nibble)
 *	2..	the frame's bytes, then padding
 * Each page of an answer is acknowledged by writing it back with bit 7 of
 * byte 0 set; the pack acknowledges a request the same way (ignored here).
 * A frame is
 *	3A, 05 03 (an answer; a request 03 05), command, length (u16, BE),
 *	the data, the sum of command .. data + 8 (u16, BE), 0D 0A
 * Requests are one page: byte 0 the frame's length + 2, byte 1 0x11, the
 * frame with a length of 0, zeros to 20 bytes (as aiobmsble writes them).
 * A DXB pack answers only once unlocked: command 0x64 with two data bytes,
 * the last four hex digits of its advertised name (bms_poll.peer_name),
 * written once a connection; a TBA pack ("TBA-...") needs none.  A name
 * that is not known, or gives no unlock, fails the poll with BMS_E_NAME
 * and nothing is written.  Reads, one a step (data offsets):
 *	0x60: 0 u16 voltage 0.1 V; 2 s16 current 0.1 A (+ = charging);
 *	      6 u16 remaining mAh; 8 SOC %; 9 the problem code (not 0: OTHER)
 *	0x61: 2 u16 cycles; 6 u16 temperature 0.1 K
 *	0x62: 0 the cells (1..32), then each cell u16 mV
 *
 * The gateway writes each acknowledgement as a poll step of its own
 * (next_request()); the acknowledgement of an answer's last page, and the
 * unlock, are answered by nothing (sent()); the pages of an answer that
 * arrive before their acknowledgement is written are kept (keep_rx).  An
 * answer is assembled here byte by byte (its sum, its head and tail, the
 * first data bytes; cells straight into the snapshot), never whole: its
 * values count only once its last page has checked.
 *
 * Progress: step (enum below), the phase of a read in the private state;
 * persist DP_P_UNLOCKED (the unlock was written on this connection).
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"

#define DP_PAGE 20
#define DP_PAGE_DATA 18 /* frame bytes a page carries at most */
#define DP_ACK 0x80
#define DP_SOF 0x3A
#define DP_HEAD 6	/* 3A, two address bytes, command, length */
#define DP_OVER 10	/* head, sum, 0D 0A */
#define DP_KEEP 16	/* data bytes kept for the decoder */
#define DP_MAX_LEN 255	/* the longest data a frame may announce */
#define DP_MAX_PAGES 15
#define DP_SUM_ADD 8
#define DP_P_UNLOCKED 0x1u
/* A read is written again at most this often in a poll (the gateway's
 * attempt counts a step's tries, but each page taken is a step of its
 * own: this bounds the tries of the read as a whole). */
#define DP_RETRIES 2

#define DP_CMD_INFO1 0x60
#define DP_CMD_INFO2 0x61
#define DP_CMD_CELLS 0x62
#define DP_CMD_UNLOCK 0x64
#define DP_CMD_REFUSED 0x33 /* the unlock rejected (aiobmsble's UNLOCKREJ) */

enum { DP_BEGIN = 0, DP_UNLOCK, DP_INFO1, DP_INFO2, DP_CELLS, DP_DONE };
/* The phase of a read: its request to write, a page awaited, the
 * acknowledgement of a page (of the last one) to write. */
enum { DP_PH_REQ = 0, DP_PH_WAIT, DP_PH_ACK, DP_PH_ACKLAST };

struct dp_state {
	uint8_t phase;
	uint8_t page, pages;	 /* the last page taken (0: none yet), the frame's pages */
	uint16_t got, want;	 /* frame bytes taken, the frame's length (0: head not yet whole) */
	uint32_t sum;		 /* of the bytes from the command on */
	uint8_t head[DP_HEAD];
	uint8_t tail[4];	 /* the sum and 0D 0A */
	uint8_t data[DP_KEEP];	 /* the first data bytes */
	uint8_t ack[DP_PAGE];	 /* the acknowledgement of the last page taken */
	uint8_t restarts;	 /* the read written again (a failed try): at most DP_RETRIES */
	int8_t last_err;	 /* what failed its last try (0: a timeout) */
};

static const uint8_t dp_cmds[] = { [DP_INFO1] = DP_CMD_INFO1, [DP_INFO2] = DP_CMD_INFO2, [DP_CELLS] = DP_CMD_CELLS };
/* the least data each read must carry (its last field's end) */
static const uint8_t dp_min_len[] = { [DP_INFO1] = 10, [DP_INFO2] = 8, [DP_CELLS] = 3 };

/* The unlock a name gives: 1 and *pwd (the last four hex digits of the
 * name) for a DXB, 0 for a TBA ("TBA-..."), -1 for a name that gives
 * none (unknown: "", or not ending in four hex digits). */
static int dp_unlock_of(const char *name, uint16_t *pwd)
{
	size_t n = strlen(name);
	uint32_t v = 0;
	if (n == 0)
		return -1;
	if (strncmp(name, "TBA-", 4) == 0)
		return 0;
	if (n < 4 || !bms_hexn((const uint8_t *)name + n - 4, 4, &v))
		return -1;
	*pwd = (uint16_t)v;
	return 1;
}

/* A request page: the frame 3A 03 05 cmd 00 00 data sum 0D 0A. */
static int dp_request(uint8_t cmd, const uint8_t *data, size_t n, uint8_t *out, size_t cap)
{
	uint8_t p[DP_PAGE] = { 0 };
	uint8_t *f = p + 2;
	f[0] = DP_SOF;
	f[1] = 0x03;
	f[2] = 0x05;
	f[3] = cmd;
	if (n)
		memcpy(f + DP_HEAD, data, n);
	uint32_t sum = bms_sum(f + 3, 3 + n) + DP_SUM_ADD;
	f[DP_HEAD + n] = (uint8_t)(sum >> 8);
	f[DP_HEAD + n + 1] = (uint8_t)sum;
	f[DP_HEAD + n + 2] = 0x0D;
	f[DP_HEAD + n + 3] = 0x0A;
	p[0] = (uint8_t)(DP_OVER + n + 2);
	p[1] = 0x11;
	return bms_request_copy(out, cap, p, sizeof(p));
}

static void dp_restart(struct dp_state *st)
{
	memset(st, 0, sizeof(*st));
}

static int dp_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	struct dp_state *st = BMS_PRIV(poll, struct dp_state);
	uint16_t pwd = 0;
	int u = dp_unlock_of(poll->peer_name, &pwd);
	if (poll->step == DP_BEGIN) {
		if (u < 0)
			return BMS_E_NAME;
		if (poll->link_fresh)
			poll->persist &= ~DP_P_UNLOCKED;
		poll->step = u > 0 && !(poll->persist & DP_P_UNLOCKED) ? DP_UNLOCK : DP_INFO1;
		dp_restart(st);
	}
	switch (poll->step) {
	case DP_DONE:
		return 0;
	case DP_UNLOCK: {
		if (u <= 0)
			return BMS_E_NAME;
		uint8_t d[2] = { (uint8_t)(pwd >> 8), (uint8_t)pwd };
		return dp_request(DP_CMD_UNLOCK, d, sizeof(d), out, cap);
	}
	case DP_INFO1:
	case DP_INFO2:
	case DP_CELLS:
		if (st->phase == DP_PH_WAIT) { /* a retry: the read again, from its start */
			uint8_t tries = (uint8_t)(st->restarts + 1);
			int8_t err = st->last_err;
			dp_restart(st);
			st->restarts = tries;
			st->last_err = err;
		}
		if (st->restarts > DP_RETRIES) /* it failed as often as the gateway would try a step */
			return st->last_err ? st->last_err : BMS_E_SHORT;
		if (st->phase == DP_PH_REQ)
			return dp_request(dp_cmds[poll->step], NULL, 0, out, cap);
		return bms_request_copy(out, cap, st->ack, sizeof(st->ack));
	default:
		return BMS_E_RANGE;
	}
}

/* The request of the step is written: the unlock and the acknowledgement
 * of a last page complete their step (nothing answers them). */
static bool dp_sent(struct bms_poll *poll)
{
	struct dp_state *st = BMS_PRIV(poll, struct dp_state);
	if (poll->step == DP_UNLOCK) {
		poll->persist |= DP_P_UNLOCKED;
		poll->step = DP_INFO1;
		dp_restart(st);
		return true;
	}
	if (poll->step < DP_INFO1 || poll->step > DP_CELLS)
		return false;
	if (st->phase == DP_PH_ACKLAST) {
		poll->step++;
		dp_restart(st);
		return true;
	}
	st->phase = DP_PH_WAIT; /* a request or a page's acknowledgement: the next page */
	return false;
}

/* ---- the framer ---------------------------------------------------------- */

/* A page: byte 0 1..18 (an acknowledgement: bit 7 and 1..20, a request's
 * count echoed), byte 1 page 1..15 of at least as many.  Anything else is
 * skipped a byte at a time. */
static bool dp_page_head(const uint8_t *b, size_t len, bool *need)
{
	unsigned cnt = b[0] & 0x7Fu;
	*need = false;
	if (cnt == 0 || cnt > ((b[0] & DP_ACK) ? DP_PAGE : DP_PAGE_DATA))
		return false;
	if (len < 2) {
		*need = true;
		return true;
	}
	unsigned pg = b[1] >> 4, tot = b[1] & 0x0Fu;
	return pg >= 1 && pg <= tot;
}

static enum bms_scan dp_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	bool need;
	if (len == 0)
		return BMS_SCAN_NEED;
	if (!dp_page_head(buf, len, &need)) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	if (need || len < DP_PAGE)
		return BMS_SCAN_NEED;
	*n = DP_PAGE;
	return BMS_SCAN_FRAME;
}

/* ---- the decoder --------------------------------------------------------- */

/* The head is whole: 3A 05 03, the read's command, a length it can hold. */
static int dp_head_ok(struct dp_state *st, uint8_t cmd, int step)
{
	const uint8_t *h = st->head;
	if (h[0] != DP_SOF || h[1] != 0x05 || h[2] != 0x03 || h[3] != cmd)
		return BMS_E_HEADER;
	unsigned len = bms_be16(h + 4);
	if (len < dp_min_len[step] || len > DP_MAX_LEN)
		return BMS_E_RANGE;
	st->want = (uint16_t)(len + DP_OVER);
	return BMS_OK;
}

/* n frame bytes b[0..n) of page after the ones taken: the head, the sum,
 * the tail, the first data bytes kept; the cells' bytes into the snapshot. */
static int dp_take(struct bms_poll *poll, struct dp_state *st, const uint8_t *b, size_t n)
{
	int step = poll->step;
	for (size_t k = 0; k < n; k++) {
		unsigned i = st->got++;
		uint8_t c = b[k];
		if (i < DP_HEAD) {
			st->head[i] = c;
			st->sum += i >= 3 ? c : 0;
			int rc = i == DP_HEAD - 1 ? dp_head_ok(st, dp_cmds[step], step) : BMS_OK;
			if (rc < 0)
				return rc;
			continue;
		}
		if (i >= st->want)
			return BMS_E_SHORT; /* more bytes than its length */
		if (i >= st->want - 4u) {
			st->tail[i - (st->want - 4u)] = c;
			continue;
		}
		st->sum += c;
		unsigned j = i - DP_HEAD;
		if (j < DP_KEEP)
			st->data[j] = c;
		unsigned cell = (j - 1) / 2;
		if (step == DP_CELLS && j >= 1 && cell < BMS_LV_MAX_CELLS) {
			uint16_t *mv = &poll->snap.cell_mv[cell];
			*mv = (j - 1) % 2 ? (uint16_t)(*mv | c) : (uint16_t)(c << 8);
		}
	}
	return BMS_OK;
}

/* The whole frame of the read, checked: its values into the snapshot. */
static int dp_decode(struct bms_poll *poll, const struct dp_state *st)
{
	struct bms_snapshot *s = &poll->snap;
	const uint8_t *d = st->data;
	unsigned len = st->want - DP_OVER;
	switch (poll->step) {
	case DP_INFO1:
		if (d[8] > 100)
			return BMS_E_RANGE;
		s->voltage = (float)bms_be16(d) / 10.0f;
		s->current = (float)bms_bes16(d + 2) / 10.0f * (poll->invert_current ? -1.0f : 1.0f);
		s->remain_ah = (float)bms_be16(d + 6) / 1000.0f;
		s->soc = d[8];
		s->raw_alarms[0] = d[9];
		s->nraw = 1;
		s->alarms = d[9] ? BMS_AL_OTHER : 0;
		s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_REMAIN | BMS_HAS_SOC | BMS_HAS_ALARMS;
		return BMS_OK;
	case DP_INFO2:
		s->cycles = bms_be16(d + 2);
		s->temp_c[0] = (float)bms_be16(d + 6) / 10.0f - 273.15f;
		s->ntemps = 1;
		s->present |= BMS_HAS_CYCLES | BMS_HAS_TEMPS;
		return BMS_OK;
	default: {
		unsigned cells = d[0];
		if (cells == 0 || cells > BMS_LV_MAX_CELLS)
			return BMS_E_RANGE;
		if (len < 1 + 2 * cells)
			return BMS_E_SHORT;
		if (poll->cells_forced && poll->cells_forced < cells)
			cells = poll->cells_forced;
		s->ncells = (uint8_t)cells;
		s->present |= BMS_HAS_CELLS;
		return BMS_OK;
	}
	}
}

/* The last page is taken: the frame's length, end bytes and sum. */
static int dp_close(struct bms_poll *poll, const struct dp_state *st)
{
	if (st->want == 0 || st->got != st->want)
		return BMS_E_SHORT;
	if (st->tail[2] != 0x0D || st->tail[3] != 0x0A)
		return BMS_E_HEADER;
	if (bms_be16(st->tail) != (uint16_t)(st->sum + DP_SUM_ADD))
		return BMS_E_CHECKSUM;
	return dp_decode(poll, st);
}

/* Page 1 of the read's answer?  Else (a stale page, an answer to another
 * read) it is not this read's; a refused unlock is a refusal. */
static int dp_first(const struct bms_poll *poll, const uint8_t *p)
{
	if ((p[1] >> 4) != 1)
		return BMS_E_UNEXPECTED;
	if (p[0] >= 4 && p[2] == DP_SOF && p[5] == DP_CMD_REFUSED)
		return BMS_E_REFUSED;
	if (p[0] >= 4 && p[2] == DP_SOF && p[5] != dp_cmds[poll->step])
		return BMS_E_UNEXPECTED;
	return BMS_OK;
}

static int dp_page(struct bms_poll *poll, const uint8_t *p, size_t len);

/* A page: a failure is kept for the read's last try (next_request()). */
static int dp_handle(struct bms_poll *poll, const uint8_t *p, size_t len)
{
	int rc = dp_page(poll, p, len);
	if (rc < 0 && rc != BMS_E_UNEXPECTED)
		BMS_PRIV(poll, struct dp_state)->last_err = (int8_t)rc;
	return rc;
}

static int dp_page(struct bms_poll *poll, const uint8_t *p, size_t len)
{
	struct dp_state *st = BMS_PRIV(poll, struct dp_state);
	bool need;
	if (len != DP_PAGE || !dp_page_head(p, len, &need))
		return BMS_E_SHORT;
	if (p[0] & DP_ACK)
		return BMS_E_UNEXPECTED; /* the pack's acknowledgement of what was written */
	if (poll->step < DP_INFO1 || poll->step > DP_CELLS || st->phase != DP_PH_WAIT)
		return BMS_E_UNEXPECTED; /* nothing awaited (the poll has its sample) */
	unsigned pg = p[1] >> 4, tot = p[1] & 0x0Fu;
	if (st->page == 0) {
		int rc = dp_first(poll, p);
		if (rc != BMS_OK)
			return rc;
		st->pages = (uint8_t)tot;
	} else if (pg != st->page + 1u || tot != st->pages) {
		return BMS_E_HEADER; /* a page repeated, missing or of another frame */
	}
	int rc = dp_take(poll, st, p + 2, p[0]);
	if (rc < 0)
		return rc;
	st->page = (uint8_t)pg;
	memcpy(st->ack, p, DP_PAGE);
	st->ack[0] |= DP_ACK;
	rc = pg < tot ? BMS_OK : dp_close(poll, st);
	if (rc < 0)
		return rc; /* (not acknowledged: the read is written again) */
	st->phase = pg < tot ? DP_PH_ACK : DP_PH_ACKLAST; /* its acknowledgement is the next step */
	return BMS_OK;
}

static int dp_finish(struct bms_poll *poll)
{
	return bms_finish_at(poll, DP_DONE);
}

/* Service FFF0, write FFF3, notify FFF4 (aiobmsble dpwrcore_bms). */
static const struct bms_gatt dp_gatt[] = {
	BMS_GATT16("fff0", "fff4", "fff3"),
	BMS_GATT_END,
};

/* aiobmsble's matchers: the names DXB-* and TBA-* (with FFF0, which many
 * others advertise). */
static const struct bms_ble_hint dp_ble_hints[] = {
	{1, BMS_BLE_NAME, "DXB-", NULL, 0, false, "name DXB-... (D-powercore DXB: the unlock from its name)"},
	{1, BMS_BLE_NAME, "TBA-", NULL, 0, false, "name TBA-... (D-powercore TBA)"},
	{0},
};

static const struct bms_ble dp_ble = {
	.only = true,
	.gatt = dp_gatt,
	.hints = dp_ble_hints,
};

const struct bms_driver bms_d_powercore_driver = {
	.name = "d-powercore",
	.description = "D-powercore DXB / TBA packs (e-foils) over Bluetooth LE (pages each acknowledged; the DXB "
		       "unlock from the name)",
	.vendor = "D-powercore",
	.protocol_id = 61,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_REMAIN | BMS_HAS_CYCLES |
		BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_ALARMS,
	BMS_BLE_ONLY,
	.interbyte = 0.5,
	.default_timeout = 2.0,
	.next_request = dp_next_request,
	.scan = dp_scan,
	.handle = dp_handle,
	.finish = dp_finish,
	.sent = dp_sent,
	.keep_rx = true,
	.ble = &dp_ble,
};
