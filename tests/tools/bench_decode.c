/* SPDX-License-Identifier: MIT */
/* tests/tools/bench_decode.c - decoder throughput for `make bench`: whole
 * polls (framer + decoder + register encoding) per second, per driver, on
 * the recorded frames of a full answer (tests/fixtures/vectors.tsv; built
 * answers where no capture of a block exists), and the cost of one poll.
 * pylon-can, a listening driver, twice: its cycle as the CAN transport hands
 * it over (records), and from the slcan adapter's lines up (the line
 * parser of gateway/wire/slcan.c, the records, the decoder).  mqtt-json
 * as one message the MQTT transport hands over (parsed, mapped).  The
 * Bluetooth LE ones (litime, tianpower, topband, ecoworthy, felicity, chins, humsienk, tdt, seplos-ble,
 * renogy-pro, vatrer, pylon-rt, gobel, saihang, ks48, basen, roypow, ogt, paceex;
 * ant over either) as their notifications' bytes: the framer sees the same
 * stream.  Every other driver from its fixtures (a generated table,
 * tests/tools/fixtures.py bench-cases): the answers its unit test embeds,
 * back to back, as one poll; a driver whose fixtures make no whole poll is
 * named, not measured.  A listening driver's first poll learns its set at
 * the end of the wire, as the daemon's wait ends; each line gives the time
 * per poll and per frame (of a poll with its set learned). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "../../bms/jsonmap.h"
#include "../../gateway/wire/slcan.h"
#include "../../registers/regmap.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* run_step(): handle() on each frame, until one ends the step. */
struct stepping {
	const struct bms_driver *d;
	struct bms_poll *poll;
	int rc;
};

/* frames handed to handle(), for the time per frame */
static unsigned long frames_taken;

static enum bms_frame_next step_take(void *ctx, const uint8_t *f, size_t n)
{
	struct stepping *st = ctx;
	frames_taken++;
	st->rc = st->d->handle(st->poll, f, n);
	return st->rc == BMS_OK || (st->rc < 0 && st->rc != BMS_E_UNEXPECTED) ? BMS_FRAME_STOP : BMS_FRAME_MORE;
}

/* The name a Bluetooth pack advertises, where its driver needs it: ogt's
 * key (SmartBat-A10007: 0x1A, the key of its captures). */
static const char *bench_peer(const struct bms_driver *d)
{
	return d == &bms_ogt_driver ? "SmartBat-A10007" : d == &bms_d_powercore_driver ? "DXB-MockBLEDevice_C0FE" : "";
}

/* mqtt-json's field map (its case: venus-os_dbus-mqtt-battery's shape, 16
 * cells as numbered keys), as the pack's `fields =` gives it; NULL for the
 * other drivers. */
static const struct bms_jsonmap *bench_map(const struct bms_driver *d)
{
	static struct bms_jsonmap m;
	static int made; /* 0 not yet, 1 made, -1 failed */
	char why[160];
	if (d != &bms_mqtt_json_driver)
		return NULL;
	if (!made)
		made = bms_jsonmap_parse("voltage:Dc.Voltage, current:Dc.Current, power:Dc.Power, soc:Soc, "
					 "full_ah:InstalledCapacity, remain_ah:Capacity, cycles:History.ChargeCycles, "
					 "temp_1:Dc.Temperature, ccl_a:Info.MaxChargeCurrent, cells:Voltages.Cell#",
					 &m, why, sizeof(why)) == 0 ? 1 : -1;
	return made > 0 ? &m : NULL;
}

/* One step: feed wire from *off in 13-byte reads, each framed by the
 * daemon's loop (bms_frames()), until handle() says BMS_OK; 0, or -1. */
static int run_step(const struct bms_driver *d, struct bms_poll *poll, struct bms_rx *rx, const uint8_t *wire,
		    size_t n, size_t *off)
{
	struct stepping st = { d, poll, BMS_MORE };
	/* as the poller: framed after a read (an empty buffer holds no frame) */
	while (!rx->len || !bms_frames(d, poll, rx, step_take, &st, NULL)) {
		if (*off >= n) /* a listening driver's wait ends: its first poll learns the set */
			return d->listen_only && d->timeout && st.rc != BMS_OK && d->timeout(poll) ? 0 : -1;
		size_t chunk = n - *off < 13 ? n - *off : 13;
		bms_rx_feed(rx, wire + *off, chunk);
		*off += chunk;
	}
	return st.rc == BMS_OK ? 0 : -1;
}

