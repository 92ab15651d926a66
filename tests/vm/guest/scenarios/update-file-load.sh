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
		pid=$(app_pid)
		check "nvwa restore succeeded" restore_ok
		app_came_back "$pid" app
		check "the record says kexec_file_load" \
			report_is '.new_kernel.loader == "kexec_file_load bzImage"'
		send_report
		;;
	*)
		fatal "unexpected boot $1"
		;;
	esac
}
