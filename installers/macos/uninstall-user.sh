#!/bin/sh
# Removes what install-user.sh wrote for this macOS user (the uninstaller it copied beside
# the host, which reads its record of files, folders written).
exec bash "$HOME/Library/Application Support/Paraphe/uninstall.sh" "$@"
