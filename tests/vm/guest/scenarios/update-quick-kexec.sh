# Quick kexec (fastboot/kernel/0001).  The VM boots the nvwa kernel with
# nvwa.quick_kexec=160M: a region kept for the next kernel.
#
#   boot  kernel  the update it makes                  loaded in place
#   1     nvwa    -> nvwa, two apps kept (64, 512 MiB)  kernel and initrd
#   2     nvwa    -> nvwa, both kept again              kernel only
#   3     nvwa    -> Debian, the big app stopped,       kernel only
#                    the small one copied
#   4     Debian  -
#
# Boot 1: dry runs show what the jump copies the usual way and that it
# copies nothing in place.  Boot 2 runs from inside boot 1's region; the
# 576 MiB its kept frames hold leave no 160 MiB free below 896 MiB, so its
# own region lies higher, where kexec-tools cannot put the initrd: the
# kernel is loaded in place, the initrd copied, and nvwa says so.  Every
# boot: the kernel runs from the region of the boot before, the
# applications came back verified, the record says what the jump copied.
# Debian's kernel needs no region of its own to be loaded in place.
# vm: -K -t 1500 -a nvwa.quick_kexec=160M
# needs: nvwa-kernel

region() { cat /sys/kernel/nvwa/quick_kexec; }
# The physical address of this kernel's text, from /proc/iomem.
kernel_code() { awk -F'[- :]+' '/Kernel code/ { print $2; exit }' /proc/iomem; }
# in_region ADDR "START SIZE": ADDR lies in the region.
in_region() {
	local a=$((0x$1)) s=${2% *} z=${2#* }
	[ "$a" -ge $((s)) ] && [ "$a" -lt $((s + z)) ]
}
below_896m() { local r; r=$(region); [ $((${r% *} + ${r#* })) -le $((896 << 20)) ]; }
copies() {	# copies LOG: the pages the jump will copy, as nvwa update said
	sed -n 's/.*the jump will copy \([0-9]*\) pages.*/\1/p' "$1" | tail -n 1
}
initrd_pages() { echo $(($(stat -c %s /boot/initrd.img) / 4096)); }
big_pid() { cat /disk/state/test/big; }
dry_run() {	# dry_run LOG ARGS...
	local log=$1
	shift
	nvwa update --dry-run --kernel /boot/vmlinuz-nvwa --initrd /boot/initrd.img \
		--app "$(app_pid)" "$@" > "$log" 2>&1
}
# Boots 2 to 4: this kernel came from the region the boot before had.
came_in_place() {
	report_file update /disk/data/update.log
	check "this kernel runs from the region of the boot before" \
		in_region "$(kernel_code)" "$(cat /disk/state/test/region)"
	check "the record says it was loaded in place" report_is \
		'.new_kernel.loader | startswith("kexec_load elf in place (quick kexec), ")'
	check "nvwa restore succeeded" restore_ok
	app_came_back "$(app_pid)" app
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
		check "it lies below 896 MiB" below_896m
		region > /disk/state/test/region
		store_format
		start_kept app --mem 64
		pid=$(app_pid)
		dry_run /disk/data/dry-usual.log --quick-kexec=no --memmap-bg=no
		report_file dry-usual /disk/data/dry-usual.log
		check "--quick-kexec=no loads the usual way" \
			grep -q "quick kexec: no: --quick-kexec=no" /disk/data/dry-usual.log
		check "--memmap-bg=no: the memmap is initialised before /init" sh -c \
			'grep -q "memmap init: before /init (--memmap-bg=no)" /disk/data/dry-usual.log &&
			 ! grep -q "command line: .*deferred_page_init" /disk/data/dry-usual.log'
		# The kernel at its link address, 16 MiB: 30 MiB at least.
		check "then the jump copies at least the kernel (over 4096 pages)" \
			[ "$(copies /disk/data/dry-usual.log)" -gt 4096 ]
		metric usual_copy_pages "$(copies /disk/data/dry-usual.log)"
		dry_run /disk/data/dry-quick.log
		check "by default they are loaded in place" \
			grep -q "quick kexec: yes: in place in the 160 MiB region" /disk/data/dry-quick.log
		check "then the jump copies nothing" [ "$(copies /disk/data/dry-quick.log)" = 0 ]
		check "by default the nvwa kernel is booted with its memmap init in the background" \
			grep -q "memmap init: in the background, after /init (deferred_page_init=async)" \
			/disk/data/dry-quick.log
		check "the dry runs left the application running" app_verify "$pid" app
		start_app big --mem 512 > /disk/state/test/big
		wait_ready big 300
		UPDATE_ARGS=--memmap-bg=low update_reboot_to /boot/vmlinuz-nvwa "$pid" "$(big_pid)"
		;;
	2)
		check "the nvwa kernel again" sh -c 'uname -r | grep -q -- "-nvwa$"'
		came_in_place
		check "nvwa booted it with deferred_page_init=async,low (--memmap-bg=low)" \
			sh -c 'grep -q "deferred_page_init=async,low" /proc/cmdline &&
			grep -q "memmap init: in the background, after /init, below 4 GiB too" /disk/data/update.log'
		check "its memmap init went to the background" \
			sh -c 'dmesg | grep -q "deferred pages: initialised in the background"'
		check "nvwa update said the jump copies nothing" \
			grep -q "kexec: loaded in place; the jump will copy 0 pages" /disk/data/update.log
		check "the record says the jump copied nothing" report_is \
			'.new_kernel.loader | startswith("kexec_load elf in place (quick kexec), 0 pages copied at the jump")'
		app_came_back "$(big_pid)" big "big: "
		check "their memory was kept in place, none of it in the kernel's way" report_is \
			'all(.apps[]; .memory == "kept" and .copied_pages == 0)'
		check "it has a region of its own (the parameter was carried over)" \
			sh -c 'nvwa status | grep -q "quick-kexec *yes *160 MiB at"'
		check "which it does not sit in" not in_region "$(kernel_code)" "$(region)"
		check "the kept frames left no room below 896 MiB: it lies higher" not below_896m
		check "the kernel said so" sh -c 'dmesg | grep -q "nvwa.quick_kexec: 160 MiB at .* (too high for its initrd)"'
		check "the report has the jump" has_phase kexec-jump
		metric quick_kexec_jump_ms "$(phase_duration kexec-jump)"
		check "no kernel warning" kernel_clean
		region > /disk/state/test/region
		update_reboot_to /boot/vmlinuz-nvwa "$pid" "$(big_pid)"
		;;
	3)
		check "the nvwa kernel again" sh -c 'uname -r | grep -q -- "-nvwa$"'
		came_in_place
		app_came_back "$(big_pid)" big "big: "
		check "nvwa update said the initrd is copied" grep -q \
			"quick kexec: yes: .*; the initrd is copied at the jump (the region lies above 896 MiB" \
			/disk/data/update.log
		check "the jump copied the initrd, not the kernel" sh -c \
			"[ $(copies /disk/data/update.log) -ge $(initrd_pages) ] && [ $(copies /disk/data/update.log) -lt $(($(initrd_pages) + 1024)) ]"
		# Debian's kernel cannot keep memory: the small app is copied,
		# the big one would not fit the store.
		kill "$(big_pid)"
		region > /disk/state/test/region
		update_reboot_to /boot/vmlinuz "$pid"
		;;
	4)
		check "Debian's kernel" [ "$(uname -r)" = "$OLD_KVER" ]
		came_in_place
		check "nvwa said Debian's kernel has no background memmap init" \
			grep -q "memmap init: before /init: the new kernel has no memmap-bg" \
			/disk/data/update.log
		check "nvwa status: quick-kexec no on a stock kernel" sh -c \
			'nvwa status | grep -q "quick-kexec *no"'
		send_report
		;;
	*)
		fatal "unexpected boot $1"
		;;
	esac
}
