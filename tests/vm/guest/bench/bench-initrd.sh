# Benchmark: the new kernel's initramfs unpack with the initrd compressed
# (nvwa.initrd=COMPRESSOR on the command line, Debian-shaped, booted as it
# is) and prepared (nvwa.prepared=yes: decompressed by nvwa beforehand).
# One kexec per VM, no applications, so one run never follows another's
# (successive kexecs in one VM get slower).  Also the jump, which copies
# the larger prepared file, and the whole reboot to /init.
main() {
	local c p
	c=$(cmdline_value nvwa.initrd) p=$(cmdline_value nvwa.prepared)
	case $1 in
	1)
		store_format
		UPDATE_INITRD=/boot/initrd.img-$c UPDATE_ARGS="--initrd-prepared=$p" update_reboot
		;;
	2)
		check "the initrd booted as asked" report_is --arg w "$([ "$p" = yes ] && echo prepared || echo original) cpio+$c" \
			'.new_kernel.initrd | startswith($w)'
		check "the report has the initramfs unpack" has_phase initramfs-unpack
		metric unpack_ms "$(phase_duration initramfs-unpack)"
		metric kexec_jump_ms "$(phase_duration kexec-jump)"
		metric kexec_to_init_ms "$(reboot_to_init_ms)"
		metric initrd_kib "$(dmesg | sed -n 's/.*Freeing initrd memory: \([0-9]*\)K.*/\1/p' | tail -n 1)"
		report_file update /disk/data/update.log
		;;
	esac
}
