/* SPDX-License-Identifier: MIT */
/* gateway/core/util.h - small helpers shared by the gateway's modules. */
#ifndef GATEWAY_CORE_UTIL_H
#define GATEWAY_CORE_UTIL_H

#include <stddef.h>

/* The struct of type `type` whose member `member` is at ptr (a libev watcher
 * embedded in its owner, as in the Linux kernel's container_of). */
#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#endif
