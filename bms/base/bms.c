/* SPDX-License-Identifier: MIT */
/* bms/base/bms.c - helpers shared by every driver (the registry that names
 * them all is registry.c: a driver calls these, the registry calls none). */
#include "../bms.h"

#include <limits.h>
#include <math.h>
#include <string.h>

const char *bms_strerror(int code)
{
	switch (code) {
	case BMS_OK: return "ok";
	case BMS_MORE: return "more frames expected";
	case BMS_E_CHECKSUM: return "bad checksum";
	case BMS_E_SHORT: return "truncated frame";
	case BMS_E_HEADER: return "bad frame header";
	case BMS_E_UNEXPECTED: return "unexpected frame";
	case BMS_E_RANGE: return "value out of range";
	case BMS_E_INVALID: return "invalid sample";
	case BMS_E_NOSPACE: return "buffer too small";
	case BMS_E_REFUSED: return "the BMS refused the request (error code)";
	case BMS_E_KEY: return "encrypted with another key than the pack's key =, or no key known (none configured, none from the advertised name)";
	case BMS_E_AUTH: return "auth failed: the BMS refused the PIN (pin = of the pack)";
	case BMS_E_NAME: return "no unlock from the device's advertised name (the name is not known yet, or not of the protocol's form; nothing written)";
	default: return "unknown error";
	}
}

static const struct {
	const char *name, *label, *text;
} alarm_table[BMS_AL_COUNT] = {
#define BMS_ALARM_ROW_(id, key, meaning) { key, #id, meaning },
	BMS_ALARM_LIST(BMS_ALARM_ROW_)
#undef BMS_ALARM_ROW_
};

const char *bms_alarm_name(unsigned bit)
{
	return bit < BMS_AL_COUNT ? alarm_table[bit].name : NULL;
}

const char *bms_alarm_label(unsigned bit)
{
	return bit < BMS_AL_COUNT ? alarm_table[bit].label : NULL;
}

const char *bms_alarm_text(unsigned bit)
{
	return bit < BMS_AL_COUNT ? alarm_table[bit].text : NULL;
}

size_t bms_rx_feed(struct bms_rx *rx, const uint8_t *p, size_t n)
{
	size_t dropped = 0;
	if (n >= BMS_RX_CAP) {
		dropped = rx->len + (n - BMS_RX_CAP);
		p += n - BMS_RX_CAP;
		n = BMS_RX_CAP;
		rx->len = 0;
	} else if (rx->len + n > BMS_RX_CAP) {
		dropped = rx->len + n - BMS_RX_CAP;
		bms_rx_consume(rx, dropped);
	}
	memcpy(rx->buf + rx->len, p, n);
	rx->len += n;
	return dropped;
}

void bms_rx_consume(struct bms_rx *rx, size_t n)
{
	if (n >= rx->len) {
		rx->len = 0;
		return;
	}
	memmove(rx->buf, rx->buf + n, rx->len - n);
	rx->len -= n;
}

void bms_rx_clear(struct bms_rx *rx)
{
	rx->len = 0;
}

void bms_poll_begin(struct bms_poll *poll, uint8_t address, uint8_t cells_forced, bool invert_current)
{
	uint32_t persist = poll->persist;
	struct bms_kept kept = poll->kept;
	memset(poll, 0, sizeof(*poll));
	poll->persist = persist;
	poll->kept = kept;
	poll->address = address;
	poll->cells_forced = cells_forced;
	poll->invert_current = invert_current;
}

void bms_ident_text(char *dst, size_t cap, const uint8_t *p, size_t n)
{
	size_t k = 0;

	if (cap == 0)
		return;
	for (size_t i = 0; i < n && p[i] != 0; i++) {
		if (p[i] < 0x20 || p[i] > 0x7E)
			continue;
		if (k == 0 && p[i] == ' ')
			continue;
		if (k + 1 < cap)
			dst[k++] = (char)p[i];
	}
	while (k > 0 && dst[k - 1] == ' ')
		k--;
	dst[k] = 0;
}

bool bms_ident_any(const struct bms_ident *id)
{
	return id->vendor[0] || id->model[0] || id->firmware[0] || id->serial[0] || id->pack_serial[0];
}

bool bms_ident_due(const struct bms_poll *poll)
{
	return poll->kept.ident_state == BMS_IDENT_UNKNOWN || poll->link_fresh;
}

