/* SPDX-License-Identifier: MIT */
/* gateway/core/jsonw.h - the pieces of JSON every part of the gateway
 * writes: string literals and UTC times. */
#ifndef GATEWAY_CORE_JSONW_H
#define GATEWAY_CORE_JSONW_H

#include <stdio.h>
#include <time.h>

/* A JSON string literal of s (quotes, escapes). */
void gw_json_str(FILE *o, const char *s);
/* "key":"2026-11-22T10:00:00Z", the UTC time t. */
void gw_json_utc(FILE *o, const char *key, time_t t);

#endif
