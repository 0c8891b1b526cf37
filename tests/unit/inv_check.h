/* SPDX-License-Identifier: MIT */
/* tests/unit/inv_check.h - what the CAN codec tests share (test_inv_pylon_can.c,
 * test_inv_lux_can.c, test_inv_sma_can.c): a frame compared byte for byte with its
 * layout, the limits a codec reports, the known battery B1, an inverter
 * frame from hex. */
#ifndef TESTS_UNIT_INV_CHECK_H
#define TESTS_UNIT_INV_CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../../gateway/inverter/codec.h"
#include "check.h"

/* Frame f is id with exactly the bytes of hex (its length is the DLC). */
static inline bool frame_is(const struct gw_can_frame *f, uint32_t id, const char *hex)
{
	unsigned char want[8];
	int n = check_hex(hex, want, (int)sizeof(want));

	if (n < 0 || f->id != id || f->dlc != n || f->ext || f->rtr || memcmp(f->data, want, (size_t)n))
		return false;
	for (int i = n; i < 8; i++)
		if (f->data[i])
			return false;
	return true;
}

/* Frame id of codec c (with the extras x) from battery b is hex. */
#define FRAME_X(c, x, id, b, hex) do { \
	struct gw_can_frame f_; \
	memset(&f_, 0, sizeof(f_)); \
	CHECK_EQ_INT(inv_can_frame(c, id, b, x, &f_), 0); \
	if (!frame_is(&f_, id, hex)) { \
		fprintf(stderr, "  %s 0x%03X dlc %u:", (c)->name, (unsigned)(id), f_.dlc); \
		for (int i_ = 0; i_ < f_.dlc && i_ < 8; i_++) \
			fprintf(stderr, " %02X", f_.data[i_]); \
		fprintf(stderr, " (want %s)\n", hex); \
	} \
	CHECK(frame_is(&f_, id, hex)); \
} while (0)
#define FRAME_IS(c, id, b, hex) FRAME_X(c, 0, id, b, hex)

/* The limits codec c reports for battery b (what its set carries) are
 * ccl_da and dcl_da, in 0.1 A. */
#define LIMITS_ARE(c, b, ccl_da, dcl_da) do { \
	struct gw_can_frame s_[INV_CAN_MAX_FRAMES]; \
	struct inv_encoded e_; \
	CHECK(inv_can_encode(c, b, 0, s_, INV_CAN_MAX_FRAMES, &e_) > 0); \
	CHECK(e_.limits); \
	CHECK_EQ_INT(lroundf(e_.ccl_a * 10), ccl_da); \
	CHECK_EQ_INT(lroundf(e_.dcl_a * 10), dcl_da); \
} while (0)

/* B1: 55.2 V / 50 A / 60 A / 46.4 V, SOC 81.6 %, SOH 97.4 %, 53.125 V,
 * -12.34 A, 24.56 degC, 100 Ah, 2 packs, alarms present and none. */
static inline void battery_b1(struct inv_battery *b)
{
	memset(b, 0, sizeof(*b));
	b->present = INV_HAS_LIMITS | INV_HAS_SOC | INV_HAS_SOH | INV_HAS_VOLTAGE | INV_HAS_CURRENT |
		     INV_HAS_TEMP | INV_HAS_FULL | INV_HAS_ALARMS;
	b->cvl_v = 55.2f;
	b->ccl_a = 50;
	b->dcl_a = 60;
	b->dvl_v = 46.4f;
	b->charge_allowed = b->discharge_allowed = true;
	b->soc = 81.6f;
	b->soh = 97.4f;
	b->voltage = 53.125f;   /* 5312.5 x 10 mV: to 5313 */
	b->current = -12.34f;   /* discharging */
	b->temp_c = 24.56f;
	b->full_ah = 100;
	b->packs = 2;
	strcpy(b->manufacturer, "PYLON");
}

/* Frame f is the extended (29-bit) id with exactly the bytes of hex, its
 * length the DLC (the answering HV dialects: pylon-hv-can, solax-can,
 * foxess-can); a difference is printed. */
static inline bool ext_frame_is(const struct gw_can_frame *f, uint32_t id, const char *hex)
{
	unsigned char want[8];
	int n = check_hex(hex, want, (int)sizeof(want));
	bool ok = n >= 0 && f->id == id && f->dlc == n && f->ext && !f->rtr && memcmp(f->data, want, (size_t)n) == 0;

	if (!ok) {
		fprintf(stderr, "  0x%04X%s dlc %u:", (unsigned)f->id, f->ext ? "" : " (11 bits)", f->dlc);
		for (int i = 0; i < f->dlc && i < 8; i++)
			fprintf(stderr, " %02X", f->data[i]);
		fprintf(stderr, " (want 0x%04X %s)\n", (unsigned)id, hex);
	}
	return ok;
}

/* A codec that answers: its answer to the kinds `asked` (and the
 * dialect's state *h, which it may move on; NULL: a fresh one) from
 * battery b under settings cfg, into f[0..INV_CAN_MAX_FRAMES): the number
 * of frames, *e the limits it carries, as invcan.c sends it. */
static inline int inv_answer_h(const struct inv_codec *c, const struct conf_inverter *cfg, struct inv_heard *h,
			       uint32_t asked, const struct inv_battery *b, struct gw_can_frame *f, struct inv_encoded *e)
{
	struct inv_heard fresh;
	memset(&fresh, 0, sizeof(fresh));
	if (!h)
		h = &fresh;
	h->asked = asked;
	int n = inv_can_encode(c, b, 0, f, INV_CAN_MAX_FRAMES, e);
	if (c->can.answer)
		n = c->can.answer(cfg, h, b, f, n, INV_CAN_MAX_FRAMES, e);
	h->asked = 0;
	return n;
}

static inline struct gw_can_frame inv_mk(uint32_t id, bool ext, const char *hex)
{
	struct gw_can_frame f;

	memset(&f, 0, sizeof(f));
	f.id = id;
	f.ext = ext;
	f.dlc = (uint8_t)check_hex(hex, f.data, 8);
	return f;
}

#endif
