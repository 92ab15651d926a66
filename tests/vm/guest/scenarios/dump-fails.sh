# Scenario 5: the final dump fails part-way.  The first application is
# dumped (and so stopped); the second holds a unix connection to a process
# that is not kept, which CRIU refuses to dump ("External socket is
# used").  No kexec happens, both keep running (the first with the two
# children CRIU stopped along with it), and the error names the one that
# failed and why.  Before that, an application whose TCP connection goes
# to a process of this host that is not kept is refused before any
# freeze: after the kexec that end would be gone.
main() {
	local a b t rc
	store_format
	nc -l -p 7777 > /dev/null 2>&1 &
	wait_for 10 sh -c 'netstat -ltn | grep -q :7777' || fatal "no listener"
	a=$(start_app plain --mem 64 --children 2)
	t=$(start_app tcp --mem 8 --tcp-peer 7777)
	wait_ready tcp 120
	update_apps "$t"
	check "a connection to a process left behind is refused before the freeze (status 1)" \
		[ "$(cat /tmp/update.rc)" = 1 ]
	check "the refusal names the connection" \
		grep -q "port 7777 is to another process of this host, which is not kept" /disk/data/update.log
	check "$t not stopped" not_stopped "$t"
	kill "$t"
	start_app listener --mem 8 --unix-listen /tmp/ext.sock > /dev/null
	wait_ready listener 120
	b=$(start_app unix --mem 64 --unix-peer /tmp/ext.sock)
	wait_ready plain 120
	wait_ready unix 120
	update_apps "$a" "$b"
	rc=$(cat /tmp/update.rc)
	check "nvwa update failed with status 3 (resumed)" [ "$rc" = 3 ]
	check "the error names PID $b" grep -q "Dump of $b (nvwa-testapp) failed" /disk/data/update.log
	check "the error gives CRIU's reason" grep -q 'External socket is used' /disk/data/update.log
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
	check "$b keeps counting" app_progresses unix
	check "$a memory verified" app_verify "$a" plain
	check "$b memory verified" app_verify "$b" unix
	check "$a counter continuous" app_counter_continuous plain
}
