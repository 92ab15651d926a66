# The nvwa kernel's deferred_page_init=async (memmap-bg): /init runs
# while most of the memory's struct pages are still being initialised in
# the background.  An 8 GiB guest; /init's first act (the .early script,
# before modules and the disk) maps three quarters of the memory and
# checks every line of it.  Boot 1, a cold boot, async (the node's last
# zone, Normal, deferred; DMA32's 2.5 GiB initialised before /init): the
# program ran while the init did (its start precedes the kernel's
# "deferred pages initialised" line) and got more than was free then
# (checked on this cold boot, shown on boot 3), every line verified, no
# OOM, no warning.  Boot 2,
# kexec to the same kernel with deferred_page_init=sync, the same program:
# the figures of a stock boot.  Boot 3, kexec again, async,low (DMA32 is
# deferred too, past its first section: at /init Normal has less than a
# section and DMA32 less than 1 GiB; pfns in each that the init had not
# reached read as no page in /proc/kpageflags (3 of 4 in each, at least:
# KASLR may put the kernel on one), and as pages once it ended;
# tcp_mem, sized then, is the sync boot's within 3 %), the program
# again: once the init ended, min_free_kbytes is boot 2's, MemTotal and
# the zones' managed pages within 64 pages (what early boot reserves,
# before any of this, differs by a few pages from one boot of the same
# kernel to the next: "Memory: ... reserved"), the low watermarks within
# 16 pages, file-max within 1000 (0.13 %), the free memory (MemFree and
# the pages on the per-CPU lists) within 16 MiB, DMA32's reserve against
# Normal all of Normal's managed pages over the ratio, tcp_mem within 3 %.
# Then two applications are updated (one's memory copied by CRIU into the
# pmem store, the other's 512 MiB kept in place) to the same kernel,
# async,low (carried over), where /init's
# program asks for a quarter of the memory only: it grows the zone little,
# and the init, at nice 19, goes on while the vCPUs are busy.  Boot 4: the
# pmem store (ZONE_DEVICE, hot-added by
# nd_pmem, which no longer waits for the init) was mounted and the
# restore started before the init ended; the applications are back, every
# byte verified, the kept one's memory kept; once the init ended,
# MemTotal, managed pages, min_free_kbytes and the watermarks are boot 2's.  (Boots 1 and 3 show
# when the restore hook read the unformatted pmem device; there the
# program grows the zone itself, so the init may end first.)  The store
# is the top 512 MiB of the guest's RAM (its RAM above 4 GiB ends at
# 9 GiB): ZONE_DEVICE above the deferred range, so binding it grows the
# node's span past the range the init works on, which must neither stop
# on-demand growth nor the init.  Two vCPUs, one brought up at boot
# (maxcpus=1, as nvwa update --defer-cpus does), so the init competes
# with init for one CPU (with two it ends before /init): the .early
# script brings CPU 1 up first, which must not wait for the init (every
# CPU online asks try_online_node(), which took the memory hotplug lock
# and so waited for the whole init).  The async boots start the
# background threads 20 s after init (deferred_page_init=async,20): on
# an idle host they would otherwise be done by the time /init runs (the
# boot's waits leave them the CPU), and nothing of this could be shown;
# until then only on-demand growth initialises memory.
# vm: -K -m 8G -c 2 -p 512M!8704M -t 1800 -a deferred_page_init=async,20 -a maxcpus=1
# needs: nvwa-kernel

DONE_LINE="deferred pages initialised in"
zone_sum() { awk -v k="$1" '$1 == k { s += $2 } END { print s }' /proc/zoneinfo; }
# zone_value ZONE KEY: the first value of KEY in /proc/zoneinfo's ZONE.
zone_value() {
	awk -v z="$1" -v k="$2" '$1 == "Node" { in_z = ($4 == z) }
		in_z && $1 == k { gsub(/[(),]/, " "); print $2; exit }' /proc/zoneinfo
}
# What DMA32 keeps back from allocations that could use Normal.
dma32_reserve() {
	awk '$1 == "Node" { in_z = ($4 == "DMA32") }
		in_z && $1 == "protection:" { gsub(/[(),]/, " "); print $4; exit }' /proc/zoneinfo
}

