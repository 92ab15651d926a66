# Quick kexec (fastboot/kernel/0001).  The VM boots the nvwa kernel with
# nvwa.quick_kexec=160M: a region kept for the next kernel.  Boot 1: a dry
# run with --quick-kexec=no shows what the jump copies the usual way (the
# whole kernel and initrd); one without shows it copies nothing.  Then the
# update: the prepared vmlinux and the initrd are loaded where they will
# run.  Boot 2 (the nvwa kernel again): it runs from inside the old
# region, has a region of its own that it does not sit in, the
# application came back, and the record says 0 pages were copied at the
# jump; its memory was kept in place (pin-anon) alongside.  Then an update to Debian's kernel, which has no region but needs
# none to be loaded in place: boot 3 runs Debian's kernel from the nvwa
# kernel's region, with the application back.
# vm: -K -t 1200 -a nvwa.quick_kexec=160M
# needs: nvwa-kernel

region() { cat /sys/kernel/nvwa/quick_kexec; }
# The physical address of this kernel's text, from /proc/iomem.
kernel_code() { awk -F'[- :]+' '/Kernel code/ { print $2; exit }' /proc/iomem; }
# in_region ADDR "START SIZE": ADDR lies in the region.
in_region() {
	local a=$((0x$1)) s=${2% *} z=${2#* }
	[ "$a" -ge $((s)) ] && [ "$a" -lt $((s + z)) ]
}
copies() {	# copies LOG: the pages the jump will copy, as nvwa update said
	sed -n 's/.*the jump will copy \([0-9]*\) pages.*/\1/p' "$1" | tail -n 1
}
dry_run() {	# dry_run LOG ARGS...
	local log=$1
	shift
	nvwa update --dry-run --kernel /boot/vmlinuz-nvwa --initrd /boot/initrd.img \
		--app "$(app_pid)" "$@" > "$log" 2>&1
}

main() {
	local pid
	pid=$(app_pid 2>/dev/null)
	case $1 in
	1)
		check "this is the nvwa kernel" sh -c 'uname -r | grep -q -- "-nvwa$"'
		check "nvwa status: quick-kexec yes, 160 MiB" sh -c \
			'nvwa status | grep -q "quick-kexec *yes *160 MiB at"'
		check "the region is in /proc/iomem" grep -q "nvwa quick kexec" /proc/iomem
		check "only root may read where it is" sh -c \
			'[ "$(stat -c %a /sys/kernel/nvwa/quick_kexec)" = 400 ]'
		region > /disk/state/test/region
		store_format
		start_kept app --mem 64
		pid=$(app_pid)
		dry_run /disk/data/dry-usual.log --quick-kexec=no
		report_file dry-usual /disk/data/dry-usual.log
		check "--quick-kexec=no loads the usual way" \
			grep -q "quick kexec: no: --quick-kexec=no" /disk/data/dry-usual.log
		check "then the jump copies the kernel and the initrd (more pages than the initrd has)" \
			[ "$(copies /disk/data/dry-usual.log)" -gt $(($(stat -c %s /boot/initrd.img) / 4096)) ]
		metric usual_copy_pages "$(copies /disk/data/dry-usual.log)"
		dry_run /disk/data/dry-quick.log
		check "by default they are loaded in place" \
			grep -q "quick kexec: yes: in place in the 160 MiB region" /disk/data/dry-quick.log
		check "then the jump copies nothing" [ "$(copies /disk/data/dry-quick.log)" = 0 ]
		check "the dry runs left the application running" app_verify "$pid" app
		update_reboot_to /boot/vmlinuz-nvwa "$pid"
		;;
	2)
		report_file update /disk/data/update.log
		check "the nvwa kernel again" sh -c 'uname -r | grep -q -- "-nvwa$"'
		check "nvwa update loaded it in place" grep -q "kexec: loaded in place; the jump will copy 0 pages" \
			/disk/data/update.log
		check "the record says the jump copied nothing" report_is \
			'.new_kernel.loader | startswith("kexec_load elf in place (quick kexec), 0 pages copied at the jump")'
		check "this kernel runs from the old kernel's region" \
			in_region "$(kernel_code)" "$(cat /disk/state/test/region)"
		check "it has a region of its own (the parameter was carried over)" \
			sh -c 'nvwa status | grep -q "quick-kexec *yes *160 MiB at"'
		check "which it does not sit in" not in_region "$(kernel_code)" "$(region)"
		check "nvwa restore succeeded" restore_ok
		app_came_back "$pid" app
		check "its memory was kept in place too, none of it in the kernel's way" report_is \
			'.apps[0].memory == "kept" and .apps[0].copied_pages == 0'
		check "the report has the jump" has_phase kexec-jump
		metric quick_kexec_jump_ms "$(phase_duration kexec-jump)"
		check "no kernel warning" kernel_clean
		region > /disk/state/test/region
		update_reboot_to /boot/vmlinuz "$pid"
		;;
	3)
		report_file update /disk/data/update.log
		check "Debian's kernel" [ "$(uname -r)" = "$OLD_KVER" ]
		check "loaded in place by the nvwa kernel" report_is \
			'.new_kernel.loader | contains("in place (quick kexec), 0 pages copied")'
		check "it runs from the nvwa kernel's region" \
			in_region "$(kernel_code)" "$(cat /disk/state/test/region)"
		check "nvwa restore succeeded" restore_ok
		app_came_back "$pid" app
		check "nvwa status: quick-kexec no on a stock kernel" sh -c \
			'nvwa status | grep -q "quick-kexec *no"'
		send_report
		;;
	*)
		fatal "unexpected boot $1"
		;;
	esac
}
