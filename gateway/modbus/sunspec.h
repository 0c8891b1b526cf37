/* SPDX-License-Identifier: MIT */
/* gateway/modbus/sunspec.h - the SunSpec register block of one unit (a pack
 * or the bank): "SunS", model 1 (common), model 802 (battery base), for the
 * bank model 803 (lithium-ion bank: one string per pack, or with [bank]
 * strings each string of packs in series, its packs its modules), then the end
 * model.  Pure: a struct in, registers out; the Modbus server serves the
 * block at [sunspec] base (bmsgw-modbus(7) "SUNSPEC").
 *
 * The points, their offsets, sizes and types are those of the SunSpec
 * Alliance's model definitions, https://github.com/sunspec/models
 * (json/model_1.json, model_802.json, model_803.json at commit
 * 7abdf8982d5364f8ae916deee18aac86c11be36d), copied into
 * tests/fixtures/sunspec/ where the unit test checks the table below
 * against them.  Every multi-register value is big-endian (high word
 * first), strings are ASCII, two characters a register, high byte first,
 * padded with NUL.  A point without data holds SunSpec's "not implemented"
 * value of its type (0xFFFF, 0x8000, 0xFFFFFFFF, NUL string), as the
 * reference implementation pysunspec2 writes them:
 * https://github.com/sunspec/pysunspec2/blob/1cd853f56e78974516c5c5a3442233537f8f69c7/sunspec2/mb.py
 *
 * Signs: A and W (802) and the string currents (803) are positive when the
 * battery discharges (power out of it, the DER convention), the opposite of
 * bmsgw's register map.  model_802.json gives no sign ("Total DC current
 * flowing to/from the battery bank", "Total power flowing to/from the
 * battery bank"), so the readers decide: evcc reads 802:W as its battery
 * power with no scale (its template
 * https://github.com/evcc-io/evcc/blob/005a1866b99773f648f281bd5f4c7fc134cc72c5/templates/definition/meter/sunspec-battery-control.yaml),
 * and evcc's battery power is positive when the battery discharges
 * (https://docs.evcc.io/en/reference/configuration/meters, "Positive (+)
 * for incoming energy: ... house battery discharge"). */
#ifndef GATEWAY_MODBUS_SUNSPEC_H
#define GATEWAY_MODBUS_SUNSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../bms/bms.h"

/* Point types (the SunSpec type names). */
enum ss_type {
	SS_T_UINT16,
	SS_T_INT16,
	SS_T_UINT32,
	SS_T_ENUM16,
	SS_T_BITFIELD32,
	SS_T_STRING,
	SS_T_SUNSSF,
	SS_T_PAD,
};

/* The points of each model in register order: X(model, name, size, type,
 * scale factor point or NULL).  The offsets (SS1_Mn, SS802_SoC ...) follow
 * from the sizes: ID is 0, L is 1.  803's repeating group `string` is
 * SS_803S_POINTS, offsets from the start of each string. */
#define SS_1_POINTS(X) \
	X(1, ID, 1, UINT16, NULL) X(1, L, 1, UINT16, NULL) \
	X(1, Mn, 16, STRING, NULL) X(1, Md, 16, STRING, NULL) X(1, Opt, 8, STRING, NULL) \
	X(1, Vr, 8, STRING, NULL) X(1, SN, 16, STRING, NULL) X(1, DA, 1, UINT16, NULL) \
	X(1, Pad, 1, PAD, NULL)

