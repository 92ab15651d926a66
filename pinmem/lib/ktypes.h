/* SPDX-License-Identifier: GPL-2.0 */
/* The kernel's type names, for the module sources userspace compiles too. */
#ifndef PINMEM_KTYPES_H
#define PINMEM_KTYPES_H

#include <stddef.h>
#include <stdint.h>

typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

#endif
