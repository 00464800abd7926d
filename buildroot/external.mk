include $(sort $(wildcard $(BR2_EXTERNAL_HYBRID_RUNTIME_PATH)/package/*/*.mk))
