from emulators.fer import plugin as _plugin  # noqa: F401  (registers the FER emulator)
