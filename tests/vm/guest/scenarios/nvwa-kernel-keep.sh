# The nvwa kernel keeps an application's anonymous memory where it is
# across the kexec (pin-anon), and nvwa takes that path only when both
# kernels have it.  Boot 1, the nvwa kernel (run-vm -K): an application
# with 256 MiB of anonymous memory, most of it in transparent huge pages;
# an update that fails after its pages
# were taken (the record write, nvwa's fault build) gives them back: it
# runs on, verified.  Then the update to the nvwa kernel.  Boot 2: restored,
# every byte verified; the dump wrote under 1 MiB; every kept page went
# back in place, none copied, the huge pages as huge pages; the memory behaves as the process's own
# (smaps, fork, MADV_DONTNEED, mremap, munmap).  Then an update to Debian's
# kernel, which does not know nvwa.keep=: copied by CRIU, and said so.
# vm: -K -t 1200
# needs: nvwa-kernel

# A host's cgroup tree is there before any restore (systemd makes it):
# the memory controller on, the application's cgroup waiting for it.
pre_restore() {
	[ "$1" = 1 ] && return 0
	mount -t cgroup2 none /sys/fs/cgroup
	echo +memory > /sys/fs/cgroup/cgroup.subtree_control
	mkdir -p /sys/fs/cgroup/app
}

# As many kB of its memory in huge pages as before the update.
huge_back() { [ "$(anon_huge_kb "$1")" -ge "$(cat /disk/state/test/huge)" ]; }

main() {
	local pid
	pid=$(app_pid 2>/dev/null)
	case $1 in
	1)
		check "this is the nvwa kernel" sh -c 'uname -r | grep -q -- "-nvwa$"'
		check "nvwa status: pin-anon yes" sh -c 'nvwa status | grep -q "pin-anon *yes"'
		check "the nvwa kernel's image declares pin-anon" sh -c \
			'nvwa status --image /boot/vmlinuz-nvwa --json | jq -e ".image.features[\"pin-anon\"].have"'
		check "Debian's does not" sh -c \
			'nvwa status --image /boot/vmlinuz --json | jq -e ".image.features[\"pin-anon\"].have == false"'
		store_format
		# In a memory cgroup of its own, whose charge the restore must
		# carry over (CRIU puts it back into /app).
		mount -t cgroup2 none /sys/fs/cgroup
		echo +memory > /sys/fs/cgroup/cgroup.subtree_control
		mkdir /sys/fs/cgroup/app
		echo $$ > /sys/fs/cgroup/app/cgroup.procs
		echo always > /sys/kernel/mm/transparent_hugepage/enabled
		# And 16 GiB reserved, one page written in every 64 MiB: the
		# take skips the empty page tables.
		start_kept app --mem 256 --sparse 16
		echo $$ > /sys/fs/cgroup/cgroup.procs
		pid=$(app_pid)
		report "cgroup $(cat /proc/"$pid"/cgroup), memory.current $(cat /sys/fs/cgroup/app/memory.current)"
		NVWA_FAULT=record-save nvwa-fault update --kernel /boot/vmlinuz-nvwa \
			--initrd /boot/initrd.img --app "$pid" > /disk/data/fault.log 2>&1
		report_file fault /disk/data/fault.log
		check "the failed update had taken its memory" grep -q "MiB kept in place" /disk/data/fault.log
		check "after the failure, PID $pid runs on" sh -c "kill -0 $pid && ! grep -q '^State:.*T (stopped)' /proc/$pid/status"
		check "its memory came back: verified byte for byte" app_verify "$pid" app
		anon_huge_kb "$pid" > /disk/state/test/huge
		report "AnonHugePages before: $(cat /disk/state/test/huge) kB"
		check "most of its memory is in huge pages" \
			sh -c '[ "$(cat /disk/state/test/huge)" -ge 131072 ]'
		nvwa update --kernel /boot/vmlinuz-nvwa --initrd /boot/initrd.img --app "$pid" \
			> /disk/data/update.log 2>&1
		fatal "nvwa update returned ($?) instead of rebooting: $(tail -n 5 /disk/data/update.log)"
		;;
	2)
		report_file update /disk/data/update.log
		check "the nvwa kernel again" sh -c 'uname -r | grep -q -- "-nvwa$"'
		check "the kernel kept the frames from its first allocation" sh -c \
			'dmesg | grep -q "nvwa.keep: [0-9]* frames in [0-9]* runs kept for the restore"'
		check "nvwa restore succeeded" restore_ok
		check "PID $pid is running again" app_alive "$pid"
		check "256 MiB verified byte for byte" app_verify "$pid" app
		check "the counter continued without a gap" app_counter_continuous app
		check "the record says its memory was kept" report_is '.apps[0].memory == "kept"'
		check "all 65536 pages of it" report_is '.apps[0].kept_pages >= 65536'
		check "every kept page went back in place, none copied" report_is \
			'.apps[0].installed_pages == .apps[0].kept_pages and .apps[0].copied_pages == 0'
		check "the dump wrote under 1 MiB of images" report_is '.apps[0].image_bytes < 1048576'
		metric keep_take_ms "$(sed -n 's/.*MiB kept in place.* in \([0-9]*\) ms$/\1/p' /disk/data/update.log)"
		report "AnonHugePages after: $(anon_huge_kb "$pid") kB, before $(cat /disk/state/test/huge) kB"
		check "its huge pages came back as huge pages (smaps AnonHugePages)" \
			huge_back "$pid"
		check "the record counts them" report_is --argjson kb "$(cat /disk/state/test/huge)" \
			'.apps[0].huge_pages * 4 >= $kb'
		report "cgroup $(cat /proc/"$pid"/cgroup), memory.current $(cat /sys/fs/cgroup/app/memory.current 2>&1)"
		check "it is back in its memory cgroup" grep -qx '0::/app' "/proc/$pid/cgroup"
		check "which is charged its 256 MiB of anonymous memory" sh -c \
			"[ \$(awk '\$1 == \"anon\" { print \$2 }' /sys/fs/cgroup/app/memory.stat) -ge 268435456 ]"
		check "its memory behaves as its own (smaps, fork, MADV_DONTNEED, mremap, munmap)" \
			app_anoncheck "$pid" app
		check "no kernel warning" kernel_clean
		metric keep_image_bytes "$(report_value '.apps[0].image_bytes')"
		metric keep_downtime_ms "$(downtime_ms)"
		report_file restore /tmp/restore.log
		grep anoncheck /disk/data/app.log | while read -r l; do report "app $l"; done
		send_report
		nvwa update --kernel /boot/vmlinuz --initrd /boot/initrd.img --app "$pid" \
			> /disk/data/update.log 2>&1
		fatal "nvwa update returned ($?) instead of rebooting: $(tail -n 5 /disk/data/update.log)"
		;;
	3)
		report_file update /disk/data/update.log
		check "back on Debian's kernel" sh -c '! uname -r | grep -q -- "-nvwa$"'
		check "nvwa said why it copied" grep -q "copied by CRIU: the new kernel could not take it over" \
			/disk/data/update.log
		check "no nvwa.keep= was passed" sh -c '! grep -q nvwa.keep= /proc/cmdline'
		check "nvwa restore succeeded" restore_ok
		check "PID $pid is running again" app_alive "$pid"
		check "256 MiB verified byte for byte" app_verify "$pid" app
		check "the record says its memory was copied" report_is '.apps[0].memory == "copied"'
		report_file restore /tmp/restore.log
		;;
	*)
		fatal "unexpected boot $1"
		;;
	esac
}
