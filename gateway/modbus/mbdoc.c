/* SPDX-License-Identifier: MIT */
/* gateway/modbus/mbdoc.c - register-map.md's sections on function codes,
 * device identification and SunSpec.  See mbdoc.h.  The SunSpec tables are
 * walked from sunspec.c's point tables, and the scale factors read out of
 * a block built by ss_build(), so the document shows what is served. */
#include <string.h>

#include "identity.h"
#include "mbdoc.h"
#include "mbident.h"
#include "sunspec.h"

static void doc_functions(FILE *out)
{
	fprintf(out,
		"## Function codes\n"
		"\n"
		"| Code | Function | Served |\n"
		"|---|---|---|\n"
		"| 03 (0x03) | Read Holding Registers | the map and the SunSpec block |\n"
		"| 04 (0x04) | Read Input Registers | the same registers with the same rules as 03 (ranges, quantity, "
		"stale data, unit ids), for clients that read input registers (Home Assistant `input_type: input`, "
		"PLCs, SCADA) |\n"
		"| 06 (0x06), 16 (0x10) | Write Single / Multiple Registers | the MOSFET offsets 17-18 (bmsgw(8), "
		"MOSFET CONTROL) and the charge settings 150-160 (bmsgw-modbus(7)) only; 0x02 for any other register, "
		"in the map or outside it; 0x01 into the SunSpec block |\n"
		"| 17 (0x11) | Report Server ID | see \"Device identification\" |\n"
		"| 43 (0x2B), MEI 14 (0x0E) | Read Device Identification | see \"Device identification\" |\n"
		"\n"
		"Any other function code: exception 0x01. The Modbus RTU server (`[rtu]`) serves the\n"
		"same units, function codes and rules as Modbus TCP, except that a frame with a bad\n"
		"CRC, a unit id not served here (or above 247) and a broadcast (unit 0) get no\n"
		"answer at all: other slaves may share the bus.\n"
		"\n");
}

static void doc_ident(FILE *out)
{
	fprintf(out,
		"## Device identification\n"
		"\n"
		"FC 0x2B / MEI type 0x0E (Read Device Identification), conformity level 0x%02X\n"
		"(regular identification, stream and individual access), per unit:\n"
		"\n"
		"| Object | Name | Value |\n"
		"|---|---|---|\n"
		"| 0x00 | VendorName | `%s` |\n"
		"| 0x01 | ProductCode | the pack's `protocol` (`daly` ...); `bank` on the bank unit |\n"
		"| 0x02 | MajorMinorRevision | bmsgw's version (`bmsgw --version`) |\n"
		"| 0x04 | ProductName | `%s` |\n"
		"| 0x05 | ModelName | the protocol's description; `bank of parallel packs` on the bank unit |\n"
		"| 0x06 | UserApplicationName | the pack's name (`[pack.NAME]`); `bank` on the bank unit |\n"
		"| 0x80 | (extended) | the BMS's maker, as the BMS names itself |\n"
		"| 0x81 | (extended) | the BMS's hardware or model |\n"
		"| 0x82 | (extended) | the BMS's software version |\n"
		"| 0x83 | (extended) | the BMS's serial number |\n"
		"| 0x84 | (extended) | the pack's serial number |\n"
		"\n"
		"- Objects 0x80-0x84: what a pack's BMS says about itself, for the protocols with\n"
		"  identity commands (bmsgw-bms(7)), once a poll has read them; each only\n"
		"  if the BMS gives it. A unit that has one answers with conformity level 0x%02X\n"
		"  (extended identification).\n"
		"- Read Device ID code 1 (basic): objects 0x00-0x02; 2 (regular): 0x00-0x02 and\n"
		"  0x04-0x06; 3 (extended): the regular objects, then the extended ones (none: as 2);\n"
		"  4: the one object asked.\n"
		"- Object 0x03 (VendorUrl) is not served: code 4 for it, or for any object the unit\n"
		"  does not have: exception 0x02. A stream asked to start at an object not served starts\n"
		"  at 0x00.\n"
		"- Another read code: 0x03. An MEI type other than 0x0E: 0x01. The answer does not\n"
		"  depend on the unit's freshness.\n"
		"\n"
		"FC 0x11 (Report Server ID): the byte count, the server id (the unit's configured\n"
		"`unit_id`, whichever alias, 0 or 255, reached it), the run indicator (0xFF while the\n"
		"unit's data are fresh, 0x00 while it is stale), then the text\n"
		"`bmsgw VERSION NAME PROTOCOL` (`bmsgw 1.2.3 house daly`, `bmsgw 1.2.3 bank bank`).\n"
		"\n",
		MBID_CONFORMITY, MBID_VENDOR, GW_PRODUCT_NAME, MBID_CONFORMITY_EXT);
}

