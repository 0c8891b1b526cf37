/* SPDX-License-Identifier: MIT */
/* tests/unit/test_ble.c - the pure parts of Bluetooth LE: addresses
 * (conf_parse_mac), ble:// ports, keys and [ble] in the configuration, the
 * 16-bit form of a UUID and the --ble-scan classification. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../../bms/bms.h"
#include "../../conf/conf.h"
#include "../../gateway/wire/ble/ble.h"
#include "check.h"
#include "sections.h"

static struct conf c;
static char err[CONF_ERR_MAX];

static int load(const char *text)
{
	err[0] = '\0';
	return conf_load_string(text, "t.ini", &c, err, sizeof(err));
}

#define EXPECT_ERR(text, want) do { \
	int r_ = load(text); \
	CHECK(r_ == -1); \
	if (r_ == -1 && !strstr(err, want)) { \
		check_failed++; \
		fprintf(stderr, "FAIL %s:%d: \"%s\" lacks \"%s\"\n", __FILE__, __LINE__, err, want); \
	} \
} while (0)

static void test_mac(void)
{
	char m[18];
	CHECK(conf_parse_mac("AA:BB:CC:DD:EE:FF", m));
	CHECK_STR(m, "AA:BB:CC:DD:EE:FF");
	CHECK(conf_parse_mac("a4:c1:38:0f:1e:2d", m));
	CHECK_STR(m, "A4:C1:38:0F:1E:2D");
	CHECK(conf_parse_mac("a4-c1-38-0f-1e-2d", m));
	CHECK_STR(m, "A4:C1:38:0F:1E:2D");
	static const char *const bad[] = {
		"", "AA:BB:CC:DD:EE", "AA:BB:CC:DD:EE:FF:00", "AA:BB:CC:DD:EE:FG", "AABBCCDDEEFF",
		"AA:BB:CC:DD:EE:F", "AA:BB:CC:DD:EE:FFF", "AA;BB:CC:DD:EE:FF", " A:BB:CC:DD:EE:FF", "AA:BB:CC:DD:EE:F ",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strcpy(m, "unchanged");
		CHECK(!conf_parse_mac(bad[i], m));
		CHECK_STR(m, "unchanged");
	}
	CHECK(!conf_parse_mac(NULL, m));
}

#define GW "[gateway]\nstate_file = none\n"

static void test_conf(void)
{
	/* a BLE port: address normalised, no baud, the protocol floor as gap */
	CHECK_EQ_INT(load(GW "[pack.a]\nprotocol = jbd\nport = ble://a4:c1:38:0f:1e:2d\n"), 0);
	CHECK(c.packs[0].is_ble);
	CHECK(!c.packs[0].is_tcp);
	CHECK_STR(c.packs[0].port, "ble://A4:C1:38:0F:1E:2D");
	CHECK_STR(c.packs[0].ble_addr, "A4:C1:38:0F:1E:2D");
	CHECK_STR(c.packs[0].ble_adapter, "");
	CHECK(!c.packs[0].have_key);
	CHECK_NEAR(conf_pack_gap(&c.packs[0], false), c.packs[0].driver->gap_floor, 1e-12);
	CHECK_NEAR(c.ble.connect_timeout, 20, 1e-9);
	CHECK_EQ_INT(c.ble.line, 0);

	/* [ble]: the adapter reaches every BLE pack, before or after it in the file */
	CHECK_EQ_INT(load(GW "[pack.a]\nprotocol = jbd\nport = ble://A4:C1:38:0F:1E:2D\n[pack.b]\nprotocol = jbd\n"
			  "port = /dev/ttyUSB0\n[ble]\nadapter = hci1\nconnect_timeout = 30\n"), 0);
	CHECK_STR(c.packs[0].ble_adapter, "hci1");
	CHECK_STR(c.packs[1].ble_adapter, "");
	CHECK_NEAR(c.ble.connect_timeout, 30, 1e-9);
	CHECK_EQ_INT(c.ble.line, 9);

	EXPECT_ERR(GW "[pack.a]\nprotocol = jbd\nport = ble://A4:C1:38:0F:1E\n",
		   "t.ini:5: [pack.a] port: \"ble://A4:C1:38:0F:1E\": \"A4:C1:38:0F:1E\" is not a Bluetooth address");
	EXPECT_ERR(GW "[pack.a]\nprotocol = jbd\nport = ble://A4:C1:38:0F:1E:2D\nbaud = 9600\n",
		   "t.ini:6: [pack.a] baud: a Bluetooth link (ble://A4:C1:38:0F:1E:2D) has no baud rate");
	EXPECT_ERR(GW "[pack.a]\nprotocol = jbd\nport = ble://A4:C1:38:0F:1E:2D\nkey = 00112233445566778899aabbccddeeff\n",
		   "t.ini:6: [pack.a] key: protocol jbd takes no key");
	EXPECT_ERR(GW "[pack.a]\nprotocol = pylontech\nport = ble://A4:C1:38:0F:1E:2D\n",
		   "t.ini:5: [pack.a] port: protocol pylontech is not spoken over Bluetooth LE");
	EXPECT_ERR(GW "[pack.a]\nprotocol = jbd\nport = ble://A4:C1:38:0F:1E:2D\n[pack.b]\nprotocol = jbd\n"
		   "port = ble://a4:c1:38:0f:1e:2d\n", "t.ini:8: [pack.b] port: ble://A4:C1:38:0F:1E:2D is already used by "
		   "[pack.a] (line 5) (expected one pack per Bluetooth device, but for the batteries of one device of a "
		   "protocol with addresses, each its own)");
	/* the batteries of one device (dometic): a pack each by its address;
	 * never the same address twice, another protocol, or address_any */
