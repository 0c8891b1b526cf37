/* SPDX-License-Identifier: MIT */
/* bms/ogt.c - Offgridtec LiFePO4 Smart Pro batteries, type A, over
 * Bluetooth LE.
 *
 * See bms/PROTOCOLS.md §56.  Bluetooth LE only: service FFF0, writes to
 * FFF6, notifications on FFF4.  The pack advertises SmartBat-A<id> (five
 * decimal digits); every byte either way is XOR-ed with one key derived
 * from that name (ogt_key()), so the driver reads it from
 * bms_poll.peer_name: a device of another name (a type B, SmartBat-B<id>,
 * whose registers the sources do not agree on) gives no key and every
 * poll fails with BMS_E_KEY.  In plain text a request is
 *	+RAA<register, 2 hex digits><length, 2 hex digits>
 * and its answer
 *	+RD,<register, 2 hex digits><length value bytes, 2 hex digits each>\r\n
 * (values little-endian, no checksum; "+RD,Err\r\n" is a refusal).  One
 * register a step:
 *	0x02 SOC %		0x04 remaining	0x06 full capacity
 *	0x08 voltage mV		0x0C MOSFET temperature 0.1 K
 *	0x10 current s16 0.01 A	0x2C cycles
 * and, only in a poll the gateway marks settings_due, 0x3C the design
 * capacity (the BMS's own setting, capacity_ah; §56.4): unanswered or
 * refused ("+RD,Err", counted), the poll is good without it.
 * A capacity is u16 x its third byte x 1 mAh (syssi's reading, §56.3).
 * Type A has no cell voltages: a poll carries none.
 *
 * Progress: step (enum below); no private state.
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"

#define OG_NAME "SmartBat-"
#define OG_NAME_LEN 9
#define OG_ID_DIGITS 5
#define OG_TYPE_A_ADD 5 /* the key's offset of a type A */
#define OG_REQ 8
#define OG_MAX 14 /* the longest answer: +RD, reg and 3 bytes, CR LF */
#define OG_ERR "Err"

enum { OG_SOC = 1, OG_REMAIN, OG_FULL, OG_VOLT, OG_TEMP, OG_CURRENT, OG_CYCLES, OG_DESIGN, OG_DONE };
#define OG_CAP_MAX (65535L * 255L) /* u16 x a byte, mAh */

static const struct {
	uint8_t reg, len;
} og_regs[] = {
	[OG_SOC] = { 0x02, 1 },	 [OG_REMAIN] = { 0x04, 3 },  [OG_FULL] = { 0x06, 3 }, [OG_VOLT] = { 0x08, 2 },
	[OG_TEMP] = { 0x0C, 2 }, [OG_CURRENT] = { 0x10, 3 }, [OG_CYCLES] = { 0x2C, 2 }, [OG_DESIGN] = { 0x3C, 3 },
};

/* The vendor app's sequence (aiobmsble and syssi's esphome-ogt-bms alike). */
static const uint8_t og_seq[16] = { 2, 5, 4, 3, 1, 4, 1, 6, 8, 3, 7, 2, 5, 8, 9, 3 };

/* The key of a type A pack from its advertised name SmartBat-A<5 digits>:
 * the id as four hex digits, the sum of og_seq[digit] over them, + 5.
 * -1 for any other name (a type B, an id over 65535, none known). */
static int ogt_key(const char *name)
{
	if (strncmp(name, OG_NAME, OG_NAME_LEN) != 0 || name[OG_NAME_LEN] != 'A')
		return -1;
	const char *d = name + OG_NAME_LEN + 1;
	unsigned id = 0;
	for (int i = 0; i < OG_ID_DIGITS; i++) {
		if (d[i] < '0' || d[i] > '9')
			return -1;
		id = id * 10 + (unsigned)(d[i] - '0');
	}
	if (d[OG_ID_DIGITS] != '\0' || id > 0xFFFF)
		return -1;
	int key = OG_TYPE_A_ADD;
	for (int i = 0; i < 4; i++)
		key += og_seq[(id >> (4 * i)) & 0xF];
	return key;
}

/* ---- requests ------------------------------------------------------------ */

static int og_step(const struct bms_poll *poll)
{
	return poll->step == 0 ? OG_SOC : poll->step;
}

static int og_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	int step = og_step(poll);
	if (step == OG_DONE)
		return 0;
	if (step < OG_SOC || step > OG_DESIGN)
		return BMS_E_RANGE;
	int key = ogt_key(poll->peer_name);
	if (key < 0)
		return BMS_E_KEY;
	uint8_t req[OG_REQ] = { '+', 'R', 'A', 'A' };
	bms_put_hex(req + 4, og_regs[step].reg, 2);
	bms_put_hex(req + 6, og_regs[step].len, 2);
	for (int i = 0; i < OG_REQ; i++)
		req[i] ^= (uint8_t)key;
	return bms_request_copy(out, cap, req, sizeof(req));
}

