/* SPDX-License-Identifier: MIT */
/* gateway/core/heap.c - the allocator's settings.  See heap.h. */
#include <stdlib.h> /* first: it says whether this is glibc (__GLIBC__) */
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "heap.h"

void gw_heap_setup(void)
{
#ifdef __GLIBC__
	/* fixed thresholds end glibc's dynamic ones (mallopt(3)): the trim
	 * threshold, raised with the other, kept the heap's top */
	(void)mallopt(M_MMAP_THRESHOLD, GW_HEAP_MMAP_MIN);
	(void)mallopt(M_TRIM_THRESHOLD, GW_HEAP_MMAP_MIN);
#endif
}
