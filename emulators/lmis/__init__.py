from emulators.lmis import plugin as _plugin  # noqa: F401  (registers the LMIS emulator)