#define DM2(a, b) GW "[pack.a]\nprotocol = dometic\nport = ble://A4:C1:38:0F:1E:2D\n" a \
		"[pack.b]\nprotocol = dometic\nport = ble://A4:C1:38:0F:1E:2D\n" b
	CHECK_EQ_INT(load(DM2("address = 15\n", "address = 0\n")), 0);
	EXPECT_ERR(DM2("address = 15\n", "address = 15\n"), "15 is already used by [pack.a]");
	EXPECT_ERR(DM2("address_any = true\n", "address = 1\n"), "[pack.b] shares its port");
	EXPECT_ERR(GW "[pack.a]\nprotocol = dometic\nport = ble://A4:C1:38:0F:1E:2D\n[pack.b]\nprotocol = jbd\n"
		   "port = ble://A4:C1:38:0F:1E:2D\n", "is already used by [pack.a] (line 5)");
#undef DM2
	EXPECT_ERR(GW "[pack.a]\nprotocol = jbd\nport = ble://A4:C1:38:0F:1E:2D\n[tunnel.t]\nport = ble://A4:C1:38:0F:1E:2D\n"
		   "listen = 127.0.0.1:8899\nclients = 127.0.0.1\n", "[tunnel.t] port: ble://A4:C1:38:0F:1E:2D is a Bluetooth device");
	EXPECT_ERR(GW "[ble]\nadapter = hci 0\n[pack.a]\nprotocol = jbd\nport = /dev/ttyUSB0\n", "t.ini:4: [ble] adapter");
	EXPECT_ERR(GW "[ble]\nconnect_timeout = 0.5\n[pack.a]\nprotocol = jbd\nport = /dev/ttyUSB0\n",
		   "t.ini:4: [ble] connect_timeout: 0.5 is out of range");
	EXPECT_ERR(GW "[ble]\nscan = 1\n[pack.a]\nprotocol = jbd\nport = /dev/ttyUSB0\n",
		   "t.ini:4: [ble] scan: unknown key (expected one of adapter, connect_timeout, max_connections)");
	EXPECT_ERR(GW "[pack.a]\nprotocol = jbd\nport = ble:/A4:C1:38:0F:1E:2D\n", "t.ini:5: [pack.a] port");
	/* a key: only 32 hex digits, refused by protocols that have none */
	EXPECT_ERR(GW "[pack.a]\nprotocol = jbd\nport = /dev/ttyUSB0\nkey = 0011\n",
		   "t.ini:6: [pack.a] key: the value (4 characters) is not a key (expected 32 hex digits (16 bytes), as "
		   "the vendor's app shows it: too short)");
	EXPECT_ERR(GW "[pack.a]\nprotocol = jbd\nport = /dev/ttyUSB0\nkey = 00112233445566778899aabbccddeeffX\n",
		   "too long");
	EXPECT_ERR(GW "[pack.a]\nprotocol = jbd\nport = /dev/ttyUSB0\nkey = 00112233445566778899aabbccddeefg\n",
		   "the value (32 characters) is not a key");
	/* a secret: never repeated, not even a typo'd one (nearly the key) */
	CHECK(load(GW "[pack.a]\nprotocol = jbd\nport = /dev/ttyUSB0\nkey = 5EC2E7AAAAAAAAAAAAAAAAAAAAAAAABC1\n") == -1);
	CHECK(strstr(err, "5EC2E7") == NULL && strstr(err, "AAAA") == NULL && strstr(err, "too long") != NULL);
	EXPECT_ERR(GW "[pack.a]\nprotocol = jbd\nport = /dev/ttyUSB0\nkey = 00112233445566778899aabbccddeeff\n",
		   "t.ini:6: [pack.a] key: protocol jbd takes no key");

	/* the drivers' BLE members: every ble->gatt list is terminated and in
	 * lower case; a layout without a write is a listen_only driver's, or one
	 * whose steps may listen (superb's v1); a second notifier is a full UUID */
	for (size_t i = 0; bms_drivers[i]; i++) {
		const struct bms_ble *ble = bms_drivers[i]->ble;
		const struct bms_gatt *g = ble ? ble->gatt : NULL;
		CHECK(!ble || ble->gatt || ble->company); /* a driver's BLE part says how it is reached */
		for (int k = 0; g && g[k].service && k < 16; k++) {
			CHECK(g[k].notify && (g[k].write || bms_drivers[i]->listen_only || bms_drivers[i]->listens));
			CHECK(!g[k].notify2 || (strlen(g[k].notify2) == 36 && strcmp(g[k].notify2, g[k].notify) != 0));
			CHECK_EQ_INT(strlen(g[k].service), 36);
			for (const char *p = g[k].service; *p; p++)
				CHECK(!(*p >= 'A' && *p <= 'Z'));
		}
		if (ble && ble->company)
			CHECK(bms_drivers[i]->listen_only);
	}
}

