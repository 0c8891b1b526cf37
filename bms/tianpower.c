/* SPDX-License-Identifier: MIT */
/* bms/tianpower.c - Tian Power BMS boards (TP-LT55 ...) over Bluetooth LE,
 * the BLE module that advertises as TP_<serial> (Basen and other packs built
 * on Tian Power boards).
 *
 * See bms/PROTOCOLS.md §31.  Bluetooth LE only: service FF00, the BMS
 * notifies on FF01 (FF03 notifies too: not used) and takes writes on FF02.
 * A request is 4 bytes, 55 04 <type> AA, its answer 20 bytes,
 *	55 14 <type> <16 data bytes> AA
 * one answer per notification, values big-endian.  There is NO checksum:
 * an answer is taken only whole and in its place - start 0x55, length byte
 * 0x14, end 0xAA, the type of the outstanding request, then every field
 * within what it can be (counts, percentages, temperatures, cell voltages,
 * printable identity text), and the pack voltage within 10 % (at least
 * 1 V) of the sum of its cells when the poll is whole.  A poll asks:
 *	0x84	3 cell count (1..24), 4 sensor count (0..8), 5 full Ah and
 *		7 remaining Ah (0.01 Ah), 9 cycles, 11 / 13 / 15 / 17 the
 *		voltage, current, temperature and error words
 *	0x83	3 SOC %, 5 voltage (0.01 V), 7 average and 9 ambient
 *		temperature (not served), 11 MOSFET temperature (s16 0.1 degC),
 *		13 current (s16 0.01 A, + = charging: UNCERTAIN, §31.3), 17 SOH %
 *	0x85	3 MOSFET word (bits 0 and 1: §31.4), 13 balancing (cells 1-16)
 *	0x87	the sensors' temperatures (s16 0.1 degC), as many as 0x84 said
 *	0x88, 0x89, 0x8A  cells 1-8, 9-16, 17-24 (u16 mV), as many as needed
 *	0x81, 0x82  the software version and the model ("TP-LT55"): the
 *		identity, while it is due (bms_ident_due())
 * The MOSFETs are served only when bits 0 and 1 of the MOSFET word agree
 * (both on or both off): the sources disagree on which is the charge one.
 * raw_alarms[]: the four words of 0x84.
 *
 * Progress in struct bms_poll: step = the index into tp_steps[] from which
 * the next due step is looked for; the counts of 0x84 in struct tp_state.
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"

#define TP_SOF 0x55
#define TP_EOF 0xAA
#define TP_REQ 0x04             /* a request's length byte (4 bytes) */
#define TP_ANS 0x14             /* an answer's (20 bytes) */
#define TP_REQ_LEN 4
#define TP_LEN 20
#define TP_MAX_CELLS 24
#define TP_MAX_SENSORS 8
#define TP_MAX_MV 5000          /* no cell of any chemistry */
#define TP_MIN_TEMP (-500)      /* 0.1 degC */
#define TP_MAX_TEMP 1500

enum tp_step {
	TP_INFO, TP_STATUS, TP_MOSFET, TP_TEMPS, TP_CELLS1, TP_CELLS2, TP_CELLS3, TP_SOFTWARE, TP_HARDWARE, TP_DONE
};

static const uint8_t tp_types[TP_DONE] = {
	[TP_INFO] = 0x84, [TP_STATUS] = 0x83, [TP_MOSFET] = 0x85, [TP_TEMPS] = 0x87, [TP_CELLS1] = 0x88,
	[TP_CELLS2] = 0x89, [TP_CELLS3] = 0x8A, [TP_SOFTWARE] = 0x81, [TP_HARDWARE] = 0x82,
};

/* The poll's counts, from 0x84. */
struct tp_state {
	uint8_t cells;   /* the cells read (the BMS's count, or the configured one) */
	uint8_t sensors; /* temperature sensors */
};

#define L2 BMS_AL_PROTECTION
/* 0x84's words (syssi/esphome-tianpower-bms issues #3-#6): 0 voltage, 1
 * current, 2 temperature, 3 errors. */