/* What bmsgw puts in a point, by model and name. */
static const struct {
	const char *model, *name, *value;
} doc_values[] = {
	{ "1", "Mn", "`bmsgw`" },
	{ "1", "Md", "the pack's `protocol`; `bank`" },
	{ "1", "Opt", "the pack's name; `bank`" },
	{ "1", "Vr", "bmsgw's version" },
	{ "1", "SN", "name-unit_id-machine (the first 8 digits of /etc/machine-id): `house-1-3d1219c7`, "
		     "`bank-100-3d1219c7`; with `[sunspec] serial`: serial-unit_id" },
	{ "1", "DA", "the unit id" },
	{ "802", "AHRtg", "full capacity as the BMS reports it; the bank: the sum" },
	{ "802", "WHRtg", "AHRtg x nominal voltage (cells x 3.2, 3.7 or 2.4 V by `[limits]` chemistry); "
			  "needs `[limits]`" },
	{ "802", "WChaRteMax", "`max_charge_current` x nominal voltage (the bank: of all its packs); needs `[limits]`" },
	{ "802", "WDisChaRteMax", "`max_discharge_current` x nominal voltage; needs `[limits]`" },
	{ "802", "SoC", "state of charge" },
	{ "802", "SoH", "state of health" },
	{ "802", "NCyc", "cycle count" },
	{ "802", "ChaSt", "1 off (both MOSFETs off), 2 empty, 3 discharging, 4 charging (more than 0.1 A), "
			  "5 full, 6 holding" },
	{ "802", "LocRemCtl", "1 local: the BMS decides, SunSpec writes are refused" },
	{ "802", "AlmRst", "0" },
	{ "802", "Typ", "4 lithium-ion" },
	{ "802", "State", "3 connected, 1 disconnected (both MOSFETs off, or not fresh), 99 fault (short circuit, "
			  "MOSFET or hardware fault)" },
	{ "802", "Evt1", "the BMS's protections as 802's *_ALARM bits, its warnings as *_WARNING bits; bit 0 "
			 "communication error while not fresh (the bank: also while a pack of it is stale)" },
	{ "802", "Evt2", "0" },
	{ "802", "EvtVnd1", "bmsgw's alarm bits (\"Alarm bits\" above)" },
	{ "802", "EvtVnd2", "0" },
	{ "802", "V", "pack (bank) voltage" },
	{ "802", "VMax", "CVL of `[limits]` (not implemented while not fresh)" },
	{ "802", "VMin", "DVL of `[limits]` (not implemented while not fresh)" },
	{ "802", "CellVMax", "highest cell" },
	{ "802", "CellVMaxStr", "the pack holding it: its position in the bank; 1 on a pack's unit" },
	{ "802", "CellVMaxMod", "1 (a pack is one module)" },
	{ "802", "CellVMin", "lowest cell" },
	{ "802", "CellVMinStr", "as CellVMaxStr" },
	{ "802", "CellVMinMod", "1" },
	{ "802", "CellVAvg", "mean of the cells" },
	{ "802", "A", "current, + = discharging (the opposite of the map)" },
	{ "802", "AChaMax", "CCL of `[limits]` (0 while not fresh)" },
	{ "802", "ADisChaMax", "DCL of `[limits]` (0 while not fresh)" },
	{ "802", "W", "power, + = discharging (the opposite of the map)" },
	{ "802", "ReqInvState", "0 no request" },
	{ "802", "SetOp", "1 connect (read-only)" },
	{ "802", "SetInvState", "3 inverter started (read-only)" },
	{ "803", "NStr", "packs in the bank" },
	{ "803", "NStrCon", "fresh packs with a MOSFET on" },
	{ "803", "ModTmpMax", "highest temperature sensor of the fresh packs (a pack is a module)" },
	{ "803", "ModTmpMaxStr", "the pack holding it" },
	{ "803", "ModTmpMaxMod", "1" },
	{ "803", "ModTmpMin", "lowest temperature sensor" },
	{ "803", "ModTmpMinStr", "the pack holding it" },
	{ "803", "ModTmpMinMod", "1" },
	{ "803", "ModTmpAvg", "mean of the packs' mean temperatures" },
	{ "803", "StrVMax", "highest pack voltage" },
	{ "803", "StrVMaxStr", "that pack" },
	{ "803", "StrVMin", "lowest pack voltage" },
	{ "803", "StrVMinStr", "that pack" },
	{ "803", "StrVAvg", "mean pack voltage" },
	{ "803", "StrAMax", "highest pack current, + = discharging" },
	{ "803", "StrAMaxStr", "that pack" },
	{ "803", "StrAMin", "lowest pack current" },
	{ "803", "StrAMinStr", "that pack" },
	{ "803", "StrAAvg", "mean pack current" },
	{ "803", "NCellBal", "cells balancing, all packs" },
	{ "803S", "StrNMod", "1" },
	{ "803S", "StrSt", "bit 0 enabled, bit 1 contactor closed (a MOSFET on)" },
	{ "803S", "StrConFail", "0 no failure (a MOSFET on)" },
	{ "803S", "StrSoC", "the pack's state of charge" },
	{ "803S", "StrSoH", "the pack's state of health" },
	{ "803S", "StrA", "the pack's current, + = discharging" },
	{ "803S", "StrCellVMax", "the pack's highest cell" },
	{ "803S", "StrCellVMaxMod", "1" },
	{ "803S", "StrCellVMin", "the pack's lowest cell" },
	{ "803S", "StrCellVMinMod", "1" },
	{ "803S", "StrCellVAvg", "the pack's mean cell" },
	{ "803S", "StrModTmpMax", "the pack's highest temperature sensor" },
	{ "803S", "StrModTmpMaxMod", "1" },
	{ "803S", "StrModTmpMin", "the pack's lowest temperature sensor" },
	{ "803S", "StrModTmpMinMod", "1" },
	{ "803S", "StrModTmpAvg", "the pack's mean temperature" },
	{ "803S", "StrDisRsn", "0 none (a MOSFET on)" },
	{ "803S", "StrEvt2", "0" },
	{ "803S", "StrEvtVnd2", "0" },
	{ "803S", "StrConSt", "bit 0 the charge MOSFET on, bit 1 the discharge MOSFET on" },
	{ "803S", "StrEvt1", "the pack's protections and warnings as 803's *_ALARM and *_WARNING bits; only bit 0 "
			     "(communication error) while not fresh" },
	{ "803S", "StrEvtVnd1", "bmsgw's alarm bits of the pack" },
};