/* Feed `wire` (all answers back to back) through one poll of the pack at
 * addr; returns 0 if the poll completed and finish() accepted it.  A
 * listening driver's poll is one step. */
static int run_poll(const struct bms_driver *d, uint8_t addr, const uint8_t *wire, size_t n, struct bms_poll *poll)
{
	static struct bms_rx rx;
	uint8_t req[64];
	size_t off = 0;
	uint8_t link = poll->link;
	bms_poll_begin(poll, addr, 0, false);
	poll->link = link;
	snprintf(poll->peer_name, sizeof(poll->peer_name), "%s", bench_peer(d));
	poll->jsonmap = bench_map(d);
	bms_rx_clear(&rx);
	if (d->listen_only || (d->listens && d->listens(poll))) { /* a step the BMS pushes (superb v1) */
		if (run_step(d, poll, &rx, wire, n, &off) != 0)
			return -1;
	} else {
		while (d->next_request(poll, req, sizeof(req)) > 0) {
			if (d->sent && d->sent(poll))
				continue; /* a write nothing answers (d-powercore's unlock, last acknowledgement) */
			if (run_step(d, poll, &rx, wire, n, &off) != 0)
				return -1;
		}
	}
	return d->finish ? d->finish(poll) : 0;
}

/* The slcan adapter's lines of one cycle to records, as can.c and
 * canlink.c pass them on; the records' length. */
static size_t slcan_records(const char *lines, size_t n, uint8_t *out, size_t cap)
{
	static struct slcan_rx rx;
	struct slcan_rx_event ev;
	size_t len = 0;
	const uint8_t *p = (const uint8_t *)lines;
	slcan_rx_init(&rx);
	while (n) {
		size_t used = slcan_rx_feed(&rx, p, n, &ev);
		if (ev.kind == SLCAN_EV_FRAME)
			len += bms_can_record(out + len, cap - len, ev.frame.id, ev.frame.ext, ev.frame.rtr, ev.frame.dlc,
					      ev.frame.data);
		p += used;
		n -= used;
	}
	return len;
}

static size_t hex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned v;
	while (n < cap && sscanf(h, "%2x", &v) == 1) {
		out[n++] = (uint8_t)v;
		h += 2;
	}
	return n;
}

/* One driver's poll: the answers of its live requests, in order (the
 * identity is taken as known, as after the first poll). */
struct bench_case {
	const char *name;
	const struct bms_driver *drv;
	uint8_t addr;
	bool text; /* ASCII frames as they are, else hex */
	const char *wire;
	bool slcan; /* text: an slcan adapter's lines, made records first (every poll) */
};