static const struct bms_alarm_rule tp_rules[] = {
	{ 0, 0, BMS_AL_CELL_OV | L2 }, { 0, 1, BMS_AL_CELL_UV | L2 }, { 0, 2, BMS_AL_PACK_OV | L2 },
	{ 0, 3, BMS_AL_PACK_UV | L2 }, { 0, 4, BMS_AL_CELL_OV }, { 0, 5, BMS_AL_CELL_UV }, { 0, 6, BMS_AL_PACK_OV },
	{ 0, 7, BMS_AL_PACK_UV }, { 0, 8, BMS_AL_CELL_DIFF },
	{ 1, 0, BMS_AL_CHG_OC | L2 }, { 1, 1, BMS_AL_SHORT | L2 }, { 1, 2, BMS_AL_DSG_OC | L2 },
	{ 1, 3, BMS_AL_DSG_OC | L2 }, { 1, 4, BMS_AL_CHG_OC }, { 1, 5, BMS_AL_DSG_OC }, { 1, 6, BMS_AL_OTHER },
	{ 2, 0, BMS_AL_CHG_OT | L2 }, { 2, 1, BMS_AL_CHG_UT | L2 }, { 2, 2, BMS_AL_DSG_OT | L2 },
	{ 2, 3, BMS_AL_DSG_UT | L2 }, { 2, 4, BMS_AL_OTHER | L2 }, { 2, 5, BMS_AL_OTHER | L2 },
	{ 2, 6, BMS_AL_MOS_OT | L2 }, { 2, 7, BMS_AL_OTHER | L2 }, { 2, 8, BMS_AL_CHG_OT }, { 2, 9, BMS_AL_CHG_UT },
	{ 2, 10, BMS_AL_DSG_OT }, { 2, 11, BMS_AL_DSG_UT }, { 2, 12, BMS_AL_OTHER }, { 2, 13, BMS_AL_OTHER },
	{ 2, 14, BMS_AL_MOS_OT }, { 2, 15, BMS_AL_OTHER },
	{ 3, 0, BMS_AL_CELL_DIFF }, { 3, 1, BMS_AL_MOS_FAULT }, { 3, 2, BMS_AL_OTHER }, { 3, 3, BMS_AL_COMM },
	{ 3, 4, BMS_AL_HW_FAULT }, { 3, 7, BMS_AL_SOC_LOW }, { 3, 8, BMS_AL_MOS_OT | L2 }, { 3, 9, BMS_AL_MOS_OT },
	{ 3, 10, BMS_AL_HW_FAULT }, { 3, 11, BMS_AL_HW_FAULT }, { 3, 12, BMS_AL_HW_FAULT }, { 3, 13, BMS_AL_SENSOR },
	{ 3, 14, BMS_AL_MOS_FAULT }, { 3, 15, BMS_AL_MOS_FAULT },
};
#undef L2
/* The bits of the voltage word no rule names but the sleep notice (14): reserved */
#define TP_V_RESERVED 0xBE00u
#define TP_FET_A 0x0001u        /* charge (syssi) or discharge (aiobmsble) */
#define TP_FET_B 0x0002u

static bool tp_due(const struct bms_poll *poll, int i)
{
	const struct tp_state *st = BMS_PRIV(poll, struct tp_state);
	switch (i) {
	case TP_TEMPS: return st->sensors > 0;
	case TP_CELLS2: return st->cells > 8;
	case TP_CELLS3: return st->cells > 16;
	case TP_SOFTWARE:
	case TP_HARDWARE: return bms_ident_due(poll);
	default: return true;
	}
}

/* The step whose request is outstanding (TP_DONE: the poll is complete). */
static int tp_current(const struct bms_poll *poll)
{
	for (int i = poll->step; i >= 0 && i < TP_DONE; i++)
		if (tp_due(poll, i))
			return i;
	return TP_DONE;
}

static int tp_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	int i = tp_current(poll);
	if (i >= TP_DONE)
		return 0;
	if (cap < TP_REQ_LEN)
		return BMS_E_NOSPACE;
	out[0] = TP_SOF;
	out[1] = TP_REQ;
	out[2] = tp_types[i];
	out[3] = TP_EOF;
	return TP_REQ_LEN;
}

/* 55 14 ... AA (20 bytes) is a frame, 55 04 <t> AA (a request, ours
 * echoed) is skipped whole; a 55 14 whose 20th byte is not AA fails its
 * end marker; anything else is skipped up to the next 55. */
static enum bms_scan tp_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	enum bms_scan r;
	if (!bms_scan_start(buf, len, TP_SOF, &r, n))
		return r;
	if (len < 2)
		return BMS_SCAN_NEED;
	size_t want = buf[1] == TP_ANS ? TP_LEN : buf[1] == TP_REQ ? TP_REQ_LEN : 0;
	if (want == 0) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	if (len < want)
		return BMS_SCAN_NEED;
	if (want == TP_REQ_LEN && buf[want - 1] != TP_EOF) {
		*n = 1; /* no request after all */
		return BMS_SCAN_SKIP;
	}
	return bms_scan_tail(buf[want - 1] == TP_EOF, want == TP_LEN, want, n);
}