# The figures a stock boot ends with, once nothing runs: one per line.
figures() {
	sync
	echo 3 > /proc/sys/vm/drop_caches
	echo "memtotal_kb $(meminfo_kb MemTotal)"
	echo "managed_pages $(zone_sum managed)"
	echo "min_free_kbytes $(cat /proc/sys/vm/min_free_kbytes)"
	echo "low_pages $(zone_sum low)"
	echo "file_max $(cat /proc/sys/fs/file-max)"
	echo "managed_normal $(zone_value Normal managed)"
	echo "dma32_reserve_normal $(dma32_reserve)"
	echo "tcp_mem_max $(cut -f3 /proc/sys/net/ipv4/tcp_mem)"
	# The per-CPU lists hold freed pages MemFree does not count, up to
	# a zone's low watermark each, as many as the last frees left there.
	echo "free_kb $(( $(meminfo_kb MemFree) + $(zone_sum count:) * 4 ))"
}
fig() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
kept_pid() { cat /disk/state/test/kept; }
before() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && b != "" && a < b) }'; }

# Boot 4: the restore hook's start and end in the kernel's log.
pre_restore() { [ "$1" != 4 ] || mark "restore starts"; }

# Boots 1 and 3: the program at /init while the init ran, and its end.
async_boot() {
	local start done pmem free asks cpu
	check "the kernel says memmap-bg" sh -c 'grep -qx memmap-bg /sys/kernel/nvwa/features'
	check "nvwa status: memmap-bg yes" sh -c 'nvwa status | grep -q "memmap-bg *yes"'
	check "the init went to the background" sh -c 'dmesg | grep -q "deferred pages: initialised in the background"'
	wait_for 600 grep -q '^rc ' /tmp/early.log || fatal "the program at /init did not end: $(cat /tmp/early.log)"
	report_file early /tmp/early.log
	check "every line the program wrote read back (and no OOM kill)" grep -q '^rc 0 ' /tmp/early.log
	wait_for 600 sh -c "dmesg | grep -q '$DONE_LINE'" || fatal "the deferred init never ended"
	start=$(sed -n 's/^start \([0-9.]*\) .*/\1/p' /tmp/early.log)
	done=$(klog_s "$DONE_LINE")
	report "program started at ${start}s, the background init ended at ${done}s"
	check "the program started before the init ended" before "$start" "$done"
	# A CPU online does not wait for the init (try_online_node()).
	cpu=$(sed -n 's/^cpu1 online \([0-9.]*\)$/\1/p' /tmp/early.log)
	report "CPU 1 online at ${cpu}s"
	check "CPU 1 came online before the init ended" before "$cpu" "$done"
	# The restore hook looked for the store on /dev/pmem0 (not formatted
	# here).  Shown only: the program grows the zone, so the init may end
	# first; boot 4 is the check.
	pmem=$(klog_s "EXT4-fs (pmem0)")
	report "the restore hook read /dev/pmem0 at ${pmem}s"
	# More than was free: the rest it got by growing the zone on demand.
	# A cold boot reaches /init within 2-3 s; a kexec'd one on a loaded
	# host may come later, when the init has freed most of it already.
	free=$(sed -n 's/^start .* memfree_kb \([0-9]*\)$/\1/p' /tmp/early.log)
	asks=$(sed -n 's/^asks_kb //p' /tmp/early.log)
	report "the program asked for ${asks} kB with ${free} kB free"
	[ "$1" != 1 ] ||
		check "the program got more memory than was free when it started" \
			awk -v f="$free" -v a="$asks" 'BEGIN { exit !(f > 0 && a > f) }'
	check "no OOM" sh -c '! dmesg | grep -qi "out of memory\|oom-kill"'
	check "no kernel warning" kernel_clean
}

next_boot() {		# next_boot sync|async,20: kexec to the same kernel
	local cmd
	cmd=$(sed 's/deferred_page_init=[a-z0-9,]*/deferred_page_init='"$1"'/' /proc/cmdline)
	must kexec kexec -l /boot/vmlinuz-nvwa --initrd=/boot/initrd.img --append="$cmd"
	sync
	kexec -e
	fatal "kexec -e returned"
}

# within NAME TOLERANCE: boot 3's NAME is boot 2's, give or take TOLERANCE.
within() {
	local a b
	a=$(fig "$1" /disk/state/test/sync) b=$(fig "$1" /tmp/async)
	report "$1: sync $a, async $b"
	check "$1: async within $2 of sync" awk -v a="$a" -v b="$b" -v t="$2" \
		'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && b != "" && d <= t) }'
}

