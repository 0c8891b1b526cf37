/* SPDX-License-Identifier: MIT */
/* gateway/core/heap.h - the allocator's settings for a daemon that runs for
 * months: memory given back after a large answer. */
#ifndef GATEWAY_CORE_HEAP_H
#define GATEWAY_CORE_HEAP_H

/* With glibc: blocks of GW_HEAP_MMAP_MIN bytes or more always come from
 * their own mapping, given back to the system when freed.  glibc's default
 * raises that threshold to the largest such block freed so far (up to 32
 * MiB), so that the next ones come from the heap, whose high water then
 * stays: a history CSV chunk (up to 2000 rows, hundreds of kilobytes) or a
 * large page answer would leave the heap that much larger for the daemon's
 * life (and its trim threshold twice that: the heap's free top kept).  The
 * configuration alone (struct conf, over 500 KiB, freed at each reload)
 * would raise both.  Elsewhere (another C library, the sanitizers'
 * allocator) nothing.  Call first in main(), before any allocation. */
#define GW_HEAP_MMAP_MIN (128 * 1024)
void gw_heap_setup(void);

#endif