static void test_uuid16(void)
{
	CHECK_EQ_INT(gw_ble_uuid16("0000ff00-0000-1000-8000-00805f9b34fb"), 0xFF00);
	CHECK_EQ_INT(gw_ble_uuid16("0000FFE0-0000-1000-8000-00805F9B34FB"), 0xFFE0);
	CHECK_EQ_INT(gw_ble_uuid16("65970000-4bda-4c1e-af4b-551c4cf74769"), -1);
	CHECK_EQ_INT(gw_ble_uuid16("0000ff00-0000-1000-8000-00805f9b34f"), -1);
	CHECK_EQ_INT(gw_ble_uuid16("0001ff00-0000-1000-8000-00805f9b34fb"), -1);
	CHECK_EQ_INT(gw_ble_uuid16(NULL), -1);
}

static const char *guess(const char *name, const char *uuid, uint16_t company, bool *pairing)
{
	struct gw_ble_seen s;
	memset(&s, 0, sizeof(s));
	snprintf(s.name, sizeof(s.name), "%s", name);
	if (uuid) {
		snprintf(s.uuids[0], sizeof(s.uuids[0]), "%s", uuid);
		s.nuuids = 1;
	}
	if (company) {
		s.companies[0] = company;
		s.nmfr = 1;
	}
	struct gw_ble_guess g;
	gw_ble_classify(&s, &g);
	if (pairing)
		*pairing = g.pairing;
	return g.protocol ? g.protocol : "-";
}