#define SS_802_POINTS(X) \
	X(802, ID, 1, UINT16, NULL) X(802, L, 1, UINT16, NULL) \
	X(802, AHRtg, 1, UINT16, "AHRtg_SF") X(802, WHRtg, 1, UINT16, "WHRtg_SF") \
	X(802, WChaRteMax, 1, UINT16, "WChaDisChaMax_SF") X(802, WDisChaRteMax, 1, UINT16, "WChaDisChaMax_SF") \
	X(802, DisChaRte, 1, UINT16, "DisChaRte_SF") X(802, SoCMax, 1, UINT16, "SoC_SF") \
	X(802, SoCMin, 1, UINT16, "SoC_SF") X(802, SocRsvMax, 1, UINT16, "SoC_SF") \
	X(802, SoCRsvMin, 1, UINT16, "SoC_SF") X(802, SoC, 1, UINT16, "SoC_SF") \
	X(802, DoD, 1, UINT16, "DoD_SF") X(802, SoH, 1, UINT16, "SoH_SF") \
	X(802, NCyc, 2, UINT32, NULL) X(802, ChaSt, 1, ENUM16, NULL) X(802, LocRemCtl, 1, ENUM16, NULL) \
	X(802, Hb, 1, UINT16, NULL) X(802, CtrlHb, 1, UINT16, NULL) X(802, AlmRst, 1, UINT16, NULL) \
	X(802, Typ, 1, ENUM16, NULL) X(802, State, 1, ENUM16, NULL) X(802, StateVnd, 1, ENUM16, NULL) \
	X(802, WarrDt, 2, UINT32, NULL) X(802, Evt1, 2, BITFIELD32, NULL) X(802, Evt2, 2, BITFIELD32, NULL) \
	X(802, EvtVnd1, 2, BITFIELD32, NULL) X(802, EvtVnd2, 2, BITFIELD32, NULL) \
	X(802, V, 1, UINT16, "V_SF") X(802, VMax, 1, UINT16, "V_SF") X(802, VMin, 1, UINT16, "V_SF") \
	X(802, CellVMax, 1, UINT16, "CellV_SF") X(802, CellVMaxStr, 1, UINT16, NULL) \
	X(802, CellVMaxMod, 1, UINT16, NULL) X(802, CellVMin, 1, UINT16, "CellV_SF") \
	X(802, CellVMinStr, 1, UINT16, NULL) X(802, CellVMinMod, 1, UINT16, NULL) \
	X(802, CellVAvg, 1, UINT16, "CellV_SF") X(802, A, 1, INT16, "A_SF") \
	X(802, AChaMax, 1, UINT16, "AMax_SF") X(802, ADisChaMax, 1, UINT16, "AMax_SF") \
	X(802, W, 1, INT16, "W_SF") X(802, ReqInvState, 1, ENUM16, NULL) X(802, ReqW, 1, INT16, "W_SF") \
	X(802, SetOp, 1, ENUM16, NULL) X(802, SetInvState, 1, ENUM16, NULL) \
	X(802, AHRtg_SF, 1, SUNSSF, NULL) X(802, WHRtg_SF, 1, SUNSSF, NULL) \
	X(802, WChaDisChaMax_SF, 1, SUNSSF, NULL) X(802, DisChaRte_SF, 1, SUNSSF, NULL) \
	X(802, SoC_SF, 1, SUNSSF, NULL) X(802, DoD_SF, 1, SUNSSF, NULL) X(802, SoH_SF, 1, SUNSSF, NULL) \
	X(802, V_SF, 1, SUNSSF, NULL) X(802, CellV_SF, 1, SUNSSF, NULL) X(802, A_SF, 1, SUNSSF, NULL) \
	X(802, AMax_SF, 1, SUNSSF, NULL) X(802, W_SF, 1, SUNSSF, NULL)

#define SS_803_POINTS(X) \
	X(803, ID, 1, UINT16, NULL) X(803, L, 1, UINT16, NULL) \
	X(803, NStr, 1, UINT16, NULL) X(803, NStrCon, 1, UINT16, NULL) \
	X(803, ModTmpMax, 1, INT16, "ModTmp_SF") X(803, ModTmpMaxStr, 1, UINT16, NULL) \
	X(803, ModTmpMaxMod, 1, UINT16, NULL) X(803, ModTmpMin, 1, INT16, "ModTmp_SF") \
	X(803, ModTmpMinStr, 1, UINT16, NULL) X(803, ModTmpMinMod, 1, UINT16, NULL) \
	X(803, ModTmpAvg, 1, INT16, "ModTmp_SF") X(803, StrVMax, 1, UINT16, "V_SF") \
	X(803, StrVMaxStr, 1, UINT16, NULL) X(803, StrVMin, 1, UINT16, "V_SF") \
	X(803, StrVMinStr, 1, UINT16, NULL) X(803, StrVAvg, 1, UINT16, "V_SF") \
	X(803, StrAMax, 1, INT16, "A_SF") X(803, StrAMaxStr, 1, UINT16, NULL) \
	X(803, StrAMin, 1, INT16, "A_SF") X(803, StrAMinStr, 1, UINT16, NULL) \
	X(803, StrAAvg, 1, INT16, "A_SF") X(803, NCellBal, 1, UINT16, NULL) \
	X(803, CellV_SF, 1, SUNSSF, NULL) X(803, ModTmp_SF, 1, SUNSSF, NULL) X(803, A_SF, 1, SUNSSF, NULL) \
	X(803, SoH_SF, 1, SUNSSF, NULL) X(803, SoC_SF, 1, SUNSSF, NULL) X(803, V_SF, 1, SUNSSF, NULL)

