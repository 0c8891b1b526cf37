/* gateway/inverter/pylon_can.c - Pylontech LV CAN V1.2 and SMA Sunny Island
 * frame sets from a struct inv_battery, and the inverter's frames back.
 * gateway/inverter/PROTOCOLS.md §1 (pylon), §2 (sma), §3 (inverter
 * frames), §4 (scaling, rounding, clamping).  See pylon_can.h. */
#include "pylon_can.h"

#include <string.h>

#include "invscale.h"

#define PC_SMA_INVALID_U16 0xFFFFu /* SMA: an unsigned field not given */
#define PC_SMA_INVALID_S16 0x8000u /* SMA: a signed field not given */
/* SMA Sunny Island's accepted ranges, in field units (0.1 V, 0.1 A). */
#define PC_SMA_CVL_MIN 410
#define PC_SMA_CVL_MAX 630
#define PC_SMA_DVL_MIN 410
#define PC_SMA_DVL_MAX 480
#define PC_SMA_CUR_MAX 12000

static const char pc_default_manufacturer[] = "PYLON";

static void pc_put16(uint8_t *p, long v)
{
	unsigned u = (unsigned)v & 0xFFFFu;

	p[0] = (uint8_t)(u & 0xFFu);
	p[1] = (uint8_t)(u >> 8);
}

static void pc_begin(struct gw_can_frame *f, uint32_t id, uint8_t dlc)
{
	memset(f, 0, sizeof(*f));
	f->id = id;
	f->dlc = dlc;
}

/* The limits as field values (0.1 V, 0.1 A), the currents 0 when the
 * flags forbid them or no limits are known. */
struct pc_limits {
	long cvl, ccl, dcl, dvl;
};

static void pc_limits(const struct inv_battery *b, struct pc_limits *l)
{
	bool have = (b->present & INV_HAS_LIMITS) != 0;

	l->cvl = have ? inv_scale(b->cvl_v, 10, INV_DOWN, 0, 0xFFFF) : 0;
	l->dvl = have ? inv_scale(b->dvl_v, 10, INV_UP, 0, 0xFFFF) : 0;
	l->ccl = have && b->charge_allowed ? inv_scale(b->ccl_a, 10, INV_DOWN, 0, 0x7FFF) : 0;
	l->dcl = have && b->discharge_allowed ? inv_scale(b->dcl_a, 10, INV_DOWN, 0, 0x7FFF) : 0;
}

/* 0x351: CVL, CCL, DCL (u16/s16/s16) and DVL.  Pylon sends DVL too, as the
 * real battery does; SMA clamps to the Sunny Island's ranges, toward the
 * safe side (a clamp that would allow more stops that current). */
static void pc_351(enum pylon_can_dialect d, const struct inv_battery *b, struct gw_can_frame *f)
{
	struct pc_limits l;

	pc_limits(b, &l);
	pc_begin(f, 0x351, 8);
	if (d == PYLON_CAN_SMA) {
		if (l.cvl < PC_SMA_CVL_MIN) {
			l.cvl = PC_SMA_CVL_MIN;
			l.ccl = 0;
		}
		if (l.cvl > PC_SMA_CVL_MAX)
			l.cvl = PC_SMA_CVL_MAX;
		if (l.dvl > PC_SMA_DVL_MAX) {
			l.dvl = PC_SMA_DVL_MAX;
			l.dcl = 0;
		}
		if (l.dvl < PC_SMA_DVL_MIN)
			l.dvl = PC_SMA_DVL_MIN;
		if (l.ccl > PC_SMA_CUR_MAX)
			l.ccl = PC_SMA_CUR_MAX;
		if (l.dcl > PC_SMA_CUR_MAX)
			l.dcl = PC_SMA_CUR_MAX;
		if (!(b->present & INV_HAS_LIMITS))
			l.cvl = l.dvl = PC_SMA_INVALID_U16;
	}
	pc_put16(f->data, l.cvl);
	pc_put16(f->data + 2, l.ccl);
	pc_put16(f->data + 4, l.dcl);
	pc_put16(f->data + 6, l.dvl);
}

