#!/usr/bin/env bash
# kind and helm for the scripts that drive a real cluster (dev-cluster.sh, e2e-kind.sh):
# the one on PATH, or else a pinned release downloaded into $STOREPLANE_TOOLS_CACHE
# (default ~/.cache/storeplane-tools) and checked against the sha256 its project publishes
# beside it; and the test tools that come from PyPI (tools_pypi). Sourced, not run: the
# sourcing script defines fail().
#
# Downloads exist for Linux and macOS on amd64 and arm64. Elsewhere, or offline, put kind
# and helm on PATH yourself; the error says which versions. Needs curl and tar, and
# sha256sum (coreutils) or shasum (macOS).

STOREPLANE_KIND_VERSION="v0.29.0"
STOREPLANE_HELM_VERSION="v4.1.4"

tools_cache() { echo "${STOREPLANE_TOOLS_CACHE:-${HOME}/.cache/storeplane-tools}"; }

# This machine as release archives name it: linux-amd64, linux-arm64, darwin-amd64, darwin-arm64.
tools_platform() {
    local os arch
    case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) os="" ;;
    esac
    case "$(uname -m)" in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) arch="" ;;
    esac
    if [ -z "${os}" ] || [ -z "${arch}" ]; then
        fail "no kind or helm download for $(uname -s)/$(uname -m) (Linux and macOS on amd64 or arm64 only): put kind ${STOREPLANE_KIND_VERSION} (https://kind.sigs.k8s.io/docs/user/quick-start/#installation) and helm ${STOREPLANE_HELM_VERSION} (https://helm.sh/docs/intro/install/) on PATH"
    fi
    echo "${os}-${arch}"
}

# The hex sha256 of a file, with whichever tool this system has.
tools_sha256() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d' ' -f1
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 "$1" | cut -d' ' -f1
    else
        fail "checking a download needs sha256sum (coreutils) or shasum (macOS, perl)"
    fi
}

# tools_download URL SUM_URL FILE: fetch an https URL into FILE and check it against the
# sha256 published at SUM_URL (a file whose first word is the hex digest).
tools_download() {
    local url="$1" sum_url="$2" out="$3" want got
    case "${url} ${sum_url}" in
    https://*" https://"*) ;;
    *) fail "refusing a download that is not https: ${url}" ;;
    esac
    command -v curl >/dev/null 2>&1 || fail "curl is required to download ${url##*/}"
    curl -fsSL --retry 3 -o "${out}" "${url}" ||
        fail "could not download ${url} (offline? put the tool on PATH instead)"
    want="$(curl -fsSL --retry 3 "${sum_url}" | awk '{print $1; exit}')" ||
        fail "could not download the checksum ${sum_url}"
    [ -n "${want}" ] || fail "${sum_url} holds no checksum"
    got="$(tools_sha256 "${out}")"
    [ "${got}" = "${want}" ] || fail "${url} has sha256 ${got}, but ${sum_url} says ${want}"
}

# The path of kind: on PATH, or the pinned release for this platform.
tools_kind() {
    local platform bin url
    if command -v kind >/dev/null 2>&1; then
        command -v kind
        return
    fi
    platform="$(tools_platform)"
    bin="$(tools_cache)/kind-${STOREPLANE_KIND_VERSION}-${platform}"
    if [ ! -x "${bin}" ]; then
        echo "==> fetching kind ${STOREPLANE_KIND_VERSION} (${platform})" >&2
        mkdir -p "$(tools_cache)"
        url="https://github.com/kubernetes-sigs/kind/releases/download/${STOREPLANE_KIND_VERSION}/kind-${platform}"
        tools_download "${url}" "${url}.sha256sum" "${bin}.tmp"
        chmod 0755 "${bin}.tmp"
        mv "${bin}.tmp" "${bin}"
    fi
    echo "${bin}"
}

# The path of helm: on PATH, or the pinned official release archive for this platform.
tools_helm() {
    local platform bin url tmp
    if command -v helm >/dev/null 2>&1; then
        command -v helm
        return
    fi
    platform="$(tools_platform)"
    bin="$(tools_cache)/helm-${STOREPLANE_HELM_VERSION}-${platform}/helm"
    if [ ! -x "${bin}" ]; then
        echo "==> fetching helm ${STOREPLANE_HELM_VERSION} (${platform})" >&2
        command -v tar >/dev/null 2>&1 || fail "tar is required to unpack helm"
        tmp="$(mktemp -d)"
        url="https://get.helm.sh/helm-${STOREPLANE_HELM_VERSION}-${platform}.tar.gz"
        tools_download "${url}" "${url}.sha256" "${tmp}/helm.tar.gz"
        tar -xzf "${tmp}/helm.tar.gz" -C "${tmp}" "${platform}/helm" ||
            fail "${url} holds no ${platform}/helm"
        mkdir -p "${bin%/*}"
        cp "${tmp}/${platform}/helm" "${bin}.tmp"
        chmod 0755 "${bin}.tmp"
        mv "${bin}.tmp" "${bin}"
        rm -rf "${tmp}"
    fi
    echo "${bin}"
}

# A test tool from PyPI (`package==version`, extras allowed: `moto[server]==5.2.5`),
# installed once into a venv of the tools cache named by the package and version; prints
# the venv's directory. pip options (e.g. --only-binary=:all:) follow the requirement. The
# marker is written last, so an interrupted install is never taken for a finished one.
# Needs python3 with venv.
tools_pypi() { # requirement [pip options...]
    local requirement="$1" package version venv
    shift
    package="${requirement%%==*}"
    package="${package%%[*}"
    version="${requirement##*==}"
    venv="$(tools_cache)/${package}-${version}"
    if [ ! -f "${venv}/.installed" ]; then
        echo "==> installing ${requirement} (PyPI) into ${venv}" >&2
        command -v python3 >/dev/null 2>&1 || fail "python3 is required to install ${package}"
        rm -rf "${venv}"
        mkdir -p "$(tools_cache)"
        python3 -m venv "${venv}" || fail "python3 -m venv failed (Debian: apt-get install python3-venv)"
        "${venv}/bin/pip" install --quiet --disable-pip-version-check "$@" "${requirement}" >&2 ||
            fail "pip could not install ${requirement}"
        touch "${venv}/.installed"
    fi
    echo "${venv}"
}