static const char *doc_value(const char *model, const char *name)
{
	for (size_t i = 0; i < sizeof(doc_values) / sizeof(doc_values[0]); i++)
		if (!strcmp(doc_values[i].model, model) && !strcmp(doc_values[i].name, name))
			return doc_values[i].value;
	return NULL;
}

static const char *type_name(uint8_t t)
{
	static const char *const n[] = { "uint16", "int16", "uint32", "enum16", "bitfield32", "string", "sunssf",
					 "pad" };
	return t < sizeof(n) / sizeof(n[0]) ? n[t] : "?";
}

/* One model's points: address (base + at + offset; at < 0 = offsets in a
 * string), the point, its type, its scale factor and the pack's value of
 * it, data or identification (the stale rule), bmsgw's value. */
/* The value of scale factor point `name` in blk: 802's (pack), 803's (bank). */
static long sf_value(const char *name, enum ss_table t, const uint16_t *pack, const uint16_t *bank)
{
	enum ss_table st = t == SS_TABLE_802 ? SS_TABLE_802 : SS_TABLE_803;
	const uint16_t *m = t == SS_TABLE_802 ? pack + SS_AT_802 : bank + SS_AT_803;
	size_t n;
	const struct ss_point *p = ss_points(st, &n);
	for (size_t k = 0; name && k < n; k++)
		if (!strcmp(p[k].name, name))
			return (int16_t)m[p[k].off];
	return 0x7FFFFFFF;
}