static void test_classify(void)
{
	bool pair = false;
	CHECK_STR(guess("SmartShunt HQ2204", NULL, 0x02E1, &pair), "victron-ble");
	CHECK(!pair);
	CHECK_STR(guess("JK-B2A24S15P", NULL, 0, &pair), "jk-ble");
	CHECK(pair);
	CHECK_STR(guess("", "0000ffe0-0000-1000-8000-00805f9b34fb", 0, NULL), "jk-ble");
	CHECK_STR(guess("DL-41181211223", NULL, 0, &pair), "daly-modbus");
	CHECK(!pair);
	CHECK_STR(guess("xiaoxiang BMS", NULL, 0, &pair), "jbd");
	CHECK(pair);
	CHECK_STR(guess("JBD-SP04S034", NULL, 0, NULL), "jbd");
	CHECK_STR(guess("", "0000ff00-0000-1000-8000-00805f9b34fb", 0, NULL), "jbd");
	CHECK_STR(guess("", "0000fff0-0000-1000-8000-00805f9b34fb", 0, NULL), "daly");
	/* Seplos V3 names, not JBD's SP0...; EG4-LL's service */
	CHECK_STR(guess("SP05B2312190075", "0000fff0-0000-1000-8000-00805f9b34fb", 0, NULL), "seplos3");
	CHECK_STR(guess("SP157B000001", NULL, 0, NULL), "seplos3");
	CHECK_STR(guess("XZHX1234", NULL, 0, NULL), "seplos3");
	CHECK_STR(guess("SP04S034", NULL, 0, NULL), "jbd");
	CHECK_STR(guess("", "00001000-0000-1000-8000-00805f9b34fb", 0, NULL), "eg4-ll");
	/* Renogy's BT-1 / BT-2 module: its name, or its write service FFD0 */
	CHECK_STR(guess("BT-TH-B00F1234", "0000fff0-0000-1000-8000-00805f9b34fb", 0, NULL), "renogy");
	CHECK_STR(guess("", "0000ffd0-0000-1000-8000-00805f9b34fb", 0, NULL), "renogy");
	CHECK_STR(guess("Headphones", "0000110b-0000-1000-8000-00805f9b34fb", 0x004C, NULL), "-");
	CHECK_STR(guess("", NULL, 0, NULL), "-");
	/* the company id wins over a name */
	CHECK_STR(guess("JK-lookalike", NULL, 0x02E1, NULL), "victron-ble");
	/* an address prefix beside a service (Greenway: C4:A9:B8 and FFF0),
	 * before Daly's FFF0; the prefix alone, or FFF0 from another address,
	 * is not Greenway */
	struct gw_ble_seen s;
	struct gw_ble_guess g;
	memset(&s, 0, sizeof(s));
	snprintf(s.address, sizeof(s.address), "c4:a9:b8:01:02:03");
	snprintf(s.name, sizeof(s.name), "56C00253A00037");
	gw_ble_classify(&s, &g);
	CHECK(g.protocol == NULL);
	snprintf(s.uuids[0], sizeof(s.uuids[0]), "0000fff0-0000-1000-8000-00805f9b34fb");
	s.nuuids = 1;
	gw_ble_classify(&s, &g);
	CHECK_STR(g.protocol ? g.protocol : "-", "greenway");
	snprintf(s.address, sizeof(s.address), "C4:A9:B9:01:02:03");
	gw_ble_classify(&s, &g);
	CHECK_STR(g.protocol ? g.protocol : "-", "daly");
}

