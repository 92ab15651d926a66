# vm: -c 2 -r 64M@1536M
# What pinmem refuses: regions that are RAM, not reserved or misaligned;
# a region whose superblock or directory was corrupted (never trusted,
# never formatted behind its owner's back, adopted again once repaired);
# bad ioctls, exhaustion, and removing or resizing what is mapped.  Two
# vCPUs: read()s and write()s of the areas' files race resizes, removes
# and creates for 20 s, and no byte lands where it does not belong.
START=$((1536 << 20))

refused() {	# refused WHY PARAM...: insmod fails and the log says WHY
	local why=$1
	shift
	! pinmem_load "$@" && grep -q "$why" /tmp/insmod.log
}

devmem_save() { dd if=/dev/mem of="$1" bs=4096 skip=$((START / 4096)) count=2 2>/dev/null; }
devmem_put() {	# devmem_put OFFSET BYTES-FILE: write into the region via /dev/mem
	dd if="$2" of=/dev/mem bs=1 seek=$((START + $1)) conv=notrunc 2>/dev/null
}

report_checks() {	# report_checks WHAT LOG: one result per "ok"/"not ok" line
	local line
	while IFS= read -r line; do
		case $line in
		"ok - "*) report "ok $1: ${line#ok - }" ;;
		"not ok - "*) report "FAIL $1: ${line#not ok - }"; FAILED=$((FAILED + 1)) ;;
		esac
	done < "$2"
}

main() {
	rmmod pinmem || fatal "pinmem was not loaded at boot"
	check "a region in System RAM is refused" refused "System RAM" region=16M@512M
	check "legacy pmem (memmap=!) is not reserved RAM: refused" \
		refused "not (entirely) reserved" region=16M@1G
	check "a misaligned region is refused" refused "not page aligned" region=16M@1610612800
	check "a region half in RAM is refused" refused "System RAM" region=64M@1568M
	check "garbage in region= is refused" refused "expected SIZE@START" region=lots
	check "without region= the module refuses and the kernel log says why" \
		sh -c "! insmod $(pinmem_ko pinmem) 2>/dev/null && dmesg | tail -n 3 | grep -q 'no region=SIZE@START'"
	check "nvwa pinmem load passes memmap=64M\$1536M as region=64M@1536M" \
		sh -c "nvwa pinmem load --module $(pinmem_ko pinmem) 2> /tmp/load.log && grep -q 'region=64M@1536M' /tmp/load.log && grep -qx 64M@1536M /sys/module/pinmem/parameters/region"
	check "nvwa pinmem load on a loaded module changes nothing" \
		sh -c "nvwa pinmem load 2>&1 | grep -q 'already loaded'"
	check "a region never formatted is reported, not formatted" \
		sh -c "nvwa pinmem status | grep -q 'bad magic'"
	check "format" nvwa pinmem format
	pinmem_mount
	nvwa-pinmem-check /run/pinmem > /tmp/pinmem-check.log 2>&1
	report_checks ioctl /tmp/pinmem-check.log
	check "the ioctl checks ran to the end" grep -q 'everything given back' /tmp/pinmem-check.log

	check "the client fills kernel objects to watch" client fill count=200 buf_mib=1
	nvwa-pinmem-stress /run/pinmem 20 > /tmp/pinmem-stress.log 2>&1
	report_checks stress /tmp/pinmem-stress.log
	check "the stress test ran to the end" grep -q 'stress areas removed' /tmp/pinmem-stress.log
	check "the client's kernel objects are unchanged" client verify count=200 buf_mib=1
	check "the client frees them" client free count=200 buf_mib=1

	nvwa-pattern write /run/pinmem/keep 1048576 3 > /tmp/pattern.log 2>&1
	nvwa-pattern hold /run/pinmem/keep /tmp/held & holder=$!
	wait_for 10 test -f /tmp/held
	check "nvwa pinmem rm of a mapped area is refused and says why" \
		sh -c "! nvwa pinmem rm keep 2> /tmp/rm.log && grep -q 'mapped by a process' /tmp/rm.log"
	kill "$holder"; wait "$holder" 2>/dev/null
	check "the module unloads once nothing maps it" sh -c "umount /run/pinmem && rmmod pinmem"

	devmem_save /tmp/head.bin
	printf 'XXXXXXXX' > /tmp/junk
	devmem_put 16 /tmp/junk		# the generation field
	devmem_save /tmp/corrupt.bin
	check "a corrupted superblock loads untrusted, even with format=1" \
		sh -c "nvwa pinmem load --format --module $(pinmem_ko pinmem) && grep -qx Y /sys/module/pinmem/parameters/format && { nvwa pinmem status > /tmp/st.log; grep -q 'superblock CRC mismatch' /tmp/st.log; }"
	check "and the kernel log says so" sh -c "dmesg | grep -q 'not trusted: superblock: superblock CRC mismatch'"
	check "an untrusted region serves nothing" sh -c "! nvwa pinmem ls 2>/dev/null"
	check "nvwa pinmem format will not erase it unasked, and says how" sh -c \
		"! nvwa pinmem format 2> /tmp/fmt.log && grep -q 'failed its checks' /tmp/fmt.log && grep -q -- '--erase-untrusted' /tmp/fmt.log"
	check "not even with --discard" sh -c "! nvwa pinmem format --discard 2>/dev/null"
	rmmod pinmem
	devmem_save /tmp/after.bin
	check "the refused formats changed nothing" cmp -s /tmp/corrupt.bin /tmp/after.bin
	dd if=/tmp/head.bin of=/dev/mem bs=4096 seek=$((START / 4096)) conv=notrunc 2>/dev/null
	check "repaired, it is adopted again with its area" \
		sh -c "nvwa pinmem load --module $(pinmem_ko pinmem) && nvwa pinmem ls | grep -q '^keep '"
	nvwa pinmem mount > /dev/null 2>&1
	check "and the area's bytes are intact" sh -c "nvwa-pattern verify /run/pinmem/keep 1048576 3 >> /tmp/pattern.log"
	umount /run/pinmem; rmmod pinmem

	devmem_put $((4096 + 50)) /tmp/junk	# inside directory entry 0
	check "a corrupted directory entry is found and named" \
		sh -c "nvwa pinmem load --module $(pinmem_ko pinmem) && nvwa pinmem status | grep -q 'directory entry 0: entry CRC mismatch'"
	check "an untrusted region is erased only by --erase-untrusted, then usable" \
		sh -c "! nvwa pinmem format 2>/dev/null && nvwa pinmem format --erase-untrusted && nvwa pinmem status > /dev/null"
	check "the formatted region is empty" [ "$(nvwa pinmem ls | wc -l)" = 1 ]
	check "no kernel warning" kernel_clean
	finish
}
