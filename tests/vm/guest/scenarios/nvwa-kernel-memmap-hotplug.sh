# The nvwa kernel's deferred_page_init=async (memmap-bg) and RAM hot-added
# while it waits.  Adding System RAM (mem_hotplug_begin()) must wait for
# the background init (onlining changes the span of the zone the init
# walks, without the resize lock), and it must not wait out the init's
# delay and then threads at nice 19: deferred_init_hurry() ends the delay
# and the waiter does the init's work itself.  A 2 GiB guest with room
# for a DIMM; the init is told to start 600 s after init
# (deferred_page_init=async,600), so nothing but the hot-add can end it
# early.  The guest asks the host for a 512 MiB DIMM (QEMU's device_add
# pc-dimm through nvwa-kernel-memmap-hotplug.live; the kernel adds it
# through ACPI), then: the DIMM's memory blocks appear, the init ended
# long before its delay would have, the blocks go online, MemTotal grows
# by the DIMM, and a program maps 85 % of the memory, the DIMM's
# included, and checks every line of it; no OOM, no kernel warning.
# vm: -K -m 2G,slots=2,maxmem=4G -t 900 -a deferred_page_init=async,600
# needs: nvwa-kernel

DONE_LINE="deferred pages initialised in"
DELAY=600
DIMM_MB=512
blocks() { ls -d /sys/devices/system/memory/memory[0-9]* | wc -l; }
offline_blocks() { grep -l '^offline$' /sys/devices/system/memory/memory[0-9]*/state 2> /dev/null; }

main() {
	local n total before asked done b
	check "the kernel says memmap-bg" sh -c 'grep -qx memmap-bg /sys/kernel/nvwa/features'
	check "the init went to the background" \
		sh -c 'dmesg | grep -q "deferred pages: initialised in the background"'
	dmesg | grep -q -F "$DONE_LINE" &&
		fatal "the init ended before the DIMM was asked for (its delay is ${DELAY} s)"
	n=$(blocks) total=$(meminfo_kb MemTotal)
	report "before: $n memory blocks, MemTotal $total kB, $(meminfo_kb MemFree) kB free"
	mark "DIMM asked for"
	report "dimm-please $DIMM_MB"
	wait_for 300 rises_above "$n" blocks || fatal "the DIMM's memory blocks never appeared"
	wait_for 300 sh -c "dmesg | grep -q -F '$DONE_LINE'" || fatal "the init never ended"
	asked=$(klog_s "nvwa-test: DIMM asked for") done=$(klog_s "$DONE_LINE")
	report "DIMM asked for at ${asked} s, the init ended at ${done} s (its delay ends at ${DELAY} s)"
	check "the hot-add ended the init's delay (the init ended after the ask, within 240 s)" \
		awk -v a="$asked" -v d="$done" 'BEGIN { exit !(a != "" && d != "" && d > a && d - a < 240) }'
	for b in $(offline_blocks); do
		echo online > "$b" || report "cannot online $b"
	done
	check "every memory block online" [ -z "$(offline_blocks)" ]
	report "after: $(blocks) memory blocks, MemTotal $(meminfo_kb MemTotal) kB, $(meminfo_kb MemFree) kB free"
	check "MemTotal grew by the DIMM" \
		[ "$(( $(meminfo_kb MemTotal) - total ))" -ge $((DIMM_MB * 1024 * 98 / 100)) ]
	before=$total total=$(meminfo_kb MemTotal)
	# More than all the memory there was before: some of it is the DIMM's.
	check "85 % of the memory now is more than all of it before" [ $((total * 85 / 100)) -gt "$before" ]
	nvwa-memtouch $((total * 85 / 100 / 1024)) 17 > /tmp/memtouch.log 2>&1
	check "every line of 85 % of the memory read back (the DIMM's included)" [ $? = 0 ]
	check "no OOM" sh -c '! dmesg | grep -qi "out of memory\|oom-kill"'
	check "no kernel warning" kernel_clean
}
