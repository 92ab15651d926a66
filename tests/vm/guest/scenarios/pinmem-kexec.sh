# vm: -r 384M@1536M
# pinmem across ten kexecs in a row.  Boot 1 formats the region, a client
# module fills 3000 named kernel objects of mixed sizes and an 8 MiB buffer
# with patterns, and a process keeps 256 MiB in an area by path (the pinmem
# filesystem, open + ftruncate + mmap).  Every later boot adopts the region
# (generation + 1) with the same counters (no space leaks) and finds every
# kernel object intact; the area is verified by a new process on boots 2
# and 11.  Boot 11 frees everything: the counters return to their values
# before the fill.
AREA_BYTES=$((256 << 20))
BOOTS=11

area_verify() { nvwa-pattern verify /run/pinmem/big "$AREA_BYTES" 7 >> /tmp/pattern.log 2>&1; }

main() {
	local b=$1
	check "boot $b: pinmem loaded at boot from memmap=384M\$1536M" [ -c /dev/pinmem ]
	pinmem_mount
	if [ "$b" = 1 ]; then
		check "a fresh region is not trusted before it is formatted" \
			sh -c "! nvwa pinmem status > /tmp/status0.log 2>&1 && grep -q 'bad magic' /tmp/status0.log"
		check "nvwa pinmem format" nvwa pinmem format
		pinmem_counters > /disk/state/test/counters.empty
		check "client fills 3000 objects and an 8 MiB buffer" client fill
		check "a process writes 256 MiB into /run/pinmem/big" \
			sh -c "nvwa-pattern write /run/pinmem/big $AREA_BYTES 7 >> /tmp/pattern.log 2>&1"
		check "the area is listed" sh -c "nvwa pinmem ls | grep -q '^big .* $AREA_BYTES '"
		pinmem_counters > /disk/state/test/counters.full
		nvwa pinmem status > /tmp/status1.log 2>&1
		metric pinmem_metadata_bytes "$(pinmem_stat metadata_bytes)"
		metric pinmem_region_bytes "$(pinmem_stat region_bytes)"
		plain_kexec
	fi
	check "boot $b: generation $b" [ "$(pinmem_stat generation)" = "$b" ]
	check "boot $b: no space leaked, counters as after the fill" \
		pinmem_counters_are /disk/state/test/counters.full
	check "boot $b: every kernel object found and verified" client verify
	if [ "$b" = 2 ] || [ "$b" = "$BOOTS" ]; then
		check "boot $b: a new process maps /run/pinmem/big, 256 MiB verified" area_verify
	fi
	if [ "$b" -lt "$BOOTS" ]; then
		plain_kexec
	fi
	check "client frees everything" client free
	check "the area is removed" nvwa pinmem rm big
	check "counters back to the empty region's" \
		pinmem_counters_are /disk/state/test/counters.empty
	check "nothing listed" [ "$(nvwa pinmem ls --all | wc -l)" = 1 ]
	cat /sys/kernel/debug/pinmem/stats > /tmp/stats.log
	check "no kernel warning" kernel_clean
	finish
}