static const struct bench_case cases[] = {
	/* a 16S Daly: 0x90..0x94, 6 cell frames, 1 temperature frame, 0x97, 0x98 */
	{ "daly", &bms_daly_driver, 1, false,
		"a5019008021400007545037889" "a50191080d000f0cfe010378e1" "a501920837013701fe0103782a"
		"a5019308020101780003cb40cb" "a5019408100100000000034096"
		"a5019508010cfd0cfe0cfe40a1a5019508020cfe0cfe0cfe40a3a5019508030cfe0cfe0cfe40a4"
		"a5019508040cfe0cfc0cfe40a3a5019508050cfe0cff0cfe40a7a5019508060cfc000000004091"
		"a501960801370000000000007c" "a5019708000000000000000045" "a5019808000000000000000046", false },
	/* PACE25-01, -02: 0x42 + 0x44 */
	{ "pace", &bms_pace_driver, 1, true,
		"~25014600F07A0001100CC70CC80CC70CC70CC70CC50CC60CC70CC70CC60CC70CC60CC60CC70CC60CC70"
		"60B9B0B990B990B990BB30BBCFF1FCCCD12D303286A008C2710E1E4\r~25014600004C00011000000000"
		"0000000000000000000000000600000000000000000000000E000000000000EF3A\r", false },
	/* EG4LP4-01, -02: 0x42 + 0x44 */
	{ "eg4-lp4", &bms_eg4_lp4_driver, 1, true,
		"~20014A00A0CA1001100D2F0D2C0D2C0D2D0D2D0D2F0D2F0D2F0D2C0D2D0D2D0D2F0D300D2C0D300D2C0"
		"40B9B0BA50B9B0B9B0BB90BAF029D151521A9268400540F005700620D300D2C00040BA50B9B000ADAC00"
		"00A54550005D473000570A600000680000004CA56897E24D1A5\r~20014A007054100110000000000000"
		"000000000000000000000400000000000000000900000000000003020000000000EDC3\r", false },
	/* DAREN-01: 0x42 */
	{ "daren", &bms_daren_driver, 1, true,
		"~22014A00E0C6001A2C14C0100D010D010CDB0D010D010D000D020CE60CF80D020D010CDF0D020D020D0"
		"00CE0010E0104010E040104010401040104000000000050011F4014F000CC00000000000000000023000"
		"0000000000000000000000000000000000000000000D582\r", false },
	/* SEPLOS3-01, -02 and a PIC answer */
	{ "seplos3", &bms_seplos3_driver, 1, false,
		"01042214cdff776b4080e80122034003e7000a0cff0b7f0d000cff0b810b7e000000b400b4d32e010434"
		"0cff0cff0d000d000d000cff0d000cff0d000d000d000d000d000cff0cff0d000b820b7f0b810b7e0aab"
		"0aab0aab0aab0b8c0b7f01130101120000000000000000010000000000000300002aa5", false },
	/* EG4LL-01 */
	{ "eg4-ll", &bms_eg4_ll_driver, 2, false,
		"02034e14f600780d1a0d190d1b0d1b0d1a0d1b0d1a0d1b0d1a0d1b0d1a0d1a0d1a0d1b0d1a0d1a001900"
		"1b0018006100640064006100010000000000000000000b15752a00181818180000001003e800004e71", false },
	/* RENOGY-01 and built 5042 / 5100 answers */
	{ "renogy", &bms_renogy_driver, 48, false,
		"30034400040023002100210021000000000000000000000000000000000000000000000000000200aa00"
		"aa00000000000000000000000000000000000000000000000000000000257430030e00fa008800015f90"
		"000186a00003fd9d300310000000000000000000000000000680001760", false },
	/* PYLONCAN-01 as the CAN transport's records (BMS_CAN_MAGIC0 ...) */
	{ "pylon-can", &bms_pylon_can_driver, 0, false,
		"ca4e0051030000081402c012c012c201" "ca4e00550300000458005e00" "ca4e0056030000067a13f2fe6b01"
		"ca4e0059030000070000000006504e" "ca4e005c03000002c000" "ca4e005e0300000850594c4f4e202020", false },
	/* the same from the slcan adapter's lines */
	{ "pylon-can/sl", &bms_pylon_can_driver, 0, true,
		"t35181402C012C012C201\rt355458005E00\rt35667A13F2FE6B01\rt35970000000006504E\rt35C2C000\r"
		"t35E850594C4F4E202020\r", true },
	/* RVC-01 as the CAN transport's records: the REGO bank at 0x8D */
	{ "rvc", &bms_rvc_driver, 0x8D, false,
		"ca4e018dfdff190801780a0120013577" "ca4e018dfcff190801783c25aef40001" "ca4e018dfbff19080178c81404aeffff"
		"ca4e018dc9fe190801780720017094" "03" "ca4e018dc7fe19080178000000ffffff" "ca4e018da5fe1908017815b004f40100",
		false },
	/* a built 0 x 37 answer (no capture exists) */
	{ "pace-modbus", &bms_pace_modbus_driver, 1, false,
		"01034afb2e14c8004c00631db02710271001410000000000000e000003000000000cf80cf90cfa0cfb0c"
		"fc0cfd0cfe0cff0d000d010d020d030d040d050d060d0700fb00fcffcb00fe013100dd4170", false },
	/* LITIME-01: the 0x13 status, one 105-byte answer (Bluetooth LE) */
	{ "litime", &bms_litime_driver, 0, false,
		"000065019355aa0046660000bc670000f50cf70cfc0cfb0cf80cf20cfa0cf50c0000000000000000"
		"000000000000000065faffff17001600feff00000000e91a04290000000000000000000000000000"
		"00000000000000000000410064000000030000005f010000a2", false },
	/* TIANPWR-04, -03, -05, -06, -07, -08: 0x84, 0x83, 0x85, 0x87, 0x88, 0x89
	 * (the identity known) */
	{ "tianpower", &bms_tianpower_driver, 0, false,
		"551484100459d8364800000000000000000000aa" "551483003c1472011800e600f0000030300064aa"
		"55148508230000000000000000000000000000aa" "55148700e600e600e600e60000000000000000aa"
		"5514880cc10cd50cd20cd50cc80cd40cc80cd2aa" "5514890cc80cc80cc70cc70cc10cc30cca0cc8aa", false },
	/* TOPBAND-01: one pushed v1 frame (113 bytes; listen-only, Bluetooth LE) */
	{ "topband", &bms_topband_driver, 0, false,
		"5e3834333530303030463843444646464632434639303230303937303136323030453130423030303030"
		"303030354530443731304436353044354530443030303030303030303030303030303030303030303030"
		"3030303030303030303030303030303030303030303030303030393446", false },
	/* SUPERB-01: one pushed Epsilon v1 frame (20 bytes; listen-only, Bluetooth LE) */
	{ "superb", &bms_superb_driver, 0, false, "00755e64000001a4becccccd416289c500000000", false },
	/* ECO-01, ECO-02: the pushed A1 and A2 v1 frames (186 bytes; listen-only, Bluetooth LE) */
	{ "ecoworthy", &bms_ecoworthy_driver, 0, false,
		"a1000000650000000000180103440018004800640531ff8e00002710000100010000000000000000000100020000ffff"
		"000000000000000000000000000000000000000000000000000000000000000000002186"
		"a20000006500000000001801035600040cfb0cfd0cfb0cfaffffffffffffffffffffffffffffffffffffffffffffffffffff"
		"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff000300cd00c000befc18fc18fc18fc18fc18fc18976a",
		false },
	/* FELICITY-01: the real-time JSON answer (802 bytes; the identity is not
	 * asked after the first poll of a connection) */
	{ "felicity", &bms_felicity_driver, 0, true,
		"{\"CommVer\":1,\"wifiSN\":\"F100011002424470238\",\"modID\":1,\"date\":\"20210101010501\",\"DevSN\":\"100011002424470238\","
		"\"Type\":112,\"SubType\":7300,\"Estate\":960,\"Bfault\":0,\"Bwarn\":0,\"Bstate\":960,\"BBfault\":0,"
		"\"BBwarn\":0,\"BTemp\":[[130,130],[256,256]],\"Batt\":[[52800],[-1],[null]],\"Batsoc\":[[3300,"
		"1000,300000]],\"Templist\":[[130,130],[0,0],[65535,65535],[65535,65535]],\"BattList\":[[52750,"
		"65535],[-1,-1]],\"BatsocList\":[[3300,1000,300000]],\"BatcelList\":[[3296,3296,3297,3297,"
		"3297,3297,3297,3297,3297,3297,3296,3297,3297,3297,3297,3297],[65535,65535,65535,65535,"
		"65535,65535,65535,65535,65535,65535,65535,65535,65535,65535,65535,65535]],\"EMSpara\":[[1,"
		"2]],\"BMaxMin\":[[3297,3296],[2,0]],\"LVolCur\":[[576,480],[1500,1500]],\"BMSpara\":[[1,"
		"2]],\"BLVolCu\":[[576,480],[1500,1500]],\"BtemList\":[[130,130,130,130,32767,32767,32767,"
		"32767]]}", false },
	/* EJ-01, EJ-02: RT and CAP, ASCII */
	{ "chins", &bms_chins_driver, 0, true,
		":0082310080000101C00000880F540F3C0F510FD70F310F2C0F340F3A0FED0FED000000000000000000"
		"0000000000000248424242F0000000000000000001AB~:009031001E00000002000A000AD8~", false },
	/* HUMS-02, HUMS-03, HUMS-04: status 0x20, info 0x21, cells 0x22 (the
	 * identity known: no 0x11 / 0xF5) */
	{ "humsienk", &bms_humsienk_driver, 0, false,
		"aa200f0000000080008000000000000000002f01"
		"aa211a4a33000082fbffff2a64e4f70000f04902000300231a1a1a2c1a9108"
		"aa2230d10cdb0cd40cd00c0000000000000000000000000000000000000000000000000000000000"
		"0000000000000000000000d203", false },
	/* TDT-03, TDT-04: 0x8C and 0x8D of a 16S unit (the identity known: no 0x92) */
	{ "tdt", &bms_tdt_driver, 0, false,
		"7e000103008c003c100ce30ce60cde0cde0cdd0cde0cdd0cdc0cdc0cda0cde0cde0cde0cdd0cdf0cde060b5e"
		"0b6f0b5e0b5e0b5e0b66c039149603df043b000803e8005b2b9c0d"
		"7e000103008d00271000000000000000000000000000000000060000000000000000000200000e0100001800"
		"0000000b7b0d", false },
	/* KS-01, KS-02, KS-03: status 0x01, cells 0x02, temperatures 0x03 (the
	 * identity known: no 0xF4 / 0x0B) */
	{ "ks48", &bms_ks48_driver, 0, false,
		"7b0120005314d300d200b400befb8761c275300000000000087e810000000e000000647d"
		"7b0221100cff0d060d050d070d050d070d050d0a0d040d070d060d080d050d060d080d097d"
		"7b0309040b910b910b910b917d", false },
	/* BASEN-02, BASEN-06, BASEN-04: status 0x2A, general 0x2B, cells 0x24 */
	{ "basen", &bms_basen_driver, 0, false,
		"3a162a1815040000d368000015161919701f00008080000007020000a1030d0a"
		"3a162b18a08601000064000091a0010000000000307500007153070086040d0a"
		"3a162418170d1b0d180d190d180d1b0d1c0d1c0d000000000000000088010d0a", false },
	/* ROYPOW-01, ROYPOW-02, a 4S cells frame (synthetic, the layout of
	 * PROTOCOLS.md §48.3): status 0x03, pack 0x04, cells 0x02 */
	{ "roypow", &bms_roypow_driver, 0, false,
		"ead1011aff0332002300000000043b3b3b3c00100000000c07000000eff5"
		"ead10139ff040160020002030001049a28050001069e24070001087f7d09ffff0a04d40b00164a700c250317"
		"00514505440d2e0d290d144e0000006ff5"
		"ead1010fff020404040d260d2b0d280d2dfef5", false },
	/* OGT-07, OGT-08, the full capacity (synthetic), OGT-09 .. OGT-11,
	 * OGT-13: the seven registers under the key 0x1A */
	{ "ogt", &bms_ogt_driver, 0, false,
		"31485e362a282e2f1710" "31485e362a2e222c2b582a5b1710" "31485e362a2c5e5f282d2a5b1710"
		"31485e362a225c2229291710" "31485e362a5923222a581710" "31485e362b2a5e595c5c2a2a1710"
		"31485e3628592b5b2a2a1710", false },
	/* PACEEX-01, PACEEX-02: system data 0x0A00, pack cells 0x0A02 */
	{ "paceex", &bms_paceex_driver, 0, false,
		"9a00000a0000003301fffffe59000014b500001ce800002710000027104a64000000ef000000000000000001080c"
		"ef01100cec01030b8e01010b8999169d"
		"9a00000a020000440214b6100cee0b890cec0b8b0cee0b8e0cef0b8b0cef00000cee00000cef00000cef00000cef"
		"00000cf000000cef00000cee00000cee00000cef00000cee00000cec000032a19d", false },
	/* ANT-01: the 7E A1 status of a 16S board, one 152-byte answer (the
	 * identity known: no device information) */
	{ "ant", &bms_ant_driver, 0, false,
		"7ea11100008e05010210000000000000000080008001000000000000000000000000e40ce40ce50ce50c"
		"e80ce70ce70ce60ce80ce70ce70ce70ce70ce70ce60ce90c0100020002000700a41403005b0064000101"
		"00000076b010d5670e0fba324a000f00000010582e0200000000e90c1000e40c01000500e60c00008000"
		"7a000f02f2fab98c3b00bbd85800da2d4300e8b649000543aa55", false },
	/* ANT-10: the legacy 140-byte frame of the same generation's board */
	{ "ant/legacy", &bms_ant_driver, 0, false,
		"aa55aaff027d0f8f0f8f0f8e0f8d0f8d0f8f0f900f900f8e0f900f8f0f8c0f8c0f8e0f8d0f8f00000000"
		"0000000000000000000000000000000000000000000000000000000000000000540df28e800ba4f04e00"
		"0434e20017b7660017001900150016ffd8ffd801010000000000ff00000000070f90100f8c0f8e100002"
		"007f007b02af00000000000019a4", false },
	/* NEEY-01, NEEY-03, NEEY-01: the first poll takes the settings (the
	 * layout) and the cell frame after them, every later one only the first
	 * cell frame, as a streaming balancer's poll does (300 bytes) */
	{ "neey", &bms_neey_driver, 0, false,
		"55aa110102002c01df1799544028a454409da6544062a55440eda25440b2a154409da65440eda25440d8"
		"a7544077a054403d9f544028a454409da6544062a5544077a054409da654400000000000000000000000"
		"00000000000000000000000000000000000000000061e1263e1c0a4a3ea486463ea9cd313eb0bb353e6a"
		"bf253e30da1e3ef88f203e93e6233e8517283ecddc233ef3a0353ee9463d3e24f93d3ed27b3a3ed29e41"
		"3e000000000000000000000000000000000000000000000000000000000000000063a3544263a3544000"
		"106c3a08000f05939b03400bd7d3410bd7d3410000000000000000000000000000000000000000000000"
		"00003dee0300000000000000000000000000000000000000000000000000000000000000000000000000"
		"00000000ccff55aa110104006400106f12833b0000004000004040010102180100000000000000000000"
		"000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
		"0000000000000000000000000000000000000000a5ff55aa110102002c01df1799544028a454409da654"
		"4062a55440eda25440b2a154409da65440eda25440d8a7544077a054403d9f544028a454409da6544062"
		"a5544077a054409da6544000000000000000000000000000000000000000000000000000000000000000"
		"0061e1263e1c0a4a3ea486463ea9cd313eb0bb353e6abf253e30da1e3ef88f203e93e6233e8517283ecd"
		"dc233ef3a0353ee9463d3e24f93d3ed27b3a3ed29e413e00000000000000000000000000000000000000"
		"0000000000000000000000000063a3544263a3544000106c3a08000f05939b03400bd7d3410bd7d34100"
		"0000000000000000000000000000000000000000000000003dee03000000000000000000000000000000"
		"0000000000000000000000000000000000000000000000000000ccff", false },
	/* the same with SW-2.0.0's v2 frames: NEEY-05, NEEY-06 (150 bytes), NEEY-05 */
	{ "neey/v2", &bms_neey_driver, 0, false,
		"55aa110102002c012294685140ecbd5140f2595140867e5140d953514049af51403bc5514049af5140e8"
		"9651409e2b5140e1a1514070f8514057f25140019d514032a95140ded351400000000000000000000000"
		"00000000000000000000000000000000000000000059dbad3df737a43df228923da8a09f3dd1b4a83d6a"
		"56893d83c39f3d2c549e3db6fa9d3d71e8a53d48d3913d43dea23d7c3b963d57739f3d39eeb43d602c98"
		"3d0000000000000000000000000000000000000000000000000000000000000000fd9d5142fd9d514000"
		"d24c3c0b090f050266e000c13ca701406891e14152b8e0413333fb41b29d77420000a043316831433dc2"
		"5d420000a04300000000c08cab4000000000000000000000000000000000000000000000000000400200"
		"0000000005ff55aa11010400960002100000a043a69b443b6f12833a99995940eb515840000000419a99"
		"694033336340666626409a9939400000803f3333333f0000004000002a4305002c010000484305007800"
		"0000c843e803780000004844f40100000000704200004842000000c00000004000007042000048420000"
		"20c10000a0c0010101010000000000000000000000000000000000006bff55aa110102002c0122946851"
		"40ecbd5140f2595140867e5140d953514049af51403bc5514049af5140e89651409e2b5140e1a1514070"
		"f8514057f25140019d514032a95140ded351400000000000000000000000000000000000000000000000"
		"00000000000000000059dbad3df737a43df228923da8a09f3dd1b4a83d6a56893d83c39f3d2c549e3db6"
		"fa9d3d71e8a53d48d3913d43dea23d7c3b963d57739f3d39eeb43d602c983d0000000000000000000000"
		"000000000000000000000000000000000000000000fd9d5142fd9d514000d24c3c0b090f050266e000c1"
		"3ca701406891e14152b8e0413333fb41b29d77420000a043316831433dc25d420000a04300000000c08c"
		"ab40000000000000000000000000000000000000000000000000004002000000000005ff", false },
	/* SOK-01 + SOK-03 (C1), SOK-01, SOK-04, SOK-05, SOK-06 (C2, 8 cells),
	 * aiobmsble's F9 (C4): the 7 frames of a poll, 140 bytes */
	{ "abc", &bms_abc_driver, 0, false,
		"ccf0a26b00000000a08601409e01070063000021ccf201010114000000000000000200000000007fccf0"
		"a26b00000000a08601409e01070063000021ccf3170312006400000100000000000000000036ccf40172"
		"0d0002a80d00032f0d0004880d00008bccf405810d0006650d00071f0d00085c0d000033ccf900000000"
		"00000000000000000000000000ed", false },
	/* SEPLOS2B-01: Seplos V2 over Bluetooth LE, the one 0x61 of a poll (116 bytes) */
	{ "seplos-ble", &bms_seplos_driver, 0, false,
		"7e14006100006a0000100d440d470d4c0d470d450d460d460d580d580d590d480d440d480d430d480d47060b"
		"930b920b900b950bd00ba0049c1543749d0676c003d676c000d603e815460000000000000000000000000000"
		"00000000000000000000020308000000000000000000020000d8c30d", false },
	/* LP-01: the 0x01 general information, one 94-byte answer (RS485) */
	{ "lifepower", &bms_lifepower_driver, 1, false,
		"7e01015801100cf30cf40cf30cf30cf40cf40cf40cf40cf40cf40cf40cf40cf40cf40cf40cf40201753003"
		"01229c04012710050600410041004000408042204206050000000000000000000007010001080114b909"
		"0127100a0100003c0d", false },
	/* UP16S-01: the master's 0x1000 status, one 168-byte answer (RS485) */
	{ "jbd-up", &bms_jbd_up_driver, 1, false,
		"0178100010a0009e14c50000000493e017cf17cf2710271002c602d6000000640000000000000000000300"
		"04000c00030d0300080cf50cfb000402c8000202c002c4024807d001c007d000100cfe0cf60d030cf60cf8"
		"0cfb0d000cf50cfc0cfb0cfe0cfb0cfc0cfd0cfd0cfa000402c502c002c602c8000000000c044a42443438"
		"31303030303000000000000000000000000000000000000000000200035aa60000000000006a2e", false },
	/* RNGPRO-02, -01, -03: cells, pack, status (Bluetooth LE, a RNGRBP) */
	{ "renogy-pro", &bms_renogy_pro_driver, 0, false,
		"3003440004002100210021002100000000000000000000000000000000000000000000000000030111010c"
		"01130000000000000000000000000000000000000000000000000000654a30030efff400850003304200"
		"033bda00063e33300310000000000000000000000000000e0000f762", false },
	/* VATRER-01, -02, -03: status, 16 cells, temperatures (Bluetooth LE) */
	{ "vatrer", &bms_vatrer_driver, 0, false,
		"0203281493fffffe1000280f822710001b00640001000000010ce00cdd0003000f00100014001200020004e4e5"
		"02033e00100cdf0cdf0ce00ce00ce00ce00ce00ce00ce00ce00ce00ce00ce00ce00ce00cdd000000000000"
		"00000000000000000000000000000000000000000000cb54"
		"0203240004001200140013001400140014000000000000000000000000000000340240000000004643", false },
	/* PYLRT-01: the main block (Bluetooth LE; no cells; the identity not asked) */
	{ "pylon-rt", &bms_pylon_rt_driver, 0, false,
		"01031a052cffd00cf00cef00960096005b0063003f00000b9003e803e845d8", false },
	/* GOBEL-01: the status block, 4 cells (Bluetooth LE; the identity not asked) */
	{ "gobel", &bms_gobel_driver, 0, false,
		"01037600000533006100647b117eed7aa800010000000000000c0000000000c00000040cff0d020d020d01000000"
		"0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
		"0100d100000000000000000000000000000000000000d3ffff01d6", false },
	/* SAIHANG-01: A5 A5 and the one block, 8 cells (Bluetooth LE) */
	{ "saihang", &bms_saihang_driver, 0, false,
		"a5a50003900000000000000aa800600064000025a600002710000027100002ffff0001000006000000000000080da90d6a0d28"
		"0d3d0d2c0d6b0d4d0d38ffffffffffffffffffffffffffffffffffffffffffffffff00020b430b46ffffffffffffffffffffff"
		"ffffffffff0b560ba4ffffffffffffffffffffffffffff00006d600000721000006810000a0dac0e420d02000a00009a5a", false },
	/* mqtt-json: one venus-os_dbus-mqtt-battery message of a 16S pack
	 * (bms/PROTOCOLS.md S58-1), parsed (jansson) and mapped */
	{ "mqtt-json", &bms_mqtt_json_driver, 0, true,
		"{\"Dc\":{\"Power\":321.6,\"Voltage\":52.7,\"Current\":6.1,\"Temperature\":23},"
		"\"InstalledCapacity\":200.0,\"Capacity\":125.5,\"Soc\":63,\"Info\":{\"MaxChargeCurrent\":80.0},"
		"\"History\":{\"ChargeCycles\":5},\"Voltages\":{\"Cell1\":3.291,\"Cell2\":3.292,\"Cell3\":3.293,"
		"\"Cell4\":3.294,\"Cell5\":3.295,\"Cell6\":3.296,\"Cell7\":3.297,\"Cell8\":3.298,\"Cell9\":3.299,"
		"\"Cell10\":3.300,\"Cell11\":3.301,\"Cell12\":3.302,\"Cell13\":3.303,\"Cell14\":3.304,"
		"\"Cell15\":3.305,\"Cell16\":3.306}}", false },
};

