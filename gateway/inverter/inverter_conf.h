/* SPDX-License-Identifier: MIT */
/* gateway/inverter/inverter_conf.h - [inverter.NAME], the inverter room's
 * own section of the configuration (conf/section.h): its struct, its keys
 * (which of them a dialect takes: dialects.c), the section conf/ is handed
 * (the service table's line names it) and the copies the outputs read. */
#ifndef GATEWAY_INVERTER_INVERTER_CONF_H
#define GATEWAY_INVERTER_INVERTER_CONF_H

#include "../../conf/section.h"
#include "dialects.h"

/* [inverter.NAME]: a virtual battery towards an inverter
 * (bmsgw-inverters(7)); needs [limits]. */
enum conf_soc_override { CONF_SOC_OVERRIDE_NONE = 0, CONF_SOC_OVERRIDE_DEYE };
/* sma-hv-can's variants (`variant =`): Battery-Emulator's three BYD emulations for SMA */
enum conf_inv_variant { CONF_VARIANT_BYD_HVS = 0, CONF_VARIANT_BYD_H, CONF_VARIANT_SBS };
enum conf_current_unit { CONF_CURRENT_100MA = 0, CONF_CURRENT_10MA };
#define CONF_INV_INTERVAL_MAX 5.0      /* s: a Victron GX stops after 3 s without 0x351 */
#define CONF_MAX_INVERTERS 4
struct conf_inverter {
	char name[CONF_NAME_MAX];
	int line;
	enum conf_inv_protocol protocol;
	char port[CONF_PORT_MAX];        /* CAN: an interface (can0) or slcan:///dev/ttyACM0;
	                                  * RS485: a serial device or tcp://HOST:PORT */
	bool is_slcan;                   /* CAN through a Lawicel serial adapter */
	char device[CONF_PORT_MAX];      /* what is opened: the slcan adapter's serial device, the CAN
	                                  * interface, or the RS485 serial device ("" over tcp://) */
	bool is_tcp;                     /* RS485 through a TCP serial server */
	char tcp_host[CONF_HOST_MAX];
	int tcp_port;
	char source[CONF_NAME_MAX];      /* a pack name or "bank" */
	int source_pack;                 /* index into packs[], or CONF_BANK_SOURCE */
	double interval;                 /* s between CAN frame sets (default 1, at most 5) */
	int extras;                      /* CAN: CONF_EXTRA_* bits (default: the protocol's) */
	enum conf_soc_override soc_override;
	double soc_hold_full;            /* % the SOC sent stays at or under until the source
	                                  * completed absorption (0 = off; default 98) */
	int baud;                        /* RS485 (default 9600) */
	int address;                     /* RS485: the ADR the inverter polls (default 2);
	                                  * pylon-hv-can: the last nibble of its ids, 0 or 1 (default 0) */
	int reply_address;               /* RS485: answer with this ADR (-1 = the one polled) */
	int ver;                         /* RS485: VER of the answers (0x20), CONF_VER_ECHO = the request's */
	enum conf_current_unit current_unit; /* RS485 0x42 / 0x47 / 0x63 currents */
	char manufacturer[CONF_ID_MAX];  /* CAN 0x35E / RS485 0x51 text (default PYLON) */
	double failsafe_silence;         /* s of zero limits before the output goes silent (30) */
	/* The identity the inverter sees, where the protocol carries it (dialects.c
	 * says which protocol takes which); -1: the source's */
	int battery_type;                /* 0x1877 byte 4: solax-can (default 131), foxess-can (82) */
	int report_modules;              /* the module count sent (solax-can 0x1875, foxess-can 0x1875,
	                                  * pylon-hv-can 0x7320): -1 the protocol's rule from the source */
	double report_capacity_ah;       /* the full capacity sent, Ah (the remaining one follows the SOC) */
	int report_cells;                /* the cells in series sent (pylon-hv-can 0x7320) */
	int instance;                    /* rvc: the DC source instance it speaks for (default 1) */
	int variant;                     /* enum conf_inv_variant: which of a protocol's variants (sma-hv-can) */
	char wire[CONF_PORT_MAX];        /* derived: what it opens (its device, else its port), which no
	                                  * other output's port may be */
};

/* Its keys, in the order messages and lists give them (the index of each
 * in gw_inverter_section.keys and in its instances' seen lines). */
enum inv_key {
	IN_PROTOCOL, IN_PORT, IN_SOURCE, IN_INTERVAL, IN_EXTRAS, IN_SOC_OVERRIDE, IN_SOC_HOLD, IN_BAUD, IN_ADDRESS,
	IN_REPLY_ADDRESS, IN_VER, IN_CURRENT_UNIT, IN_MANUFACTURER, IN_FAILSAFE, IN_BATTERY_TYPE, IN_REPORT_MODULES,
	IN_REPORT_CAPACITY, IN_REPORT_CELLS, IN_INSTANCE, IN_VARIANT, IN_NKEYS
};

extern const struct conf_section gw_inverter_section;

/* How many [inverter.NAME] c holds, and the i-th. */
static inline int gw_ninverters(const struct conf *c)
{
	return conf_count(c, &gw_inverter_section);
}

static inline const struct conf_inverter *gw_inverter_cfg(const struct conf *c, int i)
{
	return conf_obj(c, &gw_inverter_section, i);
}

/* dialects.c: the keys of v's protocol (keys: the section's rows): one it
 * does not take and the file set refused, naming the protocols that take
 * it; a number outside the protocol's range refused; the protocol's
 * default of each it takes that the file did not set.  False after an
 * error. */
bool inv_dialect_keys(struct conf_load *x, struct conf_inverter *v, const int *seen, const char *sect,
		      const struct conf_key *keys);
/* invrange.c: the operating range of an inverter output's source (a pack
 * index, or CONF_BANK_SOURCE: with strings each string's, else each pack's;
 * their envelope) in V, from every member's series cells ([pack.NAME]
 * cells) times its chemistry's cell range; false with why when a member's
 * cells is 0 (not given). */
bool inv_source_range(const struct conf *c, int source_pack, double *vmin, double *vmax, char *why, size_t wl);

#endif
