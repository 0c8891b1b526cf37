/* SPDX-License-Identifier: MIT */
/* gateway/inverter/dialect/emu_growatt_rs485.c - bmsgw as a battery on a Growatt
 * inverter's RS485 port (protocol growatt-rs485, EXPERIMENTAL): a Modbus
 * RTU slave (address 1 by default, 9600 8N1) answering function 03 and 04
 * over a 19-register image (gateway/inverter/PROTOCOLS.md §6a: register 0
 * the voltage in 0.1 V, 5 the SOC in %, 9 the charge and 10 the discharge
 * current limit in 0.01 A, the others 0).  Growatt's own RS485 document
 * is not public; the image is the only one reported working on a real
 * Growatt inverter.
 *
 * The framer is the Modbus RTU one the slaves share (mbrtu.c): frames
 * found in the byte stream without timing, a bad CRC counted and never
 * answered.  Pure: no I/O, no globals. */
#include <string.h>

#include "../codec.h"
#include "../invscale.h"
#include "../mbrtu.h"

#define GW485_REGS 19           /* the image: registers 0..18 */
#define GW485_REG_VOLT 0        /* 0.1 V */
#define GW485_REG_SOC 5         /* % */
#define GW485_REG_CCL 9         /* 0.01 A */
#define GW485_REG_DCL 10        /* 0.01 A */

/* ---- the answer ---- */

/* The 19 registers from b. */
static void gw485_image(const struct inv_battery *b, uint16_t *r, struct inv_encoded *e)
{
	memset(r, 0, GW485_REGS * sizeof(*r));
	if (inv_has(b, INV_HAS_VOLTAGE, b->voltage))
		r[GW485_REG_VOLT] = (uint16_t)inv_scale(b->voltage, 10, INV_NEAR, 0, 0xFFFF);
	if (inv_has(b, INV_HAS_SOC, b->soc))
		r[GW485_REG_SOC] = (uint16_t)inv_scale(b->soc, 1, INV_FLOOR, 0, 100);
	if (b->present & INV_HAS_LIMITS) {
		/* a direction not allowed (and every current while stale) is 0 */
		r[GW485_REG_CCL] = (uint16_t)(b->charge_allowed ? inv_scale(b->ccl_a, 100, INV_DOWN, 0, 0xFFFF) : 0);
		r[GW485_REG_DCL] = (uint16_t)(b->discharge_allowed ? inv_scale(b->dcl_a, 100, INV_DOWN, 0, 0xFFFF) : 0);
	}
	e->ccl_a = r[GW485_REG_CCL] / 100.0f;
	e->dcl_a = r[GW485_REG_DCL] / 100.0f;
}

static int gw485_answer(const struct conf_inverter *c, struct inv_485_kept *kept, const struct inv_battery *b,
			const uint8_t *req, size_t n, uint8_t *out, size_t cap, struct inv_encoded *e)
{
	(void)kept; /* it keeps nothing the inverter writes */
	uint16_t r[GW485_REGS];

	memset(e, 0, sizeof(*e));
	/* not ours; or no data (the output answers nothing before the
	 * source's first data: zeros are never sent as data) */
	if (!inv_mb_ours(c, req, n) || !(b->present & INV_HAS_LIMITS) || !(b->present & INV_HAS_SOC))
		return 0;
	if (req[1] != 3 && req[1] != 4)
		return inv_mb_exception(req, INV_MB_EX_FUNCTION, out, cap);
	unsigned start = inv_mb_u16(req + 2), qty = inv_mb_u16(req + 4);
	if (qty < 1 || qty > INV_MB_READ_MAX)
		return inv_mb_exception(req, INV_MB_EX_VALUE, out, cap);
	if (start + qty > GW485_REGS)
		return inv_mb_exception(req, INV_MB_EX_ADDRESS, out, cap);
	struct inv_encoded got = { 0 };
	gw485_image(b, r, &got);
	int len = inv_mb_registers(req, r + start, qty, out, cap);
	/* the limits it told: only an answer with both current registers */
	if (len > 0 && start <= GW485_REG_CCL && start + qty > GW485_REG_DCL) {
		*e = got;
		e->limits = true;
	}
	return len;
}

const struct inv_codec inv_codec_growatt_rs485 = {
	.name = "growatt-rs485",
	.rs485 = {
		.scan = inv_mb_scan,
		.ours = inv_mb_ours,
		.answer = gw485_answer,
	},
};