/* 0x355: SOC, SOH (1 %); SMA adds the SOC in 0.01 %. */
static void pc_355(enum pylon_can_dialect d, const struct inv_battery *b, struct gw_can_frame *f)
{
	bool soc = inv_has(b, INV_HAS_SOC, b->soc), soh = inv_has(b, INV_HAS_SOH, b->soh);

	if (d == PYLON_CAN_PYLON) {
		pc_begin(f, 0x355, 4);
		pc_put16(f->data, soc ? inv_scale(b->soc, 1, INV_NEAR, 0, 100) : 0);
		pc_put16(f->data + 2, soh ? inv_scale(b->soh, 1, INV_NEAR, 0, 100) : 100);
		return;
	}
	pc_begin(f, 0x355, 8);
	pc_put16(f->data, soc ? inv_scale(b->soc, 1, INV_NEAR, 0, 100) : PC_SMA_INVALID_U16);
	pc_put16(f->data + 2, soh ? inv_scale(b->soh, 1, INV_NEAR, 0, 100) : PC_SMA_INVALID_U16);
	pc_put16(f->data + 4, soc ? inv_scale(b->soc, 100, INV_NEAR, 0, 10000) : PC_SMA_INVALID_U16);
	pc_put16(f->data + 6, PC_SMA_INVALID_U16);
}

/* 0x356: voltage (s16 0.01 V), current (s16 0.1 A, + = charging),
 * temperature (s16 0.1 degC).  -32768 is never sent: it is SMA's invalid. */
static void pc_356(enum pylon_can_dialect d, const struct inv_battery *b, struct gw_can_frame *f)
{
	long none = d == PYLON_CAN_SMA ? (long)PC_SMA_INVALID_S16 : 0;

	pc_begin(f, 0x356, d == PYLON_CAN_SMA ? 8 : 6);
	pc_put16(f->data, inv_has(b, INV_HAS_VOLTAGE, b->voltage) ?
		 inv_scale(b->voltage, 100, INV_NEAR, 0, 0x7FFF) : none);
	pc_put16(f->data + 2, inv_has(b, INV_HAS_CURRENT, b->current) ?
		 inv_scale(b->current, 10, INV_NEAR, -0x7FFF, 0x7FFF) : none);
	pc_put16(f->data + 4, inv_has(b, INV_HAS_TEMP, b->temp_c) ?
		 inv_scale(b->temp_c, 10, INV_NEAR, -0x7FFF, 0x7FFF) : none);
	if (d == PYLON_CAN_SMA)
		pc_put16(f->data + 6, PC_SMA_INVALID_U16);
}

#define PC_OV (BMS_AL_CELL_OV | BMS_AL_PACK_OV)
#define PC_UV (BMS_AL_CELL_UV | BMS_AL_PACK_UV)
#define PC_OT (BMS_AL_CHG_OT | BMS_AL_DSG_OT | BMS_AL_MOS_OT)
#define PC_UT (BMS_AL_CHG_UT | BMS_AL_DSG_UT)
#define PC_DOC (BMS_AL_DSG_OC | BMS_AL_SHORT)
#define PC_SYS (BMS_AL_HW_FAULT | BMS_AL_MOS_FAULT | BMS_AL_SENSOR | BMS_AL_OTHER)

/* Byte 0 (protection) and byte 2 (alarm) share one layout. */
static uint8_t pc_359_level(uint32_t a)
{
	return (uint8_t)(((a & PC_OV) ? 0x02 : 0) | ((a & PC_UV) ? 0x04 : 0) |
			 ((a & PC_OT) ? 0x08 : 0) | ((a & PC_UT) ? 0x10 : 0) |
			 ((a & PC_DOC) ? 0x80 : 0));
}

/* 0x359: protection bytes 0-1, alarm bytes 2-3, packs, "PN" (DLC 7). */
static void pc_359(const struct inv_battery *b, struct gw_can_frame *f)
{
	uint32_t p = 0, w = 0;

	if (b->present & INV_HAS_ALARMS) {
		p = b->protect;
		w = b->warn;
	}
	pc_begin(f, 0x359, 7);
	f->data[0] = pc_359_level(p);
	f->data[1] = (uint8_t)(((p & BMS_AL_CHG_OC) ? 0x01 : 0) | ((p & PC_SYS) ? 0x08 : 0));
	f->data[2] = pc_359_level(w);
	f->data[3] = (uint8_t)(((w & BMS_AL_CHG_OC) ? 0x01 : 0) |
			       (((p | w) & BMS_AL_COMM) ? 0x08 : 0));
	f->data[4] = (uint8_t)(b->packs == 0 ? 1 : (b->packs > 255 ? 255 : b->packs));
	f->data[5] = 'P';
	f->data[6] = 'N';
}

/* 0x35C: request flags (DLC 2).  Force charge sets both bits, as
 * Pylontech's RS485 document advises for its twin byte. */
