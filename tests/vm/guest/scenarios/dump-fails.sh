# Scenario 5: the final dump fails part-way.  The first application is
# dumped (and so stopped); the second holds an established TCP connection,
# which CRIU refuses to dump without --tcp-established.  No kexec happens,
# both keep running (the first with the two children CRIU stopped along
# with it), and the error names the one that failed and why.
main() {
	local a b rc
	store_format
	nc -l -p 7777 > /dev/null 2>&1 &
	wait_for 10 sh -c 'netstat -ltn | grep -q :7777' || fatal "no listener"
	a=$(start_app plain --mem 64 --children 2)
	b=$(start_app tcp --mem 64 --tcp-peer 7777)
	wait_ready plain 120
	wait_ready tcp 120
	update_apps "$a" "$b"
	rc=$(cat /tmp/update.rc)
	check "nvwa update failed with status 3 (resumed)" [ "$rc" = 3 ]
	check "the error names PID $b" grep -q "Dump of $b (nvwa-testapp) failed" /disk/data/update.log
	check "the error gives CRIU's reason" grep -qi 'tcp' /disk/data/update.log
	check "it says the applications were resumed" grep -q 'resumed in the running kernel' /disk/data/update.log
	# The roll-back removes the images; CRIU's log is copied out first
	# (the store and /run are different filesystems: no rename()).
	check "CRIU's log is kept where the error says" sh -c \
		"grep -q '(log: /run/nvwa/$b-dump.log)' /disk/data/update.log && grep -q 'Error' /run/nvwa/$b-dump.log"
	check "no kernel left loaded" [ "$(cat /sys/kernel/kexec_loaded)" = 0 ]
	check "no record left in the store" [ ! -e /run/nvwa/store/handover.dtb ]
	check "$a not stopped" not_stopped "$a"
	for c in $(cat /proc/"$a"/task/*/children); do
		check "$a's child $c not stopped" not_stopped "$c"
	done
	check "$a still has its two children" [ "$(cat /proc/"$a"/task/*/children | wc -w)" = 2 ]
	check "$b not stopped" not_stopped "$b"
	check "$a keeps counting" app_progresses plain
	check "$b keeps counting" app_progresses tcp
	check "$a memory verified" app_verify "$a" plain
	check "$b memory verified" app_verify "$b" tcp
	check "$a counter continuous" app_counter_continuous plain
}
