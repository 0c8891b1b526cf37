/* SPDX-License-Identifier: MIT */
/* gateway/core/machine.h - a short tag of this machine, from systemd's
 * machine id (machine-id(5): 32 hex digits, unique per installation,
 * stable across reboots; D-Bus keeps a copy in /var/lib/dbus/machine-id).
 * It makes the serial numbers bmsgw reports (SunSpec SN) differ between
 * two gateways whose packs carry the same names. */
#ifndef GATEWAY_CORE_MACHINE_H
#define GATEWAY_CORE_MACHINE_H

#include <stddef.h>

/* Digits of the machine id in the tag. */
#define GW_MACHINE_TAG_LEN 8

/* The first GW_MACHINE_TAG_LEN hex digits (lower case) of the first
 * readable machine id among paths[0..n) (NULL: /etc/machine-id, then
 * /var/lib/dbus/machine-id) into out (at least GW_MACHINE_TAG_LEN + 1
 * bytes): 0, or -1 with out = "" when none holds one.  Reads a small local
 * file: call it at start, not on the loop. */
int gw_machine_tag(const char *const *paths, size_t n, char *out);

/* Pure: the tag of a machine-id file's text (leading blanks, then at least
 * GW_MACHINE_TAG_LEN hex digits); 0 or -1. */
int gw_machine_tag_parse(const char *text, char *out);

#endif
