# Benchmark: the jump with and without quick kexec.  The nvwa kernel,
# booted with nvwa.quick_kexec=160M, updates to itself once with
# --quick-kexec=$(nvwa.quick) (no: the usual staging, copied by the old
# kernel's last code; auto: loaded in place).  One kexec per VM, no
# applications.  kexec-jump is the reboot call to the new kernel's first
# clock reading: the old kernel's shutdown, the copy, purgatory, the new
# kernel's entry.
main() {
	local q
	q=$(cmdline_value nvwa.quick)
	case $1 in
	1)
		store_format
		UPDATE_KERNEL=/boot/vmlinuz-nvwa UPDATE_ARGS="--quick-kexec=$q" update_reboot
		;;
	2)
		report_file update /disk/data/update.log
		check "the update loaded as asked" report_is --arg q "$q" \
			'.new_kernel.loader | contains("in place") == ($q == "auto")'
		metric copy_pages "$(sed -n 's/.*the jump will copy \([0-9]*\) pages.*/\1/p' /disk/data/update.log)"
		metric kexec_jump_ms "$(phase_duration kexec-jump)"
		metric kexec_to_init_ms "$(reboot_to_init_ms)"
		nvwa report > /tmp/report.txt 2>&1
		report_file report /tmp/report.txt
		;;
	esac
}