/* LiTime / Redodo / Power Queen, Tian Power, E&J (Chins, Lithtech,
 * Supervolt) and ANT: each by its names (aiobmsble's matchers, its advertisement
 * samples), LiTime also by its company id 0x585A; none takes another
 * brand's device, and the older LiTime serials go to E&J. */
static void test_classify_ble1(void)
{
	static const char ffe0[] = "0000ffe0-0000-1000-8000-00805f9b34fb";
	static const char nus[] = "6e400001-b5a3-f393-e0a9-e50e24dcca9e";
	CHECK_STR(guess("L-12100BNNA70-A09683", ffe0, 0, NULL), "litime");
	CHECK_STR(guess("R-24100BNN160-A00643", ffe0, 0, NULL), "litime");
	CHECK_STR(guess("PQ-24100B-A00292", ffe0, 0, NULL), "litime");
	CHECK_STR(guess("LT-12100BG-A07700", ffe0, 0, NULL), "litime");
	CHECK_STR(guess("LT-24100B-A00473", ffe0, 0, NULL), "litime");
	CHECK_STR(guess("SomeName", NULL, 0x585A, NULL), "litime");
	CHECK_STR(guess("LT-12100BG-A06359", ffe0, 0x585A, NULL), "chins");
	CHECK_STR(guess("LT-24100B-A00249", NULL, 0x585A, NULL), "chins");
	CHECK_STR(guess("L-12V100AH-0902", NULL, 0, NULL), "chins");
	CHECK_STR(guess("LT-12V-1544", NULL, 33384, NULL), "chins");
	CHECK_STR(guess("V-12V200Ah-0215", NULL, 0, NULL), "chins");
	CHECK_STR(guess("SV12V150224041", NULL, 33384, NULL), "chins");
	CHECK_STR(guess("G-12V300Ah-0345", nus, 0, NULL), "chins-nus"); /* Chins: RT alone (§83) */
	CHECK_STR(guess("TP_123456", NULL, 0, NULL), "tianpower");
	/* HumsiENK: HS* and ECO???? (aiobmsble humsienk_bms), also with JBD's FF00 advertised */
	CHECK_STR(guess("HS12V100", "00000001-0000-1000-8000-00805f9b34fb", 0, NULL), "humsienk");
	CHECK_STR(guess("ECO1234", NULL, 0x0515, NULL), "humsienk");
	CHECK_STR(guess("HS12V100", "0000ff00-0000-1000-8000-00805f9b34fb", 0, NULL), "humsienk");
	/* TDT / WattCycle: XDZN_* or company 0xD6C0 (aiobmsble tdt_bms), before the FFF0 of Daly */
	CHECK_STR(guess("XDZN_001_49A1", "0000fff0-0000-1000-8000-00805f9b34fb", 0, NULL), "tdt");
	CHECK_STR(guess("WTbF0102", NULL, 0xD6C0, NULL), "tdt");
	/* KS48x00 / Braun Power: HSKS-* (before HumsiENK's HS*) and BL-*, with JBD's FF00 advertised */
	CHECK_STR(guess("HSKS-48100", "0000ff00-0000-1000-8000-00805f9b34fb", 0x7B, NULL), "ks48");
	CHECK_STR(guess("BL-250-100-100", "0000ff00-0000-1000-8000-00805f9b34fb", 0x7B, NULL), "ks48");
	/* Basen: no name is published, its service FA00 */
	CHECK_STR(guess("BG-24100", "0000fa00-0000-1000-8000-00805f9b34fb", 0, NULL), "basen");
	/* RoyPow / Epoch: names with a leading space, with JK's service FFE0 advertised */
	CHECK_STR(guess(" B12100B", ffe0, 0, NULL), "roypow");
	CHECK_STR(guess(" UT12", ffe0, 0, NULL), "roypow");
	/* Offgridtec Smart Pro: SmartBat-A / -B (a type B is named, and not read), before FFF0's others */
	CHECK_STR(guess("SmartBat-A10007", "0000fff0-0000-1000-8000-00805f9b34fb", 0, NULL), "ogt");
	CHECK_STR(guess("SmartBat-B01234", "0000fff0-0000-1000-8000-00805f9b34fb", 0, NULL), "ogt");
	/* PACEEX: PC- and four characters (aiobmsble pace_bms), with Daly's service FFF0 advertised */
	CHECK_STR(guess("PC-1234", "0000fff0-0000-1000-8000-00805f9b34fb", 0, NULL), "paceex");
	/* Super-B Epsilon: Epsilon-<serial> (v1); company 0x50BE (v2) first,
	 * whatever the name; "Epsilon" alone is no v1 name */
	CHECK_STR(guess("Epsilon-1A2B3C", NULL, 0, NULL), "superb");
	CHECK_STR(guess("Epsilon-123456", "74b9c2d1-dc6d-42cf-a2e9-7398b8fc2e70", 0, NULL), "superb");
	CHECK_STR(guess("Epsilon 24V", NULL, 0x50BE, NULL), "superb");
	CHECK_STR(guess("Epsilon", NULL, 0, NULL), "-");
	/* ANT BMS: ANT-BLE..., both dialects, before JK's service FFE0 */
	CHECK_STR(guess("ANT-BLE16ZMUB", ffe0, 0, NULL), "ant");
	CHECK_STR(guess("ANT-BLE24BHUB", NULL, 0, NULL), "ant");
	CHECK_STR(guess("ANT-BLE16ZMB0TB120A", ffe0, 0x2313, NULL), "ant");
	CHECK_STR(guess("ANT-Speaker", ffe0, 0, NULL), "jk-ble");
	/* not theirs: the Fliteboard module without a checksum, NUS alone, a
	 * JBD behind FF00 (Tian Power's service too), JK behind FFE0 (LiTime's) */
	CHECK_STR(guess("libattU12E9", nus, 21320, NULL), "-");
	CHECK_STR(guess("", nus, 0, NULL), "-");
	CHECK_STR(guess("", "0000ff00-0000-1000-8000-00805f9b34fb", 0, NULL), "jbd");
	CHECK_STR(guess("", ffe0, 0, NULL), "jk-ble");
	CHECK_STR(guess("JK-B2A24S15P", ffe0, 0, NULL), "jk-ble");
	CHECK_STR(guess("xiaoxiang BMS", NULL, 0, NULL), "jbd");
	CHECK_STR(guess("SP05B2312190075", NULL, 0, NULL), "seplos3");
	/* Eco-Worthy BW02: by its names (FFF0 is Daly's service too) */
	CHECK_STR(guess("ECO-WORTHY 02_B8EF", "0000fff0-0000-1000-8000-00805f9b34fb", 49844, NULL), "ecoworthy");
	CHECK_STR(guess("ECO-WORTHY 0B_5AD4", NULL, 57570, NULL), "ecoworthy");
	CHECK_STR(guess("DCHOUSE 01_1A2B", NULL, 0, NULL), "ecoworthy");
	CHECK_STR(guess("ECOE934", NULL, 0x0515, NULL), "humsienk"); /* HumsiENK's Eco-Worthy: not ecoworthy */
	/* Felicity Solar: its module's Wi-Fi serial, F10 / F07 and digits
	 * (aiobmsble's F10* / F07*, narrowed to digits) */
	CHECK_STR(guess("F100011002424470238", "6e6f736a-4643-4d44-8fa9-0fafd005e455", 0, NULL), "felicity");
	CHECK_STR(guess("F07123456789", NULL, 0, NULL), "felicity");
	CHECK_STR(guess("F10 Pro Speaker", NULL, 0, NULL), "-");
	/* Topband (KiloVault, Ective, Startcraft): FFE0 with company 0xFFFF or
	 * 0x0000 (aiobmsble's matcher); the company alone, or FFE0 alone, is not */
	CHECK_STR(guess("NWJ20221223", ffe0, 0xFFFF, NULL), "topband");
	CHECK_STR(guess("NWJ20221223", NULL, 0xFFFF, NULL), "-");
	CHECK_STR(guess("SmartBattery-1A2B", ffe0, 0x0001, NULL), "jk-ble");
	CHECK_STR(guess("JK-B2A24S15P", ffe0, 0xFFFF, NULL), "jk-ble"); /* its name first */
	struct gw_ble_seen s;
	struct gw_ble_guess g;
	memset(&s, 0, sizeof(s));
	snprintf(s.uuids[0], sizeof(s.uuids[0]), "%s", ffe0);
	s.nuuids = s.nmfr = 1; /* company 0x0000 */
	gw_ble_classify(&s, &g);
	CHECK_STR(g.protocol ? g.protocol : "-", "topband");
}

