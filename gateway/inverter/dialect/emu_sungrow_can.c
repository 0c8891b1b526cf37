/* SPDX-License-Identifier: MIT */
/* gateway/inverter/dialect/emu_sungrow_can.c - the sungrow-can codec: a Sungrow SBR
 * battery of 2 to 8 modules as Sungrow's SH...RS / RT / T hybrids read it
 * (Battery-Emulator's "Sungrow SBRXXX emulation", from captures of a real
 * SBR096; ../PROTOCOLS.md §13).  250 kbit/s, standard (11-bit) identifiers,
 * LITTLE endian, DLC 8.
 *
 * The battery speaks first: once the source has data, its init set every
 * second (0x402, 0x500, 0x401, 0x007-0x00E, 0x512, 0x501-0x506); from the
 * inverter's run frames (0x108, 0x109) on, its run set every second
 * (0x402, 0x500, 0x401, 0x000-0x006, 0x013-0x01E, 0x700-0x706,
 * 0x713-0x719, 0x70F x 8, 0x71A-0x71E, 0x512, 0x501-0x506), back to init on
 * the inverter's 0x101 or 0x191; in both, 0x707-0x70E every 10 s and 0x71F
 * (three a module) every 60 s.  0x0nn and 0x5nn are copies of 0x7nn, but
 * 0x005 byte 1 (the end stop: 1 full, 2 empty) and 0x504 (the current with
 * the sign turned).  The limits (0x501, 0x001, 0x701) and the end stop go
 * at once when a limit falls or the source goes stale.
 *
 * The inverter's Modbus RTU over CAN on 0x1E0 (slave 1, function 03 or 04,
 * registers 0x4DE2-0x4DE7) gets the reply on 0x1E0 in frames of at most 8
 * bytes: the discharge cut-off SOC 5.00 %, the emergency-charge SOC 3.00 %,
 * the idle trigger 2.00 % (in 0.01 %, a real SBR's values) and zeros.
 *
 * The module count (0x705's model id 8420 + modules, 0x707, the module
 * frames) is report_modules, else the nominal voltage over 64 V (an SBR
 * module), held within 2-8. */
#include <string.h>

#include "../../../bms/bms.h"
#include "../canframes.h"
#include "../invident.h"
#include "../invscale.h"

#define SG_INIT 0                 /* struct inv_heard mode: the init set */
#define SG_RUN 1                  /* ... the run set */
#define SG_I (1u << SG_INIT)      /* a frame of the init set only */
#define SG_R (1u << SG_RUN)       /* ... of the run set only */
#define SG_MODULES_MIN 2
#define SG_MODULES_MAX 8
#define SG_MODULE_V 64.0          /* an SBR module's nominal voltage */
#define SG_MODULE_WH 3200         /* ... and its nameplate energy */
#define SG_MODULE_W 1920          /* ... and its continuous power (64 V x 30 A) */
#define SG_MODEL_BASE 8420        /* 0x705 model id: 8420 + modules (SBR064 = 8422) */
#define SG_SLAVE 0x01             /* the battery's Modbus address on 0x1E0 */
#define SG_REG_BASE 0x4DE2        /* the first register it answers */
#define SG_NREGS 6

/* 0x4DE2-0x4DE7: discharge cut-off SOC, 0, emergency-charge SOC, 0, idle
 * trigger SOC, 0 (0.01 %). */
static const uint16_t sg_regs[SG_NREGS] = { 500, 0, 300, 0, 200, 0 };

static void sg_begin(struct gw_can_frame *f, uint32_t id)
{
	inv_cf_begin(f, id, 8);
}

static unsigned sg_modules(const struct inv_battery *b)
{
	return inv_modules(b, inv_scale(inv_nominal_v(b), 1 / SG_MODULE_V, INV_NEAR, 0, 255), SG_MODULES_MIN,
			   SG_MODULES_MAX);
}

static long sg_temp(float t)
{
	return inv_scale(t, 10, INV_NEAR, -0x7FFF, 0x7FFF);
}

