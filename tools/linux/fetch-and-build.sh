#!/usr/bin/env bash
# Fetch Debian 12's stock ARMv7 kernel and soft-float static busybox with apt, and build what
# `tuiemu run` boots: the zImage, the raw Image wrapped as a legacy uImage (load/entry
# 0x40208000, skipping the decompressor) and a reproducible initramfs.
#
#   tools/linux/fetch-and-build.sh [OUTDIR]      (default: .cache/linux in the repository)
#   WITH_VMLINUX=1 tools/linux/fetch-and-build.sh   also the kernel's vmlinux with symbols, for gdb
#                                                  (from the -dbg package: a 600 MB download)
#
# Needs root the first time (dpkg --add-architecture, apt-get update); later runs find the
# packages already downloaded and only rebuild. Nothing here is committed: OUTDIR is ignored by git.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../../.cache/linux}"
mkdir -p "$out/debs"
out="$(cd "$out" && pwd)"

foreign="$(dpkg --print-foreign-architectures)"
for arch in armhf armel; do
    grep -qx "$arch" <<<"$foreign" || dpkg --add-architecture "$arch"
done
# The kernel flavour's metapackage names the current ABI (linux-image-6.1.0-NN-armmp).
resolve() {
    apt-cache depends linux-image-armmp:armhf 2>/dev/null \
        | sed -n 's/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-armmp\)\(:armhf\)\?$/\1/p' | head -1
}
kpkg="$(resolve || true)"
# A mirror in the middle of a sync fails an update now and then: try again a little later.
for attempt in 1 2 3; do
    if [ -n "$kpkg" ] && apt-cache show busybox-static:armel >/dev/null 2>&1; then
        break
    fi
    apt-get update -qq || sleep $((10 * attempt))
    kpkg="$(resolve || true)"
done
if [ -z "$kpkg" ]; then
    echo "fetch-and-build: cannot resolve linux-image-armmp:armhf to a kernel package (apt-get update failed?)" >&2
    exit 1
fi
(cd "$out/debs" && { ls "${kpkg}"_*_armhf.deb >/dev/null 2>&1 || apt-get download -q "$kpkg:armhf"; } \
                && { ls busybox-static_*_armel.deb >/dev/null 2>&1 || apt-get download -q busybox-static:armel; })

# only the two files needed, not the kernel's modules
dpkg-deb --fsys-tarfile "$(ls "$out/debs/${kpkg}"_*_armhf.deb | head -1)" \
    | tar -xO --wildcards './boot/vmlinuz-*' > "$out/zImage"
dpkg-deb --fsys-tarfile "$(ls "$out/debs"/busybox-static_*_armel.deb | head -1)" \
    | tar -xO ./bin/busybox > "$out/busybox"
python3 "$here/image.py" "$out/zImage" "$out/Image" "$out/uImage"
python3 "$here/initramfs.py" "$out/busybox" "$here/init" "$out/initramfs.cpio"
if [ "${WITH_VMLINUX:-0}" = 1 ] && [ ! -f "$out/vmlinux" ]; then
    (cd "$out/debs" && { ls "${kpkg}-dbg"_*_armhf.deb >/dev/null 2>&1 || apt-get download -q "$kpkg-dbg:armhf"; })
    dpkg-deb --fsys-tarfile "$(ls "$out/debs/${kpkg}-dbg"_*_armhf.deb | head -1)" \
        | tar -xO --wildcards './usr/lib/debug/boot/vmlinux-*' > "$out/vmlinux"
fi
echo "$kpkg" > "$out/kernel-package"
echo "fetch-and-build: $kpkg -> $out/{zImage,uImage,initramfs.cpio}"
