# Five updates of one process tree (a parent, a child with memory of its
# own, a region they share), each taking the path its two kernels allow:
#
#   boot  kernel  came by            updates to  its memory
#   1     Debian  (cold boot)        nvwa        copied: Debian's kernel has no pin-anon
#   2     nvwa    copied             nvwa        kept
#   3     nvwa    kept               nvwa        kept
#   4     nvwa    kept               nvwa        kept
#   5     nvwa    kept               Debian      copied: Debian's image does not declare it
#   6     Debian  copied             -
#
# so three updates in a row on the nvwa kernel (2 -> 3 -> 4 -> 5), and
# Debian -> nvwa -> Debian around them.  Every boot after the first: the
# tree is back on its PIDs, every process verifies its memory byte for
# byte, the parent's counter has no gap, and the record says which way
# the memory went.  The VM boots Debian's kernel; the nvwa kernel's image
# is on its disk (needs: nvwa-kernel).
# vm: -t 1500
# needs: nvwa-kernel

CHILDREN=1
# The kernel boot N runs and the path of the update that brought it here.
kernel_of() { case $1 in 1 | 6) echo debian ;; *) echo nvwa ;; esac; }
memory_of() { case $1 in 2 | 6) echo copied ;; *) echo kept ;; esac; }
# What boot N's update says of the memory, as it chooses.
why_of() {
	case $1 in
	1) echo "memory: copied by CRIU: this kernel cannot keep it" ;;
	5) echo "memory: copied by CRIU: the new kernel could not take it over" ;;
	*) echo "memory: kept in place: pin-anon on both kernels" ;;
	esac
}
image_of() { [ "$(kernel_of "$1")" = nvwa ] && echo /boot/vmlinuz-nvwa || echo /boot/vmlinuz; }
is_kernel() {	# is_kernel debian|nvwa
	case $1 in
	nvwa) uname -r | grep -q -- "-nvwa$" ;;
	debian) [ "$(uname -r)" = "$OLD_KVER" ] ;;
	esac
}
kids() { cat /disk/state/test/kids; }
kids_alive() {
	local k
	[ "$(wc -w < /disk/state/test/kids)" = "$CHILDREN" ] || return 1
	for k in $(kids); do app_alive "$k" || return 1; done
}

main() {
	local boot=$1 pid kernel memory rc
	kernel=$(kernel_of "$boot")
	[ "$boot" -le 6 ] || fatal "unexpected boot $boot"
	check "boot $boot runs the $kernel kernel" is_kernel "$kernel"
	if [ "$boot" = 1 ]; then
		store_format
		start_kept app --mem 32 --children "$CHILDREN" --child-mem 8 --shared-mem 4
		cat /proc/"$(app_pid)"/task/*/children | xargs > /disk/state/test/kids
	fi
	pid=$(app_pid)
	if [ "$boot" -gt 1 ]; then
		memory=$(memory_of "$boot")
		report_file update /disk/data/update.log
		report_file restore /tmp/restore.log
		check "boot $boot: the update that brought it said: $(why_of $((boot - 1)))" \
			grep -q "$(why_of $((boot - 1)))" /disk/data/update.log
		check "boot $boot: nvwa restore succeeded" restore_ok
		check "boot $boot: the parent, PID $pid, runs again" app_alive "$pid"
		check "boot $boot: so does its child, $(kids)" kids_alive
		check "boot $boot: every process verified its memory byte for byte" \
			app_verify_tree "$pid" app "$CHILDREN"
		check "boot $boot: the counter continued without a gap" app_counter_continuous app
		check "boot $boot: update $((boot - 1)) went to this kernel" report_is \
			--arg r "$(uname -r)" '.new_kernel.release == $r'
		check "boot $boot: its memory was $memory" report_is \
			--arg m "$memory" '.apps[0].memory == $m'
		if [ "$memory" = kept ]; then
			# 32 + 8 MiB private, the child's included.
			check "boot $boot: at least 40 MiB kept, every page back in place, none copied" \
				report_is '.apps[0].kept_pages >= 10240 and
					.apps[0].installed_pages == .apps[0].kept_pages and
					.apps[0].copied_pages == 0'
			check "boot $boot: the shared 4 MiB left to CRIU" report_is '.apps[0].shared_pages == 1024'
		fi
		check "boot $boot: no kernel warning" kernel_clean
	fi
	[ "$boot" = 6 ] && return 0
	# Boot 5 updates to Debian's kernel, the others to the nvwa kernel.
	nvwa update --kernel "$(image_of $((boot + 1)))" --initrd /boot/initrd.img --app "$pid" \
		> /disk/data/update.log 2>&1
	rc=$?
	report_file update /disk/data/update.log
	fatal "boot $boot: nvwa update returned ($rc) instead of rebooting"
}
