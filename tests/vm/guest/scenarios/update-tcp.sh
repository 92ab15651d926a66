# vm: -N
# A server with a client connected from outside the VM (update-tcp.peer,
# on the host through QEMU's user network, so the peer lives through the
# kexec) is updated: CRIU keeps the established connection (TCP repair,
# the network locked through nftables), the restore waits until the
# address the server is bound to is configured again in the new boot
# (here 2 s after the restore starts), and the peer's next requests on the
# same connection are answered.  update-tcp.host checks the peer's side.
net_up() { ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0; }

pre_restore() {
	[ "$1" = 2 ] || return 0
	ip link set eth0 up
	# The address comes after the restore starts, as a slow DHCP would.
	(sleep 2; ip addr add 10.0.2.15/24 dev eth0) > /dev/null 2>&1 &
}

# The server's log: one line "N ping M" per request, N counting the
# requests of its one connection; a new connection would start again at 1.
requests() { wc -l < /disk/data/echo.log; }
one_connection() { awk '$1 != NR { exit 1 }' /disk/data/echo.log; }

main() {
	local pid n
	case $1 in
	1)
		store_format
		net_up || fatal "cannot configure eth0"
		echo 20000 > /proc/sys/kernel/ns_last_pid
		setsid nvwa-tcpecho 10.0.2.15 7000 /disk/data/echo.log \
			< /dev/null > /disk/data/echo.out 2>&1 &
		echo $! > /disk/state/test/pid
		check "the peer connected and is talking" \
			wait_for 300 sh -c '[ "$(wc -l < /disk/data/echo.log)" -ge 5 ]'
		check "its connection is established" sh -c 'grep -q " 0F02000A:1B58 [0-9A-F:]* 01 " /proc/net/tcp'
		update_reboot "$(app_pid)"
		;;
	2)
		pid=$(app_pid)
		n=$(requests)
		check "nvwa restore succeeded" restore_ok
		check "PID $pid is running again" app_alive "$pid"
		check "the restore waited for 10.0.2.15" has_phase "wait-net/$pid"
		# The peer resends its request after its own retransmission
		# timeout, backed off over the downtime: tens of seconds under TCG.
		check "the peer's requests go on after the update" \
			wait_for 300 sh -c "[ \$(wc -l < /disk/data/echo.log) -ge $((n + 10)) ]"
		check "on the same connection: the server's count never restarted" one_connection
		check "the report says one connection was kept" \
			report_is '.apps[0].tcp_established == 1 and .apps[0].addresses == "10.0.2.15"'
		report_file restore /tmp/restore.log
		send_report
		;;
	*)
		fatal "unexpected boot $1"
		;;
	esac
}
