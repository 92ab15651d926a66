# Scenario 2: two applications updated at once, one of them with four
# worker threads that keep rewriting memory until the freeze.
main() {
	local a b
	case $1 in
	1)
		store_format
		a=$(start_app single --mem 64)
		b=$(start_app threaded --mem 64 --threads 4)
		wait_ready single 120
		wait_ready threaded 120
		echo "$a $b" > /disk/state/test/pids
		update_reboot "$a" "$b"
		;;
	2)
		read -r a b < /disk/state/test/pids
		check "nvwa restore succeeded" restore_ok
		check "single-threaded PID $a runs" app_alive "$a"
		check "multi-threaded PID $b runs" app_alive "$b"
		check "all 5 threads of $b came back" [ "$(ls "/proc/$b/task" | wc -l)" = 5 ]
		check "single keeps counting" app_progresses single
		check "threaded keeps counting" app_progresses threaded
		check "single: memory verified" app_verify "$a" single
		check "threaded: memory verified" app_verify "$b" threaded
		check "single: counter continued" app_counter_continuous single
		check "threaded: counter continued" app_counter_continuous threaded
		send_report
		;;
	*)
		fatal "unexpected boot $1"
		;;
	esac
}
