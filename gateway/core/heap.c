/* SPDX-License-Identifier: MIT */
/* gateway/core/heap.c - the allocator's settings.  See heap.h. */
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "heap.h"

void gw_heap_setup(void)
{
#ifdef __GLIBC__
	/* a fixed threshold also ends glibc's dynamic one (and its trim
	 * threshold's): mallopt(3) M_MMAP_THRESHOLD */
	(void)mallopt(M_MMAP_THRESHOLD, GW_HEAP_MMAP_MIN);
#endif
}
