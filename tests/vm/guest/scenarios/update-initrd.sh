# The prepared initrd: an application updated with a Debian-shaped initrd
# (early cpio, then the main cpio zstd-compressed as Debian 12 makes it).
# nvwa decompresses it before the freeze, caches it by content and boots
# the uncompressed archives, so the new kernel's unpack only copies; the
# application comes back and the record, the report and nvwa update's
# output say which initrd booted.  Then a byte of the cached copy is
# flipped: the next update finds it does not verify, rebuilds it, and
# boots the rebuilt one, never the corrupt one.
# --initrd-prepared=auto, the default, prepares zstd: it pays.
UPDATE_INITRD=/boot/initrd.img-zstd
cached_initrd() {	# the prepared copy of UPDATE_INITRD in nvwa's cache
	echo "/var/cache/nvwa/initrds/$(sha256sum "$UPDATE_INITRD" | cut -d' ' -f1).cpio"
}
cache_verifies() {
	local f
	f=$(cached_initrd)
	[ "$(sha256sum "$f" | cut -d' ' -f1)" = "$(cat "$f.sha256")" ]
}
# The kernel unpacked the initrd it was given without a complaint, and
# what it freed afterwards is the prepared file's size (in whole pages).
unpacked_prepared() {
	local freed pages
	freed=$(dmesg | sed -n 's/.*Freeing initrd memory: \([0-9]*\)K.*/\1/p' | tail -n 1)
	pages=$(( ($(wc -c < "$(cached_initrd)") + 4095) / 4096 ))
	! dmesg | grep -q 'Initramfs unpacking failed' && [ -n "$freed" ] &&
		[ $((pages * 4)) = "$freed" ]
}
main() {
	local pid
	case $1 in
	1)
		store_format
		start_kept app --mem 32
		update_reboot "$(app_pid)"
		;;
	2)
		pid=$(app_pid)
		report_file update /disk/data/update.log
		check "nvwa restore succeeded" restore_ok
		app_came_back "$pid" app
		check "nvwa update said it boots the prepared initrd" \
			grep -q "initrd: $UPDATE_INITRD (cpio+zstd, .*booting the prepared $(cached_initrd)" /disk/data/update.log
		check "the record says the prepared initrd booted" report_is \
			'.new_kernel.initrd | startswith("prepared cpio+zstd: ") and contains("sha256 verified")'
		check "nvwa report shows it" sh -c "nvwa report | grep -q '^  initrd: prepared cpio+zstd'"
		check "the cached prepared initrd verifies" cache_verifies
		check "the kernel unpacked the prepared initrd" unpacked_prepared
		check "the report has the initramfs unpack" has_phase initramfs-unpack
		metric unpack_prepared_ms "$(phase_duration initramfs-unpack)"
		# Forced off, the original goes to kexec, and the output says why.
		nvwa update --dry-run --kernel /boot/vmlinuz --initrd "$UPDATE_INITRD" \
			--initrd-prepared=no > /tmp/dry.log 2>&1
		check "--initrd-prepared=no boots the original" \
			grep -q "booting it as it is: --initrd-prepared=no" /tmp/dry.log
		check "an unknown --initrd-prepared is refused" not nvwa update --dry-run \
			--kernel /boot/vmlinuz --initrd "$UPDATE_INITRD" --initrd-prepared=sometimes
		# One byte of the cached copy flipped, inside the first archive.
		printf 'X' | dd of="$(cached_initrd)" bs=1 seek=200 conv=notrunc 2> /dev/null
		check "the flipped byte breaks the cached copy's checksum" not cache_verifies
		update_reboot "$pid"
		;;
	3)
		pid=$(app_pid)
		report_file update /disk/data/update.log
		check "nvwa restore succeeded" restore_ok
		app_came_back "$pid" app
		check "nvwa update found the corrupt cached initrd and rebuilt it" \
			grep -q "initrd: the cached prepared $(cached_initrd) does not check out (its sha256 is .*never booted, rebuilding it" /disk/data/update.log
		check "the record says the prepared initrd was rebuilt" report_is \
			'.new_kernel.initrd | startswith("prepared cpio+zstd: ") and contains("rebuilt")'
		check "the rebuilt cached initrd verifies" cache_verifies
		check "the kernel unpacked the rebuilt initrd" unpacked_prepared
		send_report
		;;
	*)
		fatal "unexpected boot $1"
		;;
	esac
}