static void doc_points(FILE *out, enum ss_table t, const char *model, unsigned ss_base, long at,
		       const uint16_t *pack, const uint16_t *bank)
{
	size_t n;
	const struct ss_point *p = ss_points(t, &n);
	fprintf(out, "| %s | Point | Type | Scale factor | Kind | bmsgw's value |\n|---|---|---|---|---|---|\n",
		at < 0 ? "Offset in a string" : "Address");
	for (size_t i = 0; i < n; i++) {
		if (at < 0)
			fprintf(out, "| %u", p[i].off);
		else if (p[i].size > 1)
			fprintf(out, "| %lu-%lu", (unsigned long)(ss_base + at + p[i].off),
				(unsigned long)(ss_base + at + p[i].off + p[i].size - 1));
		else
			fprintf(out, "| %lu", (unsigned long)(ss_base + at + p[i].off));
		fprintf(out, " | %s | %s |", p[i].name, type_name(p[i].type));
		long sfv = sf_value(p[i].sf, t, pack, bank);
		if (sfv == -32768)
			fprintf(out, " %s (not implemented) |", p[i].sf);
		else if (sfv != 0x7FFFFFFF)
			fprintf(out, " %s (%ld) |", p[i].sf, sfv);
		else
			fprintf(out, " %s |", p[i].sf ? p[i].sf : "");
		bool data = at < 0 || ss_range_has_data(t == SS_TABLE_803, 1, (unsigned)(at + p[i].off), p[i].size);
		fprintf(out, " %s | ", data ? "data" : "identification");
		const char *v = doc_value(model, p[i].name);
		long own = p[i].type == SS_T_SUNSSF ? sf_value(p[i].name, t, pack, bank) : 0;
		if (v)
			fprintf(out, "%s |\n", v);
		else if (p[i].type == SS_T_SUNSSF && own != -32768)
			fprintf(out, "%ld |\n", own);
		else
			fprintf(out, "%s |\n", p[i].type == SS_T_PAD ? "0" : i == 0 ? "model id" : i == 1 ? "model length"
													  : "not implemented");
	}
	fputc('\n', out);
}

static void doc_layout(FILE *out, unsigned b)
{
	int pack = ss_block_len(false, 0);
	fprintf(out,
		"| Address | Offset | Registers | What |\n"
		"|---|---|---|---|\n"
		"| %u-%u | 0-1 | 2 | \"SunS\" (0x5375 0x6E53) |\n"
		"| %u-%u | %d-%d | %d | model 1, common: ID 1, L %d |\n"
		"| %u-%u | %d-%d | %d | model 802, battery base: ID 802, L %d |\n"
		"| %u-%u | %d-%d | 2 | a pack's unit: the end model (ID 0xFFFF, L 0); %d registers in all |\n"
		"| %u-%u | %d-%d | %d | the bank's unit: model 803, lithium-ion bank: ID 803, L %d + %d x packs |\n"
		"| %u + %d (k - 1) | | %d | the bank's unit: string k of 803 = the bank's pack k (`packs =` order) |\n"
		"| %u + %d n | | 2 | the bank's unit: the end model; %d + %d n registers in all (n packs) |\n"
		"\n",
		b, b + 1, b + SS_AT_1, b + SS_AT_802 - 1, SS_AT_1, SS_AT_802 - 1, SS1_SIZE, SS_L_1, b + SS_AT_802,
		b + SS_AT_803 - 1, SS_AT_802, SS_AT_803 - 1, SS802_SIZE, SS_L_802, b + SS_AT_803, b + SS_AT_803 + 1,
		SS_AT_803, SS_AT_803 + 1, pack, b + SS_AT_803, b + SS_AT_803 + SS803_SIZE - 1, SS_AT_803,
		SS_AT_803 + SS803_SIZE - 1, SS803_SIZE, SS_L_803, SS803S_SIZE, b + SS_AT_803 + SS803_SIZE, SS803S_SIZE,
		SS803S_SIZE, b + SS_AT_803 + SS803_SIZE, SS803S_SIZE, SS_AT_803 + SS803_SIZE + 2, SS803S_SIZE);
}