/* Polls per second of c for about `seconds` (ble: over Bluetooth LE, as a
 * case named <protocol>-ble); 0 if its poll does not decode. */
static int bench(const struct bench_case *c, double seconds, bool ble)
{
	static uint8_t wire[4096];
	size_t n = c->text ? strlen(c->wire) : hex(c->wire, wire, sizeof(wire));
	if (c->text)
		memcpy(wire, c->wire, n);
	if (c->slcan)
		n = slcan_records(c->wire, strlen(c->wire), wire, sizeof(wire));
	if (c->drv == &bms_mqtt_json_driver) /* one message, as the MQTT transport hands it over */
		n = bms_msg_record(wire, sizeof(wire), c->wire, strlen(c->wire));
	struct bms_poll poll;
	memset(&poll, 0, sizeof(poll));
	poll.kept.ident_state = BMS_IDENT_NONE;
	/* a case named <protocol>-ble: the protocol's Bluetooth LE dialect */
	size_t nl = strlen(c->name);
	if (ble || (nl > 4 && strcmp(c->name + nl - 4, "-ble") == 0))
		poll.link = BMS_LINK_BLE;
	uint16_t regs[REG_MAP_SIZE];
	if (run_poll(c->drv, c->addr, wire, n, &poll) != 0) {
		fprintf(stderr, "bench_decode: the %s poll does not decode\n", c->name);
		return 1;
	}
	frames_taken = 0; /* a poll as the loop runs it (a listening one: with its set learned) */
	if (run_poll(c->drv, c->addr, wire, n, &poll) != 0) {
		fprintf(stderr, "bench_decode: the %s poll does not decode twice\n", c->name);
		return 1;
	}
	unsigned long frames = frames_taken ? frames_taken : 1;
	long iters = 0;
	double t0 = now(), t;
	do {
		for (int i = 0; i < 1000; i++) {
			if (c->slcan)
				n = slcan_records(c->wire, strlen(c->wire), wire, sizeof(wire));
			run_poll(c->drv, c->addr, wire, n, &poll);
			bms_snapshot_derive(&poll.snap);
			reg_encode_data(&poll.snap, REG_FLOAT_CDAB, regs);
		}
		iters += 1000;
		t = now();
	} while (t - t0 < seconds);
	printf("%-12s %9.0f polls/s decoded and encoded (%4zu wire bytes, %6.2f us per poll, %2lu frames, %6.3f us per "
	       "frame)\n",
	       c->name, iters / (t - t0), c->slcan ? strlen(c->wire) : n, (t - t0) / iters * 1e6, frames,
	       (t - t0) / iters * 1e6 / (double)frames);
	return 0;
}