static long sg_volt(const struct inv_battery *b)
{
	return inv_has(b, INV_HAS_VOLTAGE, b->voltage) ? inv_scale(b->voltage, 10, INV_NEAR, 0, 0xFFFF) : 0;
}

/* A cell in 0.1 mV (0x714-0x718); 0 without the extremes. */
static long sg_cell01(const struct inv_battery *b, bool max)
{
	if (!(b->present & INV_HAS_CELL_MINMAX))
		return 0;
	return inv_scale(max ? b->cell_max_mv : b->cell_min_mv, 10, INV_NEAR, 0, 0xFFFF);
}

/* ---- the layouts (0x7nn; 0x0nn and 0x5nn their copies) ---- */

/* 0x701: CVL (down), DVL (up), CCL, DCL (down; 0 not allowed). */
static bool sg_limits(const struct inv_battery *b, struct gw_can_frame *f, uint32_t id)
{
	struct inv_cf_limits l;

	inv_cf_limits(b, &l);
	sg_begin(f, id);
	inv_cf_put16x4(f->data, l.cvl, l.dvl, l.ccl, l.dcl);
	return true;
}

/* 0x702: SOC (0.01 %, down), SOH (0.01 %, 100 % unknown), the remaining and
 * the full energy (Wh, held at 65535; 0 unknown). */
static bool sg_charge(const struct inv_battery *b, struct gw_can_frame *f, uint32_t id)
{
	sg_begin(f, id);
	inv_cf_put16(f->data, inv_cf_soc(b, 100, 0));
	inv_cf_put16(f->data + 2, inv_has(b, INV_HAS_SOH, b->soh) ? inv_scale(b->soh, 100, INV_NEAR, 0, 10000) : 10000);
	inv_cf_put16(f->data + 4, inv_scale(inv_remain_wh(b), 1, INV_FLOOR, 0, 0xFFFF));
	inv_cf_put16(f->data + 6, inv_scale(inv_full_wh(b), 1, INV_FLOOR, 0, 0xFFFF));
	return true;
}

/* 0x703: the energy charged and discharged in the battery's life (u32 Wh):
 * not counted for an inverter, 0. */
static bool sg_zeros(const struct inv_battery *b, struct gw_can_frame *f, uint32_t id)
{
	(void)b;
	sg_begin(f, id);
	return true;
}

/* 0x704: voltage (0.1 V), current (s16 0.1 A, + = charging), the voltage
 * again, the hottest sensor (s16 0.1 degC); 0x504 the current's sign turned. */
static bool sg_status(const struct inv_battery *b, struct gw_can_frame *f, uint32_t id)
{
	float hi, lo;
	long i = inv_has(b, INV_HAS_CURRENT, b->current) ? inv_scale(b->current, 10, INV_NEAR, -0x7FFF, 0x7FFF) : 0;

	inv_cf_temp_extremes(b, &hi, &lo);
	sg_begin(f, id);
	inv_cf_put16x4(f->data, sg_volt(b), id == 0x504 ? -i : i, sg_volt(b), sg_temp(hi));
	return true;
}

/* 0x705: 2 (run), the end stop (0x005 only: 1 full while no charge current,
 * 2 empty at SOC 0, else 0), 1, the model id 8420 + modules, the voltage. */
static bool sg_state(const struct inv_battery *b, struct gw_can_frame *f, uint32_t id)
{
	struct inv_cf_limits l;

	inv_cf_limits(b, &l);
	sg_begin(f, id);
	f->data[0] = 0x02;
	if (id == 0x005)
		f->data[1] = !l.ccl ? 1 : inv_cf_soc(b, 1, 0) == 0 ? 2 : 0;
	f->data[2] = 0x01;
	inv_cf_put16(f->data + 3, SG_MODEL_BASE + (long)sg_modules(b));
	inv_cf_put16(f->data + 5, sg_volt(b));
	return true;
}

/* 0x706: the hottest and coldest sensor (s16 0.1 degC), the highest and
 * lowest cell (mV; 0 unknown). */