void bms_ident_missing(struct bms_poll *poll, bool refused)
{
	if (refused)
		poll->refusals++;
	if (poll->kept.ident_state != BMS_IDENT_HAVE)
		poll->kept.ident_state = bms_ident_any(&poll->kept.ident) ? BMS_IDENT_HAVE : BMS_IDENT_NONE;
}

bool bms_slow_due(const struct bms_poll *poll, uint32_t want)
{
	return poll->refresh || (poll->kept.have & want) != want;
}

void bms_set_cur_limits(struct bms_poll *poll, float ccl_a, float dcl_a, bool keep)
{
	poll->snap.bms_ccl_a = ccl_a;
	poll->snap.bms_dcl_a = dcl_a;
	poll->snap.present |= BMS_HAS_CUR_LIMITS;
	if (keep) {
		poll->kept.ccl_a = ccl_a;
		poll->kept.dcl_a = dcl_a;
		poll->kept.have |= BMS_HAS_CUR_LIMITS;
	}
}

void bms_use_kept_limits(struct bms_poll *poll)
{
	if ((poll->snap.present & BMS_HAS_CUR_LIMITS) || !(poll->kept.have & BMS_HAS_CUR_LIMITS))
		return;
	bms_set_cur_limits(poll, poll->kept.ccl_a, poll->kept.dcl_a, false);
}

uint16_t bms_crc16_modbus(const uint8_t *p, size_t n)
{
	uint16_t crc = 0xFFFF;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
	}
	return crc;
}

bool bms_crc16_modbus_ok(const uint8_t *frame, size_t n)
{
	if (n < 2)
		return false;
	uint16_t crc = bms_crc16_modbus(frame, n - 2);
	return frame[n - 2] == (uint8_t)crc && frame[n - 1] == (uint8_t)(crc >> 8);
}

uint32_t bms_sum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += p[i];
	return s;
}

int bms_request_copy(uint8_t *out, size_t cap, const void *req, size_t n)
{
	if (cap < n || n > INT_MAX)
		return BMS_E_NOSPACE;
	memcpy(out, req, n);
	return (int)n;
}

int bms_finish_at(struct bms_poll *poll, int done)
{
	if (poll->step != done)
		return BMS_E_INVALID;
	return bms_check_pack(&poll->snap, false);
}

int bms_finish_pack(struct bms_poll *poll)
{
	return bms_check_pack(&poll->snap, false);
}

int bms_check_pack(struct bms_snapshot *s, bool allow_zero_volts)
{
	if (!(s->present & BMS_HAS_VOLTAGE) || !(s->present & BMS_HAS_CELLS) || s->ncells == 0)
		return BMS_E_INVALID;
	if (!allow_zero_volts && !(s->voltage > 0.0f))
		return BMS_E_INVALID;
	if (s->ncells < 32)
		s->balance &= (1u << s->ncells) - 1;
	return BMS_OK;
}

uint32_t bms_alarm_map(const uint16_t *words, size_t nwords, const struct bms_alarm_rule *map, size_t n)
{
	uint32_t al = 0;
	for (size_t k = 0; k < n; k++)
		if (map[k].word < nwords && map[k].bit < 16 && (words[map[k].word] >> map[k].bit) & 1u)
			al |= map[k].al;
	return al;
}

void bms_snapshot_derive(struct bms_snapshot *s)
{
	if (!(s->present & BMS_HAS_POWER) && (s->present & BMS_HAS_VOLTAGE) &&
	    (s->present & BMS_HAS_CURRENT)) {
		s->power = s->voltage * s->current;
		s->present |= BMS_HAS_POWER;
	}
}

void bms_snapshot_state(struct bms_snapshot *s, float current_threshold)
{
	if (s->present & BMS_HAS_CURRENT) {
		if (s->current >= current_threshold)
			s->state = 1;
		else if (s->current <= -current_threshold)
			s->state = 2;
	}
}

/* A list that is not every cell (a U-BMS's modules in parallel list one
 * string): the BMS's own highest and lowest, where it gives them beside the
 * list, are cells too; the list's extremes give way to them where they lie
 * beyond (the cell's number then not known: 0). */