# near A B PERCENT: A and B, both set, differ by at most PERCENT of A.
near() {
	awk -v a="$1" -v b="$2" -v p="$3" \
		'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a > 0 && b != "" && d * 100 <= a * p) }'
}

# nopages WORD...: how many of the page flags WORDs (decimal) say no page.
nopages() {
	local n=0 w
	for w in "$@"; do [ $((w >> 20 & 1)) = 0 ] || n=$((n + 1)); done
	echo $n
}
KPF_PFNS="0x80000 0x90000 0xa0000 0xb0000 0x140000 0x180000 0x1c0000 0x200000"

# DMA32's reserve against Normal is Normal's managed pages over the ratio:
# computed again at the init's end, from all of them.  (A sync boot's is
# computed before the initrd is freed, so it counts fewer: not compared.)
reserve_is_normals() {
	local ratio
	ratio=$(awk '{ print $2 }' /proc/sys/vm/lowmem_reserve_ratio)
	report "DMA32's reserve against Normal $(fig dma32_reserve_normal "$1"), Normal's managed pages $(fig managed_normal "$1"), ratio $ratio"
	check "DMA32's reserve against Normal counts all of Normal" awk -v r="$(fig dma32_reserve_normal "$1")" \
		-v m="$(fig managed_normal "$1")" -v q="$ratio" \
		'BEGIN { d = r - int(m / q); if (d < 0) d = -d; exit !(r != "" && q > 0 && d <= 2) }'
}

# Boot 3 (async,low): what /init found, against the sync boot's figures.
low_window() {
	local managed normal dma32 flags tcp
	check "the kernel says memmap-bg-low" sh -c 'grep -qx memmap-bg-low /sys/kernel/nvwa/features'
	check "the deferred range starts in DMA32 (async,low)" \
		sh -c 'dmesg | grep -q "node 0: deferred struct pages start at pfn .* (zone DMA32)"'
	managed=$(sed -n 's/^managed_at_init //p' /tmp/early.log)
	report "managed pages at /init: $managed"
	dma32=$(echo "$managed" | awk '{ for (i = 1; i < NF; i += 2) if ($i == "DMA32") print $(i + 1) }')
	normal=$(echo "$managed" | awk '{ for (i = 1; i < NF; i += 2) if ($i == "Normal") print $(i + 1) }')
	metric dma32_managed_at_init_kb $((dma32 * 4))
	# Normal's first section is not initialised either: what it has is
	# reserved memory freed since (the initrd, if kexec put it there).
	check "at /init Normal has less than a section (128 MiB)" [ "$normal" -lt 32768 ]
	check "and DMA32 less than 1 GiB of its 2.5 GiB" [ "$dma32" -lt 262144 ]
	# Four pfns in each zone, far above what boot grew: at most one may
	# be in a block initialised at boot (reserved memory: the kernel,
	# which KASLR may put anywhere, or the initrd).
	flags=$(sed -n 's/^kpageflags_dma32_at_init //p' /tmp/early.log)
	report "page flags at /init of DMA32 pfns 0x80000-0xb0000: $flags"
	# shellcheck disable=SC2086
	check "at /init DMA32 pfns the init had not reached read as no page (3 of 4 at least)" \
		[ "$(nopages $flags)" -ge 3 ]
	flags=$(sed -n 's/^kpageflags_normal_at_init //p' /tmp/early.log)
	report "page flags at /init of Normal pfns 0x140000-0x200000: $flags"
	# shellcheck disable=SC2086
	check "and Normal ones too (3 of 4 at least)" [ "$(nopages $flags)" -ge 3 ]
	flags=$(for p in $KPF_PFNS; do
		dd if=/proc/kpageflags bs=8 skip=$((p)) count=1 2>/dev/null | od -An -tu8 | tr -d " "
	done | tr '\n' ' ')
	report "page flags of the same pfns once the init ended: $flags"
	# shellcheck disable=SC2086
	check "once the init ended all eight read as pages" [ "$(nopages $flags)" = 0 ]
	tcp=$(sed -n 's/^tcp_mem_at_init //p' /tmp/early.log)
	report "tcp_mem's maximum at /init $tcp pages, after the sync boot $(fig tcp_mem_max /disk/state/test/sync)"
	check "tcp_mem at /init within 3 % of the sync boot's" \
		near "$(fig tcp_mem_max /disk/state/test/sync)" "$tcp" 3
}