static bool sg_cells(const struct inv_battery *b, struct gw_can_frame *f, uint32_t id)
{
	float hi, lo;
	bool have = (b->present & INV_HAS_CELL_MINMAX) != 0;

	inv_cf_temp_extremes(b, &hi, &lo);
	sg_begin(f, id);
	inv_cf_put16(f->data, sg_temp(hi));
	inv_cf_put16(f->data + 2, sg_temp(lo));
	inv_cf_put16(f->data + 4, have ? b->cell_max_mv : 0);
	inv_cf_put16(f->data + 6, have ? b->cell_min_mv : 0);
	return true;
}

/* 0x707: firmware .30 / .1, the nameplate energy (3200 Wh a module), the
 * module count. */
static bool sg_config(const struct inv_battery *b, struct gw_can_frame *f, uint32_t id)
{
	unsigned m = sg_modules(b);

	sg_begin(f, id);
	f->data[0] = 0x30;
	f->data[3] = 0x01;
	inv_cf_put16(f->data + 4, SG_MODULE_WH * (long)m);
	f->data[6] = (uint8_t)m;
	return true;
}

/* 0x708 mux 0 / 1: the battery's serial number, the first 14 characters of
 * bmsgw's (invident.h, slot 0). */
static bool sg_serial(const struct inv_battery *b, struct gw_can_frame *f, uint32_t id, unsigned mux)
{
	sg_begin(f, id);
	f->data[0] = (uint8_t)mux;
	inv_serial_part(b, 0, mux, f->data + 1);
	return true;
}

/* Constant frames: bytes as every source sends them (their meaning not
 * known beyond the names: ../PROTOCOLS.md §13). */
static bool sg_const(struct gw_can_frame *f, uint32_t id, const char *bytes)
{
	sg_begin(f, id);
	memcpy(f->data, bytes, 8);
	return true;
}

/* 0x70A mux 0 / 1: "SUNGROW", "\0BRXXX\0"; 0x70B "\0SBRXXX\0"; 0x70D, 0x70E. */
static bool sg_text(const struct inv_battery *b, struct gw_can_frame *f, uint32_t id, unsigned which)
{
	static const char *const t[] = { "\0SUNGROW", "\x01\0BRXXX\0", "\0SBRXXX\0", "\x0F\0\0\0\x0F\0\0\0",
					 "\x07\0\x0F\0\0\0\0\0" };
	(void)b;
	return sg_const(f, id, t[which]);
}

/* 0x713: the sensor and module of the coldest, its temperature, the sensor
 * and module of the hottest, its temperature (positions 0 unknown). */
static bool sg_temps(const struct inv_battery *b, struct gw_can_frame *f, uint32_t id)
{
	float hi, lo;
	bool at = (b->present & INV_HAS_TEMP_MINMAX) != 0;

	inv_cf_temp_extremes(b, &hi, &lo);
	sg_begin(f, id);
	f->data[0] = at ? b->temp_min_at.index : 0;
	f->data[1] = at ? b->temp_min_at.pack : 0;
	inv_cf_put16(f->data + 2, sg_temp(lo));
	f->data[4] = at ? b->temp_max_at.index : 0;
	f->data[5] = at ? b->temp_max_at.pack : 0;
	inv_cf_put16(f->data + 6, sg_temp(hi));
	return true;
}

/* 0x714: the cell and module of the highest cell, it in 0.1 mV, the cell
 * and module of the lowest, it in 0.1 mV (highest first, as a real SBR). */
static bool sg_extremes(const struct inv_battery *b, struct gw_can_frame *f, uint32_t id)
{
	bool at = (b->present & INV_HAS_CELL_MINMAX) != 0;

	sg_begin(f, id);
	f->data[0] = at ? b->cell_max_at.index : 0;
	f->data[1] = at ? b->cell_max_at.pack : 0;
	inv_cf_put16(f->data + 2, sg_cell01(b, true));
	f->data[4] = at ? b->cell_min_at.index : 0;
	f->data[5] = at ? b->cell_min_at.pack : 0;
	inv_cf_put16(f->data + 6, sg_cell01(b, false));
	return true;
}

/* 0x715-0x718: modules 2k+1 and 2k+2, each its lowest and highest cell in
 * 0.1 mV: the source's, as Battery-Emulator gives every module (bmsgw has
 * no cells per module of a pack); zeros past the module count. */
