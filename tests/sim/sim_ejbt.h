/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_ejbt.h - the "BT-Battery" answer PowerBoozt and Dörr share
 * (sim_ejbt.c; bms/PROTOCOLS.md §78, §79): the read :015150000EFE~ answered
 * by an E&J-style frame of command 0x54.  Like every responder it does not
 * use bms/. */
#ifndef BMSGW_SIM_EJBT_H
#define BMSGW_SIM_EJBT_H

#include "sim.h"

/* How the brand writes its current (mA at offset 54). */
enum sim_ejbt_current {
	SIM_EJBT_S32,       /* PowerBoozt: s32, + = charging */
	SIM_EJBT_DIR_BIT,   /* Dörr: bit 31 set = charging, the magnitude in the low 16 bits */
};

enum sim_scan sim_ejbt_scan(const uint8_t *buf, size_t len, size_t *n);
int sim_ejbt_address(const uint8_t *req, size_t n);
enum sim_resp sim_ejbt_respond(enum sim_ejbt_current how, struct sim_pack *p, const uint8_t *req, size_t n,
                               struct sim_reply *reply);
void sim_ejbt_view(enum sim_ejbt_current how, const struct sim_pack *p, struct sim_view *v);
/* badsum: the check's last digit changed */
void sim_ejbt_corrupt(uint8_t *frame, size_t n);

#endif