static void pc_35c(const struct inv_battery *b, struct gw_can_frame *f)
{
	uint8_t v = 0;

	pc_begin(f, 0x35C, 2);
	if (b->present & INV_HAS_LIMITS) {
		if (b->charge_allowed)
			v |= 0x80;
		if (b->discharge_allowed)
			v |= 0x40;
		if (b->force_charge)
			v |= 0x20 | 0x10;
		if (b->full_charge_request)
			v |= 0x08;
	}
	f->data[0] = v;
}

/* 0x35E: manufacturer, 8 ASCII characters padded with spaces. */
static void pc_35e(const struct inv_battery *b, struct gw_can_frame *f)
{
	const char *m = b->manufacturer[0] ? b->manufacturer : pc_default_manufacturer;
	size_t i;

	pc_begin(f, 0x35E, 8);
	for (i = 0; i < 8 && i < INV_MANUFACTURER_MAX && m[i]; i++)
		f->data[i] = (m[i] >= 0x20 && m[i] < 0x7F) ? (uint8_t)m[i] : (uint8_t)'?';
	for (; i < 8; i++)
		f->data[i] = ' ';
}

/* SMA 0x35A: 16 alarm and 16 warning messages, 2 bits each: "arrive"
 * (bit 2k) set while active, "leave" (bit 2k+1) set while not, so every
 * frame states the whole truth.  Messages 14-16 are reserved for SMA. */
static const uint32_t pc_sma_msgs[13] = {
	BMS_AL_OTHER | BMS_AL_TEMP_DIFF,          /* 1 general */
	PC_OV,                                    /* 2 battery high voltage */
	PC_UV,                                    /* 3 battery low voltage */
	BMS_AL_DSG_OT | BMS_AL_MOS_OT,            /* 4 battery high temperature */
	BMS_AL_DSG_UT,                            /* 5 battery low temperature */
	BMS_AL_CHG_OT,                            /* 6 high temperature charge */
	BMS_AL_CHG_UT,                            /* 7 low temperature charge */
	BMS_AL_DSG_OC,                            /* 8 high current */
	BMS_AL_CHG_OC,                            /* 9 high current charge */
	BMS_AL_MOS_FAULT,                         /* 10 contactor */
	BMS_AL_SHORT,                             /* 11 short circuit */
	BMS_AL_HW_FAULT | BMS_AL_SENSOR | BMS_AL_COMM, /* 12 BMS internal */
	BMS_AL_CELL_DIFF,                         /* 13 cell imbalance */
};

static void pc_sma_pairs(uint32_t active, uint8_t *p)
{
	for (unsigned k = 0; k < 13; k++) {
		unsigned bit = (active & pc_sma_msgs[k]) ? 0 : 1;
		p[k / 4] |= (uint8_t)(1u << (2 * (k % 4) + bit));
	}
}

/* Under-voltage and under-temperature protections go to a Sunny Island as
 * warnings: it goes to standby on any alarm (SMA's external BMS document
 * §1.2), which would also stop the charging that rescues an empty pack,
 * while the limits sent already stop the direction they forbid. */
#define PC_SMA_AS_WARNING (PC_UV | PC_UT | BMS_AL_SOC_LOW)

static void pc_35a(const struct inv_battery *b, struct gw_can_frame *f)
{
	bool have = (b->present & INV_HAS_ALARMS) != 0;
	uint32_t p = have ? b->protect : 0, w = have ? b->warn : 0;

	pc_begin(f, 0x35A, 8);
	pc_sma_pairs(p & ~(uint32_t)PC_SMA_AS_WARNING, f->data);
	pc_sma_pairs(w | (p & PC_SMA_AS_WARNING), f->data + 4);
}

/* SMA 0x35F: battery type, BMS version, capacity (Ah), manufacturer id;
 * only the capacity is known, the rest is "invalid". */
static void pc_35f(const struct inv_battery *b, struct gw_can_frame *f)
{
	pc_begin(f, 0x35F, 8);
	pc_put16(f->data, PC_SMA_INVALID_U16);
	pc_put16(f->data + 2, PC_SMA_INVALID_U16);
	pc_put16(f->data + 4, inv_has(b, INV_HAS_FULL, b->full_ah) ?
		 inv_scale(b->full_ah, 1, INV_NEAR, 0, 0xFFFE) : (long)PC_SMA_INVALID_U16);
	pc_put16(f->data + 6, PC_SMA_INVALID_U16);
}

static const uint32_t pc_set_pylon[] = { 0x351, 0x355, 0x356, 0x359, 0x35C, 0x35E };
static const uint32_t pc_set_sma[] = { 0x351, 0x355, 0x356, 0x35A, 0x35E, 0x35F };

