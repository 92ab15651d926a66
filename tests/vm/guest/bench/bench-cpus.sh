# Benchmark: secondary CPU bring-up in the new kernel, all CPUs at boot
# against --defer-cpus (one CPU at boot, the rest after the restore), and
# deferred memmap init, for the guest's CPU count and memory.
main() {
	case $1 in
	1)
		store_format
		update_reboot
		;;
	2)
		metric cpus "$(nproc)"
		metric smp_all_ms "$(phase_duration smp-bringup)"
		metric kexec_to_init_all_ms "$(reboot_to_init_ms)"
		metric memmap_deferred_ms "$(phase_duration memmap-deferred)"
		UPDATE_ARGS=--defer-cpus update_reboot
		;;
	3)
		metric smp_deferred_ms "$(phase_duration smp-bringup)"
		metric kexec_to_init_deferred_ms "$(reboot_to_init_ms)"
		metric cpu_online_after_ms "$(phase_duration cpu-online)"
		check "every CPU online" [ "$(cat /sys/devices/system/cpu/online)" = "$(cat /sys/devices/system/cpu/present)" ]
		;;
	esac
}