/* Creabest: the VB packs (a name VB + nine characters, or company 0x4243
 * with FFF0: aiobmsble cbtpwr_vb_bms) before CBT Power's hints, whose
 * service FFE5 a VB pack has too; the R packs stay cbt-power. */
static void test_classify_creabest(void)
{
	static const char ffe5[] = "0000ffe5-0000-1000-8000-00805f9b34fb";
	static const char fff0[] = "0000fff0-0000-1000-8000-00805f9b34fb";
	CHECK_STR(guess("VB024001223", ffe5, 0, NULL), "creabest-vb");
	CHECK_STR(guess("VB024001223", fff0, 0, NULL), "creabest-vb");
	CHECK_STR(guess("VB024001223", NULL, 0x5352, NULL), "creabest-vb");
	CHECK_STR(guess("", fff0, 0x4243, NULL), "creabest-vb");
	CHECK_STR(guess("140R00036D", ffe5, 0x4243, NULL), "cbt-power"); /* 0x4243 only beside FFF0 */
	CHECK_STR(guess("", ffe5, 0, NULL), "cbt-power");
	CHECK_STR(guess("Battery", ffe5, 0, NULL), "cbt-power");
	CHECK_STR(guess("100R0002D1", NULL, 0, NULL), "cbt-power");
	CHECK_STR(guess("140R00036D", fff0, 0, NULL), "cbt-power");
	CHECK_STR(guess("VB0240012234", ffe5, 0, NULL), "cbt-power"); /* twelve characters: no VB name */
	CHECK_STR(guess("", "000003c1-0000-1000-8000-00805f9b34fb", 0x5352, NULL), "cbt-power");
}