#define SS_803S_POINTS(X) \
	X(803S, StrNMod, 1, UINT16, NULL) X(803S, StrSt, 2, BITFIELD32, NULL) \
	X(803S, StrConFail, 1, ENUM16, NULL) X(803S, StrSoC, 1, UINT16, "SoC_SF") \
	X(803S, StrSoH, 1, UINT16, "SoH_SF") X(803S, StrA, 1, INT16, "A_SF") \
	X(803S, StrCellVMax, 1, UINT16, "CellV_SF") X(803S, StrCellVMaxMod, 1, UINT16, NULL) \
	X(803S, StrCellVMin, 1, UINT16, "CellV_SF") X(803S, StrCellVMinMod, 1, UINT16, NULL) \
	X(803S, StrCellVAvg, 1, UINT16, "CellV_SF") X(803S, StrModTmpMax, 1, INT16, "ModTmp_SF") \
	X(803S, StrModTmpMaxMod, 1, UINT16, NULL) X(803S, StrModTmpMin, 1, INT16, "ModTmp_SF") \
	X(803S, StrModTmpMinMod, 1, UINT16, NULL) X(803S, StrModTmpAvg, 1, INT16, "ModTmp_SF") \
	X(803S, StrDisRsn, 1, ENUM16, NULL) X(803S, StrConSt, 2, BITFIELD32, NULL) \
	X(803S, StrEvt1, 2, BITFIELD32, NULL) X(803S, StrEvt2, 2, BITFIELD32, NULL) \
	X(803S, StrEvtVnd1, 2, BITFIELD32, NULL) X(803S, StrEvtVnd2, 2, BITFIELD32, NULL) \
	X(803S, StrSetEna, 1, ENUM16, NULL) X(803S, StrSetCon, 1, ENUM16, NULL) \
	X(803S, Pad1, 1, PAD, NULL) X(803S, Pad2, 1, PAD, NULL)

/* Offsets: SS802_SoC = 11 ...; the *_end_ members only make the next
 * offset follow the size. */
#define SS_OFFSET_(m, name, size, type, sf) SS##m##_##name, SS##m##_##name##_end_ = SS##m##_##name + (size) - 1,
enum { SS_1_POINTS(SS_OFFSET_) SS1_SIZE };
enum { SS_802_POINTS(SS_OFFSET_) SS802_SIZE };
enum { SS_803_POINTS(SS_OFFSET_) SS803_SIZE };
enum { SS_803S_POINTS(SS_OFFSET_) SS803S_SIZE };
#undef SS_OFFSET_

/* Model lengths L (registers after ID and L), by the definitions. */
#define SS_L_1 (SS1_SIZE - 2)           /* 66 */
#define SS_L_802 (SS802_SIZE - 2)       /* 62 */
#define SS_L_803 (SS803_SIZE - 2)       /* 26, + SS803S_SIZE (32) per string */
#define SS_END_ID 0xFFFF

/* Where the models start in the block (offsets from [sunspec] base). */
#define SS_AT_1 2
#define SS_AT_802 (SS_AT_1 + SS1_SIZE)        /* 70 */
#define SS_AT_803 (SS_AT_802 + SS802_SIZE)    /* 134, the bank only */
#define SS_MAX_PACKS 64                       /* CONF_MAX_PACKS */
#define SS_MAX_BLOCK (SS_AT_803 + SS803_SIZE + SS803S_SIZE * SS_MAX_PACKS + 2)

/* One entry of a model's point table. */
struct ss_point {
	const char *name;
	uint16_t off;                  /* registers from the model's ID (803S: from the string) */
	uint8_t size;                  /* registers */
	uint8_t type;                  /* enum ss_type */
	const char *sf;                /* its scale factor point, NULL = none */
};
/* The point tables: models 1, 802, 803 (its fixed part) and 803's
 * repeating group `string`. */
enum ss_table { SS_TABLE_1, SS_TABLE_802, SS_TABLE_803, SS_TABLE_803_STRING, SS_TABLES };
/* Table t (NULL beyond) and its number of points in *n. */
const struct ss_point *ss_points(enum ss_table t, size_t *n);

/* A string of packs in series ([bank] strings) as 803 shows it: its
 * members are its modules, its cells and sensors are theirs. */
struct ss_series {
	uint16_t nmod;                   /* members (StrNMod) */
	uint16_t ncells;                 /* cells in series in the whole string, 0 = unknown */
	bool have_cells;
	uint16_t cell_max_mv, cell_min_mv, cell_avg_mv;
	uint16_t cell_max_mod, cell_min_mod; /* the member (1-based) they are in */
	bool have_temps;
	float tmax_c, tmin_c;            /* the hottest and coldest sensor of every member */
	uint16_t tmax_mod, tmin_mod;
};

