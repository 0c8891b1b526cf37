/* SPDX-License-Identifier: MIT */
/* gateway/ha/discovery.h - Home Assistant MQTT discovery configs (per entity,
 * retained) for every pack, the bank and the gateway itself, built from the
 * configuration, the protocol's capabilities (bms_driver.provides) and the
 * pack's shape (cells, temperature sensors).  Pure apart from writing into
 * memory: the MQTT client publishes what `emit` is handed, --mqtt-dump
 * prints it. */
#ifndef GATEWAY_HA_DISCOVERY_H
#define GATEWAY_HA_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf;
struct conf_pack;

/* Called once per config: topic and JSON payload ("" = clear it). */
typedef void (*gw_disc_emit)(void *ctx, const char *topic, const char *payload);

/* The configs of pack `p` with ncells cell and ntemps temperature sensors
 * (0 = not known yet: none announced). */
void gw_disc_pack(const struct conf *c, const struct conf_pack *p, unsigned ncells, unsigned ntemps,
		  gw_disc_emit emit, void *ctx);
/* The bank unit's configs (c->bank.enabled), with ntemps pack temperatures. */
void gw_disc_bank(const struct conf *c, unsigned ntemps, gw_disc_emit emit, void *ctx);
/* The gateway device's own configs. */
void gw_disc_gateway(const struct conf *c, gw_disc_emit emit, void *ctx);
/* Empty payloads for every config a unit named `name` ("bank" for the bank)
 * may have had: removes its entities from Home Assistant. */
void gw_disc_clear(const struct conf *c, const char *name, gw_disc_emit emit, void *ctx);

/* Empty payloads for the sensors of c's strings from (0-based) on, those
 * c announced: strings no longer configured ([bank] strings shortened or
 * gone). */
void gw_disc_clear_strings(const struct conf *c, int from, gw_disc_emit emit, void *ctx);
/* Empty payloads for the MOSFET switch configs of pack `name` (its control
 * was turned off). */
void gw_disc_clear_switches(const struct conf *c, const char *name, gw_disc_emit emit, void *ctx);
/* Empty payloads for the charge-limit configs of unit `name` ("bank" for
 * the bank): [limits] was turned off. */
void gw_disc_clear_limits(const struct conf *c, const char *name, gw_disc_emit emit, void *ctx);
/* Empty payloads for the charge-settings entities (number, switch) of unit
 * `name` ("bank" for the bank): [mqtt] control or [limits] was turned off. */
void gw_disc_clear_settings(const struct conf *c, const char *name, gw_disc_emit emit, void *ctx);
/* Are the charge settings written over MQTT ([mqtt] control and [limits])?
 * Their entities exist only then.  Is key (len bytes) one of theirs? */
bool gw_disc_settings(const struct conf *c);
bool gw_disc_is_setting(const char *key, size_t len);
/* The same for the counted SOC's entities, when a unit stops counting ([soc] count). */
void gw_disc_clear_counted(const struct conf *c, const char *name, gw_disc_emit emit, void *ctx);
/* Is key (len bytes) an entity unit `name` ("bank" for the bank) has only
 * while it counts, [limits] is on or a BMS setting is allowed, and is that
 * no longer so?  (A retained
 * config of one, found at a connect, is cleared: the change came while the
 * broker was away, or before a restart.) */
bool gw_disc_gone_with_conf(const struct conf *c, const char *name, const char *key, size_t len);
/* The BMS settings of pack p that have entities (BMS_W_BIT()s of
 * bms/setwrite.h): its bms_settings with [mqtt] control, a protocol that
 * writes; 0 for none.  Empty payloads for the entities of `keys` of pack
 * `name` (keys no longer allowed).  The key of a config's object id
 * "bms_KEY_set" (len bytes), -1 when it is none. */
uint32_t gw_disc_bms_writes(const struct conf *c, const struct conf_pack *p);
void gw_disc_clear_bms_writes(const struct conf *c, const char *name, uint32_t keys, gw_disc_emit emit, void *ctx);
int gw_disc_bms_write_key(const char *key, size_t len);
/* Are MQTT commands allowed for pack p ([mqtt] control, the pack's control,
 * a protocol with control)?  Its switch entities exist only then. */
bool gw_disc_control(const struct conf *c, const struct conf_pack *p);

/* "bmsgw_<client_id>" ("bmsgw_<site>_<client_id>" with [gateway] site), the gateway device's identifier; every config of
 * this gateway names it (as identifier or via_device). */
void gw_disc_gateway_id(const struct conf *c, char *out, unsigned cap);
/* The same of a site ("" = none) and a client id. */
void gw_disc_id(const char *site, const char *client_id, char *out, unsigned cap);

#endif
