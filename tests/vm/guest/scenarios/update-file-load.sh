# The kexec_file_load path, the only one a locked-down or secure-boot
# kernel allows: the bzImage is loaded as it is, the update passes.
main() {
	local pid
	case $1 in
	1)
		store_format
		pid=$(start_app app --mem 64)
		wait_for 120 grep -q '^ready' /disk/data/app.log || fatal "app did not start"
		echo "$pid" > /disk/state/test/pid
		UPDATE_ARGS=--file-load update_apps "$pid"
		fatal "nvwa update returned ($(cat /tmp/update.rc)) instead of rebooting"
		;;
	2)
		pid=$(cat /disk/state/test/pid)
		check "nvwa restore succeeded" restore_ok
		check "PID $pid runs again" app_alive "$pid"
		check "memory verified" app_verify "$pid" app
		check "counter continued" app_counter_continuous app
		check "the record says kexec_file_load" sh -c \
			"nvwa report --json | grep -q '\"loader\": \"kexec_file_load bzImage\"'"
		send_report
		;;
	*)
		fatal "unexpected boot $1"
		;;
	esac
}