# With async,low: DMA32's reserve, computed at the end, and tcp_mem, at boot.
low_figures() {
	reserve_is_normals /tmp/async
	check "tcp_mem within 3 % of sync" \
		near "$(fig tcp_mem_max /disk/state/test/sync)" "$(fig tcp_mem_max /tmp/async)" 3
}

main() {
	case $1 in
	1)
		async_boot 1
		check "async alone defers Normal only" \
			sh -c 'dmesg | grep -q "node 0: deferred struct pages start at pfn .* (zone Normal)"'
		report "managed pages at /init: $(sed -n 's/^managed_at_init //p' /tmp/early.log)"
		next_boot sync
		;;
	2)
		wait_for 600 grep -q '^rc ' /tmp/early.log || fatal "the program at /init did not end"
		report_file early /tmp/early.log
		check "no kernel warning" kernel_clean
		figures > /disk/state/test/sync
		report_file sync /disk/state/test/sync
		next_boot async,20,low
		;;
	3)
		async_boot 3
		low_window
		figures > /tmp/async
		within memtotal_kb 256
		within managed_pages 64
		within min_free_kbytes 0
		within low_pages 16
		within file_max 1000
		within free_kb 16384
		# Not each zone's: the kernel places itself at random (KASLR),
		# below 4 GiB or above, and its 24 MiB move between the zones.
		low_figures
		# The update the next boot restores while its init runs: one
		# application's memory copied through the pmem store by CRIU,
		# the other's kept in place (its frames, wherever they lie, in
		# the deferred range of the next boot: reserved at its start).
		store_format
		start_kept app --mem 64
		start_app kept --mem 512 > /disk/state/test/kept
		wait_ready kept 300
		UPDATE_KERNEL=/boot/vmlinuz-nvwa
		UPDATE_ARGS="--copy-memory=$(app_pid) --append nvwa.test_touch=25"
		update_reboot "$(app_pid)" "$(kept_pid)"
		;;
	4)
		mark "restore ended"
		async_boot_restored
		;;
	esac
}

# Boot 4: the update's restore ran while the init did.
async_boot_restored() {
	local pid mounted rstart rend done
	pid=$(app_pid)
	check "nvwa restore succeeded" restore_ok
	check "the init went to the background" sh -c 'dmesg | grep -q "deferred pages: initialised in the background"'
	check "from DMA32 up (async,low carried over by nvwa)" \
		sh -c 'dmesg | grep -q "node 0: deferred struct pages start at pfn .* (zone DMA32)"'
	wait_for 600 sh -c "dmesg | grep -q '$DONE_LINE'" || fatal "the deferred init never ended"
	done=$(klog_s "$DONE_LINE")
	mounted=$(klog_s "EXT4-fs (pmem0): mounted")
	rstart=$(klog_s "nvwa-test: restore starts")
	rend=$(klog_s "nvwa-test: restore ended")
	report "store mounted at ${mounted}s, restore ${rstart}s to ${rend}s, the background init ended at ${done}s"
	report "zones: $(awk '$1 == "Node" { z = $4 } $1 == "spanned" { printf "%s %s, ", z, $2 } $1 == "start_pfn:" { printf "from %s; ", $2 }' /proc/zoneinfo)"
	metric restore_start_s "$rstart"
	metric restore_end_s "$rend"
	metric deferred_init_end_s "$done"
	check "the pmem store was mounted before the init ended" before "$mounted" "$done"
	check "the restore started before the init ended" before "$rstart" "$done"
	check "PID $pid is running again" app_alive "$pid"
	check "64 MiB verified byte for byte" app_verify "$pid" app
	check "the other application's 512 MiB were kept in place" report_is --argjson p "$(kept_pid)" \
		'.apps[] | select(.pid == $p) | .memory == "kept" and .copied_pages == 0'
	check "and came back verified byte for byte" app_verify "$(kept_pid)" kept
	wait_for 600 grep -q '^rc ' /tmp/early.log || fatal "the program at /init did not end: $(cat /tmp/early.log)"
	report_file early /tmp/early.log
	check "every line the program wrote read back (and no OOM kill)" grep -q '^rc 0 ' /tmp/early.log
	check "no OOM" sh -c '! dmesg | grep -qi "out of memory\|oom-kill"'
	check "no kernel warning" kernel_clean
	# What does not depend on what runs: a sync boot's.
	figures > /tmp/async
	within memtotal_kb 256
	within managed_pages 64
	within min_free_kbytes 0
	within low_pages 16
	low_figures
	report_file restore /tmp/restore.log
}
