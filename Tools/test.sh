#!/usr/bin/env bash
# Sets up (apt packages), builds, and runs every test. The README's second command.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Tools/setup.sh
export PATH="/opt/swift/usr/bin:$PATH"
swift build --build-tests
swift test --skip-build