static bool sg_module_cells(const struct inv_battery *b, struct gw_can_frame *f, uint32_t id, unsigned k)
{
	unsigned m = sg_modules(b);

	sg_begin(f, id);
	for (unsigned j = 0; j < 2; j++)
		if (2 * k + j < m) {
			inv_cf_put16(f->data + 4 * j, sg_cell01(b, false));
			inv_cf_put16(f->data + 4 * j + 2, sg_cell01(b, true));
		}
	return true;
}

/* 0x71A: cell type 0x44 ("non-IEC") for each module; 0x71B-0x71E (k 0-3):
 * modules 2k+1 and 2k+2's production date, every source's 3F 7A 6F 01. */
static bool sg_module_info(const struct inv_battery *b, struct gw_can_frame *f, uint32_t id, unsigned k)
{
	static const uint8_t date[4] = { 0x3F, 0x7A, 0x6F, 0x01 };
	unsigned m = sg_modules(b);

	sg_begin(f, id);
	for (unsigned j = 0; j < 8; j++) {
		if (k == 4 && j < m)
			f->data[j] = 0x44;
		else if (k < 4 && j < 2 && 2 * k + j < m)
			memcpy(f->data + 4 * j, date, 4);
	}
	return true;
}

/* 0x70F mux 0-7: mux 0 5000 and the continuous power (1920 W a module,
 * live and rated); 1-4 frozen values of a real SBR (their meaning not
 * known); 5-7 the SOC (0.01 %) of modules 3(mux-5)+1 ... */
static bool sg_mux(const struct inv_battery *b, struct gw_can_frame *f, uint32_t id, unsigned mux)
{
	static const char *const frozen[] = { "", "\x01\0\0\0\0\0\0\0", "\x02\0\x70\x20\0\0\x92\x09",
					      "\x03\0\xFD\x1D\0\0\xCE\x26", "\x04\0\x0C\x06\0\0\0\0" };
	unsigned m = sg_modules(b);

	if (mux >= 1 && mux <= 4)
		return sg_const(f, id, frozen[mux]);
	sg_begin(f, id);
	f->data[0] = (uint8_t)mux;
	if (mux == 0) {
		f->data[2] = 0x88;
		f->data[3] = 0x13;
		inv_cf_put16(f->data + 4, SG_MODULE_W * (long)m);
		inv_cf_put16(f->data + 6, SG_MODULE_W * (long)m);
		return true;
	}
	for (unsigned j = 0; j < 3; j++)
		if (3 * (mux - 5) + j < m)
			inv_cf_put16(f->data + 2 + 2 * j, inv_cf_soc(b, 100, 0));
	return true;
}

/* 0x71F: module (k / 3 + 1)'s serial number, fragment k % 3 + 1: six
 * characters of bmsgw's serial of that slot (invident.h); none past the
 * module count. */
static bool sg_module_serial(const struct inv_battery *b, struct gw_can_frame *f, unsigned k)
{
	uint8_t s[21];
	unsigned mod = k / 3 + 1, part = k % 3;

	if (mod > sg_modules(b))
		return false;
	for (unsigned p = 0; p < 3; p++)
		inv_serial_part(b, mod, p, s + 7 * p);
	sg_begin(f, 0x71F);
	f->data[0] = (uint8_t)mod;
	f->data[1] = (uint8_t)(part + 1);
	memcpy(f->data + 2, s + 6 * part, 6);
	return true;
}

static bool sg_head(const struct inv_battery *b, struct gw_can_frame *f, uint32_t id)
{
	if (id == 0x402)
		return sg_const(f, id, "\0\0\x55\0\0\0\0\0");
	if (id != 0x500)
		return sg_zeros(b, f, id); /* 0x401, 0x512 */
	sg_const(f, id, "\x01\x01\x03\xFF\0\x01\0\0");
	f->data[7] = (uint8_t)inv_cf_soc(b, 1, 0);
	return true;
}

/* ---- the frame table ---- */

#define SG_FN(fn, id)                                                                                              \
	static bool fn##_##id(const struct inv_battery *b, struct gw_can_frame *f)                                  \
	{                                                                                                           \
		return fn(b, f, id);                                                                                \
	}
