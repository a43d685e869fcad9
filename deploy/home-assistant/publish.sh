#!/usr/bin/env bash
# Lay out voxhub's Home Assistant add-on repository in DEST: repository.yaml and README.md at its root,
# the add-on in DEST/voxhub with a wheel of this checkout in wheels/ (its Dockerfile installs it).
# DEST is then pushed as a git repository of its own; see README.md beside this script.
#   publish.sh DEST [WHEEL]   WHEEL: a voxhub wheel already built (default: build one with pip)
set -o errexit -o nounset -o pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/../.." && pwd)"
dest="${1:?usage: publish.sh DEST [WHEEL]}"
wheel="${2:-}"
python="${PYTHON:-python3}"

mkdir -p "${dest}"
rm -rf "${dest}/voxhub"
cp "${here}/repository.yaml" "${here}/README.md" "${dest}/"
cp -R "${here}/voxhub" "${dest}/voxhub"
mkdir -p "${dest}/voxhub/wheels"
if [[ -n "${wheel}" ]]; then
    cp "${wheel}" "${dest}/voxhub/wheels/"
else
    "${python}" -m pip wheel --quiet --no-deps --wheel-dir "${dest}/voxhub/wheels" "${root}"
fi
echo "add-on repository laid out in ${dest}; push it as its own git repository"
