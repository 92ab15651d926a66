# The kexec_file_load path, the only one a locked-down or secure-boot
# kernel allows: the bzImage is loaded as it is, the update passes.
main() {
	local pid
	case $1 in
	1)
		UPDATE_ARGS=--file-load
		start_and_update app --mem 64
		;;
	2)
		pid=$(cat /disk/state/test/pid)
		check "nvwa restore succeeded" restore_ok
		check "PID $pid runs again" app_alive "$pid"
		check "memory verified" app_verify "$pid" app
		check "counter continued" app_counter_continuous app
		check "the record says kexec_file_load" \
			report_is '.new_kernel.loader == "kexec_file_load bzImage"'
		send_report
		;;
	*)
		fatal "unexpected boot $1"
		;;
	esac
}