/* ---- the framer ---------------------------------------------------------- */

/* +RD, ... CR LF under the key: up to 14 bytes.  Before a '+' everything is
 * skipped; a request echoed (+RA...) whole; a start not followed by "RD,"
 * or without CR LF within 14 bytes alone, and one with a byte other than
 * a hex digit (or "Err") before its CR LF (an answer cut short, the next
 * one's start inside it) as a bad frame.  No key: nothing is this
 * pack's. */
static enum bms_scan og_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	int key = ogt_key(poll->peer_name);
	if (len == 0)
		return BMS_SCAN_NEED;
	if (key < 0) {
		*n = len;
		return BMS_SCAN_SKIP;
	}
	uint8_t k = (uint8_t)key;
	if ((buf[0] ^ k) != '+') {
		size_t i = 1;
		while (i < len && (buf[i] ^ k) != '+')
			i++;
		*n = i;
		return BMS_SCAN_SKIP;
	}
	static const char head[] = "+RD,", req[] = "+RA";
	if (len >= 3 && (buf[1] ^ k) == (uint8_t)req[1] && (buf[2] ^ k) == (uint8_t)req[2]) {
		if (len < OG_REQ)
			return BMS_SCAN_NEED;
		*n = OG_REQ; /* a request echoed, whole */
		return BMS_SCAN_SKIP;
	}
	for (size_t i = 1; i < 4 && i < len; i++)
		if ((buf[i] ^ k) != (uint8_t)head[i]) {
			*n = 1;
			return BMS_SCAN_SKIP;
		}
	/* hex digits (or "Err") up to CR LF, the LF at most at byte 13; an
	 * answer with another byte inside is complete but broken (BADSUM: the
	 * protocol has no checksum), its start alone dropped */
	bool bad = false;
	for (size_t i = 4; i < len && i + 1 < OG_MAX; i++) {
		uint8_t c = buf[i] ^ k;
		if (c == '\r' && i + 1 == len)
			return BMS_SCAN_NEED;
		if (c == '\r' && (buf[i + 1] ^ k) == '\n' && i >= 5) {
			return bms_scan_tail(!bad, true, i + 2, n);
		}
		bad = bad || (bms_hexval(c) < 0 && c != 'r');
	}
	if (len + 1 >= OG_MAX) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	return BMS_SCAN_NEED;
}

/* ---- the decoder --------------------------------------------------------- */

/* A capacity: u16 x the third byte, mAh (§56.3). */
static float og_cap(const uint8_t *v)
{
	return (float)bms_le16(v) * (float)v[2] / 1000.0f;
}

/* The value bytes v[] of the step's register into the snapshot. */
static int og_value(struct bms_poll *poll, int step, const uint8_t *v)
{
	struct bms_snapshot *s = &poll->snap;
	switch (step) {
	case OG_SOC:
		if (v[0] > 100)
			return BMS_E_RANGE;
		s->soc = v[0];
		s->present |= BMS_HAS_SOC;
		break;
	case OG_REMAIN:
		s->remain_ah = og_cap(v);
		s->present |= BMS_HAS_REMAIN;
		break;
	case OG_FULL:
		s->full_ah = og_cap(v);
		s->present |= BMS_HAS_FULL;
		break;
	case OG_VOLT:
		s->voltage = (float)bms_le16(v) / 1000.0f;
		s->present |= BMS_HAS_VOLTAGE;
		break;
	case OG_TEMP:
		s->mos_temp_c = (float)bms_le16(v) / 10.0f - 273.15f;
		s->present |= BMS_HAS_MOS_TEMP;
		break;
	case OG_CURRENT: /* the third byte: 0 on type A (not a factor there, §56.3) */
		s->current = (float)bms_les16(v) / 100.0f;
		if (poll->invert_current)
			s->current = -s->current;
		s->present |= BMS_HAS_CURRENT;
		break;
	case OG_CYCLES:
		s->cycles = bms_le16(v);
		s->present |= BMS_HAS_CYCLES;
		break;
	default: /* the design capacity: the BMS's setting, shown read only (§56.4) */
		bms_settings_put_raw(&poll->kept.settings, BMS_SET_CAPACITY_AH, (int64_t)bms_le16(v) * v[2], 1,
				     OG_CAP_MAX, 1000.0);
		break;
	}
	return BMS_OK;
}

