################################################################################
#
# hybrid-runtime
#
################################################################################

HYBRID_RUNTIME_VERSION = 53ba3c30d3a4268b906e1e79caa263b17908795e
HYBRID_RUNTIME_SITE = $(call github,hybrid-runtime,hybrid-runtime,$(HYBRID_RUNTIME_VERSION))
HYBRID_RUNTIME_LICENSE = Apache-2.0 or MIT
HYBRID_RUNTIME_LICENSE_FILES = LICENSE-APACHE LICENSE-MIT

# One hybrid-<applet> link per entry of the runtime's applet table.
define HYBRID_RUNTIME_INSTALL_APPLET_LINKS
	for applet in $$(sed -n 's/^ *name: .\([a-z-]*\).,$$/\1/p' $(@D)/src/applet.rs); do \
		ln -sf hybrid-runtime $(TARGET_DIR)/usr/bin/hybrid-$$applet || exit 1; \
	done
endef
HYBRID_RUNTIME_POST_INSTALL_TARGET_HOOKS += HYBRID_RUNTIME_INSTALL_APPLET_LINKS

ifeq ($(BR2_PACKAGE_HYBRID_RUNTIME_CONTAINERD),y)
define HYBRID_RUNTIME_INSTALL_CONTAINERD_CONFIG
	$(INSTALL) -D -m 0644 $(@D)/contrib/engines/containerd/config.toml \
		$(TARGET_DIR)/etc/containerd/conf.d/hybrid-runtime.toml
endef
HYBRID_RUNTIME_POST_INSTALL_TARGET_HOOKS += HYBRID_RUNTIME_INSTALL_CONTAINERD_CONFIG
endif

ifeq ($(BR2_PACKAGE_HYBRID_RUNTIME_K3S),y)
define HYBRID_RUNTIME_INSTALL_K3S_CONFIG
	$(INSTALL) -D -m 0644 $(@D)/contrib/engines/k3s/config.toml.tmpl \
		$(TARGET_DIR)/var/lib/rancher/k3s/agent/etc/containerd/config.toml.tmpl
endef
HYBRID_RUNTIME_POST_INSTALL_TARGET_HOOKS += HYBRID_RUNTIME_INSTALL_K3S_CONFIG
endif

$(eval $(cargo-package))
