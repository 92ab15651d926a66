# Benchmark: secondary CPU bring-up in the new kernel, woken from park vs
# INIT/SIPI.  The nvwa kernel, booted with nvwa.park=, updates to itself
# once with --park-cpus=$(nvwa.parking) (auto: parked at the jump, woken
# with a store; no: halted the stock way, INIT/SIPI).  One kexec per VM, no
# applications, the same loader either way.  Per CPU, from the start of the
# wake-up in do_boot_cpu: until it took its entry or the last SIPI was
# sent, until it ran kernel code, until it was online (the kernel's own
# figures, /sys/kernel/nvwa/parked_cpus); in total, smp_init().
PARKED=/sys/kernel/nvwa/parked_cpus
# mean_us HOW FIELD: the mean over the CPUs brought up HOW
mean_us() { awk -v h="$1" -v f="$2" '$2 == h { s += $f; n++ } END { if (n) printf "%d", s / n }' "$PARKED"; }

main() {
	local p how
	p=$(cmdline_value nvwa.parking)
	case $1 in
	1)
		store_format
		UPDATE_KERNEL=/boot/vmlinuz-nvwa UPDATE_ARGS="--park-cpus=$p" update_reboot
		;;
	2)
		how=init
		[ "$p" = no ] || how=park
		report_file parked "$PARKED"
		check "every CPU online" [ "$(cat /sys/devices/system/cpu/online)" = "$(cat /sys/devices/system/cpu/present)" ]
		check "every secondary CPU came up as asked ($how)" \
			[ "$(awk -v h="$how" '$2 == h { n++ } END { print n + 0 }' "$PARKED")" = "$(($(nproc) - 1))" ]
		metric cpus "$(nproc)"
		metric handover_us "$(mean_us "$how" 3)"
		metric running_us "$(mean_us "$how" 4)"
		metric online_us "$(mean_us "$how" 5)"
		metric smp_ms "$(phase_duration smp-bringup)"
		metric kexec_to_init_ms "$(reboot_to_init_ms)"
		;;
	esac
}
