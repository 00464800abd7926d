SUMMARY = "OCI container runtime for the microcontroller cores of hybrid SoCs"
SUMMARY:${PN}-containerd = "containerd runtime handler \"hybrid\" for hybrid-runtime"
SUMMARY:${PN}-k3s = "k3s containerd template with the \"hybrid\" runtime handler"
SUMMARY:${PN}-podman = "Podman runtime \"hybrid\" for hybrid-runtime"
DESCRIPTION = "hybrid-runtime deploys firmware to the remote cores of hybrid SoCs through \
               Linux remoteproc and rpmsg: a firmware image is a container, the core's life is \
               the container's life and its console is the container's log. One static \
               multi-call binary with hybrid-<command> links, driven by containerd, k3s, \
               Docker and Podman as they drive runc."
HOMEPAGE = "https://github.com/hybrid-runtime/hybrid-runtime"
BUGTRACKER = "https://github.com/hybrid-runtime/hybrid-runtime/issues"
SECTION = "console/utils"
LICENSE = "Apache-2.0 | MIT"
LIC_FILES_CHKSUM = "file://LICENSE;md5=acdfb57d0396b415572a7aa9d50ebd06 \
                    file://LICENSE-APACHE;md5=3b83ef96387f14655fc854ddc3c6bd57 \
                    file://LICENSE-MIT;md5=61f550eef481fa9877923138b826ffa9"

SRC_URI = "git://github.com/hybrid-runtime/hybrid-runtime.git;protocol=https;branch=main;destsuffix=${BP}"
# hybrid-runtime-crates.inc lists the crates of Cargo.lock at this commit: `yocto/check --update`
# moves both to the repository's HEAD (or run `bitbake -c update_crates hybrid-runtime`).
SRCREV = "53ba3c30d3a4268b906e1e79caa263b17908795e"

S = "${UNPACKDIR}/${BP}"

CVE_PRODUCT = "hybrid-runtime"

require ${BPN}-crates.inc

inherit cargo cargo-update-recipe-crates

# Only the runtime: the workspace's simulator and test crates are not built.
CARGO_BUILD_FLAGS += "--package hybrid-runtime"
# The release profile strips the binary; leave that to the build system (debug package, QA).
export CARGO_PROFILE_RELEASE_STRIP = "false"

# The applet names, read from the runtime's applet table (the check in yocto/check compares
# them with `hybrid-runtime --list`).
HYBRID_RUNTIME_APPLETS_SED = "s/^ *name: .\([a-z-]*\).,$/\1/p"

do_install:append() {
    for applet in $(sed -n '${HYBRID_RUNTIME_APPLETS_SED}' ${S}/src/applet.rs); do
        ln -sf hybrid-runtime ${D}${bindir}/hybrid-$applet
    done

    install -d ${D}${sysconfdir}/containerd/conf.d
    install -m 0644 ${S}/contrib/engines/containerd/config.toml \
        ${D}${sysconfdir}/containerd/conf.d/hybrid-runtime.toml
    install -d ${D}${localstatedir}/lib/rancher/k3s/agent/etc/containerd
    install -m 0644 ${S}/contrib/engines/k3s/config.toml.tmpl \
        ${D}${localstatedir}/lib/rancher/k3s/agent/etc/containerd/config.toml.tmpl
    install -d ${D}${sysconfdir}/containers/containers.conf.d
    install -m 0644 ${S}/contrib/engines/podman/containers.conf \
        ${D}${sysconfdir}/containers/containers.conf.d/hybrid-runtime.conf
}

# Engine integration, one optional package per engine: add e.g. hybrid-runtime-k3s to the image.
PACKAGES =+ "${PN}-containerd ${PN}-k3s ${PN}-podman"

FILES:${PN}-containerd += "${sysconfdir}/containerd/conf.d/hybrid-runtime.toml"
FILES:${PN}-k3s += "${localstatedir}/lib/rancher/k3s/agent/etc/containerd/config.toml.tmpl"
FILES:${PN}-podman += "${sysconfdir}/containers/containers.conf.d/hybrid-runtime.conf"

RDEPENDS:${PN}-containerd = "${PN}"
RDEPENDS:${PN}-k3s = "${PN}"
RDEPENDS:${PN}-podman = "${PN}"

BBCLASSEXTEND = "native nativesdk"
