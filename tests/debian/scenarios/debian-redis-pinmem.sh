# vm: -t 1200 -r 192M@1536M
# debian-redis with the pinmem module serving a region: `nvwa pinmem load
# --format` in boot 1, so the handover record lives in pinmem; boot 2
# checks that the record came from there and was removed once restored.
PINMEM=1
# shellcheck source=debian-redis.sh
. /usr/lib/nvwa-test/debian-redis.sh
eval "$(declare -f boot2 | sed '1s/boot2/redis_boot2/')"
boot2() {
	redis_boot2
	check "pinmem is valid in the new kernel" status_is '.pinmem.state == "valid"'
	check "the record came from pinmem" grep -q /run/pinmem/nvwa.handover /tmp/nvwa-restore.log
	nvwa pinmem mount > /tmp/mount.log 2>&1
	check "the record is gone from pinmem once restored" [ ! -e /run/pinmem/nvwa.handover ]
}
