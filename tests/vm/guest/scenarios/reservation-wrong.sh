# vm: -p 256M!2G
# A memmap= reservation outside the RAM the firmware reports (this VM has
# 2 GiB: 2 GiB and up is a hole below the PCI window) is named as such by
# nvwa status (text and JSON) and refused by nvwa update before anything
# is loaded or frozen; the application runs on untouched.
main() {
	local pid
	[ "$1" = 1 ] || fatal "unexpected boot $1"
	nvwa status > /tmp/status.txt 2>&1
	report_file status /tmp/status.txt
	check "nvwa status says the reservation is wrong for this machine" \
		grep -q "wrong for this machine: memmap=256M!2048M: .*not inside one \"System RAM\" range" \
		/tmp/status.txt
	check "nvwa status --json says so too" \
		status_is '.reservation.firmware_map | startswith("memmap=256M!2048M")'
	start_kept app --mem 8
	pid=$(app_pid)
	update_apps "$pid"
	check "nvwa update refused, nothing frozen (exit 1)" [ "$(cat /tmp/update.rc)" = 1 ]
	check "it says why" grep -q "reservation on this kernel's command line is wrong for this machine" \
		/disk/data/update.log
	check "no kernel was loaded" sh -c '[ "$(cat /sys/kernel/kexec_loaded)" = 0 ]'
	check "the application runs on" app_alive "$pid"
	check "and answers" app_verify "$pid" app
}
