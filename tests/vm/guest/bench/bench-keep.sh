# Benchmark: the nvwa kernel's kept path against the copy it replaces, for
# one application holding nvwa.mem= MiB, one update between nvwa kernels
# (run-vm -K) per VM: nvwa.path=copy runs nvwa update --copy-memory (CRIU
# copies the memory to the store and back, as on a stock kernel),
# nvwa.path=kept keeps it in place.  One update from the first boot in
# each, so that neither pays for the other's earlier kexec (a chain of
# kexecs gets slower in the test VM: issue 17).  Downtime is TSC-measured,
# freeze to the application running.
MEM=$(cmdline_value nvwa.mem)
PATH_TAKEN=$(cmdline_value nvwa.path)
P=$([ "$PATH_TAKEN" = copy ] && echo copy || echo keep)	# the metrics' prefix
main() {
	local pid
	pid=$(app_pid 2>/dev/null)
	case $1 in
	1)
		store_format
		start_kept app --mem "$MEM"
		if [ "$PATH_TAKEN" = copy ]; then
			UPDATE_ARGS=--copy-memory update_reboot_to /boot/vmlinuz-nvwa "$(app_pid)"
		else
			update_reboot_to /boot/vmlinuz-nvwa "$(app_pid)"
		fi
		;;
	2)
		check "$PATH_TAKEN: restored" restore_ok
		check "$PATH_TAKEN: memory verified" app_verify "$pid" app
		if [ "$PATH_TAKEN" = copy ]; then
			check "copied: the record says so" report_is '.apps[0].memory == "copied"'
		else
			check "kept: nothing copied" report_is \
				'.apps[0].memory == "kept" and .apps[0].copied_pages == 0'
			metric keep_seal_ms "$(phase_duration keep-seal)"
			metric keep_give_ms "$(phase_duration "keep-give/$pid")"
		fi
		metric "${P}_downtime_ms" "$(downtime_ms)"
		metric "${P}_freeze_ms" "$(phase_duration freeze)"
		metric "${P}_restore_ms" "$(phase_duration "restore/$pid")"
		metric "${P}_image_bytes" "$(report_value '.apps[0].image_bytes')"
		;;
	esac
}
