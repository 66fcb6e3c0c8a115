#!/bin/sh
# /init of the Soft-RoCE VM (busybox sh). Brings up rxe0 on a dummy netdev,
# then runs /job/run.sh from the appended cpio (ci/softroce/run.sh writes
# it) and powers off. The job prints "SOFTROCE-RESULT ..." lines that the
# host reads from the serial console.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmp /tmp
mount -t tmpfs shm /dev/shm
ulimit -l unlimited

fail() {
  echo "SOFTROCE-ERROR $*"
  dmesg | tail -n 20
  poweroff -f
}

while read -r m; do
  case "$m" in
    */dummy.ko*) insmod "$m" numdummies=0 || fail "insmod $m" ;;
    *) insmod "$m" || fail "insmod $m" ;;
  esac
done </lib/modules/load.list

# Busybox's own ip applet lacks what we need: call iproute2's by full path.
IP=/bin/ip
[ -x /usr/bin/ip ] && IP=/usr/bin/ip
$IP link add dummy0 type dummy || fail "ip link add dummy0"
$IP link set dummy0 mtu 9000 up || fail "ip link set dummy0"
$IP addr add 10.11.12.1/24 dev dummy0 || fail "ip addr add"
$IP link set lo up
/usr/bin/rdma link add rxe0 type rxe netdev dummy0 || fail "rdma link add rxe0"

# The IPv4-mapped GID fills in asynchronously; find it with the shell's
# read (one cat per sysfs file is slow under TCG).
gid_index=""
for try in $(seq 1 100); do
  for f in /sys/class/infiniband/rxe0/ports/1/gids/*; do
    read -r g <"$f" 2>/dev/null || continue
    case "$g" in
      0000:0000:0000:0000:0000:ffff:*) gid_index="${f##*/}"; break ;;
    esac
  done
  [ -n "$gid_index" ] && break
  sleep 0.05
done
[ -n "$gid_index" ] || fail "no IPv4-mapped GID on rxe0"
echo "softroce: rxe0 up, IPv4-mapped GID index $gid_index"
export SOFTROCE_GID_INDEX="$gid_index" SOFTROCE_IP=10.11.12.1

if [ -x /job/run.sh ]; then
  /job/run.sh
  echo "SOFTROCE-JOB-EXIT $?"
else
  echo "SOFTROCE-ERROR no /job/run.sh"
fi
poweroff -f
