# How the kept path (pin-anon) scales: one update between nvwa kernels in a
# 6 GiB guest keeps 1 GiB in 4 KiB pages (transparent huge pages off when
# it was filled) and 3 GiB filled with THP on.  Every byte of both is
# verified after the jump, nothing is copied, the dump writes almost
# nothing, the huge pages come back as huge pages.  The figures say how
# the hand-over's cost grows: the pages taken per application, the list's
# runs and spans and the seal (old kernel), the list read and the gaps
# freed at boot (new kernel), the pages put back per application.
# vm: -K -m 6G -t 2400
# needs: nvwa-kernel

main() {
	local small big
	small=$(cat /disk/state/test/small 2>/dev/null)
	big=$(cat /disk/state/test/big 2>/dev/null)
	case $1 in
	1)
		store_format
		echo never > /sys/kernel/mm/transparent_hugepage/enabled
		start_app small --mem 1024 > /disk/state/test/small
		wait_ready small 900
		echo always > /sys/kernel/mm/transparent_hugepage/enabled
		start_app big --mem 3072 > /disk/state/test/big
		wait_ready big 1500
		report "before: $(grep -E 'AnonPages|AnonHugePages' /proc/meminfo | tr -s ' ' | tr '\n' ' ')"
		anon_huge_kb "$(cat /disk/state/test/small)" > /disk/state/test/small.huge
		anon_huge_kb "$(cat /disk/state/test/big)" > /disk/state/test/big.huge
		nvwa update --kernel /boot/vmlinuz-nvwa --initrd /boot/initrd.img \
			--app "$(cat /disk/state/test/small)" --app "$(cat /disk/state/test/big)" \
			> /disk/data/update.log 2>&1
		fatal "nvwa update returned ($?) instead of rebooting: $(tail -n 5 /disk/data/update.log)"
		;;
	2)
		report_file update /disk/data/update.log
		report "boot: $(dmesg | grep 'nvwa.keep:' | tr '\n' ' ')"
		check "nvwa restore succeeded" restore_ok
		check "1 GiB (4 KiB pages) verified byte for byte" app_verify "$small" small
		check "3 GiB (THP) verified byte for byte" app_verify "$big" big
		check "both kept in place, none copied" report_is \
			'[.apps[] | select(.memory == "kept" and .copied_pages == 0 and .installed_pages == .kept_pages)] | length == 2'
		check "1 GiB and 3 GiB of pages kept" report_is \
			'.apps[0].kept_pages >= 262144 and .apps[1].kept_pages >= 786432'
		check "the dumps wrote under 2 MiB" report_is '[.apps[].image_bytes] | add < 2097152'
		report "AnonHugePages: small $(anon_huge_kb "$small") kB (before $(cat /disk/state/test/small.huge)), big $(anon_huge_kb "$big") kB (before $(cat /disk/state/test/big.huge))"
		check "the 3 GiB filled with THP on was in huge pages" \
			sh -c '[ "$(cat /disk/state/test/big.huge)" -ge 2097152 ]'
		check "and came back in huge pages" \
			sh -c "[ $(anon_huge_kb "$big") -ge \$(cat /disk/state/test/big.huge) ]"
		check "the 1 GiB behaves as its own memory" app_anoncheck "$small" small
		check "the 3 GiB too" app_anoncheck "$big" big
		check "no kernel warning" kernel_clean
		metric keep_scale_downtime_ms "$(downtime_ms)"
		metric keep_seal_ms "$(phase_duration keep-seal)"
		metric keep_give_1g_ms "$(phase_duration "keep-give/$small")"
		metric keep_give_3g_thp_ms "$(phase_duration "keep-give/$big")"
		metric keep_restore_1g_ms "$(phase_duration "restore/$small")"
		metric keep_restore_3g_thp_ms "$(phase_duration "restore/$big")"
		report_file restore /tmp/restore.log
		send_report
		;;
	*)
		fatal "unexpected boot $1"
		;;
	esac
}
