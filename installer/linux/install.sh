#!/bin/sh
# Install (or remove) CareCoord for the current user from the one-folder build in dist/CareCoord.
#
#   installer/linux/install.sh              install or update
#   installer/linux/install.sh --uninstall  remove the program (your CareCoord data is kept)
#
# Puts the program in ~/.local/opt/CareCoord, a `carecoord` command in ~/.local/bin, the menu
# entry, icons and AppStream metadata under ~/.local/share. No root needed. The data folder
# (~/.local/share/CareCoord: database, backups, key file) is never touched.
# CARECOORD_OPT_DIR, CARECOORD_BIN_DIR and XDG_DATA_HOME change where things go.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dist="$root/dist/CareCoord"
opt_dir=${CARECOORD_OPT_DIR:-"$HOME/.local/opt/CareCoord"}
bin_dir=${CARECOORD_BIN_DIR:-"$HOME/.local/bin"}
share=${XDG_DATA_HOME:-"$HOME/.local/share"}
app_id=uk.nhs.carecoord
desktop="$share/applications/carecoord.desktop"
metainfo="$share/metainfo/$app_id.metainfo.xml"
sizes="16 24 32 48 64 128 256 512"

refresh_caches() {
    if command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q "$share/applications" || true
    fi
    if command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -f "$share/icons/hicolor/index.theme" ]; then
        gtk-update-icon-cache -q -t "$share/icons/hicolor" || true
    fi
}

uninstall() {
    rm -f "$bin_dir/carecoord" "$desktop" "$metainfo" "$share/icons/hicolor/scalable/apps/$app_id.svg"
    for size in $sizes; do
        rm -f "$share/icons/hicolor/${size}x${size}/apps/$app_id.png"
    done
    case "$opt_dir" in
        */CareCoord) rm -rf "$opt_dir" ;;
        *) echo "install.sh: not removing $opt_dir (its name is not CareCoord)" >&2 ;;
    esac
    refresh_caches
    echo "CareCoord removed. Your data in $share/CareCoord was kept."
}

install() {
    if [ ! -x "$dist/CareCoord" ]; then
        echo "install.sh: $dist/CareCoord not found; run 'python installer/build.py' first." >&2
        exit 1
    fi
    mkdir -p "$(dirname "$opt_dir")" "$bin_dir" "$share/applications" "$share/metainfo"
    staging="$opt_dir.new"
    rm -rf "$staging"
    cp -a "$dist" "$staging"
    rm -rf "$opt_dir"
    mv "$staging" "$opt_dir"
    ln -sfn "$opt_dir/CareCoord" "$bin_dir/carecoord"

    # The menu may not have ~/.local/bin on its PATH: point the entry at the command itself.
    sed -e "s|^Exec=carecoord|Exec=$bin_dir/carecoord|" \
        -e "s|^TryExec=carecoord|TryExec=$bin_dir/carecoord|" \
        "$here/carecoord.desktop" >"$desktop"
    cp "$here/$app_id.metainfo.xml" "$metainfo"
    for size in $sizes; do
        mkdir -p "$share/icons/hicolor/${size}x${size}/apps"
        cp "$root/resources/icons/carecoord-$size.png" "$share/icons/hicolor/${size}x${size}/apps/$app_id.png"
    done
    mkdir -p "$share/icons/hicolor/scalable/apps"
    cp "$root/resources/icons/carecoord.svg" "$share/icons/hicolor/scalable/apps/$app_id.svg"
    refresh_caches
    echo "CareCoord installed in $opt_dir; start it from the menu or with $bin_dir/carecoord"
}

case "${1:-}" in
    "") install ;;
    --uninstall) uninstall ;;
    *) echo "usage: $0 [--uninstall]" >&2; exit 2 ;;
esac