static bool tp_temp_ok(int16_t t)
{
	return t >= TP_MIN_TEMP && t <= TP_MAX_TEMP;
}

/* 0x84: counts, capacities, cycles, the four alarm words. */
static int tp_info(struct bms_poll *poll, const uint8_t *d)
{
	struct tp_state *st = BMS_PRIV(poll, struct tp_state);
	struct bms_snapshot *s = &poll->snap;
	uint16_t w[4];

	if (d[0] == 0 || d[0] > TP_MAX_CELLS || d[1] > TP_MAX_SENSORS)
		return BMS_E_RANGE;
	st->cells = poll->cells_forced ? (poll->cells_forced < TP_MAX_CELLS ? poll->cells_forced : TP_MAX_CELLS)
				       : d[0];
	st->sensors = d[1];
	s->full_ah = (float)bms_be16(d + 2) / 100.0f;
	s->remain_ah = (float)bms_be16(d + 4) / 100.0f;
	s->cycles = bms_be16(d + 6);
	for (int k = 0; k < 4; k++)
		w[k] = bms_be16(d + 8 + 2 * k);
	s->alarms = bms_alarm_map(w, 4, tp_rules, sizeof(tp_rules) / sizeof(tp_rules[0]));
	if (w[0] & TP_V_RESERVED)
		s->alarms |= BMS_AL_OTHER;
	s->nraw = 4;
	memcpy(s->raw_alarms, w, sizeof(w));
	s->present |= BMS_HAS_FULL | BMS_HAS_REMAIN | BMS_HAS_CYCLES | BMS_HAS_ALARMS;
	return BMS_OK;
}

/* 0x83: SOC, voltage, MOSFET temperature, current, SOH. */
static int tp_status(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	uint16_t soc = bms_be16(d), soh = bms_be16(d + 14);
	int16_t mos = bms_bes16(d + 8);

	if (soc > 100 || soh > 100 || !tp_temp_ok(mos))
		return BMS_E_RANGE;
	s->soc = soc;
	s->soh = soh;
	s->voltage = (float)bms_be16(d + 2) / 100.0f;
	s->mos_temp_c = (float)mos / 10.0f;
	s->current = (float)bms_bes16(d + 10) / 100.0f;
	if (poll->invert_current)
		s->current = -s->current;
	s->present |= BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_VOLTAGE | BMS_HAS_MOS_TEMP | BMS_HAS_CURRENT;
	return BMS_OK;
}

/* 0x85: the MOSFETs where bits 0 and 1 agree; balancing. */
static int tp_mosfet(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	uint16_t fet = bms_be16(d);
	bool a = (fet & TP_FET_A) != 0, b = (fet & TP_FET_B) != 0;

	if (a == b) {
		s->chg_mos = s->dsg_mos = a;
		s->present |= BMS_HAS_MOSFETS;
	}
	s->balance = bms_be16(d + 10);
	s->present |= BMS_HAS_BALANCE;
	return BMS_OK;
}

/* 0x87: the sensors 0x84 counted. */
static int tp_temps(struct bms_poll *poll, const uint8_t *d)
{
	const struct tp_state *st = BMS_PRIV(poll, struct tp_state);
	struct bms_snapshot *s = &poll->snap;

	for (unsigned i = 0; i < st->sensors; i++) {
		int16_t t = bms_bes16(d + 2 * i);
		if (!tp_temp_ok(t))
			return BMS_E_RANGE;
		s->temp_c[i] = (float)t / 10.0f;
	}
	s->ntemps = st->sensors;
	s->present |= BMS_HAS_TEMPS;
	return BMS_OK;
}

/* 0x88 / 0x89 / 0x8A: cells 8k+1 .. 8k+8 of those counted. */
static int tp_cells(struct bms_poll *poll, const uint8_t *d, unsigned k)
{
	const struct tp_state *st = BMS_PRIV(poll, struct tp_state);
	struct bms_snapshot *s = &poll->snap;

	for (unsigned i = 0; i < 8 && 8 * k + i < st->cells; i++) {
		uint16_t mv = bms_be16(d + 2 * i);
		if (mv > TP_MAX_MV)
			return BMS_E_RANGE;
		s->cell_mv[8 * k + i] = mv;
	}
	s->ncells = st->cells;
	s->present |= BMS_HAS_CELLS;
	return BMS_OK;
}

/* 0x81 / 0x82: NUL-padded text (0x82: the model, then a second string
 * "TB" of unknown meaning, not used). */
