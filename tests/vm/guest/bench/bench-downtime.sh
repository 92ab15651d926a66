# Benchmark: downtime of one application holding nvwa.mem= MiB, for the
# baseline a user would script today (criu dump to a disk-backed images
# directory, kexec of the stock bzImage, criu restore from disk) against
# nvwa update, eager and lazy.  Downtime is TSC-measured, freeze to the
# application running, in every case.
MEM=$(cmdline_value nvwa.mem)
BASE=/disk/base
pre_restore() {
	# The baseline's restore runs as early as nvwa's would.
	[ "$1" = 2 ] || return 0
	local t0 khz t1
	read -r t0 khz < /disk/state/test/t0
	criu restore -D "$BASE" -d -o restore.log || fatal "baseline restore failed"
	t1=$(nvwa-clock "$khz" | cut -d' ' -f1)
	metric baseline_downtime_ms "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
}
main() {
	local pid
	case $1 in
	1)
		store_format
		start_kept app --mem "$MEM"
		mkdir -p "$BASE"
		# What a user scripts without nvwa: dump to disk, kexec, restore.
		nvwa-clock > /disk/state/test/t0
		criu dump -t "$(app_pid)" -D "$BASE" -o dump.log || fatal "baseline dump failed"
		sync
		must kexec kexec -l /boot/vmlinuz --initrd=/boot/initrd.img --command-line="$(cat /proc/cmdline)"
		kexec -e
		fatal "kexec -e returned"
		;;
	2)
		pid=$(app_pid)
		check "baseline: restored" app_alive "$pid"
		check "baseline: memory verified" app_verify "$pid" app
		rm -rf "$BASE"
		update_reboot "$pid"
		;;
	3)
		pid=$(app_pid)
		check "nvwa: restored" restore_ok
		check "nvwa: memory verified" app_verify "$pid" app
		metric nvwa_downtime_ms "$(downtime_ms)"
		metric nvwa_freeze_ms "$(phase_duration freeze)"
		metric nvwa_restore_ms "$(phase_duration restore)"
		metric nvwa_boot_ms "$(reboot_to_init_ms)"
		UPDATE_ARGS=--lazy-restore update_reboot "$pid"
		;;
	4)
		pid=$(app_pid)
		check "nvwa lazy: restored" restore_ok
		check "nvwa lazy: memory verified" app_verify "$pid" app
		metric nvwa_lazy_downtime_ms "$(downtime_ms)"
		;;
	esac
}
