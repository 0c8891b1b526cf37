/* SPDX-License-Identifier: MIT */
/* bms/greenway.c - the Greenway BMS of Talaria electric motorbikes over
 * Bluetooth LE: one value (or list) a request, on FFF1 of service FFF0.
 *
 * bms/PROTOCOLS.md §66.  Frames (little-endian values):
 *	request	46 16 01 <type> <len> <sum>		6 bytes
 *	answer	47 16 01 <type> <len> <data: len> <sum>	len + 6 bytes
 * sum = the low byte of the sum of every byte before it.  A poll asks, in
 * this order: 0x09 voltage (u32 mV), 0x0A current (s32 mA, + charging),
 * 0x0D SOC %, 0x0E SOH %, 0x0F remaining (mAh), 0x17 cycles, 0x18 the
 * design capacity (mAh), 0x16 status (16 bytes: bytes 2..9 the problem
 * bits), 0x08 temperatures (32 bytes: the first 7 are s8 degC), 0x24 and
 * 0x25 cells 1-16 and 17-32 (u16 mV, 0 = none).  Each request names the
 * length of its answer's data, as aiobmsble's driver asks it.
 * raw_alarms[]: the status bytes 2..9 as four 16-bit words.
 */
#include "bms.h"

#include "drivers.h"

#define GW_HDR 5 /* 47 16 01 <type> <len> */
#define GW_CELLS 32
#define GW_SENSORS 7

struct gw_read {
	uint8_t type, len;
};

/* The reads of a poll (aiobmsble's greenway_bms: its types, the lengths
 * its requests give). */
static const struct gw_read gw_reads[] = {
	{ 0x09, 4 }, { 0x0A, 4 }, { 0x0D, 4 }, { 0x0E, 4 }, { 0x0F, 4 }, { 0x17, 4 },
	{ 0x18, 4 }, { 0x16, 16 }, { 0x08, 32 }, { 0x24, 32 }, { 0x25, 32 },
};
#define GW_NREADS (int)(sizeof(gw_reads) / sizeof(gw_reads[0]))

static int gw_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	if (poll->step == GW_NREADS)
		return 0;
	if (poll->step < 0 || poll->step > GW_NREADS)
		return BMS_E_RANGE;
	const struct gw_read *r = &gw_reads[poll->step];
	uint8_t req[6] = { 0x46, 0x16, 0x01, r->type, r->len, 0 };
	req[5] = (uint8_t)bms_sum(req, 5);
	return bms_request_copy(out, cap, req, sizeof(req));
}

static enum bms_scan gw_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	enum bms_scan r;
	(void)poll;
	if (!bms_scan_start(buf, len, 0x47, &r, n))
		return r;
	if (len < GW_HDR)
		return BMS_SCAN_NEED;
	if (buf[1] != 0x16 || buf[2] != 0x01) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	size_t want = (size_t)buf[4] + GW_HDR + 1;
	if (len < want)
		return BMS_SCAN_NEED;
	return bms_scan_tail((uint8_t)bms_sum(buf, want - 1) == buf[want - 1], true, want, n);
}

/* 0x16: the problem bits, bytes 2..9 (aiobmsble's problem code). */
static void gw_status(struct bms_snapshot *s, const uint8_t *d)
{
	s->nraw = 4;
	s->alarms = 0;
	for (unsigned i = 0; i < 4; i++) {
		s->raw_alarms[i] = bms_le16(d + 2 + 2 * i);
		if (s->raw_alarms[i])
			s->alarms = BMS_AL_OTHER;
	}
	s->present |= BMS_HAS_ALARMS;
}

/* 0x24 / 0x25: 16 cells each (first = 0 or 16); the count is up to the
 * last that is not 0. */
static void gw_cells(struct bms_poll *poll, const uint8_t *d, unsigned first)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned n = first ? s->ncells : 0;
	for (unsigned i = 0; i < 16; i++) {
		s->cell_mv[first + i] = bms_le16(d + 2 * i);
		if (s->cell_mv[first + i])
			n = first + i + 1;
	}
	if (poll->cells_forced && poll->cells_forced < n)
		n = poll->cells_forced;
	s->ncells = (uint8_t)n;
	if (n)
		s->present |= BMS_HAS_CELLS;
}

