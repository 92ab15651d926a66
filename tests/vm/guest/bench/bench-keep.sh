# Benchmark: the nvwa kernel's kept path against the copy it replaces, for
# one application holding nvwa.mem= MiB, both updates between nvwa kernels
# in one VM (run-vm -K): first nvwa update --copy-memory (CRIU copies the
# memory to the store and back, as on a stock kernel), then nvwa update
# with the memory kept in place.  Downtime is TSC-measured, freeze to the
# application running, in both.
MEM=$(cmdline_value nvwa.mem)
main() {
	local pid
	pid=$(app_pid 2>/dev/null)
	case $1 in
	1)
		store_format
		start_kept app --mem "$MEM"
		UPDATE_ARGS=--copy-memory update_reboot_to /boot/vmlinuz-nvwa "$(app_pid)"
		;;
	2)
		check "copied: restored" restore_ok
		check "copied: memory verified" app_verify "$pid" app
		check "copied: the record says so" report_is '.apps[0].memory == "copied"'
		metric copy_downtime_ms "$(downtime_ms)"
		metric copy_freeze_ms "$(phase_duration freeze)"
		metric copy_restore_ms "$(phase_duration "restore/$pid")"
		metric copy_image_bytes "$(report_value '.apps[0].image_bytes')"
		update_reboot_to /boot/vmlinuz-nvwa "$pid"
		;;
	3)
		check "kept: restored" restore_ok
		check "kept: memory verified" app_verify "$pid" app
		check "kept: nothing copied" report_is \
			'.apps[0].memory == "kept" and .apps[0].copied_pages == 0'
		metric keep_downtime_ms "$(downtime_ms)"
		metric keep_freeze_ms "$(phase_duration freeze)"
		metric keep_seal_ms "$(phase_duration keep-seal)"
		metric keep_restore_ms "$(phase_duration "restore/$pid")"
		metric keep_give_ms "$(phase_duration "keep-give/$pid")"
		metric keep_image_bytes "$(report_value '.apps[0].image_bytes')"
		;;
	esac
}
