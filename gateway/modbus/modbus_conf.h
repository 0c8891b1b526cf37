/* SPDX-License-Identifier: MIT */
/* gateway/modbus/modbus_conf.h - the Modbus room's own sections of the
 * configuration (conf/section.h): [upstream.NAME], [sunspec], [rtu] and
 * [modbus_tls], their structs, the sections conf/ is handed (the service
 * table's line names them) and the copies the servers and pushers read.
 * [gateway], the Modbus TCP server's, is conf's own (conf/conf.h). */
#ifndef GATEWAY_MODBUS_MODBUS_CONF_H
#define GATEWAY_MODBUS_MODBUS_CONF_H

#include "../../conf/section.h"

/* [upstream.NAME]: push a unit's image to another Modbus TCP server (FC16). */
#define CONF_MAX_UPSTREAMS 16
struct conf_upstream {
	char name[CONF_NAME_MAX];
	int line;
	char host[CONF_HOST_MAX];
	int port;                        /* default 502 */
	int unit_id;                     /* unit id of the requests, 0..255 (default 1) */
	int base;                        /* register address of offset `reg_first` there;
	                                  * default: the gateway's base + reg_first */
	bool base_set;
	char source[CONF_NAME_MAX];      /* a pack name or "bank" */
	int source_pack;                 /* index into packs[], or CONF_BANK_SOURCE */
	double interval;                 /* seconds between pushes (default 5) */
	double timeout;                  /* seconds to wait for an answer (default 2) */
	int reg_first, reg_last;         /* offsets pushed, `registers = 0-124` (default; up to 160) */
};

/* [sunspec]: SunSpec models on every unit (bmsgw-modbus(7) "SUNSPEC"). */
struct conf_sunspec {
	bool enabled;
	int line;
	int base;                        /* register address of "SunS" (default 40000) */
	char serial[CONF_ID_MAX];        /* SN's stem instead of the unit's name and the machine
	                                  * ("" = none): SN = serial-unit id */
};
/* [sunspec] serial: at most this many characters, so that "-" and a unit id
 * (up to 247) fit in model 1's SN (32 characters). */
#define CONF_SS_SERIAL_MAX 28

/* Lengths of the SunSpec models served, in registers after their ID and L
 * (sunspec/models @7abdf89: json/model_1.json, model_802.json, model_803.json). */
enum {
	CONF_SUNSPEC_MARKER = 2,         /* "SunS" */
	CONF_SUNSPEC_HEADER = 2,         /* ID and L in front of every model; the end model is only that */
	CONF_SUNSPEC_COMMON = 66,        /* model 1, common */
	CONF_SUNSPEC_BATTERY = 62,       /* model 802, battery base */
	CONF_SUNSPEC_BANK = 26,          /* model 803, lithium-ion battery bank, without its strings */
	CONF_SUNSPEC_STRING = 32,        /* model 803: each string (one per pack of the bank, or
	                                  * per string of [bank] strings) */
};
/* Registers of the SunSpec block of a pack's unit (bank = false: "SunS",
 * models 1 and 802, the end model) or of the bank's unit (bank = true:
 * model 803 too, one string per pack of [bank], or per string of its
 * strings). */
int gw_sunspec_regs(const struct conf *c, bool bank);

/* [rtu]: a Modbus RTU server on a serial port (bmsgw-modbus(7) "MODBUS RTU"). */
enum conf_rtu_mode { CONF_RTU_8N1 = 0, CONF_RTU_8E1, CONF_RTU_8O1, CONF_RTU_8N2 };
struct conf_rtu {
	bool enabled;
	int line;
	char port[CONF_PORT_MAX];        /* a serial device */
	int baud;                        /* default 9600 */
	enum conf_rtu_mode mode;
	bool control;                    /* writes allowed (section 8's rules, by unit) */
};

/* [modbus_tls]: Modbus/TCP Security on port 802 (bmsgw-modbus(7) "MODBUS/TCP
 * SECURITY"): the map of [gateway] in TLS, clients with a certificate of ca. */
#define CONF_ROLE_MAX 64
struct conf_modbus_tls {
	bool enabled;
	int line;
	char listen_host[CONF_HOST_MAX]; /* no brackets */
	int listen_port;                 /* follows listen_host (KT_LISTEN) */
	char cert[CONF_PORT_MAX];        /* the server's certificate chain (PEM) */
	char key[CONF_PORT_MAX];         /* its private key (PEM), not readable by others */
	char ca[CONF_PORT_MAX];          /* the CAs client certificates must chain to */
	char write_role[CONF_ROLE_MAX];  /* the role that may write; "" = none */
};

extern const struct conf_section gw_upstream_section, gw_sunspec_section, gw_rtu_section, gw_mbtls_section;

/* How many [upstream.NAME] c holds, and the i-th; c's [sunspec], [rtu] and
 * [modbus_tls] (their defaults when the file has none). */
static inline int gw_nupstreams(const struct conf *c)
{
	return conf_count(c, &gw_upstream_section);
}

static inline const struct conf_upstream *gw_upstream_cfg(const struct conf *c, int i)
{
	return conf_obj(c, &gw_upstream_section, i);
}

static inline const struct conf_sunspec *gw_sunspec_cfg(const struct conf *c)
{
	return conf_obj(c, &gw_sunspec_section, 0);
}

static inline const struct conf_rtu *gw_rtu_cfg(const struct conf *c)
{
	return conf_obj(c, &gw_rtu_section, 0);
}

static inline const struct conf_modbus_tls *gw_mbtls_cfg(const struct conf *c)
{
	return conf_obj(c, &gw_mbtls_section, 0);
}

#endif