/* The drivers without a case above, from their fixtures: each its name,
 * its driver and its answers (hex), NULL-ended. */
struct gen_case {
	const char *name;
	const struct bms_driver *drv;
	const char *frames[13];
};
static const struct gen_case gen_cases[] = {
#include "bench_cases.h"
};

static bool has_case(const struct bms_driver *d)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (cases[i].drv == d)
			return true;
	return false;
}

/* A driver's generated case: its answers back to back, at its default
 * address, over Bluetooth LE where it exists only there. */
static void bench_gen(const struct gen_case *g)
{
	static char wire[16384];
	size_t n = 0;
	wire[0] = 0;
	for (int k = 0; g->frames[k]; k++) {
		size_t l = strlen(g->frames[k]);
		if (n + l >= sizeof(wire))
			break;
		memcpy(wire + n, g->frames[k], l + 1);
		n += l;
	}
	uint8_t addr = g->drv->default_address ? g->drv->default_address : g->drv->min_address;
	struct bench_case c = { g->name, g->drv, addr, false, wire, false };
	if (bench(&c, 1.0, bms_ble_only(g->drv)) != 0)
		printf("%-12s (not measured: its fixtures make no whole poll)\n", g->name);
}

int main(void)
{
	int rc = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		rc |= bench(&cases[i], i == 0 ? 2.0 : 1.0, false);
	for (size_t i = 0; i < sizeof(gen_cases) / sizeof(gen_cases[0]); i++)
		if (!has_case(gen_cases[i].drv))
			bench_gen(&gen_cases[i]);
	return rc;
}
