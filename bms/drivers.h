/* SPDX-License-Identifier: MIT */
/* bms/drivers.h - the driver registry, written once.
 *
 * BMS_DRIVER_LIST names every driver, in protocol-id order: the comment
 * of each line is its id, the `.protocol_id` of its table, fixed for good
 * (register 103's value; an id is never reused; tests/unit/test_registry.c
 * checks that they rise along the list, test_checklist.py that each is the
 * comment's and register-map.md's; ids may skip, ubms_can's 60 leaving 58 and
 * 59 to drivers on their way).  X(sym): the
 * driver table `bms_<sym>_driver` lives in bms/<sym>.c and its protocol key
 * is sym with '_' written '-' (daly_modbus -> "daly-modbus").  Adding a
 * brand = one line here plus its file; see "Adding a protocol" in bms/README.md.
 * Only base/registry.c and the tests name the tables; the gateway uses
 * bms_find() and bms_drivers[].
 */
#ifndef BMS_DRIVERS_H
#define BMS_DRIVERS_H

#include "bms.h"

#define BMS_DRIVER_LIST(X) \
	X(daly)        /* 1 */ \
	X(daly_modbus) /* 2 */ \
	X(sinowealth)  /* 3 */ \
	X(jk)          /* 4 */ \
	X(jk_pb)       /* 5 */ \
	X(jbd)         /* 6 */ \
	X(pylontech)   /* 7 */ \
	X(topbms)      /* 8 */ \
	X(seplos)      /* 9 */ \
	X(vedirect)    /* 10 */ \
	X(jk_ble)      /* 11 */ \
	X(victron_ble) /* 12 */ \
	X(pace)        /* 13 */ \
	X(eg4_lp4)     /* 14 */ \
	X(daren)       /* 15 */ \
	X(seplos3)     /* 16 */ \
	X(eg4_ll)      /* 17 */ \
	X(renogy)      /* 18 */ \
	X(pace_modbus) /* 19 */ \
	X(pylon_can)   /* 20 */ \
	X(ant)         /* 21 */ \
	X(lifepower)   /* 22 */ \
	X(litime)      /* 23 */ \
	X(tianpower)   /* 24 */ \
	X(neey)        /* 25 */ \
	X(abc)         /* 26 */ \
	X(topband)     /* 27 */ \
	X(ecoworthy)   /* 28 */ \
	X(felicity)    /* 29 */ \
	X(chins)       /* 30 */ \
	X(humsienk)    /* 31 */ \
	X(jk_can)      /* 32 */ \
	X(daly_can)    /* 33 */ \
	X(pylon_hv_can) /* 34 */ \
	X(deye_can)    /* 35 */ \
	X(jbd_up)      /* 36 */ \
	X(tdt)         /* 37 */ \
	X(paceex)      /* 38 */ \
	X(roypow)      /* 39 */ \
	X(renogy_pro)  /* 40 */ \
	X(vatrer)      /* 41 */ \
	X(pylon_rt)    /* 42 */ \
	X(gobel)       /* 43 */ \
	X(saihang)     /* 44 */ \
	X(ks48)        /* 45 */ \
	X(basen)       /* 46 */ \
	X(ogt)         /* 47 */ \
	X(superb)      /* 48 */ \
	X(mqtt_json)   /* 49 */ \
	X(lithionics)  /* 50 */ \
	X(pro_bms)     /* 51 */ \
	X(wattstunde)  /* 52 */ \
	X(cbt_power)   /* 53 */ \
	X(rvc)         /* 54 */ \
	X(lipower)     /* 55 */ \
	X(buknuwo)     /* 56 */ \
	X(greenway)    /* 57 */ \
	X(creabest_vb) /* 58 */ \
	X(myvolta)     /* 59 */ \
	X(ubms_can)    /* 60 */ \
	X(d_powercore) /* 61 */ \
	X(dometic)     /* 62 */ \
	X(smartbms123) /* 63 */ \
	X(smartbms58)  /* 64 */ \
	X(saftkiste)   /* 65 */ \
	X(lolan)       /* 66 */ \
	X(epoch_pro)   /* 67 */ \
	X(pwrboozt)    /* 68 */ \
	X(doerr)       /* 69 */ \
	X(pwrxtreme)   /* 70 */ \
	X(c4s)         /* 71 */ \
	X(dyness_junior) /* 72 */ \
	X(chins_nus)   /* 73 */ \
	X(votronic)    /* 74 */ \
	X(leaf)        /* 80 */ \
	X(tesla_model3) /* 81 */ \
	X(zoe1)        /* 82 */ \
	X(zoe2)        /* 83 */ \
	X(mg_zs)       /* 84 */ \
	X(byd_atto3)   /* 85 */ \
	X(bolt)        /* 86 */ \
	X(mach_e)      /* 87 */ \
	X(volvo_spa)   /* 88 */ \
	X(foxess_in)   /* 90 */ \
	X(byd_hvs_in)  /* 91 */ \
	X(solax_in)    /* 92 */ \
	X(relion_lv)   /* 93 */ \
	X(growatt_ark_in) /* 94 */ \
	X(samsung_sdi_lv) /* 95 */

#define BMS_DRIVER_DECL_(sym) extern const struct bms_driver bms_##sym##_driver;
BMS_DRIVER_LIST(BMS_DRIVER_DECL_)
#undef BMS_DRIVER_DECL_

#endif