static int tp_ident(struct bms_poll *poll, const uint8_t *d, bool software)
{
	struct bms_ident *id = &poll->kept.ident;
	for (int i = 0; i < 16; i++)
		if (d[i] != 0 && (d[i] < 0x20 || d[i] > 0x7E))
			return BMS_E_RANGE;
	if (software) {
		memset(id, 0, sizeof(*id)); /* the first identity answer: a new identity */
		bms_ident_text(id->firmware, sizeof(id->firmware), d, 16);
	} else {
		bms_ident_text(id->model, sizeof(id->model), d, 16);
		poll->kept.ident_state = BMS_IDENT_HAVE;
	}
	return BMS_OK;
}

static int tp_decode(struct bms_poll *poll, int i, const uint8_t *d)
{
	switch (i) {
	case TP_INFO: return tp_info(poll, d);
	case TP_STATUS: return tp_status(poll, d);
	case TP_MOSFET: return tp_mosfet(poll, d);
	case TP_TEMPS: return tp_temps(poll, d);
	case TP_CELLS1:
	case TP_CELLS2:
	case TP_CELLS3: return tp_cells(poll, d, (unsigned)(i - TP_CELLS1));
	default: return tp_ident(poll, d, i == TP_SOFTWARE);
	}
}

static int tp_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	if (len != TP_LEN)
		return BMS_E_SHORT;
	if (frame[0] != TP_SOF || frame[1] != TP_ANS || frame[TP_LEN - 1] != TP_EOF)
		return BMS_E_HEADER;
	int i = tp_current(poll);
	if (i >= TP_DONE || frame[2] != tp_types[i])
		return BMS_E_UNEXPECTED; /* not the answer outstanding (a late one) */
	int rc = tp_decode(poll, i, frame + 3);
	if (rc == BMS_OK)
		poll->step = i + 1;
	return rc;
}

/* An identity command not answered: the poll goes on without it. */
static bool tp_timeout(struct bms_poll *poll)
{
	int i = tp_current(poll);
	if (i != TP_SOFTWARE && i != TP_HARDWARE)
		return false;
	bms_ident_missing(poll, false);
	poll->step = TP_DONE;
	return true;
}

/* Without a checksum, the pack voltage and the sum of the cells must hold
 * together (within 10 %, at least 1 V) unless the cell count is forced. */
static int tp_finish(struct bms_poll *poll)
{
	struct bms_snapshot *s = &poll->snap;
	if (tp_current(poll) != TP_DONE || (s->present & (BMS_HAS_VOLTAGE | BMS_HAS_CELLS)) !=
						   (BMS_HAS_VOLTAGE | BMS_HAS_CELLS))
		return BMS_E_INVALID;
	if (!poll->cells_forced) {
		float sum = 0, tol = s->voltage / 10.0f;
		for (unsigned i = 0; i < s->ncells; i++)
			sum += (float)s->cell_mv[i] / 1000.0f;
		if (tol < 1.0f)
			tol = 1.0f;
		if (sum - s->voltage > tol || s->voltage - sum > tol)
			return BMS_E_INVALID;
	}
	return bms_check_pack(s, false);
}

/* Service FF00: notify FF01, write FF02 (syssi/esphome-tianpower-bms,
 * aiobmsble's tianpwr_bms). */
static const struct bms_gatt tp_gatt[] = {
	BMS_GATT16("ff00", "ff01", "ff02"),
	BMS_GATT_END,
};

/* --ble-scan: the name TP_<serial> (aiobmsble's tianpwr_bms matcher); its
 * service FF00 is JBD's too, so no service hint. */
static const struct bms_ble_hint tp_ble_hints[] = {
	{1, BMS_BLE_NAME, "TP_", NULL, 0, false, "name TP_* (Tian Power)"},
	{0},
};

static const struct bms_ble tp_ble = {
	.only = true,
	.gatt = tp_gatt,
	.hints = tp_ble_hints,
};

const struct bms_driver bms_tianpower_driver = {
	.name = "tianpower",
	.description = "Tian Power BMS over Bluetooth LE (TP_* module, 55 04 <type> AA, 20-byte answers)",
	.vendor = "Tian Power",
	.protocol_id = 24,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH |
		BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS |
		BMS_HAS_MOS_TEMP | BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_ALARMS,
	BMS_BLE_LINK,
	.next_request = tp_next_request,
	.scan = tp_scan,
	.handle = tp_handle,
	.timeout = tp_timeout,
	.finish = tp_finish,
	.ble = &tp_ble,
};