/* Volta Power Systems (myvolta): VPS- and four hex digits; its service is
 * Microchip's MLDP, which any RN4020 module advertises: never alone */
static void test_classify_myvolta(void)
{
	static const char mldp[] = "00035b03-58e6-07dd-021a-08123a000300";
	CHECK_STR(guess("VPS-197B", mldp, 0, NULL), "myvolta");
	CHECK_STR(guess("VPS-1A50", NULL, 0, NULL), "myvolta");
	CHECK_STR(guess("RN4020_1A2B", mldp, 0, NULL), "-");
	CHECK_STR(guess("", mldp, 0, NULL), "-");
	CHECK_STR(guess("VPS-Speaker", mldp, 0, NULL), "-");
	CHECK_STR(guess("VPS-197B", "0000ffe0-0000-1000-8000-00805f9b34fb", 0, NULL), "myvolta"); /* its name first */
	CHECK_STR(guess("JK-B2A24S15P", mldp, 0, NULL), "jk-ble"); /* others' names stay theirs */
}

/* The families of issue 100 (bms/PROTOCOLS.md §77-§84): service data
 * beside a service (Epoch: 3333 with FFE0) or beside a name (Doerr:
 * BT-Battery with FFE1), a company with a service and a name (PowerBoozt),
 * Apple's company with FFF0 (PowerXtreme), a 128-bit service (Votronic,
 * which asks for pairing); each part alone names none of them. */