int pylon_can_dialect_from_name(const char *name)
{
	if (name && strcmp(name, "pylon-can") == 0)
		return PYLON_CAN_PYLON;
	if (name && strcmp(name, "sma-can") == 0)
		return PYLON_CAN_SMA;
	return -1;
}

const char *pylon_can_dialect_name(enum pylon_can_dialect d)
{
	return d == PYLON_CAN_SMA ? "sma-can" : "pylon-can";
}

int pylon_can_frame(enum pylon_can_dialect d, uint32_t id, const struct inv_battery *b,
		    struct gw_can_frame *f)
{
	bool sma = d == PYLON_CAN_SMA;

	switch (id) {
	case 0x351: pc_351(d, b, f); return 0;
	case 0x355: pc_355(d, b, f); return 0;
	case 0x356: pc_356(d, b, f); return 0;
	case 0x35E: pc_35e(b, f); return 0;
	case 0x359: if (sma) return -1; pc_359(b, f); return 0;
	case 0x35C: if (sma) return -1; pc_35c(b, f); return 0;
	case 0x35A: if (!sma) return -1; pc_35a(b, f); return 0;
	case 0x35F: if (!sma) return -1; pc_35f(b, f); return 0;
	default: return -1;
	}
}

int pylon_can_encode(enum pylon_can_dialect d, const struct inv_battery *b,
		     struct gw_can_frame *out, size_t cap)
{
	const uint32_t *set = d == PYLON_CAN_SMA ? pc_set_sma : pc_set_pylon;
	size_t n = d == PYLON_CAN_SMA ? sizeof(pc_set_sma) / sizeof(pc_set_sma[0])
				      : sizeof(pc_set_pylon) / sizeof(pc_set_pylon[0]);

	if (cap < n)
		return -1;
	for (size_t i = 0; i < n; i++)
		pylon_can_frame(d, set[i], b, &out[i]);
	return (int)n;
}

unsigned pylon_can_gap_ms(enum pylon_can_dialect d)
{
	return d == PYLON_CAN_SMA ? 200 : 0;
}

static uint16_t pc_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static int16_t pc_les16(const uint8_t *p)
{
	uint16_t v = pc_le16(p);
	return (int16_t)(v >= 0x8000u ? (int)v - 0x10000 : (int)v);
}

static enum pylon_can_rx pc_seen_sma(const struct gw_can_frame *f, struct pylon_can_inverter *inv)
{
	if (f->ext || (f->id != 0x305 && f->id != 0x306 && f->id != 0x307))
		return PYLON_CAN_RX_OTHER;
	inv->frames++;
	if (f->id == 0x307)
		return PYLON_CAN_RX_ALIVE; /* relay state, not used */
	if (f->dlc < 8)
		return PYLON_CAN_RX_BAD;
	if (f->id == 0x305) {
		inv->have_meas = true;
		inv->voltage = pc_le16(f->data) / 10.0f;
		inv->current = -pc_les16(f->data + 2) / 10.0f;
		inv->temp_c = pc_les16(f->data + 4) / 10.0f;
		inv->soc = pc_les16(f->data + 6) / 10.0f;
		return PYLON_CAN_RX_SMA_MEAS;
	}
	inv->have_state = true;
	inv->soh = pc_le16(f->data);
	inv->charging_procedure = f->data[2];
	inv->operating_state = f->data[3];
	inv->error = pc_le16(f->data + 4);
	inv->charge_setpoint_v = pc_le16(f->data + 6) / 10.0f;
	return PYLON_CAN_RX_SMA_STATE;
}

enum pylon_can_rx pylon_can_seen(enum pylon_can_dialect d, const struct gw_can_frame *f,
				 struct pylon_can_inverter *inv)
{
	if (f->rtr || f->dlc > GW_CAN_MAX_DLC)
		return PYLON_CAN_RX_OTHER;
	if (d == PYLON_CAN_SMA)
		return pc_seen_sma(f, inv);
	/* Schneider XW Pro acknowledges with a 29-bit 0x305 */
	if (f->id == 0x305) {
		inv->frames++;
		return PYLON_CAN_RX_ALIVE;
	}
	if (f->ext || (f->id != 0x306 && f->id != 0x307))
		return PYLON_CAN_RX_OTHER;
	inv->frames++;
	if (f->id == 0x306)
		return PYLON_CAN_RX_306;
	if (f->dlc >= 7 && memcmp(f->data + 4, "VIC", 3) == 0) {
		inv->victron = true;
		return PYLON_CAN_RX_VICTRON;
	}
	return PYLON_CAN_RX_ALIVE;
}