static void doc_sunspec_intro(FILE *out, unsigned b)
{
	fprintf(out,
		"## SunSpec\n"
		"\n"
		"With a `[sunspec]` section every unit also serves a SunSpec block from `[sunspec]\n"
		"base` (here %u), read-only, by FC03 and FC04: \"SunS\", model 1 (common), model 802\n"
		"(battery base), on the bank unit model 803 (lithium-ion bank, one string per pack\n"
		"of the bank; with `[bank] strings` one per string of packs in series, its packs its\n"
		"modules, and where the points below say pack, read string), then the end model.\n"
		"The points are the SunSpec Alliance's\n"
		"(https://github.com/sunspec/models, json/model_1.json, model_802.json and\n"
		"model_803.json at commit 7abdf8982d5364f8ae916deee18aac86c11be36d). Values of more\n"
		"than one register are high word first, whatever `float_order` is; a point with a\n"
		"scale factor SF reads value x 10^SF (the scale factors are constants of the unit:\n"
		"read them once); a point without data holds SunSpec's not-implemented value\n"
		"(0xFFFF uint16 and enum16, 0x8000 int16, 0xFFFFFFFF uint32 and bitfield32, NUL\n"
		"string).\n"
		"\n"
		"A reader finds the block as SunSpec prescribes: \"SunS\" at the base (readers try\n"
		"40000, 50000 and 0), then model after model - ID, length L, L registers - up to\n"
		"the end model (ID 0xFFFF, L 0).\n"
		"\n",
		b);
	doc_layout(out, b);
	fprintf(out,
		"Stale data: the block is answered whatever `stale_policy` says (it applies to the\n"
		"map), so that a SunSpec reader walking the models always finds them whole. While\n"
		"the unit is stale its data points (kind \"data\" below) hold not-implemented\n"
		"values, never the last ones: State = 1 disconnected, Evt1 = bit 0 (communication\n"
		"error), AChaMax = ADisChaMax = 0; \"SunS\", the model headers, model 1, the scale\n"
		"factors, NStr and the end model are as always, and SetOp = 1, SetInvState = 3. A\n"
		"stale pack's string of 803 holds only StrEvt1 = communication error.\n"
		"\n"
		"A write into the block: 0x01 (bmsgw takes no SunSpec control; the RW points of the\n"
		"models are read-only here). A read from the map into the block, or past the\n"
		"block's end: 0x02. Currents and powers are + when the battery discharges, the\n"
		"convention SunSpec readers such as evcc use for 802:W, the opposite of the map's.\n"
		"The scale factors below are a pack's; the bank's capacities, currents and powers\n"
		"are ceil(log10(packs)) decades coarser (AHRtg_SF, WHRtg_SF, WChaDisChaMax_SF,\n"
		"A_SF, AMax_SF, W_SF of 802), so that the bank's sums fit.\n"
		"\n");
}

void gw_modbus_markdown(FILE *out, unsigned base, unsigned ss_base)
{
	(void)base;
	doc_functions(out);
	doc_ident(out);
	doc_sunspec_intro(out, ss_base);
	/* blocks without data: their constants (the scale factors) */
	static uint16_t pack[SS_MAX_BLOCK], bank[SS_MAX_BLOCK];
	struct ss_unit u = { .name = "", .protocol = "", .version = "" };
	if (ss_build(&u, pack, SS_MAX_BLOCK) < 0)
		return;
	u.bank = true;
	if (ss_build(&u, bank, SS_MAX_BLOCK) < 0)
		return;
	fprintf(out, "### Model 1 (common)\n\n");
	doc_points(out, SS_TABLE_1, "1", ss_base, SS_AT_1, pack, bank);
	fprintf(out, "### Model 802 (battery base)\n\n");
	doc_points(out, SS_TABLE_802, "802", ss_base, SS_AT_802, pack, bank);
	fprintf(out, "### Model 803 (lithium-ion bank; the bank unit only)\n\n");
	doc_points(out, SS_TABLE_803, "803", ss_base, SS_AT_803, pack, bank);
	fprintf(out, "Each string (pack k of the bank) from %u + %d (k - 1):\n\n", ss_base + SS_AT_803 + SS803_SIZE,
		SS803S_SIZE);
	doc_points(out, SS_TABLE_803_STRING, "803S", ss_base, -1, pack, bank);
}