/* One string of model 803, in bank order: a pack of the bank (series
 * NULL: one module), or with [bank] strings a string of packs in series
 * (snap: the string as one pack, bank_strings.h; series: its members). */
struct ss_pack {
	const struct bms_snapshot *snap; /* its last snapshot, NULL = never had data */
	bool fresh;                      /* within stale_after: only a fresh pack's data are shown */
	uint32_t protect, warn;          /* its alarms by level (BMS_AL_*): StrEvt1's *_ALARM
	                                  * and *_WARNING bits */
	const struct ss_series *series;  /* a string of packs in series, NULL = a pack */
};

/* Everything the block of one unit shows. */
struct ss_unit {
	bool bank;                       /* the bank unit: 802 over the bank, and 803 */
	const char *name;                /* the pack's name, or "bank": Opt, and SN with unit_id */
	const char *protocol;            /* Md: the pack's protocol ("daly"); the bank's is "bank" */
	const char *version;             /* Vr: bmsgw's version */
	uint8_t unit_id;                 /* DA */
	const char *serial;              /* [sunspec] serial: SN = serial-unit id; NULL or "" = none */
	const char *machine;             /* this machine's tag: SN = name-unit id-machine; NULL or
	                                  * "" = none (name-unit id) */
	const struct bms_snapshot *snap; /* the unit's data (the bank: gw_bank_aggregate()'s
	                                  * aggregate, which has no cells); NULL = none */
	bool fresh;                      /* false: every data point not implemented, State
	                                  * DISCONNECTED, Evt1 COMMUNICATION_ERROR */
	uint32_t protect, warn;          /* the unit's alarms by level (BMS_AL_*, engine/pack_limits.h
	                                  * gw_limits_alarm_levels()): Evt1's *_ALARM bits for
	                                  * protect, *_WARNING for the rest of warn */
	bool comm_warning;               /* the bank: a pack of it is stale (Evt1 says
	                                  * COMMUNICATION_ERROR too) */
	float cell_nominal_v;            /* V a cell, for the ratings in Wh and W (lfp 3.2,
	                                  * nmc 3.7, lto 2.4); 0 = unknown */
	bool limits;                     /* [limits] on: the values below are set */
	float cvl_v, dvl_v;              /* VMax, VMin */
	float ccl_a, dcl_a;              /* AChaMax, ADisChaMax (0 in the fail-safe) */
	float max_charge_a;              /* rated currents (max_charge_current, the bank: of all
	                                  * its packs): WChaRteMax, WDisChaRteMax; 0 = unknown */
	float max_discharge_a;
	int npacks;                      /* the bank: entries in packs[] (0..SS_MAX_PACKS): its
	                                  * packs, or its strings with [bank] strings */
	const struct ss_pack *packs;
};

/* Registers of the block of a pack (bank = false) or of a bank of npacks:
 * 136, or 164 + 32 x npacks; -1 for an impossible npacks. */
int ss_block_len(bool bank, int npacks);

/* Build the block into regs[0..cap): returns its length (ss_block_len()),
 * or -1 if it does not fit or the unit is impossible (npacks, packs NULL). */
int ss_build(const struct ss_unit *u, uint16_t *regs, size_t cap);

/* Does the range of count registers from offset off (from [sunspec] base)
 * touch a data register?  Data: 802's points from AHRtg to SetInvState,
 * and of 803 the points from NStrCon to NCellBal and every string: not
 * implemented while the unit is stale (SetOp and SetInvState excepted,
 * they are constants).  The marker, the headers, model 1, 802's and 803's
 * scale factors, NStr and the end model are identification, the same
 * whether the unit is fresh or not.  A read of the block is answered
 * either way (sunspec: no 0x0B, a SunSpec reader walks the models). */
bool ss_range_has_data(bool bank, int npacks, unsigned off, unsigned count);

/* SunSpec 802 Evt1 bits (model_802.json, point Evt1, symbols; 803's
 * StrEvt1 has the same) of a unit's alarms by level: a bit of protect
 * sets its *_ALARM bit, a bit only in warn its *_WARNING bit (the cell
 * voltage difference, the lost link and a MOSFET fault have one bit for
 * both).  ss_build() adds COMMUNICATION_ERROR for a unit that is not
 * fresh. */
uint32_t ss_evt1(uint32_t protect, uint32_t warn);

#endif
