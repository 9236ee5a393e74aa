# Thin on purpose: everything paycert adds to pytest lives in the plugin (paycert.plugin), loaded by its
# entry point. This file only marks the repository root for pytest's rootdir discovery.