static int gw_value(struct bms_poll *poll, uint8_t type, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	uint32_t v = bms_le32(d);
	switch (type) {
	case 0x09: s->voltage = (float)v / 1000.0f; s->present |= BMS_HAS_VOLTAGE; break;
	case 0x0A:
		s->current = (float)(int32_t)v / 1000.0f;
		if (poll->invert_current)
			s->current = -s->current;
		s->present |= BMS_HAS_CURRENT;
		break;
	case 0x0D:
	case 0x0E:
		if (v > 100)
			return BMS_E_RANGE;
		*(type == 0x0D ? &s->soc : &s->soh) = (float)v;
		s->present |= type == 0x0D ? BMS_HAS_SOC : BMS_HAS_SOH;
		break;
	case 0x0F: s->remain_ah = (float)v / 1000.0f; s->present |= BMS_HAS_REMAIN; break;
	case 0x17: s->cycles = v; s->present |= BMS_HAS_CYCLES; break;
	default: /* 0x18 */
		s->full_ah = (float)v / 1000.0f;
		if (v)
			s->present |= BMS_HAS_FULL;
		break;
	}
	return BMS_OK;
}

static int gw_handle(struct bms_poll *poll, const uint8_t *f, size_t len)
{
	if (poll->step < 0 || poll->step >= GW_NREADS)
		return BMS_E_UNEXPECTED;
	const struct gw_read *r = &gw_reads[poll->step];
	if (len < GW_HDR + 1 || f[3] != r->type)
		return BMS_E_UNEXPECTED; /* another type's answer */
	if (f[4] != r->len || len != (size_t)r->len + GW_HDR + 1)
		return BMS_E_SHORT;
	const uint8_t *d = f + GW_HDR;
	struct bms_snapshot *s = &poll->snap;
	int rc = BMS_OK;
	switch (r->type) {
	case 0x16: gw_status(s, d); break;
	case 0x08:
		s->ntemps = GW_SENSORS;
		for (unsigned i = 0; i < GW_SENSORS; i++)
			s->temp_c[i] = (float)(int8_t)d[i];
		s->present |= BMS_HAS_TEMPS;
		break;
	case 0x24: gw_cells(poll, d, 0); break;
	case 0x25: gw_cells(poll, d, 16); break;
	default: rc = gw_value(poll, r->type, d); break;
	}
	if (rc == BMS_OK)
		poll->step++;
	return rc;
}

static int gw_finish(struct bms_poll *poll)
{
	return bms_finish_at(poll, GW_NREADS);
}

/* FFF0: one FFF1 written and notifying (aiobmsble's greenway_bms). */
static const struct bms_gatt gw_gatt[] = {
	BMS_GATT16("fff0", "fff1", "fff1"),
	BMS_GATT_END,
};

/* --ble-scan: aiobmsble's matcher, the address prefix (OUI) C4:A9:B8 with
 * the service FFF0 (FFF0 alone is Daly's and others'; a name is a serial,
 * 56C00253A00037); before Daly's FFF0 hint. */
static const struct bms_ble_hint gw_ble_hints[] = {
	{3, BMS_BLE_ADDRESS_SERVICE, "C4:A9:B8", NULL, 0xFFF0, false, "address C4:A9:B8 and service FFF0 (Greenway)"},
	{0},
};

static const struct bms_ble gw_ble = {
	.only = true,
	.gatt = gw_gatt,
	.hints = gw_ble_hints,
};

const struct bms_driver bms_greenway_driver = {
	.name = "greenway",
	.description = "Greenway BMS of Talaria bikes over Bluetooth LE (47 16 01 frames, 11 reads)",
	.vendor = "Greenway",
	.protocol_id = 57,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN |
		BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_ALARMS,
	BMS_BLE_LINK,
	.next_request = gw_next_request,
	.scan = gw_scan,
	.handle = gw_handle,
	.finish = gw_finish,
	.ble = &gw_ble,
};