/* The plain answer p[0..len): its hex after "+RD," into b[], their count
 * in *nb.  BMS_E_REFUSED for "+RD,Err". */
static int og_plain(const uint8_t *p, size_t len, uint8_t *b, size_t *nb)
{
	if (len < 9 || memcmp(p, "+RD,", 4) != 0 || p[len - 2] != '\r' || p[len - 1] != '\n')
		return BMS_E_HEADER;
	size_t nh = len - 6;
	if (nh == 3 && memcmp(p + 4, OG_ERR, 3) == 0)
		return BMS_E_REFUSED;
	if (nh % 2 != 0)
		return BMS_E_SHORT;
	for (size_t i = 0; i < nh / 2; i++) {
		uint32_t x;
		if (!bms_hexn(p + 4 + 2 * i, 2, &x))
			return BMS_E_HEADER;
		b[i] = (uint8_t)x;
	}
	*nb = nh / 2;
	return BMS_OK;
}

static int og_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	int key = ogt_key(poll->peer_name);
	if (key < 0)
		return BMS_E_KEY;
	if (len > OG_MAX)
		return BMS_E_SHORT;
	uint8_t p[OG_MAX], b[OG_MAX / 2];
	for (size_t i = 0; i < len; i++)
		p[i] = frame[i] ^ (uint8_t)key;
	size_t nb = 0;
	int rc = og_plain(p, len, b, &nb);
	int step = og_step(poll);
	if (rc == BMS_E_REFUSED && step == OG_DESIGN) {
		/* the design capacity refused: the poll is good without it */
		poll->refusals++;
		poll->step = OG_DONE;
		return BMS_OK;
	}
	if (rc < 0)
		return rc;
	if (step < OG_SOC || step > OG_DESIGN || b[0] != og_regs[step].reg)
		return BMS_E_UNEXPECTED; /* another register's (a late answer) */
	if (nb != 1u + og_regs[step].len)
		return BMS_E_SHORT;
	rc = og_value(poll, step, b + 1);
	if (rc < 0)
		return rc;
	/* the design capacity follows the cycles only when due (§56.4) */
	poll->step = step == OG_CYCLES && !poll->settings_due ? OG_DONE : step + 1;
	return BMS_OK;
}

/* A try failed: the design capacity (a setting) is skipped, the poll good
 * without it; a status register's is a failed try. */
static bool og_timeout(struct bms_poll *poll)
{
	if (og_step(poll) != OG_DESIGN)
		return false;
	poll->step = OG_DONE;
	return true;
}

/* Type A has no cells: a sample is whole with its voltage and current. */
static int og_finish(struct bms_poll *poll)
{
	const struct bms_snapshot *s = &poll->snap;
	if (poll->step != OG_DONE || !(s->present & BMS_HAS_VOLTAGE) || !(s->present & BMS_HAS_CURRENT) ||
	    !(s->voltage > 0.0f))
		return BMS_E_INVALID;
	return BMS_OK;
}

/* Service FFF0, write FFF6, notify FFF4 (syssi's esphome-ogt-bms, aiobmsble). */
static const struct bms_gatt og_gatt[] = {
	BMS_GATT16("fff0", "fff4", "fff6"),
	BMS_GATT_END,
};

/* aiobmsble's pattern SmartBat-[AB]*: a type B is named, and refused when polled. */
static const struct bms_ble_hint og_ble_hints[] = {
	{1, BMS_BLE_NAME, "SmartBat-A", NULL, 0, false, "name SmartBat-A<id> (Offgridtec Smart Pro type A)"},
	{1, BMS_BLE_NAME, "SmartBat-B", NULL, 0, false, "name SmartBat-B<id> (type B: not read by bmsgw)"},
	{0},
};

static const struct bms_ble og_ble = {
	.only = true,
	.gatt = og_gatt,
	.hints = og_ble_hints,
};

const struct bms_driver bms_ogt_driver = {
	.name = "ogt",
	.description = "Offgridtec Smart Pro type A over Bluetooth LE (+RAA registers, XOR key from the name)",
	.vendor = "Offgridtec",
	.protocol_id = 47,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_REMAIN |
		BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_MOS_TEMP,
	BMS_BLE_LINK,
	.next_request = og_next_request,
	.scan = og_scan,
	.handle = og_handle,
	.timeout = og_timeout,
	.finish = og_finish,
	.ble = &og_ble,
	/* 0x3C, asked when settings_due (§56.4) */
	.settings = BMS_SET_BIT(BMS_SET_CAPACITY_AH),
};
