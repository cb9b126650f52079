#!/bin/sh
# setup.sh - Gradescope runs this once, as root, when it builds the
# autograder's image from the zip that tools/gradescope makes (unpacked in
# /autograder/source). It installs the lab's Debian packages with apt-get,
# checks that the grader's tools are there and that the toolchain builds the
# lab's own starter kernel. No submission exists yet: nothing of a student's
# is built or run here.
#
#   setup.sh            install, check, build the starter once (then delete it)
#   setup.sh --check    only check (also SETUP_CHECK_ONLY=1): exits 1 naming
#                       every missing package, command or file
set -eu

# What `make deps` installs: tools/gradescope rewrites this line from the
# Makefile's DEBIAN_PACKAGES when it builds the zip.
DEBIAN_PACKAGES="make gcc binutils nasm grub-pc-bin grub-common xorriso mtools qemu-system-x86 qemu-system-gui bochs bochsbios vgabios gdb python3 util-linux"
# The commands grader/grade runs (see tools/doctor).
COMMANDS="make gcc ld objcopy addr2line nasm grub-mkrescue xorriso mformat qemu-system-x86_64 python3"
# Files GRUB needs to make a BIOS-bootable ISO.
FILES="/usr/lib/grub/i386-pc/boot.img"

HERE=$(cd "$(dirname "$0")" && pwd)
# Run some other way than as a file (bash -c ...): Gradescope's own folder.
[ -d "$HERE/lab" ] || HERE=${AUTOGRADER_ROOT:-/autograder}/source

check() {
    missing=""
    if command -v dpkg-query >/dev/null 2>&1; then
        for package in $DEBIAN_PACKAGES; do
            status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
            case $status in
                *" installed") ;;
                *) missing="$missing package:$package" ;;
            esac
        done
    else
        echo "setup.sh: no dpkg-query here: checking commands and files only"
    fi
    for command in $COMMANDS; do
        command -v "$command" >/dev/null 2>&1 || missing="$missing command:$command"
    done
    for file in $FILES; do
        [ -e "$file" ] || missing="$missing file:$file"
    done
    if [ -n "$missing" ]; then
        echo "setup.sh: missing:$missing"
        echo "setup.sh: install them with: apt-get install -y $DEBIAN_PACKAGES"
        return 1
    fi
    echo "setup.sh: ok: $(echo "$DEBIAN_PACKAGES" | wc -w) packages," \
        "$(echo "$COMMANDS" | wc -w) commands present"
}

smoke_build() {
    # Builds the lesson's starter kernel from the lab (not from any submission)
    # in a temporary folder, to prove the image's toolchain can build the lab:
    # e.g. an old binutils (Ubuntu 22.04) lacks linker options the Makefile uses.
    [ -f "$HERE/lesson" ] && [ -d "$HERE/lab" ] || return 0
    lesson=$(cat "$HERE/lesson")
    kernel=lesson${lesson%%-*}
    build=$(mktemp -d)
    if make -s --no-print-directory -C "$HERE/lab" BUILD="$build" "$build/$kernel.elf" \
            >"$build/log" 2>&1; then
        echo "setup.sh: ok: the toolchain builds $kernel of lesson $lesson"
        rm -rf "$build"
    else
        cat "$build/log"
        rm -rf "$build"
        echo "setup.sh: this image cannot build the lab (above):" \
            "use Gradescope's Ubuntu 24.04 base image or newer"
        return 1
    fi
}

if [ "${SETUP_CHECK_ONLY:-0}" = 1 ] || [ "${1:-}" = --check ]; then
    check
    exit $?
fi

if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
# shellcheck disable=SC2086  # one word per package
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $DEBIAN_PACKAGES
check
smoke_build
