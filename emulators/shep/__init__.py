from emulators.shep import plugin as _plugin  # noqa: F401  (registers the ШЭП emulator)
