/* SPDX-License-Identifier: MIT */
/* tests/unit/bus_vectors.h - real captures of whole RS485 buses with another
 * master on them (tests/fixtures/vectors.tsv; sources in
 * tests/fixtures/README.md), as hex, for the bus framer's and pairer's
 * tests (test_bus.c) and the listener's (test_listener.c). */
#ifndef TESTS_UNIT_BUS_VECTORS_H
#define TESTS_UNIT_BUS_VECTORS_H

/* tests/fixtures/vectors.tsv, family modbus: a Seplos V3 master (0x01)
 * polling slave 0x02, mr-manuel/venus-os_dbus-serialbattery#247 (bytes
 * 0..144 of the 2025-04-06 00:17:27.008 dump); BUS-SEPLOS3-04 is the six
 * frames below, in this order, back to back. */
#define BUS_SEPLOS3_REQ_01 "02041000001274f4"
#define BUS_SEPLOS3_01 "0204241475fd9f33df4c2c040e02a903e100440cc80b570cce0cc60b5c0b5400000082008203e870a5"
#define BUS_SEPLOS3_REQ_02 "02041100001a74ce"
#define BUS_SEPLOS3_02 \
	"0204340cc80cc90cc90cc70cc70cca0cc80cc90cc60cca0cc80ccb0cc70cc90ccb0cce0b5c0b540b560b560aab0aab0aab" \
	"0aab0b510b531736"
#define BUS_SEPLOS3_REQ_03 "020112000090392d"
#define BUS_SEPLOS3_03 "0201120000000000000000010000000000000300001996"

/* JK-PB, syssi/esphome-jk-bms#442 (a master at DIP 0 and one slave):
 * the status trigger of slave 1 (= JKPB-REQ-2), its record and the
 * acknowledgement after it (BUS-JKPB-01); the master's own settings
 * acknowledgement from 0x00 (BUS-JKPB-03).  jblance/mpp-solar#460 (the
 * master alone): its triggers of absent slaves 2, 14 and 15. */
#define JKPB_REQ_2 "011016200001020000d6f1"
#define BUS_JKPB_01 \
	"55aaeb900205120d120d120d120d120d120d120d120d120d120d110d110d120d110d120d110d0000000000000000000000" \
	"000000000000000000000000000000000000000000ffff0000120d010000074d004b004d004b004d004a004c0049004c00" \
	"4b004e004c0050004e0050004e000000000000000000000000000000000000000000000000000000000000000000ce0000" \
	"00000022d100000000000000000000c000c7000000000000000064aa9e040080a3040000000000df040000640000004c1f" \
	"0c0001010000000000000000000000000000ff00010000009303000000000bc23f4000000000e91400000001010100060000" \
	"e46d5c0000000000ce00bf00c1008d035c3e0900090000008051010000000000000000000000000000feff7fdd2f0101b007" \
	"0000006c011016200001044b"
#define BUS_JKPB_03 "0010161e00016456"
#define BUS_JKPB_REQ_04 "021016200001020000c201"
#define BUS_JKPB_REQ_05 "0e10162000010200009701"
#define BUS_JKPB_REQ_06 "0f10162000010200009a91"

#endif
