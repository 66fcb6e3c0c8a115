# Shared by the Soft-RoCE scripts; source it, don't run it.

# copy_with_libs ROOT FILE...: copies each binary under ROOT at its own path,
# with its ldd closure (libraries keep their paths).
copy_with_libs() {
  local root="$1" f lib; shift
  for f in "$@"; do
    mkdir -p "$root$(dirname "$f")"; cp -L "$f" "$root$f"
    for lib in $(ldd "$f" 2>/dev/null | grep -o '/[^ ]*' || true); do
      [[ -e "$root$lib" ]] && continue
      mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"
    done
  done
}
