# Benchmark: from the reboot syscall to the new kernel's /init, for the
# stock path (kexec_load of the bzImage, purgatory checks) and nvwa's
# (prepared vmlinux, verified, no purgatory pass), then what the serial
# console at 115200 baud costs (--quiet-boot).  No applications.
main() {
	case $1 in
	1)
		store_format
		UPDATE_ARGS="--no-prepare --purgatory-checks" update_reboot
		;;
	2)
		metric stock_kexec_to_init_ms "$(reboot_to_init_ms)"
		update_reboot
		;;
	3)
		metric nvwa_kexec_to_init_ms "$(reboot_to_init_ms)"
		UPDATE_ARGS=--quiet-boot update_reboot
		;;
	4)
		metric nvwa_quiet_kexec_to_init_ms "$(reboot_to_init_ms)"
		;;
	esac
}