static void widen_by_ext(const struct bms_snapshot *s, struct bms_cell_stats *out)
{
	if (!(s->present & BMS_HAS_CELL_EXT) || !s->ext_max_mv || !s->ext_min_mv || s->ext_min_mv > s->ext_max_mv)
		return;
	if (s->ext_max_mv > out->max_mv) {
		out->max_mv = s->ext_max_mv;
		out->max_idx = 0;
	}
	if (s->ext_min_mv < out->min_mv) {
		out->min_mv = s->ext_min_mv;
		out->min_idx = 0;
	}
}

void bms_cell_stats(const struct bms_snapshot *s, struct bms_cell_stats *out)
{
	memset(out, 0, sizeof(*out));
	unsigned n = s->ncells <= BMS_MAX_CELLS ? s->ncells : BMS_MAX_CELLS;
	if (n == 0) {
		if (!(s->present & BMS_HAS_CELL_EXT) || !s->ext_max_mv || !s->ext_min_mv ||
		    s->ext_min_mv > s->ext_max_mv)
			return;
		out->max_mv = s->ext_max_mv;
		out->min_mv = s->ext_min_mv;
		out->max_idx = s->ext_max_cell;
		out->min_idx = s->ext_min_cell;
		out->delta_mv = (uint16_t)(s->ext_max_mv - s->ext_min_mv);
		out->from = BMS_CELLS_EXT;
		return;
	}
	uint32_t sum = 0;
	out->min_mv = UINT16_MAX;
	for (unsigned i = 0; i < n; i++) {
		uint16_t v = s->cell_mv[i];
		sum += v;
		if (v > out->max_mv) {
			out->max_mv = v;
			out->max_idx = (uint8_t)(i + 1);
		}
		if (v < out->min_mv) {
			out->min_mv = v;
			out->min_idx = (uint8_t)(i + 1);
		}
	}
	out->avg_mv = (uint16_t)((sum + n / 2) / n);
	out->from = BMS_CELLS_LIST;
	widen_by_ext(s, out);
	out->delta_mv = (uint16_t)(out->max_mv - out->min_mv);
}

void bms_set_cell_ext(struct bms_snapshot *s, unsigned max_mv, unsigned max_cell, unsigned min_mv, unsigned min_cell)
{
	if (!max_mv || !min_mv)
		return;
	s->ext_max_mv = (uint16_t)(max_mv <= UINT16_MAX ? max_mv : UINT16_MAX);
	s->ext_min_mv = (uint16_t)(min_mv <= UINT16_MAX ? min_mv : UINT16_MAX);
	s->ext_max_cell = (uint8_t)(max_cell <= UINT8_MAX ? max_cell : 0);
	s->ext_min_cell = (uint8_t)(min_cell <= UINT8_MAX ? min_cell : 0);
	s->present |= BMS_HAS_CELL_EXT;
}

static float temp_reading(float t)
{
	return t >= BMS_PLAUSIBLE_MIN_C && t <= BMS_PLAUSIBLE_MAX_C ? t : NAN;
}

void bms_set_temp_ext(struct bms_snapshot *s, float tmax_c, float tmin_c)
{
	s->ext_tmax_c = temp_reading(tmax_c);
	s->ext_tmin_c = temp_reading(tmin_c);
	if (isfinite(s->ext_tmax_c) || isfinite(s->ext_tmin_c))
		s->present |= BMS_HAS_TEMP_EXT;
	else
		s->present &= ~(uint32_t)BMS_HAS_TEMP_EXT;
}

size_t bms_can_record(uint8_t *out, size_t cap, uint32_t id, bool ext, bool rtr, uint8_t dlc,
		      const uint8_t *data)
{
	size_t n = BMS_CAN_HDR + (rtr ? 0u : (size_t)dlc);
	if (dlc > BMS_CAN_MAX_DLC || id > (ext ? 0x1FFFFFFFu : 0x7FFu) || cap < n || (!rtr && dlc && !data))
		return 0;
	out[0] = BMS_CAN_MAGIC0;
	out[1] = BMS_CAN_MAGIC1;
	out[2] = (uint8_t)((ext ? BMS_CAN_EXT : 0u) | (rtr ? BMS_CAN_RTR : 0u));
	for (int i = 0; i < 4; i++)
		out[3 + i] = (uint8_t)(id >> (8 * i));
	out[7] = dlc;
	if (!rtr && dlc)
		memcpy(out + BMS_CAN_HDR, data, dlc);
	return n;
}