#define SG_FN_K(fn, id, k)                                                                                         \
	static bool fn##_##id##_##k(const struct inv_battery *b, struct gw_can_frame *f)                            \
	{                                                                                                           \
		return fn(b, f, id, k);                                                                             \
	}
#define SG_SERIAL(k)                                                                                               \
	static bool sg_module_serial_##k(const struct inv_battery *b, struct gw_can_frame *f)                       \
	{                                                                                                           \
		return sg_module_serial(b, f, k);                                                                   \
	}

SG_FN(sg_head, 0x402) SG_FN(sg_head, 0x500) SG_FN(sg_head, 0x401) SG_FN(sg_head, 0x512)
SG_FN(sg_zeros, 0x000) SG_FN(sg_zeros, 0x700) SG_FN(sg_zeros, 0x003) SG_FN(sg_zeros, 0x503)
SG_FN(sg_zeros, 0x703) SG_FN(sg_zeros, 0x009) SG_FN(sg_zeros, 0x709)
SG_FN(sg_limits, 0x001) SG_FN(sg_limits, 0x501) SG_FN(sg_limits, 0x701)
SG_FN(sg_charge, 0x002) SG_FN(sg_charge, 0x502) SG_FN(sg_charge, 0x702)
SG_FN(sg_status, 0x004) SG_FN(sg_status, 0x504) SG_FN(sg_status, 0x704)
SG_FN(sg_state, 0x005) SG_FN(sg_state, 0x505) SG_FN(sg_state, 0x705)
SG_FN(sg_cells, 0x006) SG_FN(sg_cells, 0x506) SG_FN(sg_cells, 0x706)
SG_FN(sg_config, 0x007) SG_FN(sg_config, 0x707)
SG_FN(sg_temps, 0x013) SG_FN(sg_temps, 0x713) SG_FN(sg_extremes, 0x014) SG_FN(sg_extremes, 0x714)
SG_FN_K(sg_serial, 0x008, 0) SG_FN_K(sg_serial, 0x008, 1) SG_FN_K(sg_serial, 0x708, 0) SG_FN_K(sg_serial, 0x708, 1)
SG_FN_K(sg_text, 0x00A, 0) SG_FN_K(sg_text, 0x00A, 1) SG_FN_K(sg_text, 0x00B, 2) SG_FN_K(sg_text, 0x00D, 3)
SG_FN_K(sg_text, 0x00E, 4) SG_FN_K(sg_text, 0x70A, 0) SG_FN_K(sg_text, 0x70A, 1) SG_FN_K(sg_text, 0x70B, 2)
SG_FN_K(sg_text, 0x70D, 3) SG_FN_K(sg_text, 0x70E, 4)
SG_FN_K(sg_module_cells, 0x015, 0) SG_FN_K(sg_module_cells, 0x016, 1) SG_FN_K(sg_module_cells, 0x017, 2)
SG_FN_K(sg_module_cells, 0x018, 3) SG_FN_K(sg_module_cells, 0x715, 0) SG_FN_K(sg_module_cells, 0x716, 1)
SG_FN_K(sg_module_cells, 0x717, 2) SG_FN_K(sg_module_cells, 0x718, 3)
SG_FN_K(sg_module_info, 0x01A, 4) SG_FN_K(sg_module_info, 0x01B, 0) SG_FN_K(sg_module_info, 0x01C, 1)
SG_FN_K(sg_module_info, 0x01D, 2) SG_FN_K(sg_module_info, 0x01E, 3) SG_FN_K(sg_module_info, 0x71A, 4)
SG_FN_K(sg_module_info, 0x71B, 0) SG_FN_K(sg_module_info, 0x71C, 1) SG_FN_K(sg_module_info, 0x71D, 2)
SG_FN_K(sg_module_info, 0x71E, 3)
SG_FN_K(sg_mux, 0x70F, 0) SG_FN_K(sg_mux, 0x70F, 1) SG_FN_K(sg_mux, 0x70F, 2) SG_FN_K(sg_mux, 0x70F, 3)
SG_FN_K(sg_mux, 0x70F, 4) SG_FN_K(sg_mux, 0x70F, 5) SG_FN_K(sg_mux, 0x70F, 6) SG_FN_K(sg_mux, 0x70F, 7)
SG_SERIAL(0) SG_SERIAL(1) SG_SERIAL(2) SG_SERIAL(3) SG_SERIAL(4) SG_SERIAL(5) SG_SERIAL(6) SG_SERIAL(7)
SG_SERIAL(8) SG_SERIAL(9) SG_SERIAL(10) SG_SERIAL(11) SG_SERIAL(12) SG_SERIAL(13) SG_SERIAL(14) SG_SERIAL(15)
SG_SERIAL(16) SG_SERIAL(17) SG_SERIAL(18) SG_SERIAL(19) SG_SERIAL(20) SG_SERIAL(21) SG_SERIAL(22) SG_SERIAL(23)

