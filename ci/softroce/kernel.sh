#!/usr/bin/env bash
# Prepares the cached pieces of the Soft-RoCE VM (see ci/softroce/run.sh):
#   $CACHE/vmlinux      uncompressed Debian kernel (boots through PVH: fast)
#   $CACHE/base.cpio.gz busybox, rdma tools, perftest, rxe provider, modules
# Recreated only when missing (delete $CACHE to refresh). The kernel is the
# package that linux-image-amd64 depends on, fetched with apt-get download.
# Env: REMORA_SOFTROCE_CACHE (default <repo>/.cache/softroce).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${REMORA_SOFTROCE_CACHE:-$REPO/.cache/softroce}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/lib.sh"
# rxe and what it needs at run time (crc32_generic is not in modinfo's list).
MODULES=(crc32_generic dummy rdma_rxe)

log() { printf '[softroce] %s\n' "$*" >&2; }

kernel_package() {
  apt-cache depends linux-image-amd64 2>/dev/null |
    awk '/Depends: linux-image-[0-9]/ {print $2; exit}'
}

fetch_kernel() {
  local pkg="$1" dir="$CACHE/kernel"
  [[ -d "$dir/lib/modules" ]] && return 0
  log "downloading $pkg"
  rm -rf "$CACHE/deb" "$dir"; mkdir -p "$CACHE/deb"
  (cd "$CACHE/deb" && apt-get download -o APT::Sandbox::User=root "$pkg" >/dev/null)
  dpkg -x "$CACHE"/deb/*.deb "$dir.tmp"
  mv "$dir.tmp" "$dir"
  rm -rf "$CACHE/deb"
}

# vmlinuz is a bzImage whose payload is XZ: decompress it to an ELF vmlinux.
extract_vmlinux() {
  local vmlinuz="$1" out="$2"
  python3 - "$vmlinuz" "$out" <<'PY'
import lzma, sys
data = open(sys.argv[1], 'rb').read()
off = data.find(b'\xfd7zXZ\x00')
while off >= 0:
    try:
        d = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
        out = d.decompress(data[off:])
        if out[:4] == b'\x7fELF':
            open(sys.argv[2], 'wb').write(out)
            sys.exit(0)
    except lzma.LZMAError:
        pass
    off = data.find(b'\xfd7zXZ\x00', off + 1)
sys.exit('no XZ-compressed ELF payload in ' + sys.argv[1])
PY
}

# Prints module files (relative to the modules dir) in load order.
module_closure() {
  local moddir="$1" m
  for m in "${MODULES[@]}"; do
    python3 - "$moddir/modules.dep" "$m" <<'PY'
import sys, os
deps = {}
for line in open(sys.argv[1]):
    k, _, v = line.partition(':')
    deps[k] = v.split()
name = sys.argv[2]
target = [k for k in deps if os.path.basename(k).split('.ko')[0].replace('-', '_') == name]
if not target:
    sys.exit('module %s not found' % name)
seen, order = set(), []
def visit(k):
    if k in seen: return
    seen.add(k)
    for d in deps[k]: visit(d)
    order.append(k)
visit(target[0])
print('\n'.join(order))
PY
  done | awk '!seen[$0]++'
}


build_base() {
  local kdir="$CACHE/kernel" ver root="$CACHE/root" m
  ver="$(ls "$kdir/lib/modules" | head -n 1)"
  depmod -b "$kdir" "$ver"
  rm -rf "$root"; mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,run,lib/modules}
  cp /bin/busybox "$root/bin/busybox"
  for m in sh mount mkdir sleep cat echo poweroff insmod ls grep sed awk dmesg timeout \
           uname ps kill env seq tr head tail wc date true false hostname ln chmod rm; do
    ln -sf busybox "$root/bin/$m"
  done
  local tools=(/usr/bin/ibv_devinfo /usr/bin/ibv_devices /bin/ip /usr/bin/rdma
               /usr/bin/ib_read_lat /usr/bin/ib_write_lat /usr/bin/ib_atomic_lat)
  local t; for t in "${tools[@]}"; do
    [[ -x "$t" ]] || t="$(command -v "$(basename "$t")")"
    copy_with_libs "$root" "$t"
  done
  copy_with_libs "$root" /usr/lib/x86_64-linux-gnu/libibverbs/librxe-rdmav*.so
  mkdir -p "$root/etc/libibverbs.d"; cp /etc/libibverbs.d/rxe.driver "$root/etc/libibverbs.d/"
  : >"$root/lib/modules/load.list"
  while read -r m; do
    mkdir -p "$root/lib/modules/$(dirname "$m")"
    cp "$kdir/lib/modules/$ver/$m" "$root/lib/modules/$m"
    echo "/lib/modules/$m" >>"$root/lib/modules/load.list"
  done < <(module_closure "$kdir/lib/modules/$ver")
  cp "$HERE/init.sh" "$root/init"; chmod +x "$root/init"
  (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$CACHE/base.cpio.gz.tmp"
  mv "$CACHE/base.cpio.gz.tmp" "$CACHE/base.cpio.gz"
  rm -rf "$root"
}

main() {
  mkdir -p "$CACHE"
  local pkg; pkg="$(kernel_package)"
  [[ -n "$pkg" ]] || { log "apt-cache knows no linux-image-amd64 dependency"; exit 1; }
  fetch_kernel "$pkg"
  if [[ ! -s "$CACHE/vmlinux" ]]; then
    extract_vmlinux "$(ls "$CACHE"/kernel/boot/vmlinuz-* | head -n 1)" "$CACHE/vmlinux.tmp"
    mv "$CACHE/vmlinux.tmp" "$CACHE/vmlinux"
  fi
  # The base image depends on init.sh too: rebuild it when that changed.
  if [[ ! -s "$CACHE/base.cpio.gz" || "$HERE/init.sh" -nt "$CACHE/base.cpio.gz" ||
        "${BASH_SOURCE[0]}" -nt "$CACHE/base.cpio.gz" ]]; then
    log "building base initramfs"
    build_base
  fi
}

main "$@"
