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
		pid=$(start_app app --mem "$MEM")
		wait_for 300 grep -q '^ready' /disk/data/app.log || fatal "app did not start"
		echo "$pid" > /disk/state/test/pid
		mkdir -p "$BASE"
		# What a user scripts without nvwa: dump to disk, kexec, restore.
		nvwa-clock > /disk/state/test/t0
		criu dump -t "$pid" -D "$BASE" -o dump.log || fatal "baseline dump failed"
		sync
		kexec -l /boot/vmlinuz --initrd=/boot/initrd.img --command-line="$(cat /proc/cmdline)" ||
			fatal "kexec -l failed"
		kexec -e
		fatal "kexec -e returned"
		;;
	2)
		pid=$(cat /disk/state/test/pid)
		check "baseline: restored" app_alive "$pid"
		check "baseline: memory verified" app_verify "$pid" app
		rm -rf "$BASE"
		update_apps "$pid"
		fatal "nvwa update returned"
		;;
	3)
		pid=$(cat /disk/state/test/pid)
		check "nvwa: restored" restore_ok
		check "nvwa: memory verified" app_verify "$pid" app
		metric nvwa_downtime_ms "$(downtime_ms)"
		metric nvwa_freeze_ms "$(phase_duration freeze)"
		metric nvwa_restore_ms "$(phase_duration restore)"
		metric nvwa_boot_ms "$(awk -v a="$(phase_start reboot)" -v b="$(phase_start init-start)" 'BEGIN { print b - a }')"
		UPDATE_ARGS=--lazy-restore update_apps "$pid"
		fatal "nvwa update --lazy-restore returned"
		;;
	4)
		pid=$(cat /disk/state/test/pid)
		check "nvwa lazy: restored" restore_ok
		check "nvwa lazy: memory verified" app_verify "$pid" app
		metric nvwa_lazy_downtime_ms "$(downtime_ms)"
		;;
	esac
}