/* 0x019, 0x719: 02 then zeros (a constant of every source). */
static bool sg_0x019(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	return sg_const(f, 0x019, "\x02\0\0\0\0\0\0\0");
}

static bool sg_0x719(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	return sg_const(f, 0x719, "\x02\0\0\0\0\0\0\0");
}

#define SG_F(id, fn) { id, fn }
static const struct inv_can_frame_fn sg_frames[] = {
	/* every second: the head (both sets) */
	SG_F(0x402, sg_head_0x402), SG_F(0x500, sg_head_0x500), SG_F(0x401, sg_head_0x401),
	/* the init set's own (copies of the 10 s frames) */
	SG_F(0x007, sg_config_0x007), SG_F(0x008, sg_serial_0x008_0), SG_F(0x008, sg_serial_0x008_1),
	SG_F(0x009, sg_zeros_0x009), SG_F(0x00A, sg_text_0x00A_0), SG_F(0x00A, sg_text_0x00A_1),
	SG_F(0x00B, sg_text_0x00B_2), SG_F(0x00D, sg_text_0x00D_3), SG_F(0x00E, sg_text_0x00E_4),
	/* the run set's own: group A */
	SG_F(0x000, sg_zeros_0x000), SG_F(0x001, sg_limits_0x001), SG_F(0x002, sg_charge_0x002),
	SG_F(0x003, sg_zeros_0x003), SG_F(0x004, sg_status_0x004), SG_F(0x005, sg_state_0x005),
	SG_F(0x006, sg_cells_0x006), SG_F(0x013, sg_temps_0x013), SG_F(0x014, sg_extremes_0x014),
	SG_F(0x015, sg_module_cells_0x015_0), SG_F(0x016, sg_module_cells_0x016_1),
	SG_F(0x017, sg_module_cells_0x017_2), SG_F(0x018, sg_module_cells_0x018_3), SG_F(0x019, sg_0x019),
	SG_F(0x01A, sg_module_info_0x01A_4), SG_F(0x01B, sg_module_info_0x01B_0), SG_F(0x01C, sg_module_info_0x01C_1),
	SG_F(0x01D, sg_module_info_0x01D_2), SG_F(0x01E, sg_module_info_0x01E_3),
	/* group B */
	SG_F(0x700, sg_zeros_0x700), SG_F(0x701, sg_limits_0x701), SG_F(0x702, sg_charge_0x702),
	SG_F(0x703, sg_zeros_0x703), SG_F(0x704, sg_status_0x704), SG_F(0x705, sg_state_0x705),
	SG_F(0x706, sg_cells_0x706), SG_F(0x713, sg_temps_0x713), SG_F(0x714, sg_extremes_0x714),
	SG_F(0x715, sg_module_cells_0x715_0), SG_F(0x716, sg_module_cells_0x716_1),
	SG_F(0x717, sg_module_cells_0x717_2), SG_F(0x718, sg_module_cells_0x718_3), SG_F(0x719, sg_0x719),
	/* group C */
	SG_F(0x70F, sg_mux_0x70F_0), SG_F(0x70F, sg_mux_0x70F_1), SG_F(0x70F, sg_mux_0x70F_2),
	SG_F(0x70F, sg_mux_0x70F_3), SG_F(0x70F, sg_mux_0x70F_4), SG_F(0x70F, sg_mux_0x70F_5),
	SG_F(0x70F, sg_mux_0x70F_6), SG_F(0x70F, sg_mux_0x70F_7), SG_F(0x71A, sg_module_info_0x71A_4),
	SG_F(0x71B, sg_module_info_0x71B_0), SG_F(0x71C, sg_module_info_0x71C_1),
	SG_F(0x71D, sg_module_info_0x71D_2), SG_F(0x71E, sg_module_info_0x71E_3),
	/* every second: the tail (both sets) */
	SG_F(0x512, sg_head_0x512), SG_F(0x501, sg_limits_0x501), SG_F(0x502, sg_charge_0x502),
	SG_F(0x503, sg_zeros_0x503), SG_F(0x504, sg_status_0x504), SG_F(0x505, sg_state_0x505),
	SG_F(0x506, sg_cells_0x506),
	/* every 10 s */
	SG_F(0x707, sg_config_0x707), SG_F(0x708, sg_serial_0x708_0), SG_F(0x708, sg_serial_0x708_1),
	SG_F(0x709, sg_zeros_0x709), SG_F(0x70A, sg_text_0x70A_0), SG_F(0x70A, sg_text_0x70A_1),
	SG_F(0x70B, sg_text_0x70B_2), SG_F(0x70D, sg_text_0x70D_3), SG_F(0x70E, sg_text_0x70E_4),
	/* every 60 s: three a module */
	SG_F(0x71F, sg_module_serial_0), SG_F(0x71F, sg_module_serial_1), SG_F(0x71F, sg_module_serial_2),
	SG_F(0x71F, sg_module_serial_3), SG_F(0x71F, sg_module_serial_4), SG_F(0x71F, sg_module_serial_5),
	SG_F(0x71F, sg_module_serial_6), SG_F(0x71F, sg_module_serial_7), SG_F(0x71F, sg_module_serial_8),
	SG_F(0x71F, sg_module_serial_9), SG_F(0x71F, sg_module_serial_10), SG_F(0x71F, sg_module_serial_11),
	SG_F(0x71F, sg_module_serial_12), SG_F(0x71F, sg_module_serial_13), SG_F(0x71F, sg_module_serial_14),
	SG_F(0x71F, sg_module_serial_15), SG_F(0x71F, sg_module_serial_16), SG_F(0x71F, sg_module_serial_17),
	SG_F(0x71F, sg_module_serial_18), SG_F(0x71F, sg_module_serial_19), SG_F(0x71F, sg_module_serial_20),
	SG_F(0x71F, sg_module_serial_21), SG_F(0x71F, sg_module_serial_22), SG_F(0x71F, sg_module_serial_23),
};
#define SG_NFRAMES (sizeof(sg_frames) / sizeof(sg_frames[0]))
#define SG_TAIL 58 /* sg_frames[SG_TAIL] is 0x512, the first of the tail; 0x501 follows */

