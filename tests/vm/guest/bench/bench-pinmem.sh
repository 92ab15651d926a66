# Benchmark: pinmem's slab controller against kmalloc (kzalloc: pinmem
# hands out zeroed memory) in the same kernel, and pinmem's metadata as a
# share of its region.  One run per size of object batch.
main() {
	local r
	# /init has loaded pinmem on the region already; the bench wants it new.
	if [ -d /sys/module/pinmem ]; then
		rmmod pinmem || fatal "cannot unload the pinmem /init loaded"
	fi
	pinmem_load format=1 || fatal "pinmem: $(cat /tmp/insmod.log)"
	metric region_bytes "$(pinmem_stat region_bytes)"
	metric metadata_bytes "$(pinmem_stat metadata_bytes)"
	metric dir_entries "$(pinmem_stat dir_entries)"
	must format nvwa pinmem format --entries 32768
	for n in 1000 10000; do
		client bench count=$n || fatal "client bench: $(tail -n 1 /tmp/client.log)"
		r=$(tail -n 1 /tmp/client.log)
		for k in pinmem_alloc_ns pinmem_free_ns kmalloc_ns kfree_ns; do
			metric "${k}_$n" "$(echo "$r" | sed -n "s/.* $k=\([0-9]*\).*/\1/p")"
		done
	done
	# What objects cost in the region: fill 3000 mixed objects, compare.
	client fill count=3000 buf_mib=1 || fatal "client fill: $(tail -n 1 /tmp/client.log)"
	metric fill_free_bytes "$(pinmem_stat free_bytes)"
	metric fill_kobj_bytes "$(awk '$1 ~ /^[0-9]+$/ { b += $3 } END { print b }' /sys/kernel/debug/pinmem/stats)"
	metric fill_dir_used "$(pinmem_stat dir_used)"
	metric fill_kbuf_bytes "$(pinmem_stat kbuf_bytes)"
	check "client frees" client free count=3000 buf_mib=1
	metric empty_free_bytes "$(pinmem_stat free_bytes)"
}
