# The nvwa kernel's deferred_page_init=async (memmap-bg) with page_owner=on.
# page_ext_init() walks every struct page (page_owner records the pages
# allocated before it), so it must wait for the background init, and it
# must not wait out the init's delay and then threads at nice 19:
# deferred_init_wait() ends the delay and does the init's work itself.
# The init is told to start 600 s after init (deferred_page_init=async,600),
# so nothing but page_ext_init() can end it before /init.  Checked: the
# init went to the background and had ended before /init ran, long before
# its delay; page_owner walked the zones and tracks pages above 1 GiB
# (half the memory held in a tmpfs file: its debugfs file, read from pfn
# 1 GiB up, lists them); a program maps 85 % of the memory and checks
# every line of it; no OOM, no kernel warning.
# vm: -K -m 2G -t 600 -a deferred_page_init=async,600 -a page_owner=on
# needs: nvwa-kernel

DONE_LINE="deferred pages initialised in"
DELAY=600

main() {
	local total done init
	mark "/init ran"
	check "the kernel says memmap-bg" sh -c 'grep -qx memmap-bg /sys/kernel/nvwa/features'
	check "page_ext allocated (page_owner=on)" sh -c 'dmesg | grep -q "allocated [0-9]* bytes of page_ext"'
	check "the init went to the background" \
		sh -c 'dmesg | grep -q "deferred pages: initialised in the background"'
	done=$(klog_s "$DONE_LINE") init=$(klog_s "nvwa-test: /init ran")
	report "the init ended at ${done:-never} s, /init ran at ${init} s (the init's delay ends at ${DELAY} s)"
	[ -n "$done" ] || fatal "the init had not ended when /init ran: page_ext_init() did not wait for it"
	check "page_ext_init() waited for the init: it ended before /init" \
		awk -v d="$done" -v i="$init" 'BEGIN { exit !(d < i) }'
	check "and long before its delay (/init within 120 s)" \
		awk -v i="$init" 'BEGIN { exit !(i < 120) }'
	check "page_owner walked the zones after the init (early allocated pages counted)" \
		sh -c 'dmesg | grep -q "page owner found early allocated [0-9]* pages"'
	# Half the memory held in a tmpfs file: pages the init initialised,
	# above 1 GiB, then what page_owner says from 1 GiB up (the file's
	# offset is the first pfn it looks at).
	total=$(meminfo_kb MemTotal)
	mkdir -p /hold && mount -t tmpfs -o size=90% tmpfs /hold
	dd if=/dev/zero of=/hold/fill bs=1M count=$((total / 2 / 1024)) 2> /dev/null
	check "half the memory held in tmpfs" [ "$(du -k /hold/fill | cut -f1)" -ge $((total / 2 - 1024)) ]
	dd if=/sys/kernel/debug/page_owner of=/tmp/page_owner.txt iflag=skip_bytes \
		skip=$((0x40000)) bs=65536 count=1 2> /tmp/page_owner.err
	check "page_owner lists allocated pages" grep -q "^Page allocated via order" /tmp/page_owner.txt
	check "above 1 GiB, where only the deferred init initialised struct pages" \
		awk '$1 == "PFN" && $2 + 0 >= 262144 { found = 1 } END { exit !found }' /tmp/page_owner.txt
	rm /hold/fill
	umount /hold
	nvwa-memtouch $((total * 85 / 100 / 1024)) 23 > /tmp/memtouch.log 2>&1
	check "every line of 85 % of the memory read back" [ $? = 0 ]
	check "no OOM" sh -c '! dmesg | grep -qi "out of memory\|oom-kill"'
	check "no kernel warning" kernel_clean
}