/* The periods, by the table's groups: 1 s (head, init's own, run's own,
 * tail), 10 s, 60 s; the limits and the end stop at once. */
#define P1 { 1, false, 0 }
#define P1I { 1, false, SG_I }
#define P1R { 1, false, SG_R }
#define PNOW { 1, true, 0 }
#define PNOWR { 1, true, SG_R }
#define P10 { 10, false, 0 }
#define P60 { 60, false, 0 }
static const struct inv_can_period sg_periods[SG_NFRAMES] = {
	P1, P1, P1,
	P1I, P1I, P1I, P1I, P1I, P1I, P1I, P1I, P1I,
	P1R, PNOWR, P1R, P1R, P1R, PNOWR, P1R, P1R, P1R, P1R, P1R, P1R, P1R, P1R, P1R, P1R, P1R, P1R, P1R,
	P1R, PNOWR, P1R, P1R, P1R, P1R, P1R, P1R, P1R, P1R, P1R, P1R, P1R, P1R,
	P1R, P1R, P1R, P1R, P1R, P1R, P1R, P1R, P1R, P1R, P1R, P1R, P1R,
	P1, PNOW, P1, P1, P1, P1, P1,
	P10, P10, P10, P10, P10, P10, P10, P10, P10,
	P60, P60, P60, P60, P60, P60, P60, P60, P60, P60, P60, P60,
	P60, P60, P60, P60, P60, P60, P60, P60, P60, P60, P60, P60,
};

