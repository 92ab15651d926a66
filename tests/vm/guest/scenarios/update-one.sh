# Scenario 1: one application with 256 MiB of anonymous memory, an open
# log file and a counter, updated across a real kexec.  Afterwards the
# same PID runs, every byte of its memory checks out and the counter goes
# on from where it stopped.
main() {
	local pid
	case $1 in
	1)
		start_and_update app --mem 256
		;;
	2)
		pid=$(app_pid)
		check "nvwa restore succeeded" restore_ok
		check "PID $pid is running again" app_alive "$pid"
		check "it is the test app" [ "$(cat "/proc/$pid/comm")" = nvwa-testapp ]
		check "the log file is still open" sh -c "ls -l /proc/$pid/fd | grep -q app.log"
		check "it keeps counting" app_progresses app
		check "256 MiB verified byte for byte" app_verify "$pid" app
		check "the counter continued without a gap" app_counter_continuous app
		check "the store was cleaned up" [ ! -e /run/nvwa/store/handover.dtb ]
		check "the prepared vmlinux was booted without purgatory checks" report_is \
			'.new_kernel.loader | startswith("kexec_load elf, purgatory checks skipped")'
		metric nd_pmem_load_ms "$(cat /tmp/nd_pmem.ms)"
		check "the store is mounted with DAX" sh -c "grep pmem0 /proc/mounts | grep -q dax"
		check "the store's filesystem came through clean" sh -c "! dmesg | grep -q 'EXT4-fs error\|unchecked fs'"
		check "nvwa status --json shows the update restored" status_is \
			'.last_update.generation == 1 and .last_update.outcome == "restored"'
		report_file update /disk/data/update.log
		report_file restore /tmp/restore.log
		send_report
		# make demo keeps the dashboard.
		send_dashboard
		check "loading the first-run probe is a phase of its own" has_phase probe-load
		check "the report has a downtime" json_is /tmp/report.json \
			'(.downtime_ms | type) == "number" and .downtime_ms >= 0'
		;;
	*)
		fatal "unexpected boot $1"
		;;
	esac
}
