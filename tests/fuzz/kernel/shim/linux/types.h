/* Userspace stand-ins for the kernel's types (tests/fuzz/keeplist_fuzz.c). */
#ifndef KEEPLIST_SHIM_TYPES_H
#define KEEPLIST_SHIM_TYPES_H
#include_next <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint32_t u32;
typedef uint64_t u64;
typedef uint64_t phys_addr_t;
#endif
