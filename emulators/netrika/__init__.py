from emulators.netrika import plugin as _plugin  # noqa: F401  (registers the Netrika emulator)