static const char *const sg_mode_names[] = { "init", "run" };

/* Is f a Modbus RTU request the battery answers (slave 1, 03 or 04 from
 * 0x4DE2, the CRC right)?  *bad: a 0x1E0 that is no request at all. */
static bool sg_modbus(const struct gw_can_frame *f, bool *bad)
{
	*bad = f->dlc != 8 || !bms_crc16_modbus_ok(f->data, 8);
	return !*bad && f->data[0] == SG_SLAVE && (f->data[1] == 0x03 || f->data[1] == 0x04) &&
	       (f->data[2] << 8 | f->data[3]) == SG_REG_BASE;
}

/* The inverter (11 bits): 0x101 (its init, with the time) and 0x191 (it
 * seeks a battery) start the init set, 0x108 and 0x109 the run set; 0x100,
 * 0x102-0x107, 0x151 are heard; 0x1E0 is Modbus. */
static enum inv_rx sg_heard(const struct gw_can_frame *f, struct inv_heard *h)
{
	bool bad;

	if (f->rtr || f->ext || f->dlc > GW_CAN_MAX_DLC)
		return INV_RX_OTHER;
	if ((f->id < 0x100 || f->id > 0x109) && f->id != 0x151 && f->id != 0x191 && f->id != 0x1E0)
		return INV_RX_OTHER;
	h->frames++;
	if (f->id == 0x101 || f->id == 0x191)
		h->mode = SG_INIT;
	else if (f->id == 0x108 || f->id == 0x109)
		h->mode = SG_RUN;
	if (f->id != 0x1E0)
		return INV_RX_ALIVE;
	if (sg_modbus(f, &bad))
		return INV_RX_REQUEST;
	return bad ? INV_RX_BAD : INV_RX_ALIVE;
}

/* The Modbus reply: slave, function, byte count, the registers asked (1-6,
 * big endian), the CRC (low byte first), on 0x1E0 in frames of 8 bytes. */
static int sg_reply(const struct gw_can_frame *req, const struct inv_battery *b, struct gw_can_frame *out, int cap)
{
	uint8_t r[3 + 2 * SG_NREGS + 2];
	bool bad;
	unsigned n, len = 0;
	int k = 0;

	(void)b;
	if (req->id != 0x1E0 || req->ext || req->rtr || !sg_modbus(req, &bad))
		return 0;
	n = (unsigned)(req->data[4] << 8 | req->data[5]);
	if (n < 1 || n > SG_NREGS)
		return 0;
	r[len++] = SG_SLAVE;
	r[len++] = req->data[1];
	r[len++] = (uint8_t)(2 * n);
	for (unsigned i = 0; i < n; i++) {
		r[len++] = (uint8_t)(sg_regs[i] >> 8);
		r[len++] = (uint8_t)(sg_regs[i] & 0xFF);
	}
	uint16_t crc = bms_crc16_modbus(r, len);
	r[len++] = (uint8_t)(crc & 0xFF);
	r[len++] = (uint8_t)(crc >> 8);
	for (unsigned at = 0; at < len && k < cap; at += 8, k++) {
		unsigned c = len - at < 8 ? len - at : 8;
		inv_cf_begin(&out[k], 0x1E0, (uint8_t)c);
		memcpy(out[k].data, r + at, c);
	}
	return k;
}

const struct inv_codec inv_codec_sungrow_can = {
	.name = "sungrow-can",
	.can = {
		.frames = sg_frames,
		.nframes = SG_NFRAMES,
		.heard = sg_heard,
		.limits = inv_cf_encoded, /* as 0x701 / 0x501 / 0x001 carry them */
		.periods = sg_periods,
		.mode_names = sg_mode_names,
		.nmodes = 2,
		.start = INV_START_DATA,
		.limits_frame = SG_TAIL + 1,
		.reply = sg_reply,
	},
};