static void test_classify_issue100(void)
{
	static const char fff0[] = "0000fff0-0000-1000-8000-00805f9b34fb";
	static const char ffe0[] = "0000ffe0-0000-1000-8000-00805f9b34fb";
	struct gw_ble_seen s;
	struct gw_ble_guess g;
	memset(&s, 0, sizeof(s));
	snprintf(s.name, sizeof(s.name), "EpochGC2-0A1B");
	snprintf(s.uuids[0], sizeof(s.uuids[0]), "%s", ffe0);
	s.nuuids = 1;
	gw_ble_classify(&s, &g);
	CHECK_STR(g.protocol ? g.protocol : "-", "jk-ble"); /* FFE0 alone: JK's */
	snprintf(s.sdata[0], sizeof(s.sdata[0]), "00003333-0000-1000-8000-00805f9b34fb");
	s.nsdata = 1;
	gw_ble_classify(&s, &g);
	CHECK_STR(g.protocol ? g.protocol : "-", "epoch-pro");
	s.nuuids = 0; /* the service data alone */
	gw_ble_classify(&s, &g);
	CHECK(g.protocol == NULL);
	/* Doerr: BT-Battery* with service data FFE1; PowerBoozt: with company 0x7F04 and FFF0 */
	memset(&s, 0, sizeof(s));
	snprintf(s.name, sizeof(s.name), "BT-Battery-123");
	snprintf(s.sdata[0], sizeof(s.sdata[0]), "0000ffe1-0000-1000-8000-00805f9b34fb");
	s.nsdata = 1;
	gw_ble_classify(&s, &g);
	CHECK_STR(g.protocol ? g.protocol : "-", "doerr");
	snprintf(s.name, sizeof(s.name), "Other");
	gw_ble_classify(&s, &g);
	CHECK(g.protocol == NULL);
	CHECK_STR(guess("BT-Battery-P1", fff0, 32516, NULL), "pwrboozt");
	CHECK_STR(guess("Other", fff0, 32516, NULL), "daly"); /* the company without the name: FFF0 alone */
	CHECK_STR(guess("BT-Battery-P1", NULL, 32516, NULL), "-");
	/* PowerXtreme: Apple's 76 with FFF0 */
	CHECK_STR(guess("", fff0, 76, NULL), "pwrxtreme");
	CHECK_STR(guess("Headphones", NULL, 76, NULL), "-");
	/* Votronic: its monitoring service; pairing */
	bool pair = false;
	CHECK_STR(guess("BT-Connector", "d0cb6aa7-8548-46d0-99f8-2d02611e5270", 0, &pair), "votronic");
	CHECK(pair);
	CHECK_STR(guess("BT-Connector", "D0CB6AA7-8548-46D0-99F8-2D02611E5270", 0, NULL), "votronic");
	CHECK_STR(guess("BT-Connector", NULL, 0, NULL), "-");
	/* the names: C4S, Dyness Junior, Chins G- */
	CHECK_STR(guess("C4S100IE06007", "6e400001-b5a3-f393-e0a9-e50e24dcca9e", 0, NULL), "c4s");
	CHECK_STR(guess("R07-123", NULL, 0, NULL), "dyness-junior");
	CHECK_STR(guess("G-24V100AH-1", NULL, 0, NULL), "chins-nus");
}

int main(void)
{
	install_sections(); /* the outputs' sections, as the daemon hands them down */
	test_mac();
	test_conf();
	test_uuid16();
	test_classify();
	test_classify_ble1();
	test_classify_creabest();
	test_classify_myvolta();
	test_classify_issue100();
	return check_report();
}
